#pragma once
/// \file
/// Batched model quantities used by the evaluation layer (docs/evaluation.md, section 1):
///  - the BatchScore concept: score(y /*n x d*/, t /*n*/) -> n x d;
///  - drift, D = G G^T / 2 and div D over an ensemble stored as an n x d matrix (one row per
///    sample); div D by forward-mode autodiff of the model's scalar-templated `diffusion`;
///  - the probability-flow velocity v = f - div D - D s;
///  - the symmetric pseudo-inverse D^+ used by entropy production.
#include <Eigen/Dense>
#include <array>
#include <cmath>
#include <concepts>
#include <string>
#include <unsupported/Eigen/AutoDiff>
#include <utility>

#include "sdescore/core/autodiff.hpp"
#include "sdescore/core/error.hpp"
#include "sdescore/core/model.hpp"

namespace sdescore::eval {

/// A batched score: rows of y are points, t(i) is the time of row i; returns n x d.
template <class F>
concept BatchScore = requires(F& f, const Eigen::MatrixXd& y, const Eigen::VectorXd& t) {
  { f(y, t) } -> std::convertible_to<Eigen::MatrixXd>;
};

namespace detail {
inline void check_ensemble(const char* what, const Eigen::MatrixXd& y, int d) {
  if (y.cols() != d)
    throw ConfigError(std::string(what) + ": the ensemble has " + std::to_string(y.cols()) +
                      " columns, the model's state_dim is " + std::to_string(d));
  if (y.rows() == 0) throw ConfigError(std::string(what) + ": the ensemble is empty: it needs at least one sample");
}
/// Calls the score and checks the shape and finiteness of what comes back.
template <BatchScore F>
Eigen::MatrixXd call_score(const char* what, F& score, const Eigen::MatrixXd& y, const Eigen::VectorXd& t) {
  Eigen::MatrixXd s = score(y, t);
  if (s.rows() != y.rows() || s.cols() != y.cols())
    throw ConfigError(std::string(what) + ": the score returned a " + std::to_string(s.rows()) + " x " +
                      std::to_string(s.cols()) + " matrix for " + std::to_string(y.rows()) + " x " +
                      std::to_string(y.cols()) + " points (it must return n x d)");
  if (!s.allFinite())
    throw NumericalError(std::string(what) + ": the score returned non-finite values");
  return s;
}
template <BatchScore F>
Eigen::MatrixXd call_score(const char* what, F& score, const Eigen::MatrixXd& y, double t) {
  return call_score(what, score, y, Eigen::VectorXd::Constant(y.rows(), t));
}
}  // namespace detail

/// f(y_i, t) for every row.
template <SdeModel M>
Eigen::MatrixXd batch_drift(const M& m, const Eigen::MatrixXd& y, double t) {
  constexpr int D = M::state_dim;
  detail::check_ensemble("batch_drift", y, D);
  Eigen::MatrixXd f(y.rows(), D);
  const Eigen::Index n = y.rows();
#pragma omp parallel for schedule(static) if (n > 512)
  for (Eigen::Index i = 0; i < n; ++i) {
    const Vec<double, D> yi = y.row(i).transpose();
    f.row(i) = m.drift(yi, t).transpose();
  }
  return f;
}

/// df/dy at (y, t): the model's own drift_jacobian where it has one (a model seen through a view,
/// eval/model_view.hpp), else forward-mode autodiff of its scalar-templated drift.
template <SdeModel M>
Mat<double, M::state_dim, M::state_dim> model_drift_jacobian(const M& m, const Vec<double, M::state_dim>& y, double t) {
  if constexpr (requires { m.drift_jacobian(y, t); })
    return m.drift_jacobian(y, t);
  else
    return drift_jacobian(m, y, t);
}

/// D(y, t) = G G^T / 2.
template <SdeModel M>
Mat<double, M::state_dim, M::state_dim> diffusion_matrix(const M& m, const Vec<double, M::state_dim>& y, double t) {
  const Mat<double, M::state_dim, M::noise_dim> G = m.diffusion(y, t);
  return 0.5 * G * G.transpose();
}

/// (div D)_i = sum_j d_j D_ij at (y, t): zero for additive noise (G independent of y),
/// otherwise by forward-mode autodiff of `diffusion`:
///   d_j D_ij = 1/2 sum_l (d_j G_il G_jl + G_il d_j G_jl).
template <SdeModel M>
Vec<double, M::state_dim> diffusion_divergence(const M& m, const Vec<double, M::state_dim>& y, double t) {
  constexpr int D = M::state_dim;
  constexpr int K = M::noise_dim;
  if constexpr (is_additive_v<M>) {
    return Vec<double, D>::Zero();
  } else {
    using AD = Eigen::AutoDiffScalar<Vec<double, D>>;
    Vec<AD, D> ya;
    for (int i = 0; i < D; ++i) ya(i) = AD(y(i), D, i);
    const Mat<AD, D, K> Ga = m.diffusion(ya, AD(t));
    Mat<double, D, K> G;
    std::array<Mat<double, D, K>, D> dG;  // dG[j] = dG/dy_j
    for (int i = 0; i < D; ++i)
      for (int l = 0; l < K; ++l) {
        G(i, l) = Ga(i, l).value();
        const auto& der = Ga(i, l).derivatives();
        for (int j = 0; j < D; ++j) dG[j](i, l) = der.size() ? der(j) : 0.0;
      }
    Vec<double, D> div = Vec<double, D>::Zero();
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j)
        for (int l = 0; l < K; ++l) div(i) += 0.5 * (dG[j](i, l) * G(j, l) + G(i, l) * dG[j](j, l));
    return div;
  }
}

/// Probability-flow velocity v = f - div D - D s for every row, given the score values s
/// (n x d) at the same points and time.
template <SdeModel M>
Eigen::MatrixXd velocity_from_score_values(const M& m, const Eigen::MatrixXd& y, double t, const Eigen::MatrixXd& s) {
  constexpr int D = M::state_dim;
  detail::check_ensemble("velocity", y, D);
  const Eigen::Index n = y.rows();
  Eigen::MatrixXd v(n, D);
  if constexpr (is_additive_v<M>) {
    const Vec<double, D> y0 = y.row(0).transpose();
    const Mat<double, D, D> Dm = diffusion_matrix(m, y0, t);
#pragma omp parallel for schedule(static) if (n > 512)
    for (Eigen::Index i = 0; i < n; ++i) {
      const Vec<double, D> yi = y.row(i).transpose();
      const Vec<double, D> si = s.row(i).transpose();
      v.row(i) = (m.drift(yi, t) - Dm * si).transpose();
    }
  } else {
#pragma omp parallel for schedule(static) if (n > 256)
    for (Eigen::Index i = 0; i < n; ++i) {
      const Vec<double, D> yi = y.row(i).transpose();
      const Vec<double, D> si = s.row(i).transpose();
      v.row(i) = (m.drift(yi, t) - diffusion_divergence(m, yi, t) - diffusion_matrix(m, yi, t) * si).transpose();
    }
  }
  return v;
}

/// Probability-flow velocity v = f - div D - D s at the rows of y, time t (one batched score call).
template <SdeModel M, BatchScore F>
Eigen::MatrixXd velocity_field(const M& m, F&& score, const Eigen::MatrixXd& y, double t) {
  detail::check_ensemble("velocity_field", y, M::state_dim);
  const Eigen::MatrixXd s = detail::call_score("velocity_field", score, y, t);
  return velocity_from_score_values(m, y, t, s);
}

/// Symmetric pseudo-inverse: eigenvalues below rel_tol * (largest |eigenvalue|) count as zero.
template <int N>
Mat<double, N, N> symmetric_pseudo_inverse(const Mat<double, N, N>& A, double rel_tol = 1e-10) {
  const Eigen::SelfAdjointEigenSolver<Mat<double, N, N>> es(0.5 * (A + A.transpose()));
  const auto& ev = es.eigenvalues();
  const double cut = rel_tol * ev.cwiseAbs().maxCoeff();
  Vec<double, N> inv;
  for (int i = 0; i < N; ++i) inv(i) = std::abs(ev(i)) > cut ? 1.0 / ev(i) : 0.0;
  return es.eigenvectors() * inv.asDiagonal() * es.eigenvectors().transpose();
}

/// Wraps a pointwise score s(Vec<double,D> y, double t) -> Vec<double,D> into a BatchScore
/// (OpenMP over rows). Handy for analytic scores.
template <int D, class F>
auto pointwise_score(F f) {
  return [f = std::move(f)](const Eigen::MatrixXd& y, const Eigen::VectorXd& t) -> Eigen::MatrixXd {
    Eigen::MatrixXd s(y.rows(), y.cols());
    const Eigen::Index n = y.rows();
#pragma omp parallel for schedule(static) if (n > 512)
    for (Eigen::Index i = 0; i < n; ++i) {
      const Vec<double, D> yi = y.row(i).transpose();
      s.row(i) = Vec<double, D>(f(yi, t(i))).transpose();
    }
    return s;
  };
}

}  // namespace sdescore::eval
