#pragma once
// The local step Delta(t) and the y_s-independent weight Lambda(t) = Sigma_bar(t)
// (method.md 2.3-2.4). A schedule is a table over a time grid; lookups take the nearest
// earlier grid time. It is saved with the score model so users can see it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sdescore/linearize/gaussian_transition.hpp"
#include "sdescore/score/ensemble_source.hpp"

namespace sdescore::score {

struct StepSchedule {
  std::string kind;                  ///< "auto", "fixed" or "error-controlled"
  std::vector<double> t;             ///< grid times (increasing)
  std::vector<double> delta;         ///< Delta(t_i)
  std::vector<Eigen::MatrixXd> sigma_bar;  ///< Sigma_bar(t_i): mean linearised covariance (d x d)
  std::vector<double> local_error;   ///< estimated local error at the chosen Delta (error-controlled)
  double tolerance = 0;              ///< lambda (error-controlled)
  double relaxation = 0;             ///< auto: the relaxation time Delta came from (0: not auto)
  double base_delta = 0;             ///< auto: Delta before it grows with the elapsed time (0: not auto); the
                                     ///< weights Sigma_bar(t) are kept at this Delta's scale (build_schedule)

  int index(double tau) const {
    int i = static_cast<int>(std::upper_bound(t.begin(), t.end(), tau) - t.begin()) - 1;
    return std::clamp(i, 0, static_cast<int>(t.size()) - 1);
  }
  double delta_at(double tau) const { return delta[index(tau)]; }
  const Eigen::MatrixXd& sigma_bar_at(double tau) const { return sigma_bar[index(tau)]; }
};

/// Defaults: "auto", a fixed Delta chosen from the data (auto_delta below; on the double well it
/// gives the 0.02 measured best there, on the active swimmer's slow noisy velocity ~0.2:
/// docs/results.md, issue 16). "fixed" takes `delta`; "error-controlled" the step-doubling ladder.
struct ScheduleOptions {
  std::string kind = "auto";  ///< auto | fixed | error-controlled
  double delta = 0.02;        ///< fixed: Delta (auto: only the default t_min's offset)
  double delta_min = 1e-3;    ///< error-controlled ladder [delta_min, delta_max], geometric; auto: the smallest Delta
  double delta_max = 0.05;   ///< the one default (the CLI and Python read it from here)
  int ladder = 12;
  double tolerance = 0.05;    ///< lambda
  double auto_ratio = 0.16;   ///< auto: Delta = auto_ratio x the noisy coordinates' relaxation time ...
  double auto_span = 0.04;    ///< ... and at most auto_span x the training span t_max - t_min,
  double auto_elapsed = 0.1;  ///< ... or, where larger, auto_elapsed x the time elapsed since the first snapshot (0: off)
  int grid = 64;              ///< number of grid times over [t_min, t_max]
  int samples = 128;          ///< ensemble samples per grid time for Sigma_bar and the error
  LinearizationOptions lin{};
};

/// The schedule kinds build_schedule accepts.
inline bool valid_schedule_kind(const std::string& k) { return k == "auto" || k == "fixed" || k == "error-controlled"; }

/// What the "auto" schedule found: Delta and the relaxation time it came from.
struct AutoDelta {
  double delta = 0;       ///< the chosen Delta
  double relaxation = 0;  ///< tau = 1 / rms ||J_NN||_F (infinite when the noisy block of J is zero)
  double uncapped = 0;    ///< auto_ratio x tau (at least delta_min): the bound Delta(t) may grow to
  bool capped = false;    ///< Delta was cut to auto_span x the training span
};

/// The "auto" local step: Delta = auto_ratio * tau, tau = 1 / sqrt(mean_i ||J_NN(y_i, t_i)||_F^2),
/// the relaxation time of the noisy coordinates N (those with a non-zero row of G on some sample)
/// under the drift's Jacobian J, over samples spread over the training range; clipped to
/// [delta_min, auto_span * span]. Rationale (issue 16, docs/results.md "Choosing Delta"): the
/// linearised kernel is accurate over a small fraction of the time on which the drift moves the
/// noisy coordinates, and a longer step gives a less noisy regression target (its variance ~ 1/Sigma).
/// Calibrated on the double well (tau = 0.128: Delta = 0.0205, next to 0.02, the measured best
/// there); the active swimmer's velocity (tau = 1/gamma = 10) gets the span cap, ~0.2 (best
/// measured 0.2-0.3 against exact ISM). Where the cap binds, build_schedule lets Delta(t) grow
/// with the elapsed time (auto_elapsed x (t - t_first), up to `uncapped`): late times, nearer
/// stationarity, take longer steps (the swimmer's D s at t = 5 gains; docs/results.md, session 13).
template <int D>
AutoDelta auto_delta(const ModelView<D>& m, const std::vector<Vec<double, D>>& ys, const std::vector<double>& ts, double span,
                     const ScheduleOptions& opt) {
  std::vector<bool> noisy(D, false);
  for (std::size_t i = 0; i < ys.size(); ++i) {
    const auto G = m.diffusion(ys[i], ts[i]);
    for (int k = 0; k < D; ++k) noisy[k] = noisy[k] || G.row(k).squaredNorm() != 0;
  }
  double s2 = 0;
  for (std::size_t i = 0; i < ys.size(); ++i) {
    const Mat<double, D, D> J = m.drift_jacobian(ys[i], ts[i]);
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b)
        if (noisy[a] && noisy[b]) s2 += J(a, b) * J(a, b);
  }
  s2 /= static_cast<double>(std::max<std::size_t>(ys.size(), 1));
  AutoDelta r;
  r.relaxation = s2 > 0 ? 1.0 / std::sqrt(s2) : std::numeric_limits<double>::infinity();
  const double cap = opt.auto_span * span;
  r.delta = opt.auto_ratio * r.relaxation;
  r.uncapped = std::max(std::min(r.delta, std::numeric_limits<double>::max()), opt.delta_min);
  if (!(r.delta <= cap)) {
    r.delta = cap;
    r.capped = true;
  }
  r.delta = std::max(r.delta, opt.delta_min);
  return r;
}

/// Step-doubling error of the linearised transition from y over Delta (method.md 2.4):
/// one step of Delta against two of Delta/2 (the second linearised at the first's mean, its
/// linear propagator carrying the first covariance), in the Mahalanobis norm of the one-step
/// law plus the relative Frobenius mismatch of the covariances.
template <int D>
double step_doubling_error(const ModelView<D>& m, const Vec<double, D>& y, double s, double delta, const LinearizationOptions& lin) {
  const auto one = m.transition(y, s, delta, lin);
  const auto a = m.transition(y, s, 0.5 * delta, lin);
  const auto b = m.transition(Vec<double, D>(a.mean), s + 0.5 * delta, 0.5 * delta, lin);
  const Mat<double, D, D> E = (m.drift_jacobian(Vec<double, D>(a.mean), s + 0.5 * delta) * (0.5 * delta)).exp();
  const Mat<double, D, D> cov2 = E * a.cov * E.transpose() + b.cov;
  const Mat<double, D, D> L = robust_cholesky<D>(one.cov);
  const double mahal = L.template triangularView<Eigen::Lower>().solve(b.mean - one.mean).norm();
  return mahal + (cov2 - one.cov).norm() / one.cov.norm();
}

/// The same for a model type.
template <SdeModel M>
double step_doubling_error(const M& m, const Vec<double, M::state_dim>& y, double s, double delta,
                           const LinearizationOptions& lin) {
  return step_doubling_error<M::state_dim>(ModelViewOf<M>(m), y, s, delta, lin);
}

/// Builds the schedule on a grid over [t_min, t_max]; Sigma_bar(t_i) averages the linearised
/// covariance over `samples` ensemble states at s_i = t_i - Delta(t_i): it depends on t only,
/// never on the sample that generates a target. "auto": Delta(t) = min(uncapped, max(Delta,
/// auto_elapsed (t - t_first)), t - t_first), and where Delta(t) exceeds the base Delta the weight
/// Sigma_bar(t) is scaled by Delta / Delta(t): a longer step lowers the target's variance without
/// also moving the loss's weight towards late times (measured: unscaled, the swimmer's D s at t = 1
/// lost what t = 5 gained).
template <int D>
StepSchedule build_schedule(const SnapshotSource<D>& src, double t_min, double t_max, const ScheduleOptions& opt, std::uint64_t seed) {
  if (!(t_max > t_min)) throw ConfigError("schedule: t_max = " + detail::fmt_double(t_max) + " must exceed t_min = " + detail::fmt_double(t_min));
  if (!valid_schedule_kind(opt.kind))
    throw ConfigError("step schedule '" + opt.kind + "' is unknown: valid schedules are auto, fixed, error-controlled");
  require_positive("delta", opt.delta);
  require_positive("delta_min", opt.delta_min);
  require_positive("tolerance", opt.tolerance);
  if (!(opt.auto_elapsed >= 0)) throw ConfigError("schedule: auto_elapsed = " + detail::fmt_double(opt.auto_elapsed) + " must be >= 0 (0: Delta does not grow)");
  if (!(opt.delta_max >= opt.delta_min)) throw ConfigError("schedule: delta_max = " + detail::fmt_double(opt.delta_max) + " must be >= delta_min = " + detail::fmt_double(opt.delta_min));
  random::KeyedDraws rng(seed, 0);
  StepSchedule sch;
  sch.kind = opt.kind;
  sch.tolerance = opt.tolerance;
  const int n = std::max(1, opt.grid);
  const double t0 = src.t_first();
  double fixed_delta = opt.delta;
  double grow_to = 0;  // auto: the largest Delta(t)
  if (opt.kind == "auto") {  // 16 samples per grid time, a stream of their own
    random::KeyedDraws arng(seed, 1);
    std::vector<Vec<double, D>> ys;
    std::vector<double> ts;
    for (int i = 0; i < n; ++i) {
      const double t = t_min + (t_max - t_min) * i / n;
      for (int j = 0; j < 16; ++j) {
        ys.push_back(src.sample(t, arng));
        ts.push_back(t);
      }
    }
    const AutoDelta a = auto_delta<D>(src.model(), ys, ts, t_max - t_min, opt);
    fixed_delta = a.delta;
    grow_to = opt.auto_elapsed > 0 ? a.uncapped : a.delta;
    sch.relaxation = a.relaxation;
    sch.base_delta = a.delta;
  }
  for (int i = 0; i < n; ++i) {
    const double t = t_min + (t_max - t_min) * i / n;
    // samples of p at roughly the right time for the error estimate (the nearest earlier snapshot)
    std::vector<Vec<double, D>> ys;
    double delta = std::min(fixed_delta, t - t0);
    if (opt.kind == "auto" && grow_to > fixed_delta)
      delta = std::min(std::min(grow_to, std::max(fixed_delta, opt.auto_elapsed * (t - t0))), t - t0);
    const double s_probe = std::max(t0, t - (opt.kind == "auto" ? delta : opt.delta_max));
    for (int j = 0; j < opt.samples; ++j) ys.push_back(src.sample(s_probe, rng));
    double err = 0;
    if (opt.kind == "error-controlled") {
      delta = 0;
      for (int l = opt.ladder - 1; l >= 0; --l) {
        const double d = opt.ladder == 1 ? opt.delta_min
                                          : opt.delta_min * std::pow(opt.delta_max / opt.delta_min, double(l) / (opt.ladder - 1));
        if (d > t - t0) continue;
        double e = 0;
        for (const auto& y : ys) e += step_doubling_error(src.model(), y, t - d, d, opt.lin);
        e /= ys.size();
        if (e <= opt.tolerance || l == 0) {
          delta = d;
          err = e;
          break;
        }
      }
      if (delta == 0) delta = std::min(opt.delta_min, t - t0);
    }
    if (!(delta > 0))
      throw ConfigError("schedule: no room for a local step at t = " + detail::fmt_double(t) +
                        " (the ensemble starts at " + detail::fmt_double(t0) + "): raise t_min");
    Mat<double, D, D> sb = Mat<double, D, D>::Zero();
    for (const auto& y : ys) sb += src.model().transition(y, t - delta, delta, opt.lin).cov;
    sb /= ys.size();
    if (opt.kind == "auto" && delta > fixed_delta) sb *= fixed_delta / delta;  // the weight at the base Delta's scale
    sch.t.push_back(t);
    sch.delta.push_back(delta);
    sch.sigma_bar.push_back(sb);
    sch.local_error.push_back(err);
  }
  return sch;
}

}  // namespace sdescore::score
