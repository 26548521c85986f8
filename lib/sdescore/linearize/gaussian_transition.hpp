#pragma once
// The Gaussian transition of the SDE linearised at y_s (method.md 2.3):
//   dy = [f(y_s,s) + A (y - y_s) + c (tau - s)] dtau + G_s dW,   A = df/dy, G_s = G(y_s, s),
//   c = df/dt (+ 1/2 sum_ij (G G^T)_ij d_i d_j f with the Ito-corrected mean).
// mean:  exp(Delta M), M = [[A, c, f], [0, 0, 1], [0, 0, 0]]  -> y_s + Delta phi1 f + Delta^2 phi2 c
// cov:   Van Loan: exp(Delta [[-A, G G^T], [0, A^T]]) = [[E11, E12], [0, E22]],  Sigma = E22^T E12.
// Both in double precision. Used by the LL stepper and by local-DSM: one code for both.
#include <Eigen/Dense>
#include <unsupported/Eigen/MatrixFunctions>

#include "sdescore/core/autodiff.hpp"
#include "sdescore/core/model.hpp"

namespace sdescore {

template <int D>
struct GaussianTransition {
  Vec<double, D> mean;
  Mat<double, D, D> cov;
};

/// Options of the linearised transition.
struct LinearizationOptions {
  bool ito_corrected_mean = true;  ///< weak-order-2 mean (method.md 2.3); off: first-order LL
};

/// Mean displacement u(Delta) = Delta phi1(A Delta) f + Delta^2 phi2(A Delta) c of the affine ODE
/// u' = A u + c tau + f, u(0) = 0, via one (D+2)x(D+2) exponential (never divides by A).
template <int D>
Vec<double, D> affine_flow_displacement(const Mat<double, D, D>& A, const Vec<double, D>& f,
                                        const Vec<double, D>& c, double delta) {
  constexpr int N = D + 2;
  Mat<double, N, N> M = Mat<double, N, N>::Zero();
  M.template topLeftCorner<D, D>() = A;
  M.template block<D, 1>(0, D) = c;
  M.template block<D, 1>(0, D + 1) = f;
  M(D, D + 1) = 1.0;
  const Mat<double, N, N> E = (M * delta).exp();
  return E.template block<D, 1>(0, D + 1);
}

/// Sigma = int_0^Delta e^{A tau} Q e^{A^T tau} dtau by Van Loan's block exponential (Q = G G^T).
template <int D>
Mat<double, D, D> van_loan_covariance(const Mat<double, D, D>& A, const Mat<double, D, D>& Q, double delta) {
  constexpr int N = 2 * D;
  Mat<double, N, N> M = Mat<double, N, N>::Zero();
  M.template topLeftCorner<D, D>() = -A;
  M.template topRightCorner<D, D>() = Q;
  M.template bottomRightCorner<D, D>() = A.transpose();
  const Mat<double, N, N> E = (M * delta).exp();
  const Mat<double, D, D> S = E.template bottomRightCorner<D, D>().transpose() * E.template topRightCorner<D, D>();
  return 0.5 * (S + S.transpose());
}

/// phi1(z) = (e^z - 1)/z and phi2(z) = (e^z - 1 - z)/z^2, stable at z -> 0 (series there).
inline double phi1(double z) { return std::abs(z) < 1e-5 ? 1.0 + z / 2 + z * z / 6 : std::expm1(z) / z; }
inline double phi2(double z) {
  return std::abs(z) < 1e-3 ? 0.5 + z / 6 + z * z / 24 + z * z * z / 120 : (std::expm1(z) - z) / (z * z);
}

/// The linearised transition N(m, Sigma) from y_s at time s over a step delta > 0.
/// For state_dim 1 the exponentials are scalar: m = y + Delta phi1(a Delta) f + Delta^2 phi2(a Delta) c,
/// Sigma = q Delta phi1(2 a Delta) (the same formulas the matrix path evaluates; tested equal).
template <SdeModel M>
GaussianTransition<M::state_dim> local_linear_transition(const M& model, const Vec<double, M::state_dim>& ys,
                                                        double s, double delta,
                                                        const LinearizationOptions& opt = {}) {
  constexpr int D = M::state_dim;
  const Vec<double, D> f = model.drift(ys, s);
  const Mat<double, D, D> A = drift_jacobian(model, ys, s);
  const Mat<double, D, M::noise_dim> G = model.diffusion(ys, s);
  Vec<double, D> c = drift_time_derivative(model, ys, s);
  if (opt.ito_corrected_mean) c += drift_ito_curvature(model, ys, s, G);
  GaussianTransition<D> tr;
  if constexpr (D == 1) {
    const double z = A(0, 0) * delta;
    tr.mean(0) = ys(0) + delta * phi1(z) * f(0) + delta * delta * phi2(z) * c(0);
    tr.cov(0, 0) = (G * G.transpose())(0, 0) * delta * phi1(2 * z);
  } else {
    tr.mean = ys + affine_flow_displacement<D>(A, f, c, delta);
    tr.cov = van_loan_covariance<D>(A, G * G.transpose(), delta);
  }
  return tr;
}

/// Cholesky factor L (Sigma = L L^T) that never silently drops a direction: plain LLT first,
/// then LLT of Sigma + eps I with eps growing from 1e-14 tr(Sigma)/D; the jitter added is
/// returned in *jitter (0 when none was needed). Throws NumericalError for a non-finite or
/// indefinite Sigma that no small jitter fixes.
template <int D>
Mat<double, D, D> robust_cholesky(const Mat<double, D, D>& Sigma, double* jitter = nullptr) {
  if (!Sigma.allFinite()) throw NumericalError("Cholesky of a transition covariance: matrix has non-finite entries");
  Eigen::LLT<Mat<double, D, D>> llt(Sigma);
  if (llt.info() == Eigen::Success) {
    if (jitter) *jitter = 0.0;
    return llt.matrixL();
  }
  const double scale = std::max(Sigma.trace() / D, std::numeric_limits<double>::min());
  for (double eps = 1e-14 * scale; eps <= 1e-6 * scale; eps *= 10) {
    llt.compute(Sigma + eps * Mat<double, D, D>::Identity());
    if (llt.info() == Eigen::Success) {
      if (jitter) *jitter = eps;
      return llt.matrixL();
    }
  }
  throw NumericalError("Cholesky of a transition covariance failed even with jitter 1e-6 * tr/D = " +
                       detail::fmt_double(1e-6 * scale) + ": the covariance is indefinite");
}

}  // namespace sdescore
