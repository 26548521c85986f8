#include "sdescore/io/run_info.hpp"

#include <sdescore/core/error.hpp>

#include <cstdlib>

namespace sdescore::io {
namespace {
const char* const kStandard[] = {"model",        "stepper",     "dt",          "seed",
                                 "initial_law",  "save_every",  "path_first",  "path_count",
                                 "command_line", "sdescore_version"};
bool is_standard(const std::string& k) {
  for (const char* s : kStandard)
    if (k == s) return true;
  return false;
}
}  // namespace

void write_run_info(Group root, const RunInfo& info) {
  Group h5md = root.require_group("h5md");
  h5md.set_attr("version", std::vector<std::int64_t>{1, 1});
  Group creator = h5md.require_group("creator");
  creator.set_attr("name", std::string("sdescore"));
  creator.set_attr("version", info.sdescore_version);
  Group author = h5md.require_group("author");
  std::string who = info.author;
  if (who.empty()) {
    const char* u = std::getenv("USER");
    who = (u && *u) ? u : "unknown";
  }
  author.set_attr("name", who);

  Group p = root.require_group("parameters");
  for (const auto& [k, v] : info.extra) {
    if (is_standard(k)) throw IoError("RunInfo::extra may not redefine the standard attribute '" + k + "'");
    p.set_attr(k, v);
  }
  p.set_attr("model", info.model);
  p.set_attr("stepper", info.stepper);
  p.set_attr("dt", info.dt);
  p.set_attr("seed", info.seed);
  p.set_attr("initial_law", info.initial_law);
  p.set_attr("save_every", info.save_every);
  p.set_attr("path_first", info.path_first);
  p.set_attr("path_count", info.path_count);
  p.set_attr("command_line", info.command_line);
  p.set_attr("sdescore_version", info.sdescore_version);
  p.write_named_doubles("model_parameters", info.model_parameters);
}

RunInfo read_run_info(const Group& root) {
  if (!root.has_group("h5md") || !root.has_group("parameters"))
    throw IoError("file '" + root.file_name() +
                  "' has no groups /h5md and /parameters: not an sdescore file (written by another program?)");
  RunInfo info;
  Group h5md = root.group("h5md");
  if (h5md.has_group("author") && h5md.group("author").has_attr("name"))
    info.author = h5md.group("author").attr_string("name");
  Group p = root.group("parameters");
  info.model = p.attr_string("model");
  info.stepper = p.attr_string("stepper");
  info.dt = p.attr_double("dt");
  info.seed = p.attr_uint64("seed");
  info.initial_law = p.attr_string("initial_law");
  info.save_every = p.attr_int64("save_every");
  info.path_first = p.attr_int64("path_first");
  info.path_count = p.attr_int64("path_count");
  info.command_line = p.attr_string("command_line");
  info.sdescore_version = p.attr_string("sdescore_version");
  if (p.has_group("model_parameters")) info.model_parameters = p.read_named_doubles("model_parameters");
  for (auto& [k, v] : p.attrs())
    if (!is_standard(k)) info.extra.emplace(k, std::move(v));
  return info;
}

}  // namespace sdescore::io
