#pragma once
// Reads sdescore ensemble files (and checkpoints, which are one-snapshot ensemble files):
// provenance, sizes, times, and one snapshot (optionally a path range) at a time.
#include "sdescore/io/run_info.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sdescore::io {

/// Names of the ensembles (/particles/<name> groups with a position subgroup) in a file.
std::vector<std::string> ensemble_names(const std::filesystem::path& path);

class EnsembleReader {
 public:
  /// Opens `path` read-only. `name` selects particles/<name>; empty picks the only one
  /// (IoError listing the names if there are several). Validates the layout with
  /// IoError messages naming the file and the missing piece.
  explicit EnsembleReader(const std::filesystem::path& path, std::string name = "");

  const RunInfo& info() const { return info_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& file_path() const { return path_; }
  std::int64_t n_snapshots() const { return n_snapshots_; }
  std::int64_t n_paths() const { return n_paths_; }
  std::int64_t dim() const { return dim_; }
  std::vector<double> times() const;
  std::vector<std::int64_t> steps() const;
  /// Global path index of each local path (info().path_first + i when written by sdescore).
  std::vector<std::int64_t> path_indices() const;
  /// Coordinate names if the writer stored them, else empty.
  std::vector<std::string> coordinate_names() const;

  /// Snapshot s (negative counts from the end: -1 is the last) as (n_paths x dim).
  Eigen::MatrixXd snapshot(std::int64_t s) const;
  /// Local paths [first, first + count) of snapshot s, as (count x dim).
  Eigen::MatrixXd snapshot(std::int64_t s, std::int64_t first, std::int64_t count) const;

  /// The particles/<name> and particles/<name>/position groups, for extra attributes.
  Group group() const { return particle_; }
  Group position_group() const { return position_; }

 private:
  std::filesystem::path path_;
  std::string name_;
  RunInfo info_;
  Group root_, particle_, position_;
  std::int64_t n_snapshots_ = 0, n_paths_ = 0, dim_ = 0;
};

}  // namespace sdescore::io
