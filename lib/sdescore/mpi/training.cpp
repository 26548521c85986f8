#include "sdescore/mpi/training.hpp"

#include <climits>
#include <string>
#include <vector>

#include "sdescore/core/error.hpp"
#include "sdescore/sim/simulation.hpp"  // sim::PartnerFailed

namespace sdescore::mpi {

namespace training_detail {
constexpr int kMpiGroupFailed = 2;  // agreement value of a failed process (0 / 1: a decision)
}
using training_detail::kMpiGroupFailed;

MpiGroup::MpiGroup(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

int MpiGroup::agree(int mine) {
  int all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MAX, comm_);
  if (all >= kMpiGroupFailed) {
    told_ = true;
    throw sim::PartnerFailed();
  }
  return all;
}

void MpiGroup::sync() { agree(0); }

bool MpiGroup::any(bool mine) { return agree(mine ? 1 : 0) != 0; }

void MpiGroup::fail() {
  if (told_) return;
  told_ = true;
  int mine = kMpiGroupFailed, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MAX, comm_);
}

MpiGroup::Outcome MpiGroup::outcome(int my_code) const {
  int in[2] = {my_code, my_code != 0 ? rank_ : size_};
  int code = 0, reporter = size_;
  MPI_Allreduce(&in[0], &code, 1, MPI_INT, MPI_MAX, comm_);
  MPI_Allreduce(&in[1], &reporter, 1, MPI_INT, MPI_MIN, comm_);
  return {code, reporter};
}

void MpiGroup::allgather(void* data, std::span<const std::int64_t> counts, MPI_Datatype type, std::size_t values) {
  // The counts are the same on every process, so a message too large is refused by all alike.
  if (counts.size() != static_cast<std::size_t>(size_))
    throw ConfigError("MPI gather: " + std::to_string(counts.size()) + " counts given for " + std::to_string(size_) + " processes");
  std::vector<int> n(counts.size()), displ(counts.size());
  std::int64_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displ[r] = static_cast<int>(total);
    total += counts[r];
    if (counts[r] < 0 || total > INT_MAX)
      throw ConfigError("MPI gather: " + std::to_string(total) + " values are too many for one message (at most " +
                        std::to_string(INT_MAX) + "): use a smaller batch or network");
    n[r] = static_cast<int>(counts[r]);
  }
  if (static_cast<std::size_t>(total) != values)
    throw ConfigError("MPI gather: the parts hold " + std::to_string(total) + " values but the buffer has " + std::to_string(values));
  MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, n.data(), displ.data(), type, comm_);
}

void MpiGroup::allgather(std::span<double> data, std::span<const std::int64_t> counts) {
  allgather(data.data(), counts, MPI_DOUBLE, data.size());
}

void MpiGroup::allgather(std::span<float> data, std::span<const std::int64_t> counts) {
  allgather(data.data(), counts, MPI_FLOAT, data.size());
}

}  // namespace sdescore::mpi
