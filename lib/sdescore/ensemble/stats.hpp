#pragma once
/// \file
/// Streaming ensemble statistics per snapshot: mean, covariance and histograms of chosen
/// coordinates, computed by the engine in the same pass as the stepping (while a block is in
/// cache) and reduced deterministically:
///   - mean/covariance: one partial (n, mean, centred co-moment matrix) per fixed chunk of
///     kStatsChunk = 64 consecutive paths, merged in path order with Chan et al.'s pairwise
///     update. The chunks do not depend on the block size or thread count, so neither do the bits.
///   - histograms: integer counts per thread, summed (exact, order-free).
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "sdescore/ensemble/state.hpp"

namespace sdescore::ensemble {

inline constexpr int kStatsChunk = 64;

struct HistogramSpec {
  int coord = 0;              ///< coordinate index in [0, dim)
  std::vector<double> edges;  ///< strictly increasing, >= 2 edges; bins [e_i, e_{i+1}), the last one closed
};

struct StatsOptions {
  bool enabled = false;  ///< compute statistics for every snapshot
  std::vector<HistogramSpec> histograms;
  /// Throws ConfigError naming the bad histogram (coordinate out of range, bad edges).
  void validate(int dim) const;
};

struct Histogram {
  int coord = 0;
  std::vector<double> edges;
  std::vector<std::int64_t> counts;  ///< edges.size() - 1 bins
  std::int64_t underflow = 0, overflow = 0, nonfinite = 0;
};

/// Plain std::vector storage (no Eigen objects cross the compiled-library boundary: with
/// SDESCORE_NATIVE=ON the library and its users may disagree on Eigen's alignment); Eigen views
/// through mean() / cov().
struct EnsembleStats {
  std::int64_t n = 0;
  int dim = 0;
  std::vector<double> mean_data;  ///< sample mean, dim
  std::vector<double> cov_data;   ///< unbiased sample covariance (n - 1; zero if n < 2), dim x dim, symmetric
  std::vector<Histogram> histograms;
  Eigen::Map<const Eigen::VectorXd> mean() const { return {mean_data.data(), dim}; }
  Eigen::Map<const Eigen::MatrixXd> cov() const { return {cov_data.data(), dim, dim}; }
};

/// What an accumulator holds before `finish`: one partial (n, mean, co-moment matrix) per
/// kStatsChunk-path chunk, in path order, and the histogram counts (each histogram: its bins,
/// then underflow, overflow, non-finite). Partials of consecutive path ranges that each start at
/// a multiple of kStatsChunk, concatenated in path order (histograms summed), merge to the bits
/// of one accumulator over all the paths (sdescore::mpi reduces across processes this way).
struct StatsPartials {
  std::vector<double> chunks;       ///< n_chunks x (1 + dim + dim * dim)
  std::vector<std::int64_t> hist;   ///< sum over histograms of (bins + 3)
};

/// The statistics of `p` (the same algorithm as StatsAccumulator::finish).
EnsembleStats merge_partials(int dim, const StatsOptions& opt, const StatsPartials& p);

/// Accumulates one snapshot's statistics from disjoint path ranges; thread-safe for distinct
/// ranges and distinct `thread` slots. `finish` gives bits independent of how ranges were split
/// across threads, as long as every range starts at a multiple of kStatsChunk.
class StatsAccumulator {
 public:
  StatsAccumulator(int dim, std::int64_t n_paths, const StatsOptions& opt, int n_threads);
  /// Adds paths [begin, end) of s; begin must be a multiple of kStatsChunk (or end == n_paths).
  void add_range(const StateView& s, std::int64_t begin, std::int64_t end, int thread);
  EnsembleStats finish() const;
  /// The chunk partials and the histogram counts summed over threads (see StatsPartials).
  StatsPartials partials() const;
  void reset();

 private:
  int dim_;
  std::int64_t n_paths_;
  std::int64_t n_chunks_;
  int stride_;  // 1 + dim + dim * dim doubles per chunk partial
  StatsOptions opt_;
  int n_threads_;
  std::vector<double> partials_;
  std::vector<std::int64_t> hist_;  // per thread: for each histogram, bins + 3 (under, over, nonfinite)
  std::vector<std::size_t> hist_offset_;
  std::size_t hist_stride_ = 0;
};

/// Statistics of a stored state, by the same chunked algorithm the engine uses.
EnsembleStats compute_stats(const StateView& s, const StatsOptions& opt);

}  // namespace sdescore::ensemble
