#pragma once
// Streams an ensemble of paths into an OutputFile, one snapshot at a time, as
//   /particles/<name>/position/value  (snapshot, path, dim) float64, unlimited along snapshot
//   /particles/<name>/position/{time, step, snapshot, path, dim}   (see docs/file-format.md)
// Memory is bounded by one snapshot slab (n_paths x dim doubles). HDF5 is serial here:
// call a writer from one thread (e.g. after the OpenMP loop of a snapshot), not inside it.
#include "sdescore/io/output_file.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sdescore::io {

struct EnsembleOptions {
  std::string name = "ensemble";              ///< particles/<name>
  int compression = 0;                        ///< gzip level 0 (off) .. 9; shuffle is on when > 0
  std::size_t chunk_bytes = std::size_t{1} << 20;  ///< target chunk size: (1, paths..., dim) of ~this many bytes
  std::vector<std::string> coordinate_names;  ///< optional, one per state coordinate
  /// append / append_row_major / append_dim_major copy the snapshot into one of two buffers and
  /// return; a writer thread of this writer does the HDF5 write while the caller goes on
  /// (double buffering: a third append waits for the oldest write). Errors of a background write
  /// are rethrown by the next append, flush(), the file's commit() or any other call. false: write
  /// before returning.
  bool background_writes = true;
  /// A part of a larger ensemble (one process of a parallel file, sdescore::mpi): the writer's
  /// n_paths are the paths [part_first, part_first + n_paths) of `part_of` paths; every process
  /// appends each snapshot (collective writes, never in the background). 0: the whole ensemble.
  std::int64_t part_of = 0;
  std::int64_t part_first = 0;
};

class EnsembleWriter {
 public:
  /// Creates the position group in `file`. The path scale holds the global indices
  /// file.info().path_first + [0, n_paths). If file.info().path_count is 0 it is set
  /// to n_paths; any other mismatch is a ConfigError.
  EnsembleWriter(OutputFile& file, std::int64_t n_paths, std::int64_t dim, EnsembleOptions options = {});
  ~EnsembleWriter();
  EnsembleWriter(EnsembleWriter&&) noexcept;
  EnsembleWriter& operator=(EnsembleWriter&&) noexcept;

  /// Appends one snapshot given as an (n_paths x dim) matrix (any storage order).
  void append(const Eigen::Ref<const Eigen::MatrixXd>& paths_by_dim, double t, std::int64_t step);
  /// Appends one snapshot from row-major (path-major) data: x[p * dim + d]. No copy.
  void append_row_major(const double* x, double t, std::int64_t step);
  /// Appends one snapshot from dim-major (structure-of-arrays) data: x[d * stride + p],
  /// stride >= n_paths (0 means n_paths). Transposed into the slab buffer.
  void append_dim_major(const double* x, double t, std::int64_t step, std::int64_t stride = 0);

  /// Block-wise: begin_snapshot, then write_paths for blocks of paths covering [0, n_paths)
  /// exactly once each, then end_snapshot writes the slab.
  void begin_snapshot(double t, std::int64_t step);
  /// Rows of `block` are the local paths first .. first + block.rows() - 1.
  void write_paths(std::int64_t first, const Eigen::Ref<const Eigen::MatrixXd>& block);
  void end_snapshot();

  /// Waits for pending background writes; rethrows the IoError of a failed one.
  void flush();

  std::int64_t snapshots() const;
  std::int64_t n_paths() const;
  std::int64_t dim() const;
  /// The particles/<name> group (for extra attributes).
  Group group() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sdescore::io
