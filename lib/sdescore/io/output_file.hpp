#pragma once
// An sdescore output file: an AtomicFile whose /h5md header and /parameters are written
// from a RunInfo on construction. Ensemble and observables writers add their groups;
// commit() makes the file appear at its target path.
#include "sdescore/io/atomic.hpp"
#include "sdescore/io/run_info.hpp"

#include <filesystem>
#include <functional>
#include <vector>

namespace sdescore::io {

class OutputFile {
 public:
  /// Creates the temporary next to `target` and writes the provenance. IoError if the
  /// target exists and !overwrite (message mentions --force) or is not writable.
  /// `shared`: one file of several processes (see SharedFile; the constructor and commit are
  /// then collective).
  OutputFile(std::filesystem::path target, const RunInfo& info, bool overwrite = false,
             const SharedFile* shared = nullptr);

  Group root() const { return file_.root(); }
  const RunInfo& info() const { return info_; }
  /// Updates /parameters/path_count (used by writers that learn it late).
  void set_path_count(std::int64_t n);
  /// Flush, close, rename onto the target (see AtomicFile::commit).
  /// Runs every flush hook (writers with pending background writes), then commits the file.
  void commit();
  void discard() noexcept { file_.discard(); }
  bool committed() const { return file_.committed(); }
  const std::filesystem::path& target() const { return file_.target(); }
  const std::filesystem::path& temp_path() const { return file_.temp_path(); }

  /// Writers that write in the background register a hook that waits for (and rethrows the
  /// errors of) their pending writes; commit() runs them first (a hook of a writer that is gone
  /// does nothing), and so does the destructor, before it discards an uncommitted file.
  void add_flush_hook(std::function<void()> flush);

  OutputFile(OutputFile&&) = delete;  // writers keep references to it
  ~OutputFile();

 private:
  AtomicFile file_;
  RunInfo info_;
  std::vector<std::function<void()>> flush_hooks_;
};

}  // namespace sdescore::io
