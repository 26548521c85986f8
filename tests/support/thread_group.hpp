#pragma once
// n threads acting as the processes of an nn::ProcessGroup (the tests of process_group.hpp and of
// fit_score over a group, without MPI): gathers through one shared buffer, agreements through a
// shared maximum, with mpi::MpiGroup's failure rule (a process that failed says so with fail();
// the others' next sync() or any() throws PartnerFailed). tests/mpi/ checks the same over MPI.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include "sdescore/nn/process_group.hpp"
#include "sdescore/nn/trainer.hpp"

namespace sdescore::test {

/// The shared state of a group of n threads.
struct Board {
  explicit Board(int n) : n(n), barrier(n) {}
  int n;
  std::barrier<> barrier;
  std::vector<unsigned char> buffer;
  std::atomic<int> value{0};
};

/// What sync() and any() throw when another process has failed.
struct PartnerFailed : std::runtime_error {
  PartnerFailed() : std::runtime_error("another process failed") {}
};

class ThreadGroup final : public nn::ProcessGroup {
 public:
  ThreadGroup(Board& b, int rank) : b_(b), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return b_.n; }
  void sync() override { agree(0); }
  bool any(bool mine) override { return agree(mine ? 1 : 0) != 0; }
  /// This process failed: the others' next agreement throws (once; later calls do nothing).
  void fail() {
    if (told_) return;
    told_ = true;
    agree_raw(kFailed);
  }
  void allgather(std::span<double> data, std::span<const std::int64_t> counts) override { gather(data, counts); }
  void allgather(std::span<float> data, std::span<const std::int64_t> counts) override { gather(data, counts); }

 private:
  static constexpr int kFailed = 2;
  int agree_raw(int mine) {  // the maximum over the processes
    int seen = b_.value.load();
    while (mine > seen && !b_.value.compare_exchange_weak(seen, mine)) {
    }
    b_.barrier.arrive_and_wait();
    const int all = b_.value.load();
    b_.barrier.arrive_and_wait();
    if (rank_ == 0) b_.value = 0;
    b_.barrier.arrive_and_wait();
    return all;
  }
  int agree(int mine) {
    const int all = agree_raw(mine);
    if (all >= kFailed) {
      told_ = true;
      throw PartnerFailed();
    }
    return all;
  }
  template <class T>
  void gather(std::span<T> data, std::span<const std::int64_t> counts) {
    std::int64_t first = 0;
    for (int r = 0; r < rank_; ++r) first += counts[static_cast<std::size_t>(r)];
    const auto mine = counts[static_cast<std::size_t>(rank_)];
    if (rank_ == 0) b_.buffer.assign(data.size_bytes(), 0);
    b_.barrier.arrive_and_wait();
    std::memcpy(b_.buffer.data() + first * sizeof(T), data.data() + first, static_cast<std::size_t>(mine) * sizeof(T));
    b_.barrier.arrive_and_wait();
    std::memcpy(data.data(), b_.buffer.data(), data.size_bytes());
    b_.barrier.arrive_and_wait();
  }
  Board& b_;
  int rank_;
  bool told_ = false;
};

/// A trainer's state as one vector: parameters, Adam moments and EMA parameters (for
/// comparing runs bit for bit).
inline std::vector<float> trainer_state(const nn::Trainer& tr) {
  std::vector<float> out;
  auto append = [&](const auto& v) { out.insert(out.end(), v.data(), v.data() + v.size()); };
  append(tr.model().parameters());
  append(tr.optimizer().first_moment());
  append(tr.optimizer().second_moment());
  append(tr.ema_model().parameters());
  return out;
}

}  // namespace sdescore::test
