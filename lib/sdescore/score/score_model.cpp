#include "sdescore/score/score_model.hpp"

#include "sdescore/app/registry.hpp"
#include "sdescore/eval/model_fields.hpp"

namespace sdescore::score {

ScoreModel::ScoreModel(ScoreModelFile record) : rec_(std::move(record)) {
  rec_.arch.validate();
  if (static_cast<std::int64_t>(rec_.ema_parameters.size()) != rec_.arch.num_parameters())
    throw ConfigError("score model: " + std::to_string(rec_.ema_parameters.size()) + " EMA weights but the architecture needs " +
                      std::to_string(rec_.arch.num_parameters()));
  auto net = std::make_shared<nn::Mlp<float>>(rec_.arch);
  net->set_flat_parameters(std::span<const float>(rec_.ema_parameters));
  net_ = std::move(net);
}

ScoreModel ScoreModel::load(const std::filesystem::path& path) {
  ScoreModelFile rec = read_score_file(path);
  modelfile::adopt_recorded_model(rec.data, path.string());  // a model file: rebuilt from the stored text
  return ScoreModel(std::move(rec));
}

void ScoreModel::save(const std::filesystem::path& path, bool overwrite) const { write_score_file(path, rec_, overwrite); }

TrainingConfig ScoreModel::config() const {
  return TrainingConfig::from_settings(rec_.config, rec_.config_text, rec_.arch.hidden, rec_.seed, rec_.t_min, rec_.t_max,
                                       "score model file " + rec_.data_file);
}

std::shared_ptr<FitState> ScoreModel::fit_state() const {
  require_resumable(rec_, rec_.data_file.empty() ? std::string("(in memory)") : "trained on " + rec_.data_file);
  auto s = std::make_shared<FitState>();
  s->schedule = rec_.schedule;
  s->t_min = rec_.t_min;
  s->t_max = rec_.t_max;
  s->raw_parameters = rec_.raw_parameters;
  s->adam_m = rec_.adam_m;
  s->adam_v = rec_.adam_v;
  s->ema_parameters = rec_.ema_parameters;
  s->steps_done = rec_.steps_done;
  s->ema_updates = rec_.ema_updates;
  s->curve = rec_.curve;
  s->seconds = rec_.seconds;
  s->max_jitter = rec_.max_jitter;
  s->initial_loss = rec_.initial_loss;
  return s;
}

void ScoreModel::check_points(const Eigen::MatrixXd& y, const Eigen::VectorXd& t) const {
  const int d = dim();
  if (y.cols() != d)
    throw ConfigError("score model of " + model_name() + ": points have " + std::to_string(y.cols()) + " columns but the model's dimension is " +
                      std::to_string(d) + ": give an n x " + std::to_string(d) + " array");
  if (t.size() != y.rows())
    throw ConfigError("score model: " + std::to_string(t.size()) + " times for " + std::to_string(y.rows()) +
                      " points: give one time per point (shape (" + std::to_string(y.rows()) + ",))");
  for (Eigen::Index i = 0; i < t.size(); ++i)
    if (!std::isfinite(t(i))) throw ConfigError("score model: time[" + std::to_string(i) + "] = " + detail::fmt_double(t(i)) + " is not finite");
  for (Eigen::Index i = 0; i < y.rows(); ++i)  // bad input, as `scorefit score` says (not a numerical failure)
    for (Eigen::Index j = 0; j < y.cols(); ++j)
      if (!std::isfinite(y(i, j)))
        throw ConfigError("score model: point[" + std::to_string(i) + ", " + std::to_string(j) + "] = " + detail::fmt_double(y(i, j)) +
                          " is not finite: points must be finite numbers");
}

Eigen::MatrixXd ScoreModel::score(const Eigen::MatrixXd& y, const Eigen::VectorXd& t, int threads) const {
  check_points(y, t);
  if (y.rows() == 0) return Eigen::MatrixXd(0, dim());
  return net_->evaluate(y, t, Eigen::VectorXd(), threads);
}

namespace {
/// Rows of D s (velocity = false) or f - div D - D s (velocity = true) for the named model.
Eigen::MatrixXd model_field(const ScoreModelFile& rec, const Eigen::MatrixXd& y, const Eigen::VectorXd& t, const Eigen::MatrixXd& s,
                            bool velocity) {
  std::vector<app::ParamValue> params;
  for (const auto& [k, v] : rec.data.model_parameters) params.push_back({k, v});
  Eigen::MatrixXd out(y.rows(), y.cols());
  app::visit_model(rec.data.model, params, [&](auto& model) {
    using M = std::decay_t<decltype(model)>;
    constexpr int D = M::state_dim;
    if (y.cols() != D)
      throw ConfigError("score model: it was trained on " + rec.data.model + " (dimension " + std::to_string(D) + ") but has " +
                        std::to_string(y.cols()) + " inputs");
    const Eigen::Index n = y.rows();
#pragma omp parallel for schedule(static) if (n > 256)
    for (Eigen::Index i = 0; i < n; ++i) {
      const Vec<double, D> yi = y.row(i).transpose();
      const Vec<double, D> si = s.row(i).transpose();
      const Vec<double, D> ds = eval::diffusion_matrix(model, yi, t(i)) * si;
      if (velocity)
        out.row(i) = (model.drift(yi, t(i)) - eval::diffusion_divergence(model, yi, t(i)) - ds).transpose();
      else
        out.row(i) = ds.transpose();
    }
  });
  return out;
}
}  // namespace

Eigen::MatrixXd ScoreModel::diffusion_score(const Eigen::MatrixXd& y, const Eigen::VectorXd& t, int threads) const {
  return model_field(rec_, y, t, score(y, t, threads), false);
}

Eigen::MatrixXd ScoreModel::velocity(const Eigen::MatrixXd& y, const Eigen::VectorXd& t, int threads) const {
  return model_field(rec_, y, t, score(y, t, threads), true);
}

}  // namespace sdescore::score
