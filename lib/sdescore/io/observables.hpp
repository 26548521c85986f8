#pragma once
// Ensemble statistics per snapshot, for stats-only runs (no paths stored):
//   /observables/<name>/mean        (snapshot, dim)             float64
//   /observables/<name>/covariance  (snapshot, dim, dim2)       float64
//   /observables/<name>/histogram   (snapshot, hist_coord, bin) int64     (optional)
//   /observables/<name>/bin_edges   (hist_coord, edge)          float64   (optional)
//   + time, step and the dimension scales snapshot, dim, dim2, hist_coord, bin, edge.
#include "sdescore/io/output_file.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sdescore::io {

using CountMatrix = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct HistogramSpec {
  std::vector<std::int64_t> coordinates;  ///< which state coordinates are histogrammed
  Eigen::MatrixXd bin_edges;              ///< (coordinates.size() x (bins + 1)), increasing rows
};

struct ObservablesOptions {
  std::string name = "ensemble";             ///< observables/<name>
  std::int64_t n_paths = 0;                  ///< sample size behind each statistic (attribute)
  std::optional<HistogramSpec> histogram;    ///< histogram layout, if histograms are written
  int compression = 0;                       ///< gzip level 0 (off) .. 9
  std::vector<std::string> coordinate_names; ///< optional, one per state coordinate
};

class ObservablesWriter {
 public:
  ObservablesWriter(OutputFile& file, std::int64_t dim, ObservablesOptions options = {});
  ~ObservablesWriter();
  ObservablesWriter(ObservablesWriter&&) noexcept;
  ObservablesWriter& operator=(ObservablesWriter&&) noexcept;

  /// Appends one snapshot's statistics. `counts` is (hist coordinates x bins) and is
  /// required exactly when a histogram was configured.
  void append(double t, std::int64_t step, const Eigen::Ref<const Eigen::VectorXd>& mean,
              const Eigen::Ref<const Eigen::MatrixXd>& covariance, const CountMatrix& counts = CountMatrix());

  std::int64_t snapshots() const;
  std::int64_t dim() const;
  Group group() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads what ObservablesWriter wrote.
class ObservablesReader {
 public:
  /// `name` empty picks the only observables/<name> group.
  explicit ObservablesReader(const std::filesystem::path& path, std::string name = "");
  const RunInfo& info() const { return info_; }
  const std::string& name() const { return name_; }
  std::int64_t n_snapshots() const { return n_snapshots_; }
  std::int64_t dim() const { return dim_; }
  std::int64_t n_paths() const;
  std::vector<double> times() const;
  std::vector<std::int64_t> steps() const;
  Eigen::VectorXd mean(std::int64_t s) const;
  Eigen::MatrixXd covariance(std::int64_t s) const;
  bool has_histogram() const;
  HistogramSpec histogram_spec() const;
  CountMatrix histogram(std::int64_t s) const;
  Group group() const { return group_; }

 private:
  std::int64_t check_snapshot(std::int64_t s) const;
  std::filesystem::path path_;
  std::string name_;
  RunInfo info_;
  Group root_, group_;
  std::int64_t n_snapshots_ = 0, dim_ = 0;
};

}  // namespace sdescore::io
