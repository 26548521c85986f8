#pragma once
// Local-linearisation (LL) scheme: each step samples the Gaussian transition of the SDE
// linearised at the current state (linearize/gaussian_transition.hpp, method.md 2.3):
//   y+ = m + L z,   Sigma = L L^T,   z = dW / sqrt(dt)  (state_dim increments).
// Exact in law for linear SDEs (OU) at any step size. The Ito-corrected mean is on by default.
#include <cmath>
#include <limits>
#include <type_traits>

#include "sdescore/core/inline.hpp"
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
  /// In 1D do_step is generic in the scalar (double, or the engine's ensemble::Lane for a
  /// generic-scalar model): the engine then vectorises it across paths (portable_expm1 instead
  /// of libm's expm1, selects instead of branches; the same operations for any scalar).
  template <class M>
  static constexpr bool generic_scalar = M::state_dim == 1;

  LinearizationOptions options{};

  /// The factor robust_cholesky<1> returns for a finite variance v >= 0, bit for bit: sqrt(v)
  /// (Eigen's LLT of a 1x1 matrix), or for v == 0 the first jitter, sqrt(1e-14 * DBL_MIN);
  /// NaN for a non-finite or negative v (where robust_cholesky throws).
  template <class S>
  SDESCORE_FORCE_INLINE static S cholesky_1x1(const S& v) {
    using std::sqrt;
    const S root = sqrt(v);  // NaN for v < 0 and for NaN
    const S at_zero = S(std::sqrt(0.0 + 1e-14 * std::numeric_limits<double>::min()));
    const S nan = S(std::numeric_limits<double>::quiet_NaN());
    return select_value(v > S(std::numeric_limits<double>::max()), nan, select_value(v == S(0.0), at_zero, root));
  }

  /// 1D: generic in the scalar; forced inline with what it calls (core/inline.hpp), so the
  /// engine's SIMD clones of the step loop vectorise it.
  template <SdeModel M, class S>
    requires(M::state_dim == 1)
  SDESCORE_FORCE_INLINE void do_step(const M& m, Vec<S, 1>& y, std::type_identity_t<S> t, double dt,
                                  const Vec<std::type_identity_t<S>, 1>& dW) const {
    S mean, var;
    local_linear_transition_1d(m, y(0), t, dt, options, mean, var);
    y(0) = mean + cholesky_1x1(var) * (dW(0) * S(1.0 / std::sqrt(dt)));  // z = dW / sqrt(dt)
  }

  template <SdeModel M>
    requires(M::state_dim >= 2)
  void do_step(const M& m, Vec<double, M::state_dim>& y, double t, double dt,
               const Vec<double, M::state_dim>& dW) const {
    const auto tr = local_linear_transition(m, y, t, dt, options);
    const Mat<double, M::state_dim, M::state_dim> L = robust_cholesky<M::state_dim>(tr.cov);
    y = tr.mean + L * (dW / std::sqrt(dt));
  }
};

}  // namespace sdescore
