#include "sdescore/io/ensemble_writer.hpp"

#include "sdescore/io/detail/series.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>

#if defined(__linux__)
#include <unistd.h>  // fdatasync
#endif

namespace sdescore::io {
using namespace detail;

namespace ensemble_writer_detail {  // named: Impl holds these types (unity builds warn on anonymous ones)

// The file descriptor under `obj`'s file when it uses HDF5's default POSIX driver (sec2), else -1.
int ensemble_writer_posix_fd(hid_t obj) {
  Hid file(H5Iget_file_id(obj));
  if (!file) return -1;
  Hid fapl(H5Fget_access_plist(file.get()));
  if (!fapl || H5Pget_driver(fapl.get()) != H5FD_SEC2) return -1;
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) < 0 || handle == nullptr) return -1;
  return *static_cast<int*>(handle);
}

// Puts the snapshots already written on disk while the run goes on: a thread of its own calls
// fdatasync(fd) whenever at least kMinBytes were written since its last call. The commit's
// fsync (AtomicFile::commit, before the rename) then finds little left to do. Why: on this
// project's machine (ext4 on a virtual disk) that final fsync of 100 snapshots of 1e5 paths
// (80 MB) took 55-90 ms, a sixth of the run, most of it the disk's cache flush, which grows with
// the data written since the last one; starting the kernel's writeback early
// (sync_file_range) did not shorten it (55 ms). Its own thread, not the writer thread: an
// fdatasync takes ~10 ms, longer than a snapshot interval, and the writer thread must keep
// draining the two buffers. A hint for speed only: errors are ignored here and surface at
// commit's fsync.
class EnsembleDiskSync {
 public:
  static constexpr std::size_t kMinBytes = std::size_t{4} << 20;

  explicit EnsembleDiskSync(int fd) : fd_(fd) {}
  ~EnsembleDiskSync() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // `bytes` more were written to the file.
  void wrote(std::size_t bytes) {
    if (fd_ < 0) return;
    {
      const std::lock_guard<std::mutex> lock(mu_);
      pending_ += bytes;
      if (pending_ < kMinBytes) return;
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
    cv_.notify_all();
  }
  // Waits for a running fdatasync and starts no other (the file is about to close: the fd
  // must not be used after this).
  void finish() {
    std::unique_lock<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !busy_; });
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || pending_ >= kMinBytes; });
      if (stop_) return;
      pending_ = 0;
      busy_ = true;
      lock.unlock();
#if defined(__linux__)
      (void)::fdatasync(fd_);
#endif
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t pending_ = 0;
  bool busy_ = false, stop_ = false;
  std::thread thread_;
};

// The writer thread of one EnsembleWriter: snapshots queue up (at most kBuffers in flight) and
// are written in order. Only with a thread-safe HDF5 (H5_HAVE_THREADSAFE, Debian's serial build; not
// its parallel one, where writes happen in the caller): its calls from this
// thread and the caller's are serialised by the library.
class Background {
 public:
  struct Job {
    std::vector<double> buf;
    double t = 0;
    std::int64_t step = 0;
  };
  static constexpr int kBuffers = 2;

  explicit Background(std::function<void(const Job&)> write) : write_(std::move(write)) {}
  ~Background() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // A free buffer of `size` doubles, once fewer than kBuffers snapshots are in flight.
  std::vector<double> acquire(std::size_t size) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < kBuffers; });
    rethrow_locked();
    std::vector<double> b;
    if (!free_.empty()) {
      b = std::move(free_.back());
      free_.pop_back();
    }
    b.resize(size);
    return b;
  }

  void submit(Job job) {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
      jobs_.push_back(std::move(job));
      ++in_flight_;
    }
    cv_.notify_all();
  }

  void flush() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
    rethrow_locked();
  }

 private:
  void rethrow_locked() {
    if (error_) std::rethrow_exception(error_);  // sticky: the file is incomplete
  }

  void run() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      std::exception_ptr err;
      if (!failed_) {
        try {
          write_(job);
        } catch (...) {
          err = std::current_exception();
          failed_ = true;
        }
      }
      {
        const std::lock_guard<std::mutex> lock(mu_);
        if (err) error_ = err;
        free_.push_back(std::move(job.buf));
        --in_flight_;
      }
      cv_.notify_all();
    }
  }

  std::function<void(const Job&)> write_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<std::vector<double>> free_;
  int in_flight_ = 0;
  bool stop_ = false;
  bool failed_ = false;  // writer thread only
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace ensemble_writer_detail
using ensemble_writer_detail::Background;
using ensemble_writer_detail::EnsembleDiskSync;
using ensemble_writer_detail::ensemble_writer_posix_fd;

struct EnsembleWriter::Impl {
  std::int64_t n_paths = 0, dim = 0;
  std::int64_t part_of = 0, part_first = 0;  // EnsembleOptions::part_of / part_first
  Group particle;  // particles/<name>
  Group position;  // particles/<name>/position
  SnapshotSeries series;
  GrowingDataset value;
  Hid path_scale, dim_scale;
  std::vector<double> slab;  // one snapshot, row-major (path, dim); allocated on first need
  // block-wise state
  bool in_snapshot = false;
  double pending_t = 0;
  std::int64_t pending_step = 0;
  std::vector<unsigned char> covered;
  std::int64_t n_covered = 0;

  void ensure_slab() {
    if (slab.empty()) slab.resize(static_cast<std::size_t>(n_paths * dim));
  }
  // Background writes only: fdatasync as the run goes (EnsembleDiskSync). Joined after bg.
  std::shared_ptr<EnsembleDiskSync> disk;
  // Declared last: destroyed (joined) first, before the datasets it writes.
  std::shared_ptr<Background> bg;

  void check_no_block() const {
    if (in_snapshot)
      throw IoError("cannot append a whole snapshot to " + where(position.id()) +
                    " while a block-wise snapshot is open (call end_snapshot first)");
  }
  void write_now(const double* row_major, double t, std::int64_t step) {
    if (part_of > 0)
      value.write_rows(series.size(), static_cast<hsize_t>(part_first), static_cast<hsize_t>(n_paths),
                       H5T_NATIVE_DOUBLE, row_major);
    else
      value.write(series.size(), H5T_NATIVE_DOUBLE, row_major);
    series.append(t, step);
  }
  void write(const double* row_major, double t, std::int64_t step) {
    check_no_block();
    flush();
    write_now(row_major, t, step);
  }
  void flush() {
    if (bg) bg->flush();
  }
  // Fills a row-major (path, dim) snapshot with fill(double*) and writes it, in the background
  // if enabled.
  template <class Fill>
  void submit(Fill&& fill, double t, std::int64_t step) {
    check_no_block();
    if (!bg) {
      ensure_slab();
      fill(slab.data());
      write_now(slab.data(), t, step);
      return;
    }
    // Checked here, not only by the background write: appending to a committed (closed) file
    // must fail in the caller.
    if (H5Iis_valid(value.id()) <= 0)
      throw IoError("cannot append a snapshot: the ensemble's file was already committed or closed");
    std::vector<double> b = bg->acquire(static_cast<std::size_t>(n_paths * dim));
    fill(b.data());
    bg->submit(Background::Job{std::move(b), t, step});
  }
};

EnsembleWriter::EnsembleWriter(OutputFile& file, std::int64_t n_paths, std::int64_t dim, EnsembleOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (n_paths < 1) throw ConfigError("ensemble writer: n_paths = " + std::to_string(n_paths) + " must be >= 1");
  if (dim < 1) throw ConfigError("ensemble writer: dim = " + std::to_string(dim) + " must be >= 1");
  if (options.name.empty() || options.name.find('/') != std::string::npos)
    throw ConfigError("ensemble name '" + options.name + "' is invalid: it must be non-empty and contain no '/'");
  if (!options.coordinate_names.empty() && static_cast<std::int64_t>(options.coordinate_names.size()) != dim)
    throw ConfigError("ensemble writer: " + std::to_string(options.coordinate_names.size()) +
                      " coordinate names given for dim = " + std::to_string(dim));
  check_gzip_level(options.compression);
  if (options.part_of != 0 && (options.part_of < 1 || options.part_first < 0 || options.part_first + n_paths > options.part_of))
    throw ConfigError("ensemble writer: paths [" + std::to_string(options.part_first) + ", " +
                      std::to_string(options.part_first + n_paths) + ") are not a part of " +
                      std::to_string(options.part_of) + " paths");
  const std::int64_t total = options.part_of > 0 ? options.part_of : n_paths;
  if (options.part_of > 0) options.background_writes = false;  // collective writes, from the caller
#ifndef H5_HAVE_THREADSAFE
  options.background_writes = false;  // e.g. Debian's parallel HDF5 (SDESCORE_MPI): one thread only
#endif
  if (file.info().path_count == 0) file.set_path_count(total);
  else if (file.info().path_count != total)
    throw ConfigError("ensemble writer: the run info says path_count = " + std::to_string(file.info().path_count) +
                      " but the writer was given n_paths = " + std::to_string(total));
  auto& m = *impl_;
  m.n_paths = n_paths;
  m.dim = dim;
  m.part_of = options.part_of;
  m.part_first = options.part_first;
  Group root = file.root();
  const std::string base = "particles/" + options.name;
  if (root.has(base)) throw IoError("file '" + file.target().string() + "' already has a group /" + base);
  m.particle = root.require_group(base);
  Group box = m.particle.require_group("box");
  box.set_attr("dimension", dim);
  box.set_attr("boundary", std::vector<std::string>(static_cast<std::size_t>(dim), "none"));
  m.position = m.particle.require_group("position");
  if (options.background_writes) {
    Impl* self = &m;
    m.disk = std::make_shared<EnsembleDiskSync>(ensemble_writer_posix_fd(m.position.id()));
    m.bg = std::make_shared<Background>([self](const Background::Job& j) {
      self->write_now(j.buf.data(), j.t, j.step);
      self->disk->wrote(sizeof(double) * j.buf.size());
    });
    file.add_flush_hook([w = std::weak_ptr<Background>(m.bg), d = std::weak_ptr<EnsembleDiskSync>(m.disk)] {
      const auto sync = d.lock();  // the file closes next: no fdatasync may run on its fd then
      try {
        if (auto b = w.lock()) b->flush();
      } catch (...) {
        if (sync) sync->finish();
        throw;
      }
      if (sync) sync->finish();
    });
  }
  hid_t g = m.position.id();

  m.series = SnapshotSeries(g);
  // Chunk: one snapshot, as many whole paths as fit in chunk_bytes, all coordinates.
  const std::size_t row_bytes = sizeof(double) * static_cast<std::size_t>(dim);
  const auto paths_per_chunk = static_cast<hsize_t>(
      std::clamp<std::int64_t>(static_cast<std::int64_t>(options.chunk_bytes / row_bytes), 1, total));
  m.value = GrowingDataset(g, "value", H5T_IEEE_F64LE, {hsize_t(total), hsize_t(dim)},
                           {paths_per_chunk, hsize_t(dim)}, options.compression);
  std::vector<std::int64_t> paths(static_cast<std::size_t>(total)), dims(static_cast<std::size_t>(dim));
  std::iota(paths.begin(), paths.end(), file.info().path_first);
  std::iota(dims.begin(), dims.end(), std::int64_t{0});
  m.path_scale = make_index_scale(g, "path", paths);
  m.dim_scale = make_index_scale(g, "dim", dims);
  attach(m.value.id(), m.series.snapshot_scale(), 0);
  attach(m.value.id(), m.path_scale.get(), 1);
  attach(m.value.id(), m.dim_scale.get(), 2);
  // CF-style auxiliary coordinates: xarray turns time and step into coordinates of value.
  Group value_attrs = Group::adopt((H5Iinc_ref(m.value.id()), m.value.id()));
  value_attrs.set_attr("coordinates", std::string("time step"));
  if (!options.coordinate_names.empty()) {
    Group dim_attrs = Group::adopt((H5Iinc_ref(m.dim_scale.get()), m.dim_scale.get()));
    dim_attrs.set_attr("coordinate_names", options.coordinate_names);
  }
}

EnsembleWriter::~EnsembleWriter() {
  if (impl_ && impl_->bg) {
    try {
      impl_->bg->flush();
    } catch (...) {  // reported by the file's commit (the hook) or lost with an uncommitted file
    }
  }
}
EnsembleWriter::EnsembleWriter(EnsembleWriter&&) noexcept = default;
EnsembleWriter& EnsembleWriter::operator=(EnsembleWriter&&) noexcept = default;

void EnsembleWriter::append(const Eigen::Ref<const Eigen::MatrixXd>& x, double t, std::int64_t step) {
  auto& m = *impl_;
  if (x.rows() != m.n_paths || x.cols() != m.dim)
    throw ConfigError("ensemble writer: snapshot has shape (" + std::to_string(x.rows()) + ", " +
                      std::to_string(x.cols()) + ") but (n_paths, dim) = (" + std::to_string(m.n_paths) + ", " +
                      std::to_string(m.dim) + ")");
  m.submit(
      [&](double* out) {
        Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(out, m.n_paths, m.dim) = x;
      },
      t, step);
}

void EnsembleWriter::append_row_major(const double* x, double t, std::int64_t step) {
  auto& m = *impl_;
  m.submit([&](double* out) { std::memcpy(out, x, sizeof(double) * static_cast<std::size_t>(m.n_paths * m.dim)); },
           t, step);
}

void EnsembleWriter::append_dim_major(const double* x, double t, std::int64_t step, std::int64_t stride) {
  auto& m = *impl_;
  if (stride == 0) stride = m.n_paths;
  if (stride < m.n_paths)
    throw ConfigError("ensemble writer: dim-major stride " + std::to_string(stride) + " is smaller than n_paths = " +
                      std::to_string(m.n_paths));
  m.submit(
      [&](double* out) {
        if (m.dim == 1) {
          std::memcpy(out, x, sizeof(double) * static_cast<std::size_t>(m.n_paths));
          return;
        }
        for (std::int64_t p = 0; p < m.n_paths; ++p)
          for (std::int64_t d = 0; d < m.dim; ++d) out[p * m.dim + d] = x[d * stride + p];
      },
      t, step);
}

void EnsembleWriter::begin_snapshot(double t, std::int64_t step) {
  auto& m = *impl_;
  if (m.in_snapshot) throw IoError("ensemble writer: begin_snapshot called twice without end_snapshot");
  m.flush();
  m.ensure_slab();
  m.in_snapshot = true;
  m.pending_t = t;
  m.pending_step = step;
  m.covered.assign(static_cast<std::size_t>(m.n_paths), 0);
  m.n_covered = 0;
}

void EnsembleWriter::write_paths(std::int64_t first, const Eigen::Ref<const Eigen::MatrixXd>& block) {
  auto& m = *impl_;
  if (!m.in_snapshot) throw IoError("ensemble writer: write_paths called outside begin_snapshot/end_snapshot");
  if (first < 0 || first + block.rows() > m.n_paths || block.cols() != m.dim)
    throw ConfigError("ensemble writer: block of " + std::to_string(block.rows()) + " paths x " +
                      std::to_string(block.cols()) + " coordinates at path " + std::to_string(first) +
                      " does not fit (n_paths, dim) = (" + std::to_string(m.n_paths) + ", " + std::to_string(m.dim) +
                      ")");
  for (Eigen::Index r = 0; r < block.rows(); ++r) {
    auto p = static_cast<std::size_t>(first + r);
    if (m.covered[p]) throw ConfigError("ensemble writer: path " + std::to_string(p) + " written twice in one snapshot");
    m.covered[p] = 1;
    ++m.n_covered;
    for (std::int64_t d = 0; d < m.dim; ++d) m.slab[p * static_cast<std::size_t>(m.dim) + d] = block(r, d);
  }
}

void EnsembleWriter::end_snapshot() {
  auto& m = *impl_;
  if (!m.in_snapshot) throw IoError("ensemble writer: end_snapshot without begin_snapshot");
  if (m.n_covered != m.n_paths)
    throw ConfigError("ensemble writer: snapshot ended with " + std::to_string(m.n_covered) + " of " +
                      std::to_string(m.n_paths) + " paths written");
  m.in_snapshot = false;
  m.write(m.slab.data(), m.pending_t, m.pending_step);
}

void EnsembleWriter::flush() { impl_->flush(); }

std::int64_t EnsembleWriter::snapshots() const {
  impl_->flush();
  return static_cast<std::int64_t>(impl_->series.size());
}
std::int64_t EnsembleWriter::n_paths() const { return impl_->n_paths; }
std::int64_t EnsembleWriter::dim() const { return impl_->dim; }
Group EnsembleWriter::group() const {
  impl_->flush();
  return impl_->particle;
}

}  // namespace sdescore::io
