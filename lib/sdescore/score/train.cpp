#include "sdescore/score/train.hpp"

#include <cstring>
#include <span>
#include <vector>

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

namespace {

/// A run over several processes needs the same data and settings on each (mpirun gives every
/// process the same command line, but a file may differ between nodes): ConfigError on every
/// process when a hash of the ensemble and the training settings differs from process 0's.
void check_same_on_every_process(nn::ProcessGroup& group, const TrainingData& data, const TrainingConfig& o) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a over 64-bit words
  auto mix = [&h](std::uint64_t w) { h = (h ^ w) * 1099511628211ull; };
  auto mix_double = [&](double v) {
    std::uint64_t w;
    std::memcpy(&w, &v, sizeof w);
    mix(w);
  };
  auto mix_text = [&](const std::string& t) {
    for (unsigned char c : t) mix(c);
    mix(0xff);
  };
  mix_double(data.data.dt);
  for (double t : data.data.times) mix_double(t);
  for (const auto& S : data.data.states)
    for (Eigen::Index i = 0; i < S.size(); ++i) mix_double(S.data()[i]);
  for (const auto& [k, v] : o.numeric_settings()) {
    mix_text(k);
    mix_double(v);
  }
  for (const auto& [k, v] : o.text_settings()) {
    mix_text(k);
    mix_text(v);
  }
  mix(static_cast<std::uint64_t>(o.steps));
  mix(o.seed);  // the settings the file keeps outside numeric_settings()
  for (int w : o.hidden) mix(static_cast<std::uint64_t>(w));
  mix_double(o.t_min);
  mix_double(o.t_max);
  const int n = group.size(), me = group.rank();
  std::vector<double> all(2 * static_cast<std::size_t>(n), 0.0);  // two exact 32-bit halves per process
  all[2 * static_cast<std::size_t>(me)] = static_cast<double>(h >> 32);
  all[2 * static_cast<std::size_t>(me) + 1] = static_cast<double>(h & 0xffffffffull);
  const std::vector<std::int64_t> counts(static_cast<std::size_t>(n), 2);
  group.allgather(std::span<double>(all), counts);
  for (int r = 1; r < n; ++r)
    if (all[2 * static_cast<std::size_t>(r)] != all[0] || all[2 * static_cast<std::size_t>(r) + 1] != all[1])
      throw ConfigError("the MPI processes were given different data or training settings: process " + std::to_string(r) +
                        "'s ensemble or options differ from process 0's; every process must train on the same ensemble with the same options");
}

}  // namespace

ScoreModel train_score(const TrainingConfig& config, const TrainingData& data, const TrainControl& control) {
  // Every setting is checked before any work (and, over several processes, before they compare
  // them, so that a bad value on one process is named as such).
  const FitOptions fo = config.fit_options();
  fo.validate();
  fo.trainer.adam.validate();
  fo.trainer.schedule.validate();
  fo.trainer.ema.validate();
  if (control.group) {  // all processes have their data (or all stop here), and the same data
    control.group->sync();
    if (control.group->size() > 1) check_same_on_every_process(*control.group, data, config);
  }
  if (control.resume) check_same_ensemble(control.resume->record().data, data.info, data.file.empty() ? "the ensemble given" : data.file);
  std::vector<app::ParamValue> params;
  for (const auto& [k, v] : data.info.model_parameters) params.push_back({k, v});
  return app::visit_model(data.info.model, params,
                          [&](auto& model) { return train_score_for(model, config, data, control); });
}

}  // namespace sdescore::score
