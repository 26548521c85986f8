#include "sdescore/score/train.hpp"

#include "sdescore/app/registry.hpp"
#include "sdescore/core/limits.hpp"
#include "sdescore/io/ensemble_reader.hpp"

namespace sdescore::score {

static_assert(std::tuple_size_v<app::InstantiatedModelTypes> == SDESCORE_MODEL_COUNT,
              "app::InstantiatedModelTypes changed: set SDESCORE_MODEL_COUNT in lib/CMakeLists.txt to its size (one instantiation unit per model)");

TrainingData load_training_data(const std::filesystem::path& file, const std::string& ensemble) {
  io::EnsembleReader r(file, ensemble);
  TrainingData d;
  d.info = r.info();
  d.file = file.string();
  if (d.info.model.empty())
    throw IoError("file " + d.file + " does not say which model produced it (/parameters has no model): train on sdesim output");
  modelfile::adopt_recorded_model(d.info, d.file);  // a model file: rebuilt from the text stored in the ensemble
  require_memory("loading the ensemble (" + std::to_string(r.n_snapshots()) + " snapshots x " + std::to_string(r.n_paths()) +
                     " paths x dimension " + std::to_string(r.dim()) + ")",
                 8.0 * double(r.n_snapshots()) * double(r.n_paths()) * double(r.dim()), "use a smaller ensemble");
  d.data.times = r.times();
  d.data.dt = r.info().dt;
  for (std::int64_t s = 0; s < r.n_snapshots(); ++s) d.data.states.push_back(r.snapshot(s));
  return d;
}

bool same_ensemble(const io::RunInfo& a, const io::RunInfo& b) {
  return a.model == b.model && a.model_parameters == b.model_parameters && a.seed == b.seed && a.path_count == b.path_count &&
         a.path_first == b.path_first && a.dt == b.dt;
}

void check_same_ensemble(const io::RunInfo& saved, const io::RunInfo& now, const std::string& data) {
  auto describe = [](const io::RunInfo& r) {
    return r.model + " (seed " + std::to_string(r.seed) + ", " + std::to_string(r.path_count) + " paths, dt " + detail::fmt_double(r.dt) + ")";
  };
  if (!same_ensemble(saved, now))
    throw ConfigError("cannot resume on " + data + ": it holds " + describe(now) + " but the saved run trained on " + describe(saved) +
                      "; give --data the ensemble the run trained on");
}

ScoreModel train_score(const TrainingConfig& config, const TrainingData& data, const TrainControl& control) {
  if (control.resume) check_same_ensemble(control.resume->record().data, data.info, data.file.empty() ? "the ensemble given" : data.file);
  std::vector<app::ParamValue> params;
  for (const auto& [k, v] : data.info.model_parameters) params.push_back({k, v});
  return app::visit_model(data.info.model, params,
                          [&](auto& model) { return train_score_for(model, config, data, control); });
}

}  // namespace sdescore::score
