#pragma once
// Local-linearisation (LL) scheme: each step samples the Gaussian transition of the SDE
// linearised at the current state (linearize/gaussian_transition.hpp, method.md 2.3):
//   y+ = m + L z,   Sigma = L L^T,   z = dW / sqrt(dt)  (state_dim increments).
// Exact in law for linear SDEs (OU) at any step size. The Ito-corrected mean is on by default.
#include "sdescore/linearize/gaussian_transition.hpp"
#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

struct LocalLinearization {
  static constexpr std::string_view name = "local_linearization";
  template <class M>
  static constexpr int noise_dim = M::state_dim;  // Sigma is full rank for dt > 0 (method.md 2.5)
  template <class M>
  static constexpr bool supports = true;

  LinearizationOptions options{};

  template <SdeModel M>
  void do_step(const M& m, Vec<double, M::state_dim>& y, double t, double dt,
               const Vec<double, M::state_dim>& dW) const {
    const auto tr = local_linear_transition(m, y, t, dt, options);
    const Mat<double, M::state_dim, M::state_dim> L = robust_cholesky<M::state_dim>(tr.cov);
    y = tr.mean + L * (dW / std::sqrt(dt));
  }
};

}  // namespace sdescore
