#pragma once
/// \file
/// Physics outputs from a score (docs/evaluation.md, section 5):
///  - probability-flow velocity v = f - div D - D s (velocity_field in model_fields.hpp) and
///    probability current j = p v given density values p;
///  - total entropy production rate Pi(t) = E_{p_t}[ v^T D^+ v ] over an ensemble, with D^+
///    the pseudo-inverse (for hypoelliptic models only the noisy directions count), and the
///    mean current magnitude E||v||.
#include <Eigen/Dense>
#include <cmath>

#include "sdescore/eval/model_fields.hpp"

namespace sdescore::eval {

/// Ensemble estimate of the entropy production rate and mean speed at one time.
struct EntropyProduction {
  double rate = 0;         ///< Pi = mean_i v_i^T D^+(y_i) v_i
  double rate_stderr = 0;  ///< Monte-Carlo standard error of `rate` (sample sd / sqrt(n))
  double mean_speed = 0;   ///< mean_i ||v_i||
};

/// Pi and E||v|| from velocity values v (n x d) at the rows of y, time t.
template <SdeModel M>
EntropyProduction entropy_production_from_velocity(const M& m, const Eigen::MatrixXd& y, double t,
                                                   const Eigen::MatrixXd& v, double pinv_rel_tol = 1e-10) {
  constexpr int D = M::state_dim;
  detail::check_ensemble("entropy_production", y, D);
  if (v.rows() != y.rows() || v.cols() != D)
    throw ConfigError("entropy_production: velocity has shape " + std::to_string(v.rows()) + " x " +
                      std::to_string(v.cols()) + ", expected the ensemble's " + std::to_string(y.rows()) + " x " +
                      std::to_string(D));
  const Eigen::Index n = y.rows();
  Eigen::VectorXd q(n), sp(n);
  Mat<double, D, D> Dp;
  if constexpr (is_additive_v<M>) Dp = symmetric_pseudo_inverse<D>(diffusion_matrix(m, Vec<double, D>(y.row(0).transpose()), t), pinv_rel_tol);
#pragma omp parallel for schedule(static) if (n > 512)
  for (Eigen::Index i = 0; i < n; ++i) {
    const Vec<double, D> vi = v.row(i).transpose();
    if constexpr (is_additive_v<M>) {
      q(i) = vi.dot(Dp * vi);
    } else {
      const Vec<double, D> yi = y.row(i).transpose();
      q(i) = vi.dot(symmetric_pseudo_inverse<D>(diffusion_matrix(m, yi, t), pinv_rel_tol) * vi);
    }
    sp(i) = vi.norm();
  }
  EntropyProduction r;
  r.rate = q.mean();
  r.mean_speed = sp.mean();
  r.rate_stderr = n > 1 ? std::sqrt((q.array() - r.rate).square().sum() / double(n - 1) / double(n)) : 0.0;
  return r;
}

/// Pi(t) = E[v^T D^+ v] and E||v|| over the ensemble y at time t, with v = f - div D - D s.
template <SdeModel M, BatchScore F>
EntropyProduction entropy_production_rate(const M& m, F&& score, const Eigen::MatrixXd& y, double t,
                                          double pinv_rel_tol = 1e-10) {
  const Eigen::MatrixXd v = velocity_field(m, score, y, t);
  return entropy_production_from_velocity(m, y, t, v, pinv_rel_tol);
}

/// Probability current j_i = p_i v(y_i, t), with p_i the density at row i (supplied by the
/// caller: a reference density, or exp of the flow's log-density).
template <SdeModel M, BatchScore F>
Eigen::MatrixXd probability_current(const M& m, F&& score, const Eigen::MatrixXd& y, double t,
                                    const Eigen::VectorXd& density) {
  if (density.size() != y.rows())
    throw ConfigError("probability_current: " + std::to_string(density.size()) + " density values for " +
                      std::to_string(y.rows()) + " points (one per row needed)");
  const Eigen::MatrixXd v = velocity_field(m, score, y, t);
  return density.asDiagonal() * v;
}

}  // namespace sdescore::eval
