#pragma once
// Checks that run before training or evaluation starts (docs/cli.md, "Validation before work"),
// so that bad data or settings are refused in a second, not after hours of work:
//   check_training_data   every stored position finite and inside the model's domain (drift
//                         and diffusion finite there), enough paths for the hold-out;
//   check_fit_settings    the settings FitOptions::validate does not cover (hold-out, learning
//                         rate, time range);
//   LossGuard             stops a diverging run: non-finite loss, or a block-averaged loss more
//                         than 1e8 x the loss of the untrained network on the first batch
//                         (e.g. --lr 1e6);
//   require_trained_time  evaluation times must lie in the range the score was trained on
//                         (one rule for scorefit score, grid and physics).
#include <cmath>
#include <string>

#include "sdescore/core/model.hpp"
#include "sdescore/score/ensemble_source.hpp"

namespace sdescore::score {

/// Throws ConfigError naming `where` (the file), the snapshot, the path and the value if a stored
/// position is not finite or the model's drift or diffusion is not finite there (e.g. 1e300 in a
/// cubic drift), or if the hold-out rule leaves no path for training or for evaluation.
/// holdout_every < 0 skips the path-count check.
template <int D>
void check_training_data(const ModelFields<D>& model, const EnsembleData& data, int holdout_every, const std::string& where) {
  data.validate(D);
  const std::string in = where.empty() ? std::string("the ensemble") : where;
  for (int k = 0; k < data.n_snapshots(); ++k) {
    const Eigen::MatrixXd& X = data.states[static_cast<std::size_t>(k)];
    const double t = data.times[static_cast<std::size_t>(k)];
    if (!std::isfinite(t))
      throw ConfigError(in + ": snapshot " + std::to_string(k) + " has time " + detail::fmt_double(t) + ", not a finite number");
    for (Eigen::Index p = 0; p < X.rows(); ++p) {
      const Vec<double, D> y = X.row(p).transpose();
      auto refuse = [&](const std::string& why) {
        std::string ys;
        for (int d = 0; d < D; ++d) ys += (d ? ", " : "") + detail::fmt_double(y(d));
        throw ConfigError(in + ": snapshot " + std::to_string(k) + " (t = " + detail::fmt_double(t) + "), path " +
                          std::to_string(p) + " holds y = (" + ys + "): " + why +
                          "; the data must be finite positions of model " + model.name() +
                          " (regenerate it, or drop that path)");
      };
      if (!y.allFinite()) refuse("not a finite number");
      if (!model.drift(y, t).allFinite()) refuse("the drift of the model is not finite there");
      if (!model.diffusion(y, t).allFinite()) refuse("the diffusion of the model is not finite there");
    }
  }
  const int n = data.n_paths();
  if (holdout_every > 0) {
    const int held = n / holdout_every;  // paths p with p % k == k - 1
    if (held < 1)
      throw ConfigError(in + " has " + std::to_string(n) + " path(s): --holdout-every " + std::to_string(holdout_every) +
                        " holds out every " + std::to_string(holdout_every) +
                        "-th path, which leaves none for evaluation; give at least " + std::to_string(holdout_every) +
                        " paths, a smaller --holdout-every, or --holdout-every 0 (no held-out evaluation)");
    if (n - held < 1)
      throw ConfigError(in + " has " + std::to_string(n) + " path(s): --holdout-every " + std::to_string(holdout_every) +
                        " leaves none for training; use --holdout-every 0 or more paths");
  } else if (holdout_every == 0 && n < 1) {
    throw ConfigError(in + " has no paths to train on");
  }
}

/// The same for a model type.
template <SdeModel M>
void check_training_data(const M& model, const EnsembleData& data, int holdout_every, const std::string& where) {
  check_training_data<M::state_dim>(ModelFieldsOf<M>(model), data, holdout_every, where);
}

/// Settings of a training run beyond FitOptions::validate: the hold-out and the time range.
/// t_min / t_max < 0 mean "unset" (a library sentinel; the CLI refuses negative values).
inline void check_fit_settings(int holdout_every, double t_min, double t_max) {
  if (holdout_every < 0)
    throw ConfigError("--holdout-every " + std::to_string(holdout_every) +
                      " is invalid: it must be >= 0 (k > 0: every k-th path is held out; 0: none)");
  for (const auto& [name, v] : {std::pair<const char*, double>{"--t-min", t_min}, {"--t-max", t_max}})
    if (std::isnan(v) || std::isinf(v))
      throw ConfigError(std::string(name) + " " + detail::fmt_double(v) + " is invalid: it must be a finite time >= 0");
  if (t_min >= 0 && t_max >= 0 && !(t_max > t_min))
    throw ConfigError("--t-max " + detail::fmt_double(t_max) + " must exceed --t-min " + detail::fmt_double(t_min));
}

/// Stops a diverging run: observe() each block-averaged loss (every log_every steps).
/// The reference is the loss of the untrained network on the first batch (the loss the first
/// step reports, taken before its update), which the training itself cannot corrupt: a run that
/// blows up inside its first block and stays up (--lr 1e6: 1e16, then 1e9 ...) is caught at the
/// first block.
class LossGuard {
 public:
  /// A block loss larger than factor x max(|reference|, floor) counts as divergence.
  static constexpr double factor = 1e8, floor = 1.0;

  /// The loss of the untrained network on the first batch (FitState::initial_loss on a resume).
  void set_reference(double initial_loss) {
    if (!std::isfinite(initial_loss)) return;
    ref_ = std::abs(initial_loss);
    have_ref_ = true;
  }
  bool has_reference() const { return have_ref_; }
  double reference() const { return ref_; }

  void observe(long step, double loss) const {
    if (!std::isfinite(loss))
      throw NumericalError("training diverged at step " + std::to_string(step) + ": loss = " + detail::fmt_double(loss) +
                           " (try a smaller --lr, or --clip)");
    if (!have_ref_) return;
    const double limit = factor * std::max(ref_, floor);
    if (std::abs(loss) > limit)
      throw NumericalError("training diverged at step " + std::to_string(step) + ": the loss averaged over the last steps is " +
                           detail::fmt_double(loss) + ", more than 1e8 x max(1, the loss of the untrained network, " +
                           detail::fmt_double(ref_) + "); try a smaller --lr (or --clip)");
  }

 private:
  double ref_ = 0;
  bool have_ref_ = false;
};

/// Throws ConfigError unless t lies in [t_min, t_max] (to 1e-9 relative): a score is only
/// evaluated at times it was trained on. `what` names the caller ("score: /time[3]").
inline void require_trained_time(const std::string& what, double t, double t_min, double t_max) {
  const double eps = 1e-9 * std::max(1.0, std::abs(t_max));
  if (!std::isfinite(t) || t < t_min - eps || t > t_max + eps)
    throw ConfigError(what + " = " + detail::fmt_double(t) + " is outside the time range the score was trained on, [" +
                      detail::fmt_double(t_min) + ", " + detail::fmt_double(t_max) +
                      "]: the network extrapolates there; valid times are in that range");
}

}  // namespace sdescore::score
