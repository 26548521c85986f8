#pragma once
// A parameter sweep in one file (sdesim --sweep, docs/simulation.md "Parameter sweeps"): the
// ensemble layout of ensemble_writer.hpp / observables.hpp with one leading axis per swept
// parameter, each a float64 dimension scale named after the parameter and holding its values:
//   /particles/<name>/position/value  (P1, .., Pk, snapshot, path, dim)   float64
//   /observables/<name>/mean          (P1, .., Pk, snapshot, dim)         float64  (stats-only)
//   /observables/<name>/covariance    (P1, .., Pk, snapshot, dim, dim2)   float64
//   /observables/<name>/histogram     (P1, .., Pk, snapshot, hist_coord, bin) int64 (optional)
//   + time, step (snapshot), the index scales and bin_edges as in the single-run files.
// The sizes are fixed when the writer is created (the grid is known), so the points of the
// sweep may be written in any order. Every point shares one time grid: time and step are
// written with point 0 and checked against it for the others.
// Parallel files (sdescore::mpi): every process calls the constructor and each write
// (collective); write_paths writes the calling process's rows.
#include "sdescore/io/observables.hpp"
#include "sdescore/io/output_file.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sdescore::io {

struct SweepAxis {
  std::string name;            ///< the parameter (dimension and scale name)
  std::vector<double> values;  ///< at least one
};

struct SweepLayout {
  std::string name = "ensemble";    ///< particles/<name> or observables/<name>
  std::vector<SweepAxis> axes;      ///< leading axes, outermost first; points are row-major over them
  std::int64_t n_snapshots = 0;     ///< snapshots per point
  std::int64_t n_paths = 0;         ///< paths per point (all processes)
  std::int64_t dim = 0;
  bool stats_only = false;          ///< observables instead of paths
  std::optional<HistogramSpec> histogram;  ///< stats_only: histogram layout
  int compression = 0;              ///< gzip level 0 .. 9
  std::int64_t part_first = 0;      ///< this process's rows [part_first, part_first + part_count)
  std::int64_t part_count = -1;     ///< -1: all n_paths
};

class SweepWriter {
 public:
  /// Creates the datasets. The path scale holds file.info().path_first + [0, n_paths).
  SweepWriter(OutputFile& file, SweepLayout layout);
  ~SweepWriter();
  SweepWriter(SweepWriter&&) noexcept;
  SweepWriter& operator=(SweepWriter&&) noexcept;

  /// Number of points (the product of the axis sizes).
  std::int64_t points() const;
  /// Snapshot s of point `point`: this process's rows from dim-major data x[d * stride + p].
  void write_paths(std::int64_t point, std::int64_t s, double t, std::int64_t step, const double* x,
                   std::int64_t stride);
  /// Statistics of snapshot s of point `point` (the same on every process; the first writes).
  void write_stats(std::int64_t point, std::int64_t s, double t, std::int64_t step, const std::vector<double>& mean,
                   const std::vector<double>& covariance, const CountMatrix& counts = CountMatrix());

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sdescore::io
