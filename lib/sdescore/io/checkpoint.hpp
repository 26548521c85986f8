#pragma once
// Checkpoints: the full simulator state, written atomically. A checkpoint is an ensemble
// file with exactly one snapshot plus a /checkpoint marker group, so it can also be used
// wherever an ensemble file is read (e.g. sdesim --init file:ckpt.h5).
#include "sdescore/io/run_info.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <filesystem>
#include <string>

namespace sdescore::io {

/// The checkpoint marker's format version. 2 since the session-9 normal kernel (its cos/sin of
/// 2 pi u2 changed the last bits of every normal): a version-1 checkpoint was stepped with the old
/// normals, and resuming it with the new ones would match neither run, so require_resumable refuses it.
inline constexpr std::int64_t kCheckpointFormat = 2;

struct Checkpoint {
  RunInfo run;                 ///< model, parameters, stepper, dt, seed, path range, ...
  std::int64_t step = 0;       ///< index of the step the state belongs to
  double time = 0.0;           ///< time of the state
  Eigen::MatrixXd positions;   ///< (paths x dim)
  std::string name = "ensemble";
  std::int64_t format_version = kCheckpointFormat;  ///< the marker's format_version (read_checkpoint)
};

/// Writes `c` atomically to `path` (temporary + rename). With overwrite=false an existing
/// file is an IoError; periodic checkpointing passes overwrite=true.
void write_checkpoint(const std::filesystem::path& path, const Checkpoint& c, bool overwrite);
/// Marks the file whose root is `root` as a checkpoint whose state is ensemble `ensemble` at
/// (step, time): the /checkpoint group read by read_checkpoint. The one writer of the marker
/// (write_checkpoint and the simulation run's periodic checkpoints both call it).
void write_checkpoint_marker(Group root, const std::string& ensemble, std::int64_t step, double time);
/// Reads a checkpoint; IoError if the file is not one (no /checkpoint group).
Checkpoint read_checkpoint(const std::filesystem::path& path);
/// The same checks and fields without the states (positions: 0 rows x dim; `rows`: its number of
/// paths), for a process that reads only its own rows.
Checkpoint read_checkpoint_head(const std::filesystem::path& path, std::int64_t& rows);

/// Refuses (ConfigError naming the file and both versions) a checkpoint whose format_version is
/// not kCheckpointFormat: its states come from another normal generator.
void require_resumable(const Checkpoint& ck, const std::string& path);
/// Throws ConfigError naming the first difference if the checkpointed run and the
/// current one differ in model, model parameters (names and exact values), stepper or dt.
void require_same_run(const RunInfo& checkpoint, const RunInfo& current);

}  // namespace sdescore::io
