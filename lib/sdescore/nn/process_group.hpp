#pragma once
// One process of a training run shared by several (data parallel, docs/distributed.md): the
// interface the trainer and fit_score use; sdescore::mpi implements it over MPI
// (mpi/training.hpp), a serial run passes none.
//
// The batch is cut into the network's fixed chunks (Workspace::chunk_size samples, never a
// function of the process count); process r takes chunks share(n_chunks, r, size), consecutive
// and in rank order. Each process computes what belongs to its chunks (targets, network pass,
// chunk gradients); the results are gathered to every process in chunk order and combined
// there exactly as one process combines them, so every process takes the same step and the
// weights are the single process's bits for any number of processes.
//
// All calls are collective: every process makes them in the same order with the same sizes.
#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace sdescore::nn {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Returns if no process has failed; otherwise throws (the failing process reports its
  /// error). Called before every gather, so a process that failed between two of them (and
  /// says so, e.g. mpi::MpiGroup::fail) ends all of them there.
  virtual void sync() = 0;
  /// Whether `mine` is true on any process (a decision all must take alike, e.g. a time limit
  /// read from each process's clock). Checks for a failed process as sync() does.
  virtual bool any(bool mine) = 0;
  /// In-place all-gather: `data` is the concatenation of every process's part, in rank order,
  /// part r holding counts[r] values; on entry this process's part holds its values, on return
  /// every part holds its process's values.
  virtual void allgather(std::span<double> data, std::span<const std::int64_t> counts) = 0;
  virtual void allgather(std::span<float> data, std::span<const std::int64_t> counts) = 0;
};

/// Every process's values to every process when the processes do not know each other's counts
/// (collective): returns the concatenation of every process's `mine` in rank order, and each
/// process's count in `counts`. An agreement that no process has failed (sync), then two gathers:
/// the counts, then the values.
inline std::vector<double> allgather_varying(ProcessGroup& group, std::span<const double> mine,
                                             std::vector<std::int64_t>& counts) {
  const int n = group.size(), me = group.rank();
  std::vector<double> sizes(static_cast<std::size_t>(n), 0.0);  // counts as doubles: exact below 2^53
  sizes[static_cast<std::size_t>(me)] = static_cast<double>(mine.size());
  group.sync();
  group.allgather(std::span<double>(sizes), std::vector<std::int64_t>(static_cast<std::size_t>(n), 1));
  counts.assign(static_cast<std::size_t>(n), 0);
  std::int64_t first = 0, total = 0;
  for (int r = 0; r < n; ++r) {
    counts[static_cast<std::size_t>(r)] = static_cast<std::int64_t>(sizes[static_cast<std::size_t>(r)]);
    if (r < me) first += counts[static_cast<std::size_t>(r)];
    total += counts[static_cast<std::size_t>(r)];
  }
  std::vector<double> all(static_cast<std::size_t>(total), 0.0);
  std::copy(mine.begin(), mine.end(), all.begin() + first);
  group.allgather(std::span<double>(all), counts);
  return all;
}

/// Items [first, end) of n for process `rank` of `size`: [rank n / size, (rank + 1) n / size),
/// consecutive and in rank order (a process may get none when n < size).
inline std::pair<std::int64_t, std::int64_t> share(std::int64_t n, int rank, int size) {
  const std::int64_t q = n / size, m = n % size;
  const auto bound = [&](std::int64_t r) { return r * q + (r * m) / size; };
  return {bound(rank), bound(rank + 1)};
}

}  // namespace sdescore::nn
