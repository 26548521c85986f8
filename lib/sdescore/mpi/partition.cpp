#include "sdescore/mpi/partition.hpp"

#include <climits>
#include <vector>

#include "sdescore/core/error.hpp"
#include "sdescore/ensemble/stats.hpp"
#include "sdescore/io/atomic.hpp"
#include "sdescore/io/detail/hdf5.hpp"

namespace sdescore::mpi {

MpiPartition::MpiPartition(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

std::pair<std::int64_t, std::int64_t> MpiPartition::part(std::int64_t paths) const {
  const std::int64_t chunk = ensemble::kStatsChunk;
  const std::int64_t chunks = (paths + chunk - 1) / chunk;
  if (chunks < size_)
    throw ConfigError("--paths = " + std::to_string(paths) + " is too few for " + std::to_string(size_) +
                      " MPI processes: each process takes whole blocks of " + std::to_string(chunk) +
                      " paths, so valid are --paths >= " + std::to_string(chunk * (size_ - 1) + 1) +
                      " (or at most " + std::to_string(chunks) + " processes)");
  // Rank r: chunks [r * chunks / size, (r + 1) * chunks / size), in rank order.
  // floor(r * chunks / size) without overflow: chunks = q size + m, r < size.
  const std::int64_t q = chunks / size_, m = chunks % size_;
  const auto bound = [&](std::int64_t r) { return (r * q + (r * m) / size_) * chunk; };
  const std::int64_t first = bound(rank_);
  const std::int64_t end = rank_ + 1 == size_ ? paths : bound(rank_ + 1);
  return {first, end - first};
}

io::SharedFile MpiPartition::shared_file(const std::string& target) {
  std::string temp = rank_ == 0 ? io::temp_path_for(target).string() : std::string();
  int n = static_cast<int>(temp.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, comm_);
  temp.resize(static_cast<std::size_t>(n));
  MPI_Bcast(temp.data(), n, MPI_CHAR, 0, comm_);
  io::SharedFile f;
  f.temp = temp;
  f.owner = rank_ == 0;
  MPI_Comm comm = comm_;
  f.configure = [comm](std::int64_t fapl) {
    io::detail::check(H5Pset_fapl_mpio(static_cast<hid_t>(fapl), comm, MPI_INFO_NULL),
                      "cannot select the MPI-IO driver of parallel HDF5");
  };
  return f;
}

void MpiPartition::sync() {
  int mine = 0, any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm_);
  if (any) {
    told_ = true;
    throw sim::PartnerFailed();
  }
}

void MpiPartition::fail() {
  if (told_) return;
  told_ = true;
  int mine = 1, any = 0;
  MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm_);
}

MpiPartition::Outcome MpiPartition::outcome(int my_code) const {
  int in[2] = {my_code, my_code != 0 ? rank_ : size_};
  int code = 0, reporter = size_;
  MPI_Allreduce(&in[0], &code, 1, MPI_INT, MPI_MAX, comm_);
  MPI_Allreduce(&in[1], &reporter, 1, MPI_INT, MPI_MIN, comm_);
  return {code, reporter};
}

ensemble::EnsembleStats MpiPartition::reduce(int dim, const ensemble::StatsOptions& options,
                                             const ensemble::StatsPartials& mine) {
  // Chunk partials to rank 0 in rank order (= path order), histogram counts summed (exact).
  if (mine.chunks.size() > static_cast<std::size_t>(INT_MAX))
    throw ConfigError("statistics: " + std::to_string(mine.chunks.size()) +
                      " partial values on one MPI process are too many for one message; use more processes");
  int n_mine = static_cast<int>(mine.chunks.size());
  std::vector<int> counts(rank_ == 0 ? static_cast<std::size_t>(size_) : 0), displs;
  MPI_Gather(&n_mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm_);
  ensemble::StatsPartials all;
  if (rank_ == 0) {
    long long total = 0;
    for (int c : counts) {
      displs.push_back(static_cast<int>(total));
      total += c;
      if (total > INT_MAX)
        throw ConfigError("statistics: the partials of all processes are too many for one message");
    }
    all.chunks.resize(static_cast<std::size_t>(total));
    all.hist.resize(mine.hist.size());
  }
  MPI_Gatherv(mine.chunks.data(), n_mine, MPI_DOUBLE, all.chunks.data(), counts.data(), displs.data(), MPI_DOUBLE, 0,
              comm_);
  MPI_Reduce(mine.hist.data(), all.hist.data(), static_cast<int>(mine.hist.size()), MPI_INT64_T, MPI_SUM, 0, comm_);
  // Rank 0 merges; every rank gets the result (they all write the same statistics collectively).
  ensemble::EnsembleStats st;
  if (rank_ == 0) st = ensemble::merge_partials(dim, options, all);
  std::int64_t n = st.n;
  MPI_Bcast(&n, 1, MPI_INT64_T, 0, comm_);
  st.n = n;
  st.dim = dim;
  st.mean_data.resize(static_cast<std::size_t>(dim));
  st.cov_data.resize(static_cast<std::size_t>(dim) * static_cast<std::size_t>(dim));
  MPI_Bcast(st.mean_data.data(), dim, MPI_DOUBLE, 0, comm_);
  MPI_Bcast(st.cov_data.data(), dim * dim, MPI_DOUBLE, 0, comm_);
  if (rank_ != 0) st.histograms.resize(options.histograms.size());
  for (std::size_t h = 0; h < options.histograms.size(); ++h) {
    auto& out = st.histograms[h];
    out.coord = options.histograms[h].coord;
    out.edges = options.histograms[h].edges;
    out.counts.resize(out.edges.size() - 1);
    MPI_Bcast(out.counts.data(), static_cast<int>(out.counts.size()), MPI_INT64_T, 0, comm_);
    std::int64_t extra[3] = {out.underflow, out.overflow, out.nonfinite};
    MPI_Bcast(extra, 3, MPI_INT64_T, 0, comm_);
    out.underflow = extra[0];
    out.overflow = extra[1];
    out.nonfinite = extra[2];
  }
  return st;
}

}  // namespace sdescore::mpi
