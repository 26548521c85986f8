#pragma once
/// \file
/// Probability-flow ODE (docs/evaluation.md, section 2):
///     dy/dt = v(y, t) = f(y, t) - div D(y, t) - D(y, t) s(y, t),      D = G G^T / 2,
/// integrated for a whole ensemble as ONE odeint state of n*d values (row-major: sample i,
/// coordinate k at i*d + k), so each right-hand side is one batched score call. Boost.Odeint's
/// runge_kutta_dopri5 with dense output gives adaptive steps and output exactly at the
/// requested times. Increasing times push p_{t0} samples forward, decreasing times pull p_T
/// samples back; the map is deterministic and invertible up to the ODE tolerance.
///
/// Optionally the log-density is carried along (instantaneous change of variables):
///     d/dt log p_t(y(t)) = -div v(y(t), t),
///     div v = tr(df/dy) - sum_ab D_ab d s_a / d y_b          (additive noise only),
/// which needs the score Jacobian (a callable, or finite differences of the score). Then the
/// entropy S(t) = -E[log p_t] and dS/dt = E[div v] come out along the flow.
#include <Eigen/Dense>
#include <boost/numeric/odeint.hpp>
#include <cmath>
#include <concepts>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sdescore/eval/model_fields.hpp"
#include "sdescore/eval/physics.hpp"

namespace sdescore::eval {

/// A batched score Jacobian: rows of y are points; returns n x (d*d) with entry
/// (i, a*d + b) = d s_a / d y_b at row i.
template <class J>
concept BatchScoreJacobian = requires(J& j, const Eigen::MatrixXd& y, const Eigen::VectorXd& t) {
  { j(y, t) } -> std::convertible_to<Eigen::MatrixXd>;
};

struct FlowOptions {
  double abs_tol = 1e-6;     ///< dopri5 absolute tolerance (per state component)
  double rel_tol = 1e-6;     ///< dopri5 relative tolerance
  double initial_dt = 1e-2;  ///< first trial step (magnitude; the sign follows the direction of `times`)
  double max_dt = 0;         ///< largest step (magnitude); 0 = no limit
  bool record_entropy_production = false;  ///< evaluate Pi(t), E||v|| at each output time (one extra score call each)
  void validate() const {
    require_positive("FlowOptions: abs_tol", abs_tol);
    require_positive("FlowOptions: rel_tol", rel_tol);
    require_positive("FlowOptions: initial_dt", initial_dt);
    require_non_negative("FlowOptions: max_dt", max_dt);
  }
};

struct FlowResult {
  std::vector<double> times;                   ///< the requested output times
  std::vector<Eigen::MatrixXd> states;         ///< ensemble (n x d) at each output time
  std::vector<Eigen::VectorXd> log_density;    ///< log p_t at the ensemble (only with density tracking)
  std::vector<double> entropy;                 ///< S(t) = -mean log p_t (only with density tracking)
  std::vector<double> entropy_rate;            ///< dS/dt = mean div v (only with density tracking)
  std::vector<EntropyProduction> production;   ///< Pi(t), E||v|| (only if record_entropy_production)
  std::size_t rhs_evaluations = 0;             ///< batched right-hand sides (= score calls in the ODE)
};

/// Central finite-difference score Jacobian (2 d batched score calls, step h per coordinate).
/// Holds a reference to an lvalue score, a copy of an rvalue one. Truncation O(h^2); with a
/// float network choose h >= 1e-2 (round-off ~ 1e-7 / h).
template <class F>
struct FiniteDifferenceScoreJacobian {
  F score;
  double h = 1e-4;
  Eigen::MatrixXd operator()(const Eigen::MatrixXd& y, const Eigen::VectorXd& t) {
    const Eigen::Index n = y.rows(), d = y.cols();
    Eigen::MatrixXd J(n, d * d);
    for (Eigen::Index b = 0; b < d; ++b) {
      Eigen::MatrixXd yp = y, ym = y;
      yp.col(b).array() += h;
      ym.col(b).array() -= h;
      const Eigen::MatrixXd sp = detail::call_score("finite-difference Jacobian", score, yp, t);
      const Eigen::MatrixXd sm = detail::call_score("finite-difference Jacobian", score, ym, t);
      for (Eigen::Index a = 0; a < d; ++a) J.col(a * d + b) = (sp.col(a) - sm.col(a)) / (2 * h);
    }
    return J;
  }
};
template <BatchScore F>
FiniteDifferenceScoreJacobian<F> finite_difference_score_jacobian(F&& score, double h = 1e-4) {
  require_positive("finite_difference_score_jacobian: h", h);
  return {std::forward<F>(score), h};
}

/// div v_i = tr(df/dy)(y_i) - sum_ab D_ab (ds_a/dy_b)(y_i) for additive noise, from the
/// score Jacobian values J (n x d*d).
template <SdeModel M>
Eigen::VectorXd velocity_divergence_from_jacobian(const M& m, const Eigen::MatrixXd& y, double t, const Eigen::MatrixXd& J) {
  static_assert(is_additive_v<M>,
                "the log-density along the probability flow needs div v, implemented for additive noise only "
                "(non-additive noise would need second derivatives of D)");
  constexpr int D = M::state_dim;
  if (J.rows() != y.rows() || J.cols() != D * D)
    throw ConfigError("velocity divergence: the score Jacobian has shape " + std::to_string(J.rows()) + " x " +
                      std::to_string(J.cols()) + ", expected " + std::to_string(y.rows()) + " x " + std::to_string(D * D));
  const Mat<double, D, D> Dm = diffusion_matrix(m, Vec<double, D>(y.row(0).transpose()), t);
  const Eigen::Index n = y.rows();
  Eigen::VectorXd div(n);
#pragma omp parallel for schedule(static) if (n > 512)
  for (Eigen::Index i = 0; i < n; ++i) {
    const Vec<double, D> yi = y.row(i).transpose();
    double v = model_drift_jacobian(m, yi, t).trace();
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) v -= Dm(a, b) * J(i, a * D + b);
    div(i) = v;
  }
  return div;
}

namespace detail {
struct NoJacobian {};
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline void check_times(const std::vector<double>& times) {
  if (times.empty()) throw ConfigError("probability flow: no output times given (times[0] is the start time)");
  for (double t : times) require_finite("probability flow: output time", t);
  if (times.size() < 2) return;
  const bool up = times[1] > times[0];
  for (std::size_t k = 1; k < times.size(); ++k)
    if (up ? !(times[k] > times[k - 1]) : !(times[k] < times[k - 1]))
      throw ConfigError("probability flow: output times must be strictly monotone (increasing = forward, "
                        "decreasing = backward); times[" + std::to_string(k) + "] = " + sdescore::detail::fmt_double(times[k]) +
                        " breaks it");
}

template <SdeModel M, BatchScore F, class J>
FlowResult probability_flow_impl(const M& m, F& score, J* jac, const Eigen::MatrixXd& y_start,
                                 const Eigen::VectorXd* logp_start, const std::vector<double>& times,
                                 const FlowOptions& opts) {
  namespace ode = boost::numeric::odeint;
  constexpr int d = M::state_dim;
  opts.validate();
  check_ensemble("probability flow", y_start, d);
  check_times(times);
  if (!y_start.allFinite()) throw ConfigError("probability flow: the start ensemble has non-finite values");
  constexpr bool with_density = !std::is_same_v<J, NoJacobian>;
  const Eigen::Index n = y_start.rows();
  const Eigen::Index nd = n * d;
  using State = std::vector<double>;
  State x(static_cast<std::size_t>(nd + (with_density ? n : 0)));
  Eigen::Map<RowMatrix>(x.data(), n, d) = y_start;
  if constexpr (with_density) {
    if (logp_start->size() != n)
      throw ConfigError("probability flow: " + std::to_string(logp_start->size()) + " start log-densities for " +
                        std::to_string(n) + " samples");
    Eigen::Map<Eigen::VectorXd>(x.data() + nd, n) = *logp_start;
  }
  FlowResult res;
  res.times = times;

  auto rhs = [&](const State& xs, State& dx, double t) {
    ++res.rhs_evaluations;
    const Eigen::MatrixXd y = Eigen::Map<const RowMatrix>(xs.data(), n, d);
    if (!y.allFinite())
      throw NumericalError("probability flow: the ensemble became non-finite at t = " + sdescore::detail::fmt_double(t));
    const Eigen::MatrixXd s = call_score("probability flow", score, y, t);
    Eigen::Map<RowMatrix>(dx.data(), n, d) = velocity_from_score_values(m, y, t, s);
    if constexpr (with_density) {
      const Eigen::MatrixXd Jv = (*jac)(y, Eigen::VectorXd::Constant(n, t));
      Eigen::Map<Eigen::VectorXd>(dx.data() + nd, n) = -velocity_divergence_from_jacobian(m, y, t, Jv);
    }
  };
  auto observe = [&](const State& xs, double t) {
    const Eigen::MatrixXd y = Eigen::Map<const RowMatrix>(xs.data(), n, d);
    res.states.push_back(y);
    if constexpr (with_density) {
      const Eigen::VectorXd lp = Eigen::Map<const Eigen::VectorXd>(xs.data() + nd, n);
      res.log_density.push_back(lp);
      res.entropy.push_back(-lp.mean());
      const Eigen::MatrixXd Jv = (*jac)(y, Eigen::VectorXd::Constant(n, t));
      res.entropy_rate.push_back(velocity_divergence_from_jacobian(m, y, t, Jv).mean());
    }
    if (opts.record_entropy_production) res.production.push_back(entropy_production_rate(m, score, y, t));
  };

  if (times.size() == 1) {
    observe(x, times[0]);
    return res;
  }
  const double dir = times.back() > times.front() ? 1.0 : -1.0;
  const double dt0 = dir * std::min(opts.initial_dt, std::abs(times[1] - times[0]));
  using Dopri = ode::runge_kutta_dopri5<State>;
  if (opts.max_dt > 0) {
    auto stepper = ode::make_dense_output(opts.abs_tol, opts.rel_tol, opts.max_dt, Dopri());
    ode::integrate_times(stepper, rhs, x, times.begin(), times.end(), dt0, observe);
  } else {
    auto stepper = ode::make_dense_output(opts.abs_tol, opts.rel_tol, Dopri());
    ode::integrate_times(stepper, rhs, x, times.begin(), times.end(), dt0, observe);
  }
  return res;
}
}  // namespace detail

/// Transports the ensemble y_start (n x d, a sample of p_{times[0]}) along the probability
/// flow to every time in `times` (strictly monotone; times[0] is the start, included in the
/// output). Increasing times = forward (p_0 -> p_T), decreasing = backward (p_T -> p_0).
template <SdeModel M, BatchScore F>
FlowResult integrate_probability_flow(const M& m, F&& score, const Eigen::MatrixXd& y_start,
                                      const std::vector<double>& times, const FlowOptions& opts = {}) {
  detail::NoJacobian* none = nullptr;
  return detail::probability_flow_impl(m, score, none, y_start, nullptr, times, opts);
}

/// As integrate_probability_flow, also carrying log p_t along each trajectory from the start
/// values logp_start (log p_{times[0]} at the rows of y_start): d log p / dt = -div v, with the
/// score Jacobian from `score_jacobian` (a BatchScoreJacobian, e.g.
/// finite_difference_score_jacobian(score)). Fills log_density, entropy and entropy_rate.
/// Additive noise only (compile-time check).
template <SdeModel M, BatchScore F, BatchScoreJacobian J>
FlowResult integrate_probability_flow_with_density(const M& m, F&& score, J&& score_jacobian,
                                                   const Eigen::MatrixXd& y_start, const Eigen::VectorXd& logp_start,
                                                   const std::vector<double>& times, const FlowOptions& opts = {}) {
  static_assert(is_additive_v<M>, "log-density along the probability flow: additive noise only");
  using Jt = std::remove_reference_t<J>;
  Jt* jp = &score_jacobian;
  return detail::probability_flow_impl(m, score, jp, y_start, &logp_start, times, opts);
}

/// Where a flow sample may be at one output time: every coordinate inside an ensemble's
/// [min, max] widened by pad x (max - min) on each side. A sample that has left it has entered a
/// region the score was never trained on; its velocity there is an extrapolation, and the
/// ODE's adaptive steps would follow it, slowing the whole ensemble.
struct SampleRange {
  Eigen::RowVectorXd lo, hi;

  /// The range of `ensemble` (n x d, n >= 1) padded by `pad` (>= 0) of its width per coordinate.
  static SampleRange of(const Eigen::MatrixXd& ensemble, double pad = 0.05) {
    if (ensemble.rows() < 1) throw ConfigError("SampleRange: the ensemble has no samples");
    require_non_negative("SampleRange: pad", pad);
    SampleRange r;
    r.lo = ensemble.colwise().minCoeff();
    r.hi = ensemble.colwise().maxCoeff();
    const Eigen::RowVectorXd w = pad * (r.hi - r.lo);
    r.lo -= w;
    r.hi += w;
    return r;
  }
  /// Row i of y is finite and inside.
  bool contains(const Eigen::MatrixXd& y, Eigen::Index i) const {
    return y.row(i).allFinite() && (y.row(i).array() >= lo.array()).all() && (y.row(i).array() <= hi.array()).all();
  }
  /// The rows of y that are finite and inside, in order.
  std::vector<Eigen::Index> rows_inside(const Eigen::MatrixXd& y) const {
    if (y.cols() != lo.size())
      throw ConfigError("SampleRange: samples have " + std::to_string(y.cols()) + " coordinates, the range " + std::to_string(lo.size()));
    std::vector<Eigen::Index> in;
    for (Eigen::Index i = 0; i < y.rows(); ++i)
      if (contains(y, i)) in.push_back(i);
    return in;
  }
};

/// The probability flow restricted to a range per output time.
struct FlowInRange {
  std::vector<double> times;
  std::vector<Eigen::MatrixXd> states;     ///< per output time, the samples still in range (rows in start order)
  std::vector<double> outside_fraction;    ///< per output time, the fraction of y_start dropped by then
};

/// As integrate_probability_flow, from one output time to the next, dropping at each output time
/// i (the start included) the samples outside ranges[i] or not finite, from then on: a sample
/// that runs away cannot dominate a sample metric or stall the integration of the others, and
/// the fraction dropped is reported next to the metrics (docs/evaluation.md 2).
template <SdeModel M, BatchScore F>
FlowInRange integrate_probability_flow_in_range(const M& m, F&& score, const Eigen::MatrixXd& y_start,
                                                const std::vector<double>& times, const std::vector<SampleRange>& ranges,
                                                const FlowOptions& opts = {}) {
  detail::check_times(times);
  if (ranges.size() != times.size())
    throw ConfigError("integrate_probability_flow_in_range: " + std::to_string(ranges.size()) + " ranges for " +
                      std::to_string(times.size()) + " output times: give one per time");
  FlowInRange r;
  r.times = times;
  Eigen::MatrixXd y = y_start;
  const double n0 = static_cast<double>(std::max<Eigen::Index>(1, y_start.rows()));
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (i > 0 && y.rows() > 0) y = integrate_probability_flow(m, score, y, {times[i - 1], times[i]}, opts).states.back();
    const auto in = ranges[i].rows_inside(y);
    if (static_cast<Eigen::Index>(in.size()) < y.rows()) y = y(in, Eigen::all).eval();
    r.states.push_back(y);
    r.outside_fraction.push_back(1.0 - static_cast<double>(y.rows()) / n0);
  }
  return r;
}

}  // namespace sdescore::eval
