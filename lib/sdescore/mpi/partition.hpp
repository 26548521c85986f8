#pragma once
/// \file
/// One simulation run over the processes of an MPI communicator (docs/distributed.md):
///   - paths: consecutive parts, whole chunks of ensemble::kStatsChunk paths each, in rank order;
///   - output: one file, written collectively with parallel HDF5 (MPI-IO driver) through a
///     temporary that rank 0 renames onto the target after the collective close;
///   - statistics: each rank's chunk partials gathered to rank 0 in rank (= path) order and
///     merged there exactly as one process merges them, then broadcast: the same bits for any
///     number of ranks;
///   - errors: before every collective step the ranks agree (an allreduce) that none failed;
///     a rank that fails says so at the same point, so all end together, and no file appears.
///
///   MPI_Init_thread(...);
///   sdescore::mpi::MpiPartition part(MPI_COMM_WORLD);
///   sdescore::sim::simulate(config, hooks, part);   // on every rank
#include <mpi.h>

#include <string>

#include "sdescore/sim/simulation.hpp"

namespace sdescore::mpi {

class MpiPartition final : public sim::Partition {
 public:
  explicit MpiPartition(MPI_Comm comm);
  int rank() const { return rank_; }
  int size() const { return size_; }

  std::pair<std::int64_t, std::int64_t> part(std::int64_t paths) const override;
  io::SharedFile shared_file(const std::string& target) override;
  void sync() override;
  void fail() override;
  ensemble::EnsembleStats reduce(int dim, const ensemble::StatsOptions& options,
                                 const ensemble::StatsPartials& mine) override;

  /// How a step ended on all ranks (collective: sdesim calls it after parsing the command line
  /// and after the run): the highest exit code
  /// given (0: every rank succeeded) and the lowest rank that gave a non-zero one (size()
  /// if none), which is the one to report the error.
  struct Outcome {
    int code = 0;
    int reporter = 0;
  };
  Outcome outcome(int my_code) const;

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  bool told_ = false;  // this rank has taken part in a failure agreement
};

}  // namespace sdescore::mpi
