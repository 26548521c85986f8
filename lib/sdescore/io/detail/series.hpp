#pragma once
// Private: datasets that grow along a leading, unlimited "snapshot" axis, and the
// snapshot/time/step triple that labels them (shared by trajectory and statistics writers).
#include "sdescore/io/detail/hdf5.hpp"

#include <string>
#include <vector>

namespace sdescore::io::detail {

/// How a process writes into a file opened with the MPI-IO driver (parallel HDF5, the
/// SDESCORE_MPI build): a collective transfer list and whether it writes data that every
/// process holds (the first process does). In a serial file: not parallel, default transfer.
struct ParallelWrite {
  bool parallel = false;
  bool writer = true;  ///< writes the shared data (rank 0 of the file's communicator)
  Hid dxpl;            ///< collective transfer (invalid: H5P_DEFAULT)
  hid_t transfer() const { return dxpl ? dxpl.get() : H5P_DEFAULT; }
};
/// The ParallelWrite of the file holding `obj`.
ParallelWrite parallel_write_of(hid_t obj);

/// A dataset of shape (snapshot, slab...) with snapshot unlimited, chunked as
/// (1, chunk...), optionally gzip+shuffle compressed.
class GrowingDataset {
 public:
  GrowingDataset() = default;
  GrowingDataset(hid_t group, const std::string& name, hid_t file_type, std::vector<hsize_t> slab,
                 std::vector<hsize_t> chunk_slab, int gzip_level);
  /// Writes slab number s (extending the dataset to s+1 snapshots) from `data` (row-major).
  /// In a parallel file (MPI-IO driver) every process calls it (collective); the first
  /// process's data is written.
  void write(hsize_t s, hid_t mem_type, const void* data);
  /// Writes rows [row0, row0 + rows) of the first slab axis of slab s from `data` (row-major,
  /// rows x the rest of the slab). Parallel files: every process calls it with its own rows
  /// (collective); each process's rows are written.
  void write_rows(hsize_t s, hsize_t row0, hsize_t rows, hid_t mem_type, const void* data);
  hid_t id() const { return ds_.get(); }

 private:
  Hid ds_;
  std::vector<hsize_t> slab_;
  // Uncompressed 2-D slabs (paths, dim) chunked (1, rows, dim) of 8-byte values: written chunk by
  // chunk with H5Dwrite_chunk straight from the caller's buffer (no chunk cache, no fill, no
  // HDF5 buffer allocation per snapshot).
  hsize_t direct_rows_ = 0;
  std::vector<unsigned char> edge_;  // a zero-padded copy of the last, partial chunk
  ParallelWrite par_;                // collective transfers in a parallel file
};

/// Creates the 1-D unlimited "snapshot" index scale, "time" and "step" in `group`.
class SnapshotSeries {
 public:
  SnapshotSeries() = default;
  explicit SnapshotSeries(hid_t group);
  /// Appends one snapshot label; returns its index.
  hsize_t append(double t, std::int64_t step);
  hsize_t size() const { return n_; }
  hid_t snapshot_scale() const { return snapshot_.id(); }
  hid_t time() const { return time_.id(); }
  hid_t step() const { return step_.id(); }

 private:
  GrowingDataset snapshot_, time_, step_;
  hsize_t n_ = 0;
};

/// Makes a fixed-length 1-D int64 dimension scale `name` in `group` with `values`.
Hid make_index_scale(hid_t group, const std::string& name, const std::vector<std::int64_t>& values);
/// Attaches `scale` to axis `axis` of `ds`.
void attach(hid_t ds, hid_t scale, unsigned axis);
/// Checks a gzip level (0..9) and that the filter is available.
void check_gzip_level(int level);
/// Reads the hyperslab start/count of dataset `ds` into `out` (row-major, mem type `mt`).
void read_hyperslab(hid_t ds, const std::vector<hsize_t>& start, const std::vector<hsize_t>& count, hid_t mt,
                    void* out);
/// Shape of a dataset.
std::vector<hsize_t> shape_of(hid_t ds);

}  // namespace sdescore::io::detail
