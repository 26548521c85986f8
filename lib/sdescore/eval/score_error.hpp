#pragma once
/// \file
/// Relative L2 score errors under p_t against a reference score (method.md 4.1,
/// docs/evaluation.md section 6), over given samples y_i ~ p_t:
///   full:       e   = sqrt( sum_i ||s(y_i) - s_ref(y_i)||^2 / sum_i ||s_ref(y_i)||^2 )
///   diffusion:  e_D = sqrt( sum_i ||D (s - s_ref)(y_i)||^2 / sum_i ||D s_ref(y_i)||^2 ),
/// D = G G^T / 2 at (y_i, t). Only D s enters the probability flow and the reverse SDE, so for
/// hypoelliptic models (noise on part of the state) e_D is the figure to rely on; e also
/// weighs the noiseless directions, which the losses learn only weakly.
#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "sdescore/eval/model_fields.hpp"

namespace sdescore::eval {

namespace detail {
inline double relative_l2(const Eigen::MatrixXd& diff, const Eigen::MatrixXd& ref, const char* what) {
  const double den = ref.squaredNorm();
  const double num = diff.squaredNorm();
  if (!(den > 0)) {
    if (num == 0) return 0.0;
    throw NumericalError(std::string(what) + ": the reference is zero on all samples, the relative error is undefined");
  }
  return std::sqrt(num / den);
}
/// Rows of s multiplied by D(y_i, t).
template <SdeModel M>
Eigen::MatrixXd apply_diffusion(const M& m, const Eigen::MatrixXd& y, double t, const Eigen::MatrixXd& s) {
  constexpr int D = M::state_dim;
  const Eigen::Index n = y.rows();
  Eigen::MatrixXd r(n, D);
  if constexpr (is_additive_v<M>) {
    const Mat<double, D, D> Dm = diffusion_matrix(m, Vec<double, D>(y.row(0).transpose()), t);
    r = s * Dm.transpose();
  } else {
    for (Eigen::Index i = 0; i < n; ++i) {
      const Vec<double, D> yi = y.row(i).transpose();
      r.row(i) = (diffusion_matrix(m, yi, t) * Vec<double, D>(s.row(i).transpose())).transpose();
    }
  }
  return r;
}
}  // namespace detail

/// sqrt(E||s - s_ref||^2 / E||s_ref||^2) over the rows of y (samples of p_t), time t.
template <BatchScore F, BatchScore R>
double relative_score_error(F&& score, R&& reference, const Eigen::MatrixXd& y, double t) {
  if (y.rows() < 1) throw ConfigError("relative_score_error: no samples given");
  const Eigen::MatrixXd s = detail::call_score("relative_score_error (score)", score, y, t);
  const Eigen::MatrixXd r = detail::call_score("relative_score_error (reference)", reference, y, t);
  return detail::relative_l2(s - r, r, "relative_score_error");
}

struct ScoreErrors {
  double full = 0;       ///< relative error of s
  double diffusion = 0;  ///< relative error of D s (the part the flow and reverse SDE use)
};

/// Both relative errors, full s and D s, over the rows of y (samples of p_t), time t.
template <SdeModel M, BatchScore F, BatchScore R>
ScoreErrors score_errors(const M& m, F&& score, R&& reference, const Eigen::MatrixXd& y, double t) {
  detail::check_ensemble("score_errors", y, M::state_dim);
  const Eigen::MatrixXd s = detail::call_score("score_errors (score)", score, y, t);
  const Eigen::MatrixXd r = detail::call_score("score_errors (reference)", reference, y, t);
  ScoreErrors e;
  e.full = detail::relative_l2(s - r, r, "score_errors");
  const Eigen::MatrixXd dr = detail::apply_diffusion(m, y, t, r);
  e.diffusion = detail::relative_l2(detail::apply_diffusion(m, y, t, s) - dr, dr, "score_errors (D s)");
  return e;
}

}  // namespace sdescore::eval
