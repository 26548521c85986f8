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
#include "sdescore/core/expm1.hpp"
#include "sdescore/core/inline.hpp"
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

/// phi1(z) = (e^z - 1)/z and phi2(z) = (e^z - 1 - z)/z^2 from one portable_expm1 (core/expm1.hpp,
/// within 2 ulp of libm's expm1): for |z| < 1/4 from its series part q(z) (phi2 = q,
/// phi1 = 1 + z q: no cancellation, exact at z = 0), else the closed forms with the reciprocal
/// 1/z. Also phi1(2z) = phi1(z) (e^z + 1) / 2 = phi1(z) (1 + expm1(z) / 2), without a second
/// exponential. Generic in the scalar (double, or the engine's ensemble::Lane): selects, not
/// branches, one division, no libm call, so the engine's loop over paths vectorises; the same
/// operations for any scalar.
template <class S>
SDESCORE_FORCE_INLINE void phi12(const S& z, S& p1, S& p2, S& p1_2z) {
  using std::abs;
  double qd;
  const S em = S(portable_expm1(static_cast<double>(z), qd));
  const S q = S(qd), rz = S(1.0) / z;
  const bool small = abs(z) < S(0.25);
  p1 = select_value(small, S(S(1.0) + z * q), S(em * rz));
  p2 = select_value(small, q, S((em - z) * rz * rz));
  p1_2z = p1 * (S(1.0) + S(0.5) * em);
}
template <class S>
SDESCORE_FORCE_INLINE void phi12(const S& z, S& p1, S& p2) {
  S p1_2z;
  phi12(z, p1, p2, p1_2z);
}
template <class S>
SDESCORE_FORCE_INLINE S phi1(const S& z) {
  S p1, p2;
  phi12(z, p1, p2);
  return p1;
}
template <class S>
SDESCORE_FORCE_INLINE S phi2(const S& z) {
  S p1, p2;
  phi12(z, p1, p2);
  return p2;
}

/// The 1D linearised transition N(mean, var) from y_s at time s over delta (below), generic in
/// the scalar S: the LL stepper runs it lane-wise in the engine (S = ensemble::Lane) and in
/// double elsewhere, with the same operations. The noise term q = sum_l G_{0l}^2 in column order.
template <SdeModel M, class S>
SDESCORE_FORCE_INLINE void local_linear_transition_1d(const M& model, const S& ys, std::type_identity_t<S> s, double delta,
                                const LinearizationOptions& opt, S& mean, S& var) {
  static_assert(M::state_dim == 1);
  const Vec<S, 1> y(ys);
  const Mat<S, 1, M::noise_dim> G = model.diffusion(y, s);
  S g[M::noise_dim];  // entries read as doubles: no copies of a wrapper scalar's memory in the loop
  for (int l = 0; l < M::noise_dim; ++l) g[l] = S(static_cast<double>(G(0, l)));
  S q = g[0] * g[0];
  for (int l = 1; l < M::noise_dim; ++l) q = q + g[l] * g[l];
  S f, a, c;
  if constexpr (model_is_generic_scalar_v<M>) {
    // Jets (core/autodiff.hpp): f and a = f' with the bits of drift and drift_jacobian, c = df/dt
    // with those of drift_time_derivative; the Ito curvature 1/2 sum_l g_l^2 f''. No branch on
    // data or on the option (the engine's loop over paths must if-convert): computed, then selected.
    const detail::Jet2<S> j = drift_jet_1d(model, ys, s);
    f = j.v;
    a = j.d;
    c = j.dt;
    const bool ito = opt.ito_corrected_mean;
    for (int l = 0; l < M::noise_dim; ++l) {
      const S with = c + S(0.5) * (g[l] * g[l] * j.dd);
      c = select_bits((g[l] == S(0.0)) | !ito, c, with);
    }
  } else {
    f = model.drift(y, s)(0);
    a = drift_jacobian(model, y, s)(0, 0);
    c = drift_time_derivative(model, y, s)(0);
    if (opt.ito_corrected_mean) c += drift_ito_curvature(model, y, s, G)(0);
  }
  const S z = a * S(delta);
  S p1, p2, p1_2z;
  phi12(z, p1, p2, p1_2z);
  mean = ys + S(delta) * p1 * f + S(delta * delta) * p2 * c;
  var = q * S(delta) * p1_2z;
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
    local_linear_transition_1d(model, ys(0), s, delta, opt, tr.mean(0), tr.cov(0, 0));
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
