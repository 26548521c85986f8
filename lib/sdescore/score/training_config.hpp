#pragma once
// The training configuration of a score model, in one struct shared by `scorefit train` (its
// flags), the Python module (its keyword arguments), FitOptions (what fit_score runs) and the
// score model file (/score_model/training): docs/score-learning.md, "Training configuration".
//
// Defaults come from the library (FitOptions{}, its ScheduleOptions, TrainerOptions and
// Architecture), never from a second table: TrainingConfig{} is FitOptions{} in words.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sdescore/score/fit.hpp"

namespace sdescore::score {

struct TrainingConfig {
  std::string objective;              ///< local-dsm | local-dsm-ism | ism | ism-hutchinson | dsm
  long steps = 0;                     ///< optimiser steps
  int batch = 0, groups = 0, pool_size = 0, n_pools = 0, reference_size = 0;
  bool antithetic = false;
  std::string weight;                 ///< covariance | scalar | none
  std::string schedule;               ///< auto | fixed | error-controlled
  double delta = 0, delta_min = 0, delta_max = 0, tolerance = 0;
  double auto_growth = 0;             ///< auto: Delta grows to this share of the time since the first snapshot (0: off)
  bool ito_correction = true;         ///< Ito-corrected linearised mean
  double t_min = -1, t_max = -1;      ///< < 0: default_training_range
  int holdout_every = 0;              ///< score/holdout.hpp
  std::vector<int> hidden;
  std::string activation;             ///< silu | tanh | softplus
  int time_frequencies = 0;
  double lr = 0, lr_final = 0;
  long warmup = 0;
  double clip = 0, ema = 0;
  int probes = 0;
  std::string probe_kind;             ///< rademacher | gaussian
  std::uint64_t seed = 1;
  int threads = 0;                    ///< OpenMP threads (0: all); results do not depend on it

  /// The library defaults (from FitOptions{}).
  TrainingConfig() : TrainingConfig(FitOptions{}) {}
  /// The configuration that gives these options (inverse of fit_options for what it covers).
  explicit TrainingConfig(const FitOptions& fo);

  /// The options fit_score runs with. Names are checked here (ConfigError naming the value);
  /// numbers by FitOptions::validate.
  FitOptions fit_options() const;

  /// Numeric and textual settings as stored in a score model file (/score_model/training).
  /// `hidden`, `seed`, `t_min`, `t_max` are stored elsewhere in the file (network, attributes).
  std::map<std::string, double> numeric_settings() const;
  std::map<std::string, std::string> text_settings() const;
  /// Reads the settings back; IoError naming `what` (the file) and the key when one is missing.
  /// hidden, seed and the time range are taken from the arguments.
  static TrainingConfig from_settings(const std::map<std::string, double>& num, const std::map<std::string, std::string>& text,
                                      const std::vector<int>& hidden, std::uint64_t seed, double t_min, double t_max,
                                      const std::string& what);

  /// Sets one setting by its name in the file / the Python keyword (e.g. "delta_max", "hidden",
  /// "no_ito_correction" is not a name: use "ito_corrected_mean"); ConfigError listing the valid
  /// names when unknown. Numbers come as double, text as string, hidden as a list.
  void set(const std::string& name, double value);
  void set(const std::string& name, const std::string& value);
  void set(const std::string& name, const std::vector<int>& value);
  /// A Delta given without a schedule asks for that Delta: "auto" (the default, which chooses
  /// its own) becomes "fixed". The CLI and Python call it when delta is given and schedule is not.
  void select_fixed_schedule() {
    if (schedule == "auto") schedule = "fixed";
  }
  /// Every name set() accepts, in file order.
  static std::vector<std::string> names();
};

}  // namespace sdescore::score
