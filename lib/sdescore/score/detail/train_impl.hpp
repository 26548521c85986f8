#pragma once
// Definition of train_score_dim (score/train.hpp), included only by the units that compile it
// once per state dimension (score/instantiate/dim.cpp.in).
#include <cmath>

#include "sdescore/score/fit.hpp"
#include "sdescore/score/train.hpp"

namespace sdescore::score {

namespace detail {
/// The trained state of `res` into the file record (weights, optimiser, schedule, curve).
inline void store_result(const FitResult& res, ScoreModelFile& out) {
  const auto& tr = res.trainer;
  out.arch = tr.model().architecture();
  out.ema_parameters = tr.ema_model().flat_parameters();
  out.raw_parameters = tr.model().flat_parameters();
  const auto& m = tr.optimizer().first_moment();
  const auto& v = tr.optimizer().second_moment();
  out.adam_m.assign(m.data(), m.data() + m.size());
  out.adam_v.assign(v.data(), v.data() + v.size());
  out.steps_done = tr.steps();
  out.ema_updates = tr.ema().updates();
  out.schedule = res.schedule;
  out.curve = res.curve;
  out.t_min = res.t_min;
  out.t_max = res.t_max;
  out.seconds = res.seconds;
  out.ism_coordinates.clear();
  for (int k : res.ism_coordinates) out.ism_coordinates += (out.ism_coordinates.empty() ? "" : ",") + std::to_string(k);
  out.max_jitter = res.max_jitter;
  out.initial_loss = res.initial_loss;
}
}  // namespace detail

template <int D>
ScoreModel train_score_dim(const ModelView<D>& model, const TrainingConfig& config, const TrainingData& data, const TrainControl& control) {
  FitOptions fo = config.fit_options();
  fo.checkpoint_every = control.checkpoint_every;
  fo.stop_at = control.stop_at;
  fo.time_limit = control.time_limit;
  fo.group = control.group;
  fo.on_refresh = control.on_refresh;
  const ScoreModel* resume = control.resume;
  if (resume) {
    fo.resume = resume->fit_state();
    fo.arch = resume->record().arch;
  }
  fo.validate();

  ScoreModelFile out;
  out.objective = config.objective;
  out.data = data.info;
  out.data_file = data.file;
  out.command_line = resume && !resume->record().command_line.empty() ? resume->record().command_line + "\n" + control.command_line
                                                                      : control.command_line;
  out.seed = config.seed;
  out.config = config.numeric_settings();
  out.config_text = config.text_settings();
  auto checkpoint = [&](const FitResult& res) {
    detail::store_result(res, out);
    out.heldout_ism = std::nan("");  // evaluated only at the end
    if (control.on_checkpoint) control.on_checkpoint(ScoreModel(out));
  };
  std::function<void(const FitResult&)> on_checkpoint;
  if (control.on_checkpoint) on_checkpoint = checkpoint;
  auto res = fit_score(model, data.data, fo, control.progress, control.on_step, on_checkpoint);
  detail::store_result(res, out);
  out.heldout_ism = std::nan("");
  if (control.heldout_ism && fo.holdout_every > 0) {
    std::vector<double> eval_t;
    for (int k = 0; k < 8; ++k) eval_t.push_back(res.t_min + (res.t_max - res.t_min) * (k + 0.5) / 8);
    out.heldout_ism = heldout_ism(res.trainer.ema_model(), model, data.data, fo.holdout_every, eval_t, 512, config.seed + 17,
                                  res.trainer.options().threads);
  }
  return ScoreModel(std::move(out));
}
extern template ScoreModel train_score_dim<1>(const ModelView<1>&, const TrainingConfig&, const TrainingData&, const TrainControl&);
extern template ScoreModel train_score_dim<2>(const ModelView<2>&, const TrainingConfig&, const TrainingData&, const TrainControl&);
extern template ScoreModel train_score_dim<3>(const ModelView<3>&, const TrainingConfig&, const TrainingData&, const TrainControl&);

}  // namespace sdescore::score
