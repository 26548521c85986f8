#pragma once
// Definition of compute_physics_dim (eval/model_entry.hpp), included only by the units that
// compile it once per shape of additive model (eval/instantiate/dim.cpp.in).
#include <algorithm>
#include <limits>

#include "sdescore/eval/detail/model_entry.hpp"
#include "sdescore/eval/physics.hpp"
#include "sdescore/eval/physics_report.hpp"
#include "sdescore/eval/probability_flow.hpp"
#include "sdescore/score/checks.hpp"
#include "sdescore/score/holdout.hpp"

namespace sdescore::eval {

namespace detail {
/// Snapshot indices for the requested times (nearest snapshot), inside the trained range.
inline std::vector<int> pick_snapshots(const score::EnsembleData& data, std::vector<double> want, double t_lo, double t_hi) {
  using sdescore::detail::fmt_double;
  const double eps = 1e-9 * std::max(1.0, std::abs(t_hi));
  if (want.empty()) {  // every snapshot in the range, thinned to at most 21
    std::vector<int> in;
    for (int k = 0; k < data.n_snapshots(); ++k)
      if (data.times[k] >= t_lo - eps && data.times[k] <= t_hi + eps) in.push_back(k);
    if (in.empty())
      throw ConfigError("physics: no snapshot of the data lies in the trained time range [" + fmt_double(t_lo) + ", " + fmt_double(t_hi) + "]");
    const std::size_t stride = (in.size() + 19) / 20;
    std::vector<int> out;
    for (std::size_t i = 0; i < in.size(); i += stride) out.push_back(in[i]);
    if (out.back() != in.back()) out.push_back(in.back());
    return out;
  }
  std::sort(want.begin(), want.end());
  std::vector<int> out;
  for (double t : want) {
    if (!std::isfinite(t) || t < t_lo - eps || t > t_hi + eps)
      throw ConfigError("physics: time " + fmt_double(t) + " is outside the range the score was trained on, [" + fmt_double(t_lo) + ", " +
                        fmt_double(t_hi) + "]");
    int best = 0;
    for (int k = 0; k < data.n_snapshots(); ++k)
      if (std::abs(data.times[k] - t) < std::abs(data.times[best] - t)) best = k;
    if (data.times[best] < t_lo - eps || data.times[best] > t_hi + eps)
      throw ConfigError("physics: time " + fmt_double(t) + " has no snapshot inside the trained range (nearest: " + fmt_double(data.times[best]) + ")");
    if (out.empty() || out.back() != best) out.push_back(best);
  }
  return out;
}
}  // namespace detail

template <int D, int N>
PhysicsResult compute_physics_dim(const AdditiveModel<D, N>& model, const score::ScoreModel& fit, const score::TrainingData& td,
                                  const PhysicsOptions& o, const std::function<void()>& poll_fn) {
  using sdescore::detail::fmt_double;
  auto poll = [&] {
    if (poll_fn) poll_fn();
  };
  const score::EnsembleData& data = td.data;
  data.validate(D);
  score::check_training_data(model.fields->training(), data, -1, td.file);  // finite positions in the model's domain
  PhysicsResult r;
  r.model = fit.model_name();
  r.trained_t_min = fit.t_min();
  r.trained_t_max = fit.t_max();
  const std::vector<int> snaps = detail::pick_snapshots(data, o.times, fit.t_min(), fit.t_max());
  for (int k : snaps) r.times.push_back(data.times[k]);
  const auto& cfg = fit.record().config;
  const int holdout = static_cast<int>(cfg.count("holdout_every") ? cfg.at("holdout_every") : 0);
  const std::vector<int> held =
      score::evaluation_paths(data.n_paths(), holdout, score::same_ensemble(fit.record().data, td.info), "physics");
  r.ensemble_samples = held.size();

  const nn::Mlp<float>& net = fit.network();
  auto score_fn = [&](const Eigen::MatrixXd& y, const Eigen::VectorXd& t) { return net.evaluate(y, t, Eigen::VectorXd(), o.threads); };
  const std::size_t nt = r.times.size();
  r.entropy_production.assign(nt, 0);
  r.entropy_production_stderr.assign(nt, 0);
  r.mean_speed.assign(nt, 0);
  r.drift_scale.assign(nt, 0);
  r.entropy_knn.assign(nt, 0);
  auto rows = [&](int k, std::size_t n) {
    n = std::min(n, held.size());
    Eigen::MatrixXd Y(static_cast<Eigen::Index>(n), D);
    for (std::size_t i = 0; i < n; ++i) Y.row(static_cast<Eigen::Index>(i)) = data.states[k].row(held[i]);
    return Y;
  };
  constexpr std::size_t knn_cap = 4000;  // O(n^2) estimator
  for (std::size_t i = 0; i < nt; ++i) {
    const Eigen::MatrixXd Y = rows(snaps[i], held.size());
    const auto ep = entropy_production_rate(model, score_fn, Y, r.times[i]);
    r.entropy_production[i] = ep.rate;
    r.entropy_production_stderr[i] = ep.rate_stderr;
    r.mean_speed[i] = ep.mean_speed;
    // drift scale E[f^T D^+ f]: the production of a flow that ignored the score
    const auto zero_score = [](const Eigen::MatrixXd& y, const Eigen::VectorXd&) { return Eigen::MatrixXd::Zero(y.rows(), y.cols()).eval(); };
    r.drift_scale[i] = entropy_production_rate(model, zero_score, Y, r.times[i]).rate;
    try {
      r.entropy_knn[i] = knn_entropy(rows(snaps[i], knn_cap));
    } catch (const NumericalError&) {
      r.entropy_knn[i] = -std::numeric_limits<double>::infinity();  // a point mass
    }
    poll();
  }
  // the learned probability flow from held-out samples of p_{t0}, carrying log p
  if (nt > 1) {
    r.has_flow = true;
    const Eigen::MatrixXd Y0 = rows(snaps.front(), static_cast<std::size_t>(o.flow_samples));
    r.flow_samples = static_cast<std::size_t>(Y0.rows());
    FlowOptions flo;
    flo.abs_tol = flo.rel_tol = 1e-5;
    auto jac = finite_difference_score_jacobian(score_fn, o.fd_step);
    const double S0 = std::isfinite(r.entropy_knn.front()) ? knn_entropy(Y0.topRows(std::min<Eigen::Index>(Y0.rows(), knn_cap)))
                                                           : r.entropy_knn.front();
    r.entropy_start_knn = S0;
    // The flow runs from one output time to the next. A sample that has left the SDE ensemble's
    // range (padded 5 %) by an output time has entered a region the score was never trained on:
    // it is dropped there, from all later averages and from the ODE (whose adaptive steps
    // would otherwise follow it), and counted in outside_fraction.
    Eigen::MatrixXd Y = Y0;
    Eigen::VectorXd logp = Eigen::VectorXd::Zero(Y0.rows());  // log p_t - log p_t0 along each path
    for (std::size_t i = 0; i < nt; ++i) {
      if (i > 0 && Y.rows() > 0) {
        const auto step = integrate_probability_flow_with_density(model, score_fn, jac, Y, logp, {r.times[i - 1], r.times[i]}, flo);
        Y = step.states.back();
        logp = step.log_density.back();
      }
      poll();
      const SampleRange range = SampleRange::of(data.states[snaps[i]]);
      std::vector<Eigen::Index> in;
      for (Eigen::Index k = 0; k < Y.rows(); ++k)
        if (std::isfinite(logp(k)) && range.contains(Y, k)) in.push_back(k);
      Eigen::MatrixXd Yin(static_cast<Eigen::Index>(in.size()), D);
      Eigen::VectorXd Lin(static_cast<Eigen::Index>(in.size()));
      for (std::size_t k = 0; k < in.size(); ++k) {
        Yin.row(static_cast<Eigen::Index>(k)) = Y.row(in[k]);
        Lin(static_cast<Eigen::Index>(k)) = logp(in[k]);
      }
      Y = std::move(Yin);
      logp = std::move(Lin);
      r.flow_outside_fraction.push_back(1.0 - double(Y.rows()) / double(Y0.rows()));
      if (Y.rows() == 0) {
        for (auto* v : {&r.flow_entropy_change, &r.flow_entropy, &r.flow_entropy_rate, &r.flow_entropy_production,
                        &r.flow_entropy_production_stderr, &r.flow_mean_speed, &r.flow_medium_entropy_rate})
          v->push_back(std::nan(""));
        continue;
      }
      const auto ep = entropy_production_rate(model, score_fn, Y, r.times[i]);
      const Eigen::VectorXd Tn = Eigen::VectorXd::Constant(Y.rows(), r.times[i]);
      const double rate = velocity_divergence_from_jacobian(model, Y, r.times[i], jac(Y, Tn)).mean();
      r.flow_entropy_change.push_back(-logp.mean());  // S(t) - S(t0) over the samples still in range
      r.flow_entropy.push_back(S0 - logp.mean());
      r.flow_entropy_rate.push_back(rate);
      r.flow_entropy_production.push_back(ep.rate);
      r.flow_entropy_production_stderr.push_back(ep.rate_stderr);
      r.flow_mean_speed.push_back(ep.mean_speed);
      r.flow_medium_entropy_rate.push_back(ep.rate - rate);
    }
  }
  // velocity, density and current on a grid
  if constexpr (D <= 2) {
    auto per_dim = [&](const std::vector<double>& v, const char* what, double def, int a) {
      if (v.empty()) return def;
      if (v.size() == 1) return v[0];
      if (static_cast<int>(v.size()) != D)
        throw ConfigError(std::string("physics: --") + what + " has " + std::to_string(v.size()) + " values: give 1 or " + std::to_string(D));
      return v[a];
    };
    NodeGrid& grid = r.grid;
    grid.lo.assign(D, 0);
    grid.h.assign(D, 0);
    grid.n.assign(D, 0);
    for (int a = 0; a < D; ++a) {
      double mn = std::numeric_limits<double>::infinity(), mx = -mn;
      for (int k : snaps) {
        mn = std::min(mn, data.states[k].col(a).minCoeff());
        mx = std::max(mx, data.states[k].col(a).maxCoeff());
      }
      const double pad = 0.05 * std::max(mx - mn, 1e-3);
      const double lo = per_dim(o.lo, "lo", mn - pad, a), hi = per_dim(o.hi, "hi", mx + pad, a);
      const int n = o.n.empty() ? (D == 1 ? 201 : 81) : o.n.size() == 1 ? o.n[0] : (o.n.size() == std::size_t(D) ? o.n[a] : -1);
      if (n < 2) throw ConfigError("physics: --n must give 1 or " + std::to_string(D) + " values, each >= 2");
      if (!(hi > lo)) throw ConfigError("physics: --hi " + fmt_double(hi) + " must exceed --lo " + fmt_double(lo));
      grid.lo[a] = lo;
      grid.h[a] = (hi - lo) / (n - 1);
      grid.n[a] = n;
    }
    const int ny = D == 2 ? grid.n[1] : 1;
    Eigen::MatrixXd P(grid.size(), D);
    for (int i = 0; i < grid.n[0]; ++i)
      for (int j = 0; j < ny; ++j) {
        P(Eigen::Index(i) * ny + j, 0) = grid.lo[0] + grid.h[0] * i;
        if constexpr (D == 2) P(Eigen::Index(i) * ny + j, 1) = grid.lo[1] + grid.h[1] * j;
      }
    r.has_grid = true;
    r.density_source = o.density == "score" ? "learned score (least-squares potential, normalised on the grid)"
                                            : "histogram of the SDE ensemble (all paths)";
    for (std::size_t i = 0; i < nt; ++i) {
      const Eigen::MatrixXd V = velocity_field(model, score_fn, P, r.times[i]);
      const Eigen::VectorXd p = o.density == "score" ? density_from_score(grid, score_fn(P, Eigen::VectorXd::Constant(P.rows(), r.times[i])))
                                                     : histogram_density(grid, data.states[snaps[i]]);
      r.velocity.push_back(V);
      r.density.push_back(p);
      r.current_l1.push_back((p.asDiagonal() * V).rowwise().norm().sum() * grid.cell_volume());
      poll();
    }
  }
  return r;
}

}  // namespace sdescore::eval
