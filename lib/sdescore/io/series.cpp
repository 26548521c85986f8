#include "sdescore/io/detail/series.hpp"

#include <algorithm>

#include <sdescore/core/error.hpp>

namespace sdescore::io::detail {

std::vector<hsize_t> shape_of(hid_t ds) {
  Hid sp = checked(H5Dget_space(ds), "cannot read the dataspace of " + where(ds));
  int rank = H5Sget_simple_extent_ndims(sp.get());
  std::vector<hsize_t> d(static_cast<std::size_t>(rank > 0 ? rank : 0));
  if (rank > 0) H5Sget_simple_extent_dims(sp.get(), d.data(), nullptr);
  return d;
}

void check_gzip_level(int level) {
  if (level < 0 || level > 9)
    throw ConfigError("compression level " + std::to_string(level) + " is invalid: use 0 (off) to 9");
  if (level > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
    throw IoError("gzip compression was requested but this HDF5 library has no deflate filter");
}

ParallelWrite parallel_write_of(hid_t obj) {
  ParallelWrite w;
#ifdef H5_HAVE_PARALLEL
  Hid file = checked(H5Iget_file_id(obj), "cannot find the file of " + where(obj));
  Hid fapl = checked(H5Fget_access_plist(file.get()), "cannot read the file access list of " + where(obj));
  if (H5Pget_driver(fapl.get()) != H5FD_MPIO) return w;
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Info info = MPI_INFO_NULL;
  check(H5Pget_fapl_mpio(fapl.get(), &comm, &info), "cannot read the MPI communicator of " + where(obj));
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_free(&comm);
  if (info != MPI_INFO_NULL) MPI_Info_free(&info);
  w.parallel = true;
  w.writer = rank == 0;
  w.dxpl = checked(H5Pcreate(H5P_DATASET_XFER), "cannot create a transfer property list");
  check(H5Pset_dxpl_mpio(w.dxpl.get(), H5FD_MPIO_COLLECTIVE), "cannot set collective transfers");
#else
  (void)obj;
#endif
  return w;
}

GrowingDataset::GrowingDataset(hid_t group, const std::string& name, hid_t file_type, std::vector<hsize_t> slab,
                               std::vector<hsize_t> chunk_slab, int gzip_level)
    : slab_(std::move(slab)) {
  const std::string what = "cannot create dataset '" + name + "' in " + where(group);
  std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{1};
  for (std::size_t i = 0; i < slab_.size(); ++i) {
    dims.push_back(slab_[i]);
    maxdims.push_back(slab_[i]);
    chunk.push_back(std::max<hsize_t>(1, chunk_slab[i]));
  }
  if (slab_.empty()) chunk[0] = chunk_slab.empty() ? 1024 : chunk_slab[0];
  Hid sp = checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()), what);
  Hid dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), what);
  check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), what + ": bad chunk shape");
  if (gzip_level > 0) {
    check(H5Pset_shuffle(dcpl.get()), what + ": shuffle filter unavailable");
    check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(gzip_level)), what + ": deflate filter unavailable");
  }
  // Writes always cover whole chunks of a slab; give the cache room for one slab's chunks anyway.
  Hid dapl = checked(H5Pcreate(H5P_DATASET_ACCESS), what);
  hsize_t chunk_bytes = H5Tget_size(file_type);
  for (auto c : chunk) chunk_bytes *= c;
  H5Pset_chunk_cache(dapl.get(), 521, std::max<std::size_t>(1u << 20, 2 * chunk_bytes), 1.0);
  ds_ = checked(H5Dcreate2(group, name.c_str(), file_type, sp.get(), H5P_DEFAULT, dcpl.get(), dapl.get()), what);
  par_ = parallel_write_of(group);
  if (gzip_level == 0 && slab_.size() == 2 && chunk[2] == slab_[1] && H5Tget_size(file_type) == 8 && !par_.parallel)
    direct_rows_ = chunk[1];  // direct chunk writes are serial HDF5 only
}

void GrowingDataset::write_rows(hsize_t s, hsize_t row0, hsize_t rows, hid_t mem_type, const void* data) {
  if (!ds_) throw IoError("cannot append to a dataset whose file was already committed or closed");
  const std::string what = "cannot write rows " + std::to_string(row0) + ".." + std::to_string(row0 + rows) +
                           " of snapshot " + std::to_string(s) + " to " + where(ds_.get());
  if (slab_.empty() || row0 + rows > slab_[0]) throw IoError(what + ": out of range");
  std::vector<hsize_t> dims{s + 1}, start{s, row0}, count{1, rows};
  for (auto n : slab_) dims.push_back(n);
  for (std::size_t i = 1; i < slab_.size(); ++i) {
    start.push_back(0);
    count.push_back(slab_[i]);
  }
  if (shape_of(ds_.get()).at(0) < s + 1) check(H5Dset_extent(ds_.get(), dims.data()), what + ": cannot extend");
  Hid fsp = checked(H5Dget_space(ds_.get()), what);
  check(H5Sselect_hyperslab(fsp.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), what);
  Hid msp = checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), what);
  check(H5Dwrite(ds_.get(), mem_type, msp.get(), fsp.get(), par_.transfer(), data), what);
}

void GrowingDataset::write(hsize_t s, hid_t mem_type, const void* data) {
  if (!ds_) throw IoError("cannot append to a dataset whose file was already committed or closed");
  const std::string what = "cannot append snapshot " + std::to_string(s) + " to " + where(ds_.get());
  std::vector<hsize_t> dims{s + 1}, start{s}, count{1};
  for (auto n : slab_) {
    dims.push_back(n);
    start.push_back(0);
    count.push_back(n);
  }
  check(H5Dset_extent(ds_.get(), dims.data()), what + ": cannot extend");
  if (direct_rows_ > 0 && H5Tequal(mem_type, H5T_NATIVE_DOUBLE) > 0 &&
      H5Tequal(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE) > 0) {
    // The file type is F64LE and so is memory: the chunk's bytes are the caller's bytes.
    const hsize_t n = slab_[0], dim = slab_[1], row_bytes = 8 * dim;
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (hsize_t p0 = 0; p0 < n; p0 += direct_rows_) {
      const hsize_t rows = std::min(direct_rows_, n - p0);
      const unsigned char* chunk = bytes + p0 * row_bytes;
      if (rows < direct_rows_) {
        edge_.assign(direct_rows_ * row_bytes, 0);
        std::copy(chunk, chunk + rows * row_bytes, edge_.begin());
        chunk = edge_.data();
      }
      const hsize_t offset[3] = {s, p0, 0};
      check(H5Dwrite_chunk(ds_.get(), H5P_DEFAULT, 0, offset, direct_rows_ * row_bytes, chunk), what);
    }
    return;
  }
  Hid fsp = checked(H5Dget_space(ds_.get()), what);
  check(H5Sselect_hyperslab(fsp.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), what);
  Hid msp = checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), what);
  if (!par_.writer) {  // a parallel file: the first process writes, the others take part
    check(H5Sselect_none(fsp.get()), what);
    check(H5Sselect_none(msp.get()), what);
  }
  check(H5Dwrite(ds_.get(), mem_type, msp.get(), fsp.get(), par_.transfer(), data), what);
}

SnapshotSeries::SnapshotSeries(hid_t group)
    : snapshot_(group, "snapshot", H5T_STD_I64LE, {}, {1024}, 0),
      time_(group, "time", H5T_IEEE_F64LE, {}, {1024}, 0),
      step_(group, "step", H5T_STD_I64LE, {}, {1024}, 0) {
  check(H5DSset_scale(snapshot_.id(), "snapshot"), "cannot make 'snapshot' a dimension scale in " + where(group));
  attach(time_.id(), snapshot_.id(), 0);
  attach(step_.id(), snapshot_.id(), 0);
}

hsize_t SnapshotSeries::append(double t, std::int64_t step) {
  const auto s = static_cast<std::int64_t>(n_);
  snapshot_.write(n_, H5T_NATIVE_INT64, &s);
  time_.write(n_, H5T_NATIVE_DOUBLE, &t);
  step_.write(n_, H5T_NATIVE_INT64, &step);
  return n_++;
}

Hid make_index_scale(hid_t group, const std::string& name, const std::vector<std::int64_t>& values) {
  const std::string what = "cannot create dimension scale '" + name + "' in " + where(group);
  hsize_t n = values.size();
  Hid sp = checked(H5Screate_simple(1, &n, nullptr), what);
  Hid ds = checked(H5Dcreate2(group, name.c_str(), H5T_STD_I64LE, sp.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   what);
  if (n > 0) {
    const ParallelWrite par = parallel_write_of(group);
    Hid fsp = checked(H5Dget_space(ds.get()), what);
    Hid msp = checked(H5Screate_simple(1, &n, nullptr), what);
    if (!par.writer) {  // a parallel file: the first process writes, the others take part
      check(H5Sselect_none(fsp.get()), what);
      check(H5Sselect_none(msp.get()), what);
    }
    check(H5Dwrite(ds.get(), H5T_NATIVE_INT64, msp.get(), fsp.get(), par.transfer(), values.data()), what);
  }
  check(H5DSset_scale(ds.get(), name.c_str()), what);
  return ds;
}

void attach(hid_t ds, hid_t scale, unsigned axis) {
  check(H5DSattach_scale(ds, scale, axis),
        "cannot attach dimension scale " + where(scale) + " to axis " + std::to_string(axis) + " of " + where(ds));
}

void read_hyperslab(hid_t ds, const std::vector<hsize_t>& start, const std::vector<hsize_t>& count, hid_t mt,
                    void* out) {
  const std::string what = "cannot read from " + where(ds);
  Hid fsp = checked(H5Dget_space(ds), what);
  check(H5Sselect_hyperslab(fsp.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), what);
  Hid msp = checked(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), what);
  check(H5Dread(ds, mt, msp.get(), fsp.get(), H5P_DEFAULT, out), what);
}

}  // namespace sdescore::io::detail
