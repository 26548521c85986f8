#pragma once
/// \file
/// Reverse-time SDE sampler (docs/evaluation.md, section 3).
/// Anderson (1982): if dY = f dt + G dW on [0, T] with marginals p_t, then in the reversed
/// time tau = T - t the process X_tau = Y_{T - tau} solves
///     dX = [ -f + 2 div D + 2 D s ](X, T - tau) dtau + G(X, T - tau) dW,    D = G G^T / 2,
/// with s = grad log p_t. Started from p_T samples at tau = 0 it has law p_{T - tau}.
/// Integrated by Euler-Maruyama with a fixed number of steps from t = T down to t_end.
/// Noise comes from one std::mt19937_64 seeded with `seed`, drawn serially (sample-major,
/// step by step), so the result does not depend on the number of threads.
#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "sdescore/eval/model_fields.hpp"

namespace sdescore::eval {

struct ReverseSdeOptions {
  int steps = 1000;          ///< Euler-Maruyama steps between T and t_end
  std::uint64_t seed = 1;    ///< seed of the std::mt19937_64 noise generator
  bool last_step_noise = true;  ///< false: the last step is deterministic (drift only, "denoising" step)
  void validate() const {
    if (steps < 1) throw ConfigError("ReverseSdeOptions: steps = " + std::to_string(steps) + " is invalid: it must be >= 1");
  }
};

/// Reverse drift b(x, t) = -f + 2 div D + 2 D s at the rows of y, model time t (n x d).
template <SdeModel M>
Eigen::MatrixXd reverse_drift_from_score_values(const M& m, const Eigen::MatrixXd& y, double t, const Eigen::MatrixXd& s) {
  // v = f - div D - D s, so -f + 2 div D + 2 D s = f - 2 v.
  return batch_drift(m, y, t) - 2.0 * velocity_from_score_values(m, y, t, s);
}

/// Samples p_{t_end} by integrating the reverse-time SDE from the ensemble y_T (n x d, a
/// sample of p_T) at model time T down to t_end < T.
template <SdeModel M, BatchScore F>
Eigen::MatrixXd reverse_sde_sample(const M& m, F&& score, const Eigen::MatrixXd& y_T, double T, double t_end,
                                   const ReverseSdeOptions& opts = {}) {
  constexpr int d = M::state_dim;
  constexpr int k = M::noise_dim;
  opts.validate();
  detail::check_ensemble("reverse_sde_sample", y_T, d);
  require_finite("reverse_sde_sample: T", T);
  require_finite("reverse_sde_sample: t_end", t_end);
  if (!(t_end < T))
    throw ConfigError("reverse_sde_sample: t_end = " + sdescore::detail::fmt_double(t_end) +
                      " must be smaller than T = " + sdescore::detail::fmt_double(T));
  const Eigen::Index n = y_T.rows();
  const double h = (T - t_end) / opts.steps;
  const double sq = std::sqrt(h);
  std::mt19937_64 gen(opts.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd y = y_T;
  Eigen::MatrixXd dW(n, k);
  for (int step = 0; step < opts.steps; ++step) {
    const double t = T - step * h;  // model time at the start of the step
    const Eigen::MatrixXd s = detail::call_score("reverse_sde_sample", score, y, t);
    const Eigen::MatrixXd b = reverse_drift_from_score_values(m, y, t, s);
    const bool noise = opts.last_step_noise || step + 1 < opts.steps;
    if (noise)
      for (Eigen::Index i = 0; i < n; ++i)
        for (int l = 0; l < k; ++l) dW(i, l) = sq * normal(gen);
    Eigen::MatrixXd ynew = y + h * b;
    if (noise) {
#pragma omp parallel for schedule(static) if (n > 512)
      for (Eigen::Index i = 0; i < n; ++i) {
        const Vec<double, d> yi = y.row(i).transpose();
        const Vec<double, k> wi = dW.row(i).transpose();
        ynew.row(i) += (m.diffusion(yi, t) * wi).transpose();
      }
    }
    if (!ynew.allFinite())
      throw NumericalError("reverse_sde_sample: the ensemble became non-finite at t = " + sdescore::detail::fmt_double(t - h) +
                           " (step " + std::to_string(step + 1) + " of " + std::to_string(opts.steps) + ")");
    y.swap(ynew);
  }
  return y;
}

}  // namespace sdescore::eval
