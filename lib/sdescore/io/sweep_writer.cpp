#include "sdescore/io/sweep_writer.hpp"

#include "sdescore/io/detail/series.hpp"

#include <algorithm>
#include <numeric>

namespace sdescore::io {
using namespace detail;

namespace {
std::vector<std::int64_t> sweep_iota(std::int64_t n, std::int64_t first = 0) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}
Group sweep_obj(hid_t id) { return Group::adopt((H5Iinc_ref(id), id)); }

/// A fixed-size chunked dataset of shape `dims`, chunk `chunk`, optional gzip+shuffle.
Hid sweep_dataset(hid_t group, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                  const std::vector<hsize_t>& chunk, int gzip) {
  const std::string what = "cannot create dataset '" + name + "' in " + where(group);
  Hid sp = checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), what);
  Hid dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), what);
  check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), what + ": bad chunk shape");
  if (gzip > 0) {
    check(H5Pset_shuffle(dcpl.get()), what + ": shuffle filter unavailable");
    check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(gzip)), what + ": deflate filter unavailable");
  }
  return checked(H5Dcreate2(group, name.c_str(), type, sp.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), what);
}

/// Writes the block start/count of `ds` from `data` (collective in a parallel file; a process
/// with `none` takes part without data).
void sweep_write(hid_t ds, const ParallelWrite& par, const std::vector<hsize_t>& start,
                 const std::vector<hsize_t>& count, hid_t mem_type, const void* data, bool none,
                 const std::string& what) {
  Hid fsp = checked(H5Dget_space(ds), what);
  check(H5Sselect_hyperslab(fsp.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), what);
  Hid msp = checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), what);
  if (none) {
    check(H5Sselect_none(fsp.get()), what);
    check(H5Sselect_none(msp.get()), what);
  }
  check(H5Dwrite(ds, mem_type, msp.get(), fsp.get(), par.transfer(), data), what);
}
}  // namespace

struct SweepWriter::Impl {
  SweepLayout layout;
  std::int64_t points = 1, n_hist = 0, n_bins = 0, rows = 0;
  Group group;
  Hid time, step, value, mean, cov, hist;
  ParallelWrite par;
  std::vector<double> times;           // written by point 0
  std::vector<std::int64_t> steps;
  std::vector<char> time_written;
  std::vector<double> buf;

  std::vector<hsize_t> lead(std::int64_t point) const {  // the axes' indices of a point
    std::vector<hsize_t> idx(layout.axes.size());
    for (std::size_t a = layout.axes.size(); a-- > 0;) {
      const auto n = static_cast<std::int64_t>(layout.axes[a].values.size());
      idx[a] = static_cast<hsize_t>(point % n);
      point /= n;
    }
    return idx;
  }
  void check_point(std::int64_t point, std::int64_t s) const {
    if (point < 0 || point >= points || s < 0 || s >= layout.n_snapshots)
      throw IoError("sweep writer: point " + std::to_string(point) + ", snapshot " + std::to_string(s) +
                    " is out of range (" + std::to_string(points) + " points x " +
                    std::to_string(layout.n_snapshots) + " snapshots)");
  }
  // time and step of snapshot s: written with the first point that reaches it, checked for the rest.
  void label(std::int64_t s, double t, std::int64_t k) {
    const auto i = static_cast<std::size_t>(s);
    if (time_written[i]) {
      if (times[i] != t || steps[i] != k)
        throw IoError("sweep writer: snapshot " + std::to_string(s) + " is at step " + std::to_string(k) +
                      " but another point has it at step " + std::to_string(steps[i]) +
                      ": every point of a sweep must share one time grid");
      return;
    }
    times[i] = t;
    steps[i] = k;
    time_written[i] = 1;
    const std::vector<hsize_t> start{static_cast<hsize_t>(s)}, count{1};
    sweep_write(time.get(), par, start, count, H5T_NATIVE_DOUBLE, &t, !par.writer, "cannot write the time of a sweep");
    sweep_write(step.get(), par, start, count, H5T_NATIVE_INT64, &k, !par.writer, "cannot write the step of a sweep");
  }
};

SweepWriter::SweepWriter(OutputFile& file, SweepLayout l) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  if (l.axes.empty()) throw ConfigError("sweep writer: no parameter axes");
  for (const auto& a : l.axes) {
    if (a.values.empty()) throw ConfigError("sweep writer: parameter axis '" + a.name + "' has no values");
    m.points *= static_cast<std::int64_t>(a.values.size());
  }
  if (l.n_snapshots < 1 || l.n_paths < 1 || l.dim < 1)
    throw ConfigError("sweep writer: snapshots, paths and dim must be >= 1");
  if (l.part_count < 0) {
    l.part_first = 0;
    l.part_count = l.n_paths;
  }
  if (l.part_first < 0 || l.part_first + l.part_count > l.n_paths)
    throw ConfigError("sweep writer: rows [" + std::to_string(l.part_first) + ", " +
                      std::to_string(l.part_first + l.part_count) + ") are not within the " + std::to_string(l.n_paths) +
                      " paths");
  check_gzip_level(l.compression);
  m.layout = l;
  m.rows = l.part_count;
  const auto S = static_cast<hsize_t>(l.n_snapshots), N = static_cast<hsize_t>(l.n_paths),
             D = static_cast<hsize_t>(l.dim);
  m.times.assign(S, 0.0);
  m.steps.assign(S, 0);
  m.time_written.assign(S, 0);

  Group root = file.root();
  const std::string base = (l.stats_only ? "observables/" : "particles/") + l.name;
  if (root.has(base)) throw IoError("file '" + file.target().string() + "' already has a group /" + base);
  Group g;
  if (l.stats_only) {
    m.group = root.require_group(base);
    m.group.set_attr("n_paths", l.n_paths);
    g = m.group;
  } else {
    m.group = root.require_group(base);
    Group box = m.group.require_group("box");
    box.set_attr("dimension", l.dim);
    box.set_attr("boundary", std::vector<std::string>(static_cast<std::size_t>(l.dim), "none"));
    g = m.group.require_group("position");
  }
  std::vector<std::string> names;
  for (const auto& a : l.axes) names.push_back(a.name);
  m.group.set_attr("sweep_parameters", names);
  const hid_t gid = g.id();
  m.par = parallel_write_of(gid);

  // Scales: one float64 per swept parameter (its values), snapshot, time/step, path, dim.
  std::vector<Hid> axis_scales;
  std::vector<hsize_t> lead_dims, lead_chunk;
  for (const auto& a : l.axes) {
    g.write_array(a.name, std::span<const double>(a.values.data(), a.values.size()), {a.values.size()}, {a.name});
    axis_scales.push_back(checked(H5Dopen2(gid, a.name.c_str(), H5P_DEFAULT), "cannot open the scale " + a.name));
    lead_dims.push_back(a.values.size());
    lead_chunk.push_back(1);
  }
  Hid snapshot = make_index_scale(gid, "snapshot", sweep_iota(l.n_snapshots));
  m.time = sweep_dataset(gid, "time", H5T_IEEE_F64LE, {S}, {S}, 0);
  m.step = sweep_dataset(gid, "step", H5T_STD_I64LE, {S}, {S}, 0);
  attach(m.time.get(), snapshot.get(), 0);
  attach(m.step.get(), snapshot.get(), 0);
  auto attach_all = [&](hid_t ds, const std::vector<hid_t>& rest) {
    unsigned axis = 0;
    for (const auto& s : axis_scales) attach(ds, s.get(), axis++);
    attach(ds, snapshot.get(), axis++);
    for (hid_t s : rest) attach(ds, s, axis++);
    sweep_obj(ds).set_attr("coordinates", std::string("time step"));
  };
  auto with = [&](std::vector<hsize_t> v, std::initializer_list<hsize_t> tail) {
    v.insert(v.end(), tail);
    return v;
  };
  Hid dim_scale = make_index_scale(gid, "dim", sweep_iota(l.dim));
  if (!l.stats_only) {
    const auto per_chunk = static_cast<hsize_t>(
        std::clamp<std::int64_t>(static_cast<std::int64_t>((std::size_t{1} << 20) / (8 * D)), 1, l.n_paths));
    m.value = sweep_dataset(gid, "value", H5T_IEEE_F64LE, with(lead_dims, {S, N, D}), with(lead_chunk, {1, per_chunk, D}),
                            l.compression);
    Hid path = make_index_scale(gid, "path", sweep_iota(l.n_paths, file.info().path_first));
    attach_all(m.value.get(), {path.get(), dim_scale.get()});
    return;
  }
  Hid dim2 = make_index_scale(gid, "dim2", sweep_iota(l.dim));
  m.mean = sweep_dataset(gid, "mean", H5T_IEEE_F64LE, with(lead_dims, {S, D}), with(lead_chunk, {1, D}), l.compression);
  m.cov = sweep_dataset(gid, "covariance", H5T_IEEE_F64LE, with(lead_dims, {S, D, D}), with(lead_chunk, {1, D, D}),
                        l.compression);
  attach_all(m.mean.get(), {dim_scale.get()});
  attach_all(m.cov.get(), {dim_scale.get(), dim2.get()});
  if (l.histogram) {
    const auto& h = *l.histogram;
    m.n_hist = static_cast<std::int64_t>(h.coordinates.size());
    m.n_bins = h.bin_edges.cols() - 1;
    if (m.n_hist < 1 || h.bin_edges.rows() != m.n_hist || m.n_bins < 1)
      throw ConfigError("sweep writer: histogram bin_edges must be (coordinates x bins+1)");
    Hid hc = make_index_scale(gid, "hist_coord", h.coordinates);
    Hid bin = make_index_scale(gid, "bin", sweep_iota(m.n_bins));
    Hid edge = make_index_scale(gid, "edge", sweep_iota(m.n_bins + 1));
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> edges = h.bin_edges;
    g.write_array("bin_edges", std::span<const double>(edges.data(), static_cast<std::size_t>(edges.size())),
                  {std::size_t(m.n_hist), std::size_t(m.n_bins + 1)}, {"hist_coord", "edge"});
    const auto H = static_cast<hsize_t>(m.n_hist), B = static_cast<hsize_t>(m.n_bins);
    m.hist = sweep_dataset(gid, "histogram", H5T_STD_I64LE, with(lead_dims, {S, H, B}), with(lead_chunk, {1, H, B}),
                           l.compression);
    attach_all(m.hist.get(), {hc.get(), bin.get()});
  }
}

SweepWriter::~SweepWriter() = default;
SweepWriter::SweepWriter(SweepWriter&&) noexcept = default;
SweepWriter& SweepWriter::operator=(SweepWriter&&) noexcept = default;

std::int64_t SweepWriter::points() const { return impl_->points; }

void SweepWriter::write_paths(std::int64_t point, std::int64_t s, double t, std::int64_t step, const double* x,
                              std::int64_t stride) {
  auto& m = *impl_;
  m.check_point(point, s);
  if (!m.value) throw IoError("sweep writer: this sweep stores statistics, not paths");
  const std::int64_t D = m.layout.dim, R = m.rows;
  if (stride == 0) stride = R;
  m.buf.resize(static_cast<std::size_t>(R * D));
  for (std::int64_t p = 0; p < R; ++p)
    for (std::int64_t d = 0; d < D; ++d) m.buf[static_cast<std::size_t>(p * D + d)] = x[d * stride + p];
  auto start = m.lead(point);
  std::vector<hsize_t> count(start.size(), 1);
  start.insert(start.end(), {static_cast<hsize_t>(s), static_cast<hsize_t>(m.layout.part_first), 0});
  count.insert(count.end(), {1, static_cast<hsize_t>(R), static_cast<hsize_t>(D)});
  sweep_write(m.value.get(), m.par, start, count, H5T_NATIVE_DOUBLE, m.buf.data(), R == 0,
              "cannot write snapshot " + std::to_string(s) + " of sweep point " + std::to_string(point));
  m.label(s, t, step);
}

void SweepWriter::write_stats(std::int64_t point, std::int64_t s, double t, std::int64_t step,
                              const std::vector<double>& mean, const std::vector<double>& cov,
                              const CountMatrix& counts) {
  auto& m = *impl_;
  m.check_point(point, s);
  if (!m.mean) throw IoError("sweep writer: this sweep stores paths, not statistics");
  const auto D = static_cast<hsize_t>(m.layout.dim);
  if (mean.size() != D || cov.size() != D * D)
    throw ConfigError("sweep writer: statistics of the wrong dimension");
  if (m.n_hist > 0 && (counts.rows() != m.n_hist || counts.cols() != m.n_bins))
    throw ConfigError("sweep writer: histogram counts of the wrong shape");
  const std::string what = "cannot write the statistics of snapshot " + std::to_string(s) + " of sweep point " +
                           std::to_string(point);
  const auto lead = m.lead(point);
  auto block = [&](std::initializer_list<hsize_t> tail, bool first) {
    std::vector<hsize_t> v = first ? lead : std::vector<hsize_t>(lead.size(), 1);
    v.push_back(first ? static_cast<hsize_t>(s) : 1);
    for (auto x : tail) v.push_back(first ? 0 : x);
    return v;
  };
  const bool none = !m.par.writer;
  sweep_write(m.mean.get(), m.par, block({D}, true), block({D}, false), H5T_NATIVE_DOUBLE, mean.data(), none, what);
  sweep_write(m.cov.get(), m.par, block({D, D}, true), block({D, D}, false), H5T_NATIVE_DOUBLE, cov.data(), none,
              what);
  if (m.n_hist > 0) {
    const auto H = static_cast<hsize_t>(m.n_hist), B = static_cast<hsize_t>(m.n_bins);
    sweep_write(m.hist.get(), m.par, block({H, B}, true), block({H, B}, false), H5T_NATIVE_INT64, counts.data(), none,
                what);
  }
  m.label(s, t, step);
}

}  // namespace sdescore::io
