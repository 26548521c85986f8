#pragma once
// Euler-Maruyama: y += f(y,t) dt + G(y,t) dW. Strong order 1/2 (1 for additive noise), weak order 1.
#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

struct EulerMaruyama {
  static constexpr std::string_view name = "euler_maruyama";
  template <class M>
  static constexpr int noise_dim = M::noise_dim;
  template <class M>
  static constexpr bool supports = true;

  template <SdeModel M>
  void do_step(const M& m, Vec<double, M::state_dim>& y, double t, double dt,
               const Vec<double, M::noise_dim>& dW) const {
    if constexpr (is_additive_v<M>) {
      y += m.drift(y, t) * dt + m.diffusion(y, t) * dW;
    } else {
      const Vec<double, M::state_dim> f = m.drift(y, t);
      y += f * dt + m.diffusion(y, t) * dW;
    }
  }
};

}  // namespace sdescore
