#include "sdescore/io/checkpoint.hpp"

#include "sdescore/io/ensemble_reader.hpp"
#include "sdescore/io/ensemble_writer.hpp"

#include <sdescore/core/error.hpp>

namespace sdescore::io {

void write_checkpoint(const std::filesystem::path& path, const Checkpoint& c, bool overwrite) {
  if (c.positions.rows() < 1 || c.positions.cols() < 1)
    throw ConfigError("checkpoint '" + path.string() + "': positions are empty");
  RunInfo info = c.run;
  info.path_count = c.positions.rows();
  OutputFile file(path, info, overwrite);
  EnsembleOptions opts;
  opts.name = c.name;
  EnsembleWriter w(file, c.positions.rows(), c.positions.cols(), opts);
  w.append(c.positions, c.time, c.step);
  write_checkpoint_marker(file.root(), c.name, c.step, c.time);
  file.commit();
}

void write_checkpoint_marker(Group root, const std::string& ensemble, std::int64_t step, double time) {
  Group ck = root.require_group("checkpoint");
  ck.set_attr("format", std::string("sdescore checkpoint"));
  ck.set_attr("format_version", kCheckpointFormat);
  ck.set_attr("ensemble", ensemble);
  ck.set_attr("step", step);
  ck.set_attr("time", time);
}

namespace {
/// The checks and fields shared by read_checkpoint and read_checkpoint_head; the states only if
/// `states` (else positions is 0 x dim).
Checkpoint read_checkpoint_impl(const std::filesystem::path& path, bool states, std::int64_t& rows) {
  Group root = open_file(path);
  if (!root.has_group("checkpoint"))
    throw IoError("file '" + path.string() + "' has no group /checkpoint: not an sdescore checkpoint");
  Group ck = root.group("checkpoint");
  EnsembleReader r(path, ck.attr_string("ensemble"));
  if (r.n_snapshots() != 1)
    throw IoError("checkpoint '" + path.string() + "' holds " + std::to_string(r.n_snapshots()) +
                  " snapshots; a checkpoint holds exactly one");
  Checkpoint c;
  c.run = r.info();
  c.name = r.name();
  c.step = ck.attr_int64("step");
  c.time = ck.attr_double("time");
  c.format_version = ck.has_attr("format_version") ? ck.attr_int64("format_version") : 0;
  rows = r.n_paths();
  if (states)
    c.positions = r.snapshot(0);
  else
    c.positions.resize(0, r.dim());
  return c;
}
}  // namespace

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  std::int64_t rows = 0;
  return read_checkpoint_impl(path, true, rows);
}

Checkpoint read_checkpoint_head(const std::filesystem::path& path, std::int64_t& rows) {
  return read_checkpoint_impl(path, false, rows);
}

void require_resumable(const Checkpoint& ck, const std::string& path) {
  if (ck.format_version != kCheckpointFormat)
    throw ConfigError("checkpoint '" + path + "' has " +
                      (ck.format_version == 0 ? std::string("no format_version")
                                              : "format_version " + std::to_string(ck.format_version)) +
                      "; this sdescore resumes format_version " + std::to_string(kCheckpointFormat) +
                      " only (since version 2 the normal generator's last bits differ, so continuing an older "
                      "checkpoint would match neither the old nor a new run): start the run again");
}

void require_same_run(const RunInfo& ck, const RunInfo& cur) {
  auto fail = [](const std::string& what, const std::string& a, const std::string& b) {
    throw ConfigError("checkpoint does not match this run: " + what + " is " + a + " in the checkpoint but " + b +
                      " now; resume with the checkpoint's settings or start a new run");
  };
  if (ck.model != cur.model) fail("the model", "'" + ck.model + "'", "'" + cur.model + "'");
  if (ck.stepper != cur.stepper) fail("the stepper", "'" + ck.stepper + "'", "'" + cur.stepper + "'");
  if (ck.dt != cur.dt) fail("dt", sdescore::detail::fmt_double(ck.dt), sdescore::detail::fmt_double(cur.dt));
  for (const auto& [k, v] : ck.model_parameters) {
    auto it = cur.model_parameters.find(k);
    if (it == cur.model_parameters.end()) fail("model parameter '" + k + "'", sdescore::detail::fmt_double(v), "absent");
    if (it->second != v)
      fail("model parameter '" + k + "'", sdescore::detail::fmt_double(v), sdescore::detail::fmt_double(it->second));
  }
  for (const auto& [k, v] : cur.model_parameters)
    if (!ck.model_parameters.count(k)) fail("model parameter '" + k + "'", "absent", sdescore::detail::fmt_double(v));
}

}  // namespace sdescore::io
