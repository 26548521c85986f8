#pragma once
// Provenance of a run: everything needed to reproduce an output file from itself.
// Written to the H5MD header (/h5md) and to /parameters by every sdescore writer.
#include "sdescore/io/h5.hpp"

#include <sdescore/version.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace sdescore::io {

struct RunInfo {
  std::string model;                                  ///< model name, e.g. "double_well"
  std::map<std::string, double> model_parameters;     ///< parameter name -> value
  std::string stepper;                                ///< e.g. "euler_maruyama"
  double dt = 0.0;                                    ///< time step
  std::uint64_t seed = 0;                             ///< counter-based generator key
  std::string initial_law;                            ///< description of the initial law
  std::int64_t save_every = 1;                        ///< steps between saved snapshots
  std::int64_t path_first = 0;                        ///< global index of the first path
  std::int64_t path_count = 0;                        ///< number of paths in this file
  std::string command_line;                           ///< full command line of the run
  std::string sdescore_version = sdescore::version;   ///< library version that wrote it
  std::string author;                                 ///< h5md/author name ("" -> $USER or "unknown")
  Attributes extra;                                   ///< any further settings (t_end, n_steps, ...)
};

/// Writes /h5md (version [1, 1], creator, author) and /parameters (attributes below,
/// model parameters as /parameters/model_parameters attributes). `root` is a file root.
void write_run_info(Group root, const RunInfo& info);
/// Reads what write_run_info wrote. IoError naming the file if /h5md or /parameters is
/// missing ("not an sdescore file").
RunInfo read_run_info(const Group& root);

}  // namespace sdescore::io
