#pragma once
// An sdescore output file: an AtomicFile whose /h5md header and /parameters are written
// from a RunInfo on construction. Ensemble and observables writers add their groups;
// commit() makes the file appear at its target path.
#include "sdescore/io/atomic.hpp"
#include "sdescore/io/run_info.hpp"

#include <filesystem>

namespace sdescore::io {

class OutputFile {
 public:
  /// Creates the temporary next to `target` and writes the provenance. IoError if the
  /// target exists and !overwrite (message mentions --force) or is not writable.
  OutputFile(std::filesystem::path target, const RunInfo& info, bool overwrite = false);

  Group root() const { return file_.root(); }
  const RunInfo& info() const { return info_; }
  /// Updates /parameters/path_count (used by writers that learn it late).
  void set_path_count(std::int64_t n);
  /// Flush, close, rename onto the target (see AtomicFile::commit).
  void commit() { file_.commit(); }
  void discard() noexcept { file_.discard(); }
  bool committed() const { return file_.committed(); }
  const std::filesystem::path& target() const { return file_.target(); }
  const std::filesystem::path& temp_path() const { return file_.temp_path(); }

 private:
  AtomicFile file_;
  RunInfo info_;
};

}  // namespace sdescore::io
