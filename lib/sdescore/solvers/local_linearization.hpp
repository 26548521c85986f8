#pragma once
// Local-linearisation (LL) scheme: each step samples the Gaussian transition of the SDE
// linearised at the current state (linearize/gaussian_transition.hpp, method.md 2.3):
//   y+ = m + L z,   Sigma = L L^T,   z = dW / sqrt(dt)  (state_dim increments).
// Exact in law for linear SDEs (OU) at any step size. The Ito-corrected mean is on by default.
#include <cmath>
#include <limits>

#include "sdescore/linearize/gaussian_transition.hpp"
#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

struct LocalLinearization {
  static constexpr std::string_view name = "local_linearization";
  template <class M>
  static constexpr int noise_dim = M::state_dim;  // Sigma is full rank for dt > 0 (method.md 2.5)
  template <class M>
  static constexpr bool supports = true;
  /// A step never throws for state_dim 1 (the engine may then run it in its SIMD-cloned loop,
  /// ensemble/engine.hpp): the 1x1 Cholesky factor is written out, and a non-finite variance
  /// gives a non-finite state (which the engine reports) instead of robust_cholesky's exception.
  template <class M>
  static constexpr bool nothrow_step = M::state_dim == 1;

  LinearizationOptions options{};

  /// The factor robust_cholesky<1> returns for a finite variance v >= 0, bit for bit: sqrt(v)
  /// (Eigen's LLT of a 1x1 matrix), or for v == 0 the first jitter, sqrt(1e-14 * DBL_MIN);
  /// NaN for a non-finite or negative v (where robust_cholesky throws).
  static double cholesky_1x1(double v) {
    if (v > 0 && v <= std::numeric_limits<double>::max()) return std::sqrt(v);
    if (v == 0) return std::sqrt(0.0 + 1e-14 * std::numeric_limits<double>::min());
    return std::numeric_limits<double>::quiet_NaN();
  }

  template <SdeModel M>
  void do_step(const M& m, Vec<double, M::state_dim>& y, double t, double dt,
               const Vec<double, M::state_dim>& dW) const {
    const auto tr = local_linear_transition(m, y, t, dt, options);
    if constexpr (M::state_dim == 1) {
      y(0) = tr.mean(0) + cholesky_1x1(tr.cov(0, 0)) * (dW(0) / std::sqrt(dt));
    } else {
      const Mat<double, M::state_dim, M::state_dim> L = robust_cholesky<M::state_dim>(tr.cov);
      y = tr.mean + L * (dW / std::sqrt(dt));
    }
  }
};

}  // namespace sdescore
