#include "sdescore/io/observables.hpp"

#include "sdescore/io/detail/series.hpp"

#include <numeric>

namespace sdescore::io {
using namespace detail;

namespace {
std::vector<std::int64_t> iota_vec(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}
Group obj(hid_t id) { return Group::adopt((H5Iinc_ref(id), id)); }
}  // namespace

struct ObservablesWriter::Impl {
  std::int64_t dim = 0, n_hist = 0, n_bins = 0;
  Group group;
  SnapshotSeries series;
  GrowingDataset mean, cov, hist;
  std::vector<double> buf;
};

ObservablesWriter::ObservablesWriter(OutputFile& file, std::int64_t dim, ObservablesOptions o)
    : impl_(std::make_unique<Impl>()) {
  if (dim < 1) throw ConfigError("observables writer: dim = " + std::to_string(dim) + " must be >= 1");
  if (o.name.empty() || o.name.find('/') != std::string::npos)
    throw ConfigError("observables name '" + o.name + "' is invalid: it must be non-empty and contain no '/'");
  if (!o.coordinate_names.empty() && static_cast<std::int64_t>(o.coordinate_names.size()) != dim)
    throw ConfigError("observables writer: " + std::to_string(o.coordinate_names.size()) +
                      " coordinate names given for dim = " + std::to_string(dim));
  check_gzip_level(o.compression);
  if (o.histogram) {
    const auto& h = *o.histogram;
    const auto n_hist = static_cast<std::int64_t>(h.coordinates.size());
    if (n_hist < 1 || h.bin_edges.rows() != n_hist || h.bin_edges.cols() < 2)
      throw ConfigError("observables writer: histogram bin_edges must be (" + std::to_string(n_hist) +
                        " coordinates x bins+1 >= 2) but is (" + std::to_string(h.bin_edges.rows()) + " x " +
                        std::to_string(h.bin_edges.cols()) + ")");
    for (auto c : h.coordinates)
      if (c < 0 || c >= dim)
        throw ConfigError("observables writer: histogram coordinate " + std::to_string(c) + " is not in [0, " +
                          std::to_string(dim) + ")");
    for (Eigen::Index r = 0; r < h.bin_edges.rows(); ++r)
      for (Eigen::Index c = 1; c < h.bin_edges.cols(); ++c)
        if (!(h.bin_edges(r, c) > h.bin_edges(r, c - 1)))
          throw ConfigError("observables writer: histogram bin edges of coordinate " +
                            std::to_string(h.coordinates[static_cast<std::size_t>(r)]) + " are not increasing");
  }
  auto& m = *impl_;
  m.dim = dim;
  Group root = file.root();
  const std::string base = "observables/" + o.name;
  if (root.has(base)) throw IoError("file '" + file.target().string() + "' already has a group /" + base);
  m.group = root.require_group(base);
  m.group.set_attr("n_paths", o.n_paths);
  hid_t g = m.group.id();
  m.series = SnapshotSeries(g);
  const auto D = static_cast<hsize_t>(dim);
  Hid dim_scale = make_index_scale(g, "dim", iota_vec(dim));
  Hid dim2_scale = make_index_scale(g, "dim2", iota_vec(dim));
  if (!o.coordinate_names.empty()) obj(dim_scale.get()).set_attr("coordinate_names", o.coordinate_names);
  m.mean = GrowingDataset(g, "mean", H5T_IEEE_F64LE, {D}, {D}, o.compression);
  m.cov = GrowingDataset(g, "covariance", H5T_IEEE_F64LE, {D, D}, {D, D}, o.compression);
  attach(m.mean.id(), m.series.snapshot_scale(), 0);
  attach(m.mean.id(), dim_scale.get(), 1);
  attach(m.cov.id(), m.series.snapshot_scale(), 0);
  attach(m.cov.id(), dim_scale.get(), 1);
  attach(m.cov.id(), dim2_scale.get(), 2);
  obj(m.mean.id()).set_attr("coordinates", std::string("time step"));
  obj(m.cov.id()).set_attr("coordinates", std::string("time step"));
  if (o.histogram) {
    const auto& h = *o.histogram;
    m.n_hist = static_cast<std::int64_t>(h.coordinates.size());
    m.n_bins = h.bin_edges.cols() - 1;
    Hid hc = make_index_scale(g, "hist_coord", h.coordinates);
    Hid bin = make_index_scale(g, "bin", iota_vec(m.n_bins));
    Hid edge = make_index_scale(g, "edge", iota_vec(m.n_bins + 1));
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> edges = h.bin_edges;
    m.group.write_array("bin_edges", std::span<const double>(edges.data(), static_cast<std::size_t>(edges.size())),
                        {std::size_t(m.n_hist), std::size_t(m.n_bins + 1)}, {"hist_coord", "edge"});
    m.hist = GrowingDataset(g, "histogram", H5T_STD_I64LE, {hsize_t(m.n_hist), hsize_t(m.n_bins)},
                            {hsize_t(m.n_hist), hsize_t(m.n_bins)}, o.compression);
    attach(m.hist.id(), m.series.snapshot_scale(), 0);
    attach(m.hist.id(), hc.get(), 1);
    attach(m.hist.id(), bin.get(), 2);
    obj(m.hist.id()).set_attr("coordinates", std::string("time step"));
  }
}

ObservablesWriter::~ObservablesWriter() = default;
ObservablesWriter::ObservablesWriter(ObservablesWriter&&) noexcept = default;
ObservablesWriter& ObservablesWriter::operator=(ObservablesWriter&&) noexcept = default;

void ObservablesWriter::append(double t, std::int64_t step, const Eigen::Ref<const Eigen::VectorXd>& mean,
                               const Eigen::Ref<const Eigen::MatrixXd>& cov, const CountMatrix& counts) {
  auto& m = *impl_;
  if (mean.size() != m.dim || cov.rows() != m.dim || cov.cols() != m.dim)
    throw ConfigError("observables writer: mean has " + std::to_string(mean.size()) + " entries and covariance is (" +
                      std::to_string(cov.rows()) + " x " + std::to_string(cov.cols()) + ") but dim = " +
                      std::to_string(m.dim));
  if (m.n_hist > 0 && (counts.rows() != m.n_hist || counts.cols() != m.n_bins))
    throw ConfigError("observables writer: histogram counts are (" + std::to_string(counts.rows()) + " x " +
                      std::to_string(counts.cols()) + ") but (" + std::to_string(m.n_hist) + " x " +
                      std::to_string(m.n_bins) + ") were configured");
  if (m.n_hist == 0 && counts.size() != 0)
    throw ConfigError("observables writer: histogram counts given but no histogram was configured");
  const hsize_t s = m.series.size();
  m.buf.assign(mean.data(), mean.data() + m.dim);
  m.mean.write(s, H5T_NATIVE_DOUBLE, m.buf.data());
  m.buf.resize(static_cast<std::size_t>(m.dim * m.dim));
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(m.buf.data(), m.dim, m.dim) = cov;
  m.cov.write(s, H5T_NATIVE_DOUBLE, m.buf.data());
  if (m.n_hist > 0) m.hist.write(s, H5T_NATIVE_INT64, counts.data());
  m.series.append(t, step);
}

std::int64_t ObservablesWriter::snapshots() const { return static_cast<std::int64_t>(impl_->series.size()); }
std::int64_t ObservablesWriter::dim() const { return impl_->dim; }
Group ObservablesWriter::group() const { return impl_->group; }

// ---- reader ---------------------------------------------------------------------------

ObservablesReader::ObservablesReader(const std::filesystem::path& path, std::string name)
    : path_(path), name_(std::move(name)) {
  root_ = open_file(path_);
  const std::string file = "file '" + path_.string() + "'";
  if (!root_.has_group("observables")) throw IoError(file + " has no group /observables: not an sdescore statistics file");
  if (name_.empty()) {
    auto names = root_.group("observables").children();
    if (names.size() != 1)
      throw IoError(file + " holds " + std::to_string(names.size()) + " groups under /observables; choose one by name");
    name_ = names[0];
  }
  const std::string base = "observables/" + name_;
  if (!root_.has_group(base)) throw IoError(file + " has no group /" + base);
  info_ = read_run_info(root_);
  group_ = root_.group(base);
  for (const char* ds : {"mean", "covariance", "time", "step"})
    if (!group_.has_dataset(ds)) throw IoError(file + " has no dataset /" + base + "/" + ds);
  auto shape = group_.dataset_shape("mean");
  if (shape.size() != 2) throw IoError(file + ": /" + base + "/mean is not (snapshot, dim)");
  n_snapshots_ = static_cast<std::int64_t>(shape[0]);
  dim_ = static_cast<std::int64_t>(shape[1]);
}

std::int64_t ObservablesReader::n_paths() const { return group_.attr_int64("n_paths"); }
std::vector<double> ObservablesReader::times() const { return group_.read_array<double>("time").data; }
std::vector<std::int64_t> ObservablesReader::steps() const { return group_.read_array<std::int64_t>("step").data; }
bool ObservablesReader::has_histogram() const { return group_.has_dataset("histogram"); }

std::int64_t ObservablesReader::check_snapshot(std::int64_t s) const {
  if (s < 0) s += n_snapshots_;
  if (s < 0 || s >= n_snapshots_)
    throw IoError("file '" + path_.string() + "': snapshot " + std::to_string(s) + " is out of range; there are " +
                  std::to_string(n_snapshots_));
  return s;
}

Eigen::VectorXd ObservablesReader::mean(std::int64_t s) const {
  s = check_snapshot(s);
  Eigen::VectorXd v(dim_);
  Hid ds = checked(H5Dopen2(group_.id(), "mean", H5P_DEFAULT), "cannot open mean");
  read_hyperslab(ds.get(), {hsize_t(s), 0}, {1, hsize_t(dim_)}, H5T_NATIVE_DOUBLE, v.data());
  return v;
}
Eigen::MatrixXd ObservablesReader::covariance(std::int64_t s) const {
  s = check_snapshot(s);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> c(dim_, dim_);
  Hid ds = checked(H5Dopen2(group_.id(), "covariance", H5P_DEFAULT), "cannot open covariance");
  read_hyperslab(ds.get(), {hsize_t(s), 0, 0}, {1, hsize_t(dim_), hsize_t(dim_)}, H5T_NATIVE_DOUBLE, c.data());
  return c;
}
HistogramSpec ObservablesReader::histogram_spec() const {
  if (!has_histogram()) throw IoError("file '" + path_.string() + "' has no histogram in /observables/" + name_);
  HistogramSpec h;
  h.coordinates = group_.read_array<std::int64_t>("hist_coord").data;
  auto e = group_.read_array<double>("bin_edges");
  h.bin_edges = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      e.data.data(), static_cast<Eigen::Index>(e.shape[0]), static_cast<Eigen::Index>(e.shape[1]));
  return h;
}
CountMatrix ObservablesReader::histogram(std::int64_t s) const {
  s = check_snapshot(s);
  if (!has_histogram()) throw IoError("file '" + path_.string() + "' has no histogram in /observables/" + name_);
  auto shape = group_.dataset_shape("histogram");
  CountMatrix c(static_cast<Eigen::Index>(shape[1]), static_cast<Eigen::Index>(shape[2]));
  Hid ds = checked(H5Dopen2(group_.id(), "histogram", H5P_DEFAULT), "cannot open histogram");
  read_hyperslab(ds.get(), {hsize_t(s), 0, 0}, {1, shape[1], shape[2]}, H5T_NATIVE_INT64, c.data());
  return c;
}

}  // namespace sdescore::io
