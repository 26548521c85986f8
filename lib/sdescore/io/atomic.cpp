#include "sdescore/io/atomic.hpp"

#include "sdescore/io/detail/hdf5.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <unistd.h>

namespace sdescore::io {
namespace fs = std::filesystem;

namespace {

// ---- signal-safe registry: fixed slots, each claimed with an atomic state ---------------
constexpr std::size_t kSlots = 64;
constexpr std::size_t kPathMax = 4096;
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being written, 2 live
  char path[kPathMax];
};
std::array<Slot, kSlots> g_slots;
std::atomic<unsigned> g_counter{0};

struct sigaction g_old_int, g_old_term;
std::atomic<bool> g_installed{false};

extern "C" void cleanup_handler(int sig) {
  remove_registered_temp_files();
  // Restore the previous disposition and re-raise so the process ends as it would have.
  sigaction(sig, sig == SIGINT ? &g_old_int : &g_old_term, nullptr);
  raise(sig);
}

}  // namespace

void remove_registered_temp_files() noexcept {
  for (auto& s : g_slots) {
    int expected = 2;
    if (s.state.compare_exchange_strong(expected, 1)) {
      ::unlink(s.path);
      s.state.store(0);
    }
  }
}

void register_temp_path(const fs::path& temp) {
  const std::string p = fs::absolute(temp).string();
  if (p.size() >= kPathMax) throw IoError("temporary path '" + p + "' is too long");
  for (auto& s : g_slots) {
    int expected = 0;
    if (s.state.compare_exchange_strong(expected, 1)) {
      std::memcpy(s.path, p.c_str(), p.size() + 1);
      s.state.store(2);
      return;
    }
  }
  throw IoError("too many output files open at once (at most 64 temporaries); cannot register '" + p + "'");
}

void unregister_temp_path(const fs::path& temp) {
  std::error_code ec;
  const std::string p = fs::absolute(temp, ec).string();
  for (auto& s : g_slots) {
    int expected = 2;
    if (s.state.compare_exchange_strong(expected, 1)) {
      if (p == s.path) {
        s.state.store(0);
        return;
      }
      s.state.store(2);
    }
  }
}

void install_signal_cleanup() {
  if (g_installed.exchange(true)) return;
  struct sigaction sa {};
  sa.sa_handler = cleanup_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

fs::path temp_path_for(const fs::path& target) {
  // Fixed length (".tmp-" + 16 hex digits = 21 bytes), whatever the target's name: a target
  // name of up to 255 bytes (NAME_MAX) still gets a valid temporary. The digits mix the pid,
  // a per-process counter and the clock, so concurrent processes do not collide (and the file
  // is created exclusively: a collision is retried, not overwritten).
  const unsigned n = g_counter.fetch_add(1);
  std::uint64_t x = (static_cast<std::uint64_t>(::getpid()) << 32) ^ n ^
                    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 30;  // splitmix64 finaliser
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  char name[32];
  std::snprintf(name, sizeof name, ".tmp-%016llx", static_cast<unsigned long long>(x));
  fs::path dir = target.parent_path();
  return dir.empty() ? fs::path(name) : dir / name;
}

namespace {
/// Refuses to replace anything but a regular file (or nothing): special files (FIFO, device,
/// socket) and symbolic links at the target are never replaced, even with overwrite.
void check_replaceable(const fs::path& target, bool overwrite) {
  std::error_code ec;
  const auto lst = fs::symlink_status(target, ec);
  if (!fs::exists(lst)) return;
  if (fs::is_symlink(lst))
    throw IoError("output path '" + target.string() + "' is a symbolic link" +
                  (fs::exists(fs::status(target, ec)) ? " to '" + fs::read_symlink(target, ec).string() + "'" : std::string(" (dangling)")) +
                  "; refusing to replace it, even with --force: give the path of the file itself");
  if (fs::is_directory(lst)) throw IoError("output path '" + target.string() + "' is a directory");
  if (!fs::is_regular_file(lst))
    throw IoError("output path '" + target.string() +
                  "' is a special file (FIFO, device or socket); refusing to replace it, even with --force");
  if (!overwrite)
    throw IoError("output file '" + target.string() +
                  "' already exists; refusing to overwrite it (pass --force, i.e. overwrite=true, to replace it)");
}
}  // namespace

void check_writable_target(const fs::path& target, bool overwrite) {
  if (target.empty() || !target.has_filename())
    throw IoError("output path '" + target.string() + "' does not name a file");
  {
    // A name the file system cannot hold is bad input (exit 2), said before any work. Names
    // derived from an output (sdesim's <output>.ckpt.h5, compare's .csv/.md) pass here too; the
    // temporary's name is a fixed 21 bytes (temp_path_for), so every valid name works.
    const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    const long limit = ::pathconf(dir.c_str(), _PC_NAME_MAX);
    const std::size_t name_max = limit > 0 ? static_cast<std::size_t>(limit) : 255;
    const std::string name = target.filename().string();
    if (name.size() > name_max)
      throw ConfigError("output file name '" + name + "' is " + std::to_string(name.size()) +
                        " bytes long; the file system allows at most " + std::to_string(name_max) +
                        " bytes per name: give a shorter name (" + target.string() + ")");
  }
  check_replaceable(target, overwrite);
  std::error_code ec;
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec))
    throw IoError("cannot write '" + target.string() + "': directory '" + dir.string() + "' does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw IoError("cannot write '" + target.string() + "': directory '" + dir.string() +
                  "' is not writable (" + std::strerror(errno) + ")");
}

void check_distinct_files(const fs::path& input, const fs::path& output, std::string_view input_what) {
  if (input.empty() || output.empty()) return;
  struct stat a {}, b {};
  bool same = false;
  if (::stat(input.c_str(), &a) == 0 && ::stat(output.c_str(), &b) == 0)
    same = a.st_dev == b.st_dev && a.st_ino == b.st_ino;  // also hard links and symlinks to it
  else {
    std::error_code e1, e2;
    const auto ci = fs::weakly_canonical(input, e1), co = fs::weakly_canonical(output, e2);
    same = !e1 && !e2 && ci == co;
  }
  if (same)
    throw IoError("the output '" + output.string() + "' is the same file as " + std::string(input_what) + " '" + input.string() +
                  "'; refusing to replace an input (even with --force): write to another file");
}

AtomicFile::AtomicFile(fs::path target, bool overwrite, const SharedFile* shared)
    : target_(std::move(target)), overwrite_(overwrite), shared_(shared != nullptr), owner_(!shared || shared->owner) {
  detail::silence_hdf5_errors();
  if (owner_) check_writable_target(target_, overwrite_);
  temp_ = shared ? shared->temp : temp_path_for(target_);
  if (owner_) register_temp_path(temp_);
  try {
    detail::Hid fapl = detail::checked(H5Pcreate(H5P_FILE_ACCESS), "cannot create a file access property list");
    // Strong close: commit() closes every object still open in the file.
    detail::check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "cannot set the file close degree");
    // 1.8 object headers: dense attribute storage (long command lines, many parameters).
    detail::check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST),
                  "cannot set the HDF5 format bounds");
    if (shared && shared->configure) shared->configure(fapl.get());
    hid_t f = H5Fcreate(temp_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get());
    for (int retry = 0; f < 0 && !shared && retry < 8 && fs::exists(temp_); ++retry) {  // a name collision: draw another
      unregister_temp_path(temp_);
      temp_ = temp_path_for(target_);
      register_temp_path(temp_);
      f = H5Fcreate(temp_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get());
    }
    if (f < 0)
      throw IoError("cannot create output file '" + target_.string() + "' (temporary '" + temp_.string() +
                    "'): check that its directory is writable and the disk is not full");
    file_id_ = f;
    root_ = Group::adopt(detail::checked(H5Gopen2(f, "/", H5P_DEFAULT), "cannot open root group").release());
  } catch (...) {
    discard();
    throw;
  }
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : target_(std::move(o.target_)),
      temp_(std::move(o.temp_)),
      overwrite_(o.overwrite_),
      committed_(o.committed_),
      shared_(o.shared_),
      owner_(o.owner_),
      file_id_(std::exchange(o.file_id_, -1)),
      root_(std::move(o.root_)) {
  o.committed_ = true;  // the moved-from object owns nothing
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  root_ = Group();
  if (file_id_ >= 0) {
    if (H5Iis_valid(file_id_) > 0) H5Fclose(file_id_);
    file_id_ = -1;
  }
  if (!temp_.empty() && !committed_ && owner_) {
    std::error_code ec;
    fs::remove(temp_, ec);
    unregister_temp_path(temp_);
  }
}

void AtomicFile::commit() {
  if (committed_) throw IoError("output file '" + target_.string() + "' was already committed");
  if (file_id_ < 0) throw IoError("output file '" + target_.string() + "' was discarded; nothing to commit");
  const std::string what = "cannot finish output file '" + target_.string() + "' (temporary '" + temp_.string() + "')";
  detail::check(H5Fflush(file_id_, H5F_SCOPE_GLOBAL), what + ": flush failed");
  root_ = Group();
  herr_t st = H5Fclose(file_id_);  // strong close: closes every remaining handle
  file_id_ = -1;
  detail::check(st, what + ": close failed");
  if (!owner_) {  // a shared file: the owner renames it
    committed_ = true;
    return;
  }
  // Data on disk before the rename makes it visible.
  int fd = ::open(temp_.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  if (!overwrite_ && fs::exists(fs::symlink_status(target_, ec)))
    throw IoError("output file '" + target_.string() +
                  "' appeared while writing; refusing to overwrite it (pass --force, i.e. overwrite=true, to replace it)");
  check_replaceable(target_, overwrite_);  // what appeared meanwhile must still be a regular file
  if (::rename(temp_.c_str(), target_.c_str()) != 0)
    throw IoError(what + ": rename onto the target failed (" + std::strerror(errno) + ")");
  committed_ = true;
  unregister_temp_path(temp_);
}

}  // namespace sdescore::io
