#pragma once
// Training a score model from an ensemble file or ensemble data: what `scorefit train`,
// `scorefit compare` and `sdescore.fit_score` call (docs/score-learning.md).
//
// The training loop runs over a model's view (model_view.hpp) and is compiled once per state
// dimension (train_score_dim); per model only the view and the thin wrappers train_score_for and
// heldout_ism_for are compiled, in lib/sdescore/score/instantiate/ (explicit instantiation). This
// header only declares those templates, so a file that includes it instantiates nothing heavy.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sdescore/io/run_info.hpp"
#include "sdescore/nn/process_group.hpp"
#include "sdescore/score/ensemble_source.hpp"
#include "sdescore/score/score_model.hpp"
#include "sdescore/score/training_config.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"
#include "sdescore/solvers/heun.hpp"

namespace sdescore::score {

/// An ensemble in memory with its provenance (which model, parameters, seed, paths).
struct TrainingData {
  io::RunInfo info;
  std::string file;  ///< path it was read from ("" : in memory)
  EnsembleData data;
};

/// Reads every snapshot of an ensemble file (`ensemble`: name under /particles, "" = the only
/// one). IoError when the file does not say which model produced it.
TrainingData load_training_data(const std::filesystem::path& file, const std::string& ensemble = "");

/// What a training run reports and how it can be steered (all optional).
struct TrainControl {
  std::function<void(const FitProgress&)> progress;           ///< every log_every steps
  std::function<void(long, const nn::Trainer&)> on_step;     ///< after every step; may throw to stop the run
  long checkpoint_every = 0;                                  ///< > 0: on_checkpoint every this many steps
  std::function<void(const ScoreModel&)> on_checkpoint;       ///< the run so far, resumable
  long stop_at = 0;                                           ///< > 0: stop (resumably) at this step
  double time_limit = 0;                                      ///< > 0: stop (resumably) after this many seconds
  const ScoreModel* resume = nullptr;                         ///< continue this run (config must be its own)
  bool heldout_ism = true;                                    ///< evaluate the held-out ISM value at the end
  std::string command_line;                                   ///< stored in the model (provenance)
  /// Data parallel over processes (docs/distributed.md): every process of the group calls
  /// train_score alike and gets the same model, the single process's bits. nullptr: alone.
  nn::ProcessGroup* group = nullptr;
  /// Called with the refresh count q as refresh q of the training pools is computed, perhaps
  /// ahead of its step over a process group; may throw to make it fail (FitOptions::on_refresh).
  std::function<void(std::uint64_t)> on_refresh;
};

/// Trains a score model on `data` with `config` (model and parameters from data.info).
/// Bit-identical for a given config and data, whatever the thread count or the caller (CLI,
/// Python). With control.resume, continues that run (its ensemble must be data's: ConfigError).
ScoreModel train_score(const TrainingConfig& config, const TrainingData& data, const TrainControl& control = {});

/// ConfigError when `now` is not the ensemble a saved run trained on (`saved`).
void check_same_ensemble(const io::RunInfo& saved, const io::RunInfo& now, const std::string& data_file);
/// True when two provenances describe the same simulated ensemble (model, parameters, seed, paths, dt).
bool same_ensemble(const io::RunInfo& a, const io::RunInfo& b);

/// Training over a model's view (model_view.hpp), compiled once per state dimension D = 1..3.
template <int D>
ScoreModel train_score_dim(const ModelView<D>& model, const TrainingConfig& config, const TrainingData& data, const TrainControl& control);

/// Held-out ISM (fit.hpp) over a model's view, compiled once per state dimension.
template <int D>
double heldout_ism(const nn::Mlp<float>& net, const ModelView<D>& model, const EnsembleData& data, int holdout_every,
                   const std::vector<double>& times, int per_time, std::uint64_t seed, int threads);

/// Per-model entry points, explicitly instantiated once per model (score/instantiate/).
/// The model's training view (ModelViewOf<M> with its sampler stepper), for code that must not
/// compile the engine itself (the study and physics, eval/model_view.hpp).
template <SdeModel M>
std::unique_ptr<const ModelView<M::state_dim>> make_model_view(const M& model);
template <SdeModel M>
ScoreModel train_score_for(const M& model, const TrainingConfig& config, const TrainingData& data, const TrainControl& control);
/// Held-out ISM value (method.md 4.3) of `net` at `times`, per_time held-out samples each.
template <SdeModel M>
double heldout_ism_for(const M& model, const nn::Mlp<float>& net, const EnsembleData& data, int holdout_every,
                       const std::vector<double>& times, int per_time, std::uint64_t seed, int threads);

}  // namespace sdescore::score
