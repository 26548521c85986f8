#include "sdescore/io/output_file.hpp"

namespace sdescore::io {

OutputFile::OutputFile(std::filesystem::path target, const RunInfo& info, bool overwrite, const SharedFile* shared)
    : file_(std::move(target), overwrite, shared), info_(info) {
  write_run_info(file_.root(), info_);
}

void OutputFile::set_path_count(std::int64_t n) {
  info_.path_count = n;
  root().group("parameters").set_attr("path_count", n);
}

OutputFile::~OutputFile() {
  for (auto& flush : flush_hooks_) {
    try {
      flush();
    } catch (...) {  // the file is discarded anyway
    }
  }
}

void OutputFile::commit() {
  for (auto& flush : flush_hooks_) flush();
  file_.commit();
}

void OutputFile::add_flush_hook(std::function<void()> flush) { flush_hooks_.push_back(std::move(flush)); }

}  // namespace sdescore::io
