#include "sdescore/io/ensemble_reader.hpp"

#include "sdescore/io/detail/series.hpp"

namespace sdescore::io {
using namespace detail;

std::vector<std::string> ensemble_names(const std::filesystem::path& path) {
  Group root = open_file(path);
  std::vector<std::string> out;
  if (!root.has_group("particles")) return out;
  Group particles = root.group("particles");
  for (const auto& n : particles.children())
    if (particles.has_group(n + "/position")) out.push_back(n);
  return out;
}

EnsembleReader::EnsembleReader(const std::filesystem::path& path, std::string name)
    : path_(path), name_(std::move(name)) {
  root_ = open_file(path_);
  const std::string file = "file '" + path_.string() + "'";
  if (!root_.has_group("particles"))
    throw IoError(file + " has no group /particles: not an sdescore ensemble file");
  if (name_.empty()) {
    auto names = ensemble_names(path_);
    if (names.empty())
      throw IoError(file + " has no group /particles/<name>/position: not an sdescore ensemble file");
    if (names.size() > 1) {
      std::string list;
      for (auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw IoError(file + " holds several ensembles (" + list + "); choose one by name");
    }
    name_ = names[0];
  }
  const std::string base = "particles/" + name_ + "/position";
  if (!root_.has_group(base))
    throw IoError(file + " has no group /" + base + ": not an sdescore ensemble file (or no ensemble '" + name_ + "')");
  info_ = read_run_info(root_);
  particle_ = root_.group("particles/" + name_);
  position_ = root_.group(base);
  for (const char* ds : {"value", "time", "step"})
    if (!position_.has_dataset(ds))
      throw IoError(file + " has no dataset /" + base + "/" + ds + ": not an sdescore ensemble file");
  auto shape = position_.dataset_shape("value");
  if (shape.size() != 3)
    throw IoError(file + ": /" + base + "/value has rank " + std::to_string(shape.size()) +
                  " but an ensemble has shape (snapshot, path, dim)");
  n_snapshots_ = static_cast<std::int64_t>(shape[0]);
  n_paths_ = static_cast<std::int64_t>(shape[1]);
  dim_ = static_cast<std::int64_t>(shape[2]);
  for (const char* ds : {"time", "step"}) {
    auto s = position_.dataset_shape(ds);
    if (s.size() != 1 || static_cast<std::int64_t>(s[0]) != n_snapshots_)
      throw IoError(file + ": /" + base + "/" + ds + " does not have one entry per snapshot (" +
                    std::to_string(n_snapshots_) + ")");
  }
}

std::vector<double> EnsembleReader::times() const { return position_.read_array<double>("time").data; }
std::vector<std::int64_t> EnsembleReader::steps() const { return position_.read_array<std::int64_t>("step").data; }
std::vector<std::int64_t> EnsembleReader::path_indices() const {
  if (position_.has_dataset("path")) return position_.read_array<std::int64_t>("path").data;
  std::vector<std::int64_t> out(static_cast<std::size_t>(n_paths_));
  for (std::int64_t i = 0; i < n_paths_; ++i) out[static_cast<std::size_t>(i)] = info_.path_first + i;
  return out;
}
std::vector<std::string> EnsembleReader::coordinate_names() const {
  if (position_.has_dataset("dim")) {
    Hid ds = checked(H5Dopen2(position_.id(), "dim", H5P_DEFAULT), "cannot open the dim scale");
    Group obj = Group::adopt(ds.release());
    if (obj.has_attr("coordinate_names")) return obj.attr_strings("coordinate_names");
  }
  return {};
}

Eigen::MatrixXd EnsembleReader::snapshot(std::int64_t s) const { return snapshot(s, 0, n_paths_); }

Eigen::MatrixXd EnsembleReader::snapshot(std::int64_t s, std::int64_t first, std::int64_t count) const {
  const std::string file = "file '" + path_.string() + "'";
  if (s < 0) s += n_snapshots_;
  if (s < 0 || s >= n_snapshots_)
    throw IoError(file + ": snapshot " + std::to_string(s) + " is out of range; the ensemble has " +
                  std::to_string(n_snapshots_) + " snapshots");
  if (first < 0 || count < 0 || first + count > n_paths_)
    throw IoError(file + ": paths [" + std::to_string(first) + ", " + std::to_string(first + count) +
                  ") are out of range; the ensemble has " + std::to_string(n_paths_) + " paths");
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> buf(count, dim_);
  if (count > 0) {
    Hid ds = checked(H5Dopen2(position_.id(), "value", H5P_DEFAULT), "cannot open " + file + " value");
    read_hyperslab(ds.get(), {hsize_t(s), hsize_t(first), 0}, {1, hsize_t(count), hsize_t(dim_)},
                   H5T_NATIVE_DOUBLE, buf.data());
  }
  return buf;
}

}  // namespace sdescore::io
