#pragma once
// Atomic output: every file is written to a temporary sibling and renamed onto its
// target by commit(). Destroying an uncommitted AtomicFile (exception, early return)
// deletes the temporary and leaves any existing target byte-for-byte untouched.
//
// Interrupts: install_signal_cleanup() installs SIGINT/SIGTERM handlers that unlink
// every temporary still registered by a live AtomicFile, then restore the previous
// disposition and re-raise the signal (so the exit status still says "killed by SIGINT").
#include "sdescore/io/h5.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace sdescore::io {

/// The temporary path used for `target`: "<dir>/.tmp-<16 hex digits>", a fixed 21-byte name
/// (so any valid target name has a valid temporary), the digits mixing pid, a counter and the
/// clock. Each call gives a new name.
std::filesystem::path temp_path_for(const std::filesystem::path& target);

/// Throws IoError if `target` cannot be written: it exists and `overwrite` is false
/// (the message names the path and mentions --force), it is a directory, a symbolic link
/// or a special file (FIFO, device, socket: never replaced, even with overwrite), or its
/// directory does not exist or is not writable.
void check_writable_target(const std::filesystem::path& target, bool overwrite);

/// Throws IoError if `output` is the same file as `input` (same device and inode: also through
/// hard or symbolic links; or the same canonical path when one does not exist yet). An input is
/// never replaced by an output, even with --force. `input_what` names the input ("--data").
void check_distinct_files(const std::filesystem::path& input, const std::filesystem::path& output,
                          std::string_view input_what);

/// Process-wide registry of live temporaries (async-signal-safe to read; at most 64).
void register_temp_path(const std::filesystem::path& temp);
void unregister_temp_path(const std::filesystem::path& temp);
/// Installs SIGINT and SIGTERM handlers that unlink the registered temporaries and
/// re-raise. Idempotent; apps call it once at start-up.
void install_signal_cleanup();
/// Unlinks every registered temporary now (what the handler does), and clears the registry.
void remove_registered_temp_files() noexcept;

/// One file written by several processes together (parallel HDF5, sdescore::mpi). Every
/// process gives the same temporary; the constructor, commit() and discard() are then
/// collective (all processes call them, in the same order). Only the owner checks the target,
/// registers the temporary for signal cleanup, and renames it onto the target (commit) or
/// removes it (discard); call commit on the others first only in the sense that all call it.
struct SharedFile {
  std::filesystem::path temp;
  std::function<void(std::int64_t fapl)> configure;  ///< e.g. H5Pset_fapl_mpio on the file access list
  bool owner = false;
};

/// A new HDF5 file written atomically onto `target`.
class AtomicFile {
 public:
  /// Checks the target (see check_writable_target) and creates the temporary; with `shared`,
  /// the shared temporary (collective).
  AtomicFile(std::filesystem::path target, bool overwrite, const SharedFile* shared = nullptr);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  /// Without commit(): closes and deletes the temporary.
  ~AtomicFile();

  /// Root group of the temporary file (invalid after commit/discard).
  Group root() const { return root_; }
  /// Flushes, closes every handle into the file, fsyncs and renames it onto the target.
  /// Re-checks the overwrite rule first. After commit, handles into the file are closed.
  void commit();
  /// Closes and deletes the temporary without touching the target.
  void discard() noexcept;
  bool committed() const { return committed_; }
  bool open() const { return file_id_ >= 0 && !committed_; }
  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool overwrite_ = false;
  bool committed_ = false;
  bool shared_ = false, owner_ = true;  // SharedFile: only the owner renames or removes
  std::int64_t file_id_ = -1;
  Group root_;
};

}  // namespace sdescore::io
