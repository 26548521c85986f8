#pragma once
/// \file
/// One training run over the processes of an MPI communicator (docs/distributed.md): the
/// nn::ProcessGroup of data-parallel `scorefit train` over MPI. Each process computes its chunks
/// of every batch; outputs and chunk gradients are gathered in chunk order (MPI_Allgatherv), so
/// every process sums them as one process does and the weights are the same bits for any
/// number of processes. Before every gather the processes agree (an allreduce) that none
/// failed; a process that fails says so with fail() at that point, so all end together.
///
///   sdescore::mpi::MpiGroup group(MPI_COMM_WORLD);
///   control.group = &group;   // score::TrainControl, on every rank
#include <mpi.h>

#include "sdescore/nn/process_group.hpp"

namespace sdescore::mpi {

class MpiGroup final : public nn::ProcessGroup {
 public:
  explicit MpiGroup(MPI_Comm comm);
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  /// Throws sim::PartnerFailed when another process has failed (called fail()).
  void sync() override;
  bool any(bool mine) override;
  void allgather(std::span<double> data, std::span<const std::int64_t> counts) override;
  void allgather(std::span<float> data, std::span<const std::int64_t> counts) override;
  /// Tells the others this process failed (their next sync() or any() throws); once per run,
  /// later calls do nothing. A process that learned of a failure from sync() has nothing to tell.
  void fail();

  /// How a step ended on all processes (collective): the highest exit code given (0: all
  /// succeeded) and the lowest rank that gave a non-zero one (size() if none), the one to report.
  struct Outcome {
    int code = 0;
    int reporter = 0;
  };
  Outcome outcome(int my_code) const;

 private:
  int agree(int mine);  // max over processes; throws sim::PartnerFailed when a process failed
  void allgather(void* data, std::span<const std::int64_t> counts, MPI_Datatype type, std::size_t values);
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  bool told_ = false;  // this process has taken part in a failure agreement
};

}  // namespace sdescore::mpi
