#pragma once
// Pools computed by the processes of a training run in turn (fit_score over a process group,
// docs/distributed.md "Training over ranks"): each process computes its share of a set of pools,
// and a gather in rank order gives every process all of them, the bits each would have computed
// itself (a pool is a pure function of its key: seed and initial-pool index or refresh count).
//
// A computation that fails is recorded, not raised: the process that owns it raises its error
// only when the run takes the pool (take_shared), where the run of one process would have raised it,
// and the others meet it there in an agreement (sync) that ends them too. A pool computed ahead
// but never used (the run stopped earlier: --time-limit, --stop-at) thus fails nothing.
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "sdescore/core/error.hpp"
#include "sdescore/nn/process_group.hpp"
#include "sdescore/score/local_dsm.hpp"

namespace sdescore::score {

/// One pool of a shared set: the pool, or the failure of its computation.
template <int D>
struct SharedPool {
  KernelPool<D> pool;
  bool failed = false;
  int owner = 0;              ///< the process that computed it
  std::exception_ptr error;   ///< why it failed, on the owner only
};

/// Pools [0, n) computed by the processes of `group` (collective): process r computes the
/// items i = r, r + size, r + 2 size, ... by compute(i) -> KernelPool<D> (round robin: pools of
/// neighbouring times, which cost alike, go to different processes); every process returns all
/// n, in item order, the same bits on every process (its own pools as computed, the others'
/// read from their records).
template <int D, class Compute>
std::vector<SharedPool<D>> share_pools(nn::ProcessGroup& group, std::int64_t n, Compute&& compute) {
  const int size = group.size(), me = group.rank();
  std::vector<SharedPool<D>> out(static_cast<std::size_t>(n));
  std::vector<double> mine;  // per own item: 1 and its pool record (append_pool), or 0 (failed)
  for (std::int64_t i = me; i < n; i += size) {
    auto& s = out[static_cast<std::size_t>(i)];
    s.owner = me;
    const std::size_t at = mine.size();
    try {
      s.pool = compute(i);
      mine.push_back(1);
      append_pool(s.pool, mine);
    } catch (...) {
      s.failed = true;
      s.error = std::current_exception();
      mine.resize(at);
      mine.push_back(0);
    }
  }
  std::vector<std::int64_t> counts;
  const std::vector<double> all = nn::allgather_varying(group, mine, counts);
  std::size_t pos = 0;
  for (int r = 0; r < size; ++r) {
    const std::size_t part_end = pos + static_cast<std::size_t>(counts[static_cast<std::size_t>(r)]);
    if (r == me) {  // this process's own pools are already in place
      pos = part_end;
      continue;
    }
    const std::span<const double> part(all.data(), part_end);
    for (std::int64_t i = r; i < n; i += size) {
      auto& s = out[static_cast<std::size_t>(i)];
      s.owner = r;
      if (pos >= part_end) throw NumericalError("shared pools: process " + std::to_string(r) + " sent too few pools");
      s.failed = part[pos++] == 0;
      if (!s.failed) s.pool = read_pool<D>(part, pos);
    }
    if (pos != part_end) throw NumericalError("shared pools: process " + std::to_string(r) + " sent more than its pools");
  }
  return out;
}

/// The pool of s for the run to use (collective when it failed): its owner raises the failure,
/// the other processes meet that in group.sync(), which throws on them.
template <int D>
KernelPool<D> take_shared(SharedPool<D>&& s, nn::ProcessGroup& group) {
  if (!s.failed) return std::move(s.pool);
  if (s.error) std::rethrow_exception(s.error);
  group.sync();  // the owner has failed: this throws
  throw NumericalError("a training pool could not be computed on process " + std::to_string(s.owner) + " (its message says why)");
}

}  // namespace sdescore::score
