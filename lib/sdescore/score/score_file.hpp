#pragma once
// Score model files written by `scorefit train` (layout in docs/file-format.md, "Score model
// files"): architecture, EMA and raw weights, optimiser state, the step schedule, the loss
// curve, the training configuration and the provenance of the data, written atomically.
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sdescore/io/run_info.hpp"
#include "sdescore/nn/architecture.hpp"
#include "sdescore/score/fit.hpp"

namespace sdescore::score {

/// Version of the score model layout and of the training draws it can resume. 2: every training
/// draw comes from sdescore::random (Philox), so a version-1 run cannot be continued bit-identically.
/// 3: the normal kernel computes cos and sin of 2 pi u2 itself (session 9), so the pools of a
/// version-2 run are no longer rebuilt with its bits.
inline constexpr std::int64_t kScoreFormatVersion = 3;

struct ScoreModelFile {
  std::int64_t format_version = kScoreFormatVersion;  ///< as read (files without the attribute: 1)
  nn::Architecture arch;
  std::vector<float> ema_parameters;   ///< the weights evaluation uses
  std::vector<float> raw_parameters;   ///< last optimiser iterate (for --resume)
  std::vector<float> adam_m, adam_v;   ///< Adam moments (for --resume)
  std::int64_t steps_done = 0;
  std::int64_t ema_updates = 0;
  std::string objective;
  io::RunInfo data;                    ///< provenance of the training ensemble (model, parameters, stepper, dt, ...)
  std::string data_file;               ///< path of the ensemble file as given
  StepSchedule schedule;
  std::vector<LossPoint> curve;
  double t_min = 0, t_max = 0;
  double seconds = 0;                  ///< wall time of training
  double heldout_ism = 0;              ///< held-out ISM value at the end (method.md 4.3)
  double max_jitter = 0;
  std::string ism_coordinates;         ///< local-dsm: coordinates learnt by ISM, comma-separated ("" none)
  double initial_loss = std::nan("");  ///< loss of the untrained network on the first batch (divergence reference; NaN: not stored)
  std::map<std::string, double> config;            ///< numeric training settings
  std::map<std::string, std::string> config_text;  ///< textual training settings
  std::string command_line;
  std::uint64_t seed = 0;
};

/// Writes atomically (temp file + rename); refuses to overwrite unless `overwrite`.
void write_score_file(const std::filesystem::path& path, const ScoreModelFile& f, bool overwrite);
/// Reads a score model file; IoError naming the file when it is not one.
ScoreModelFile read_score_file(const std::filesystem::path& path);
/// IoError naming `path` unless `f` can be resumed: it holds the optimiser state and was written
/// with the current draws (format_version == kScoreFormatVersion).
void require_resumable(const ScoreModelFile& f, const std::string& path);

}  // namespace sdescore::score
