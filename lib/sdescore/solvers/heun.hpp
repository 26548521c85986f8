#pragma once
// Stochastic Heun for additive noise (an SRA-type two-stage scheme):
//   y* = y + f(y,t) dt + G dW,    y+ = y + 1/2 (f(y,t) + f(y*,t+dt)) dt + G dW,   G = G(t + dt/2).
// Strong order 1 and weak order 2 for additive noise (Kloeden & Platen 1992, section 15.1;
// the orders are measured in tests/core/steppers.test.cpp: strong order 1 for additive noise, weak order 2 on OU). For multiplicative noise Heun converges
// to the Stratonovich solution, so it is restricted to additive noise here.
#include <type_traits>

#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

struct Heun {
  static constexpr std::string_view name = "heun";
  template <class M>
  static constexpr int noise_dim = M::noise_dim;
  template <class M>
  static constexpr bool supports = is_additive_v<M>;
  /// do_step is templated on the scalar S (double, or the engine's ensemble::Lane).
  /// A step never throws (the engine runs it in its SIMD-cloned loop, ensemble/engine.hpp).
  template <class M>
  static constexpr bool nothrow_step = true;
  template <class M>
  static constexpr bool generic_scalar = true;

  template <SdeModel M, class S>
  void do_step(const M& m, Vec<S, M::state_dim>& y, std::type_identity_t<S> t, double dt,
               const Vec<std::type_identity_t<S>, M::noise_dim>& dW) const {
    static_assert(supports<M>, "stochastic Heun is for additive noise (it targets Stratonovich otherwise)");
    const Vec<S, M::state_dim> noise = m.diffusion(y, S(t + 0.5 * dt)) * dW;
    const Vec<S, M::state_dim> f0 = m.drift(y, t);
    const Vec<S, M::state_dim> ypred = y + f0 * dt + noise;
    y += 0.5 * (f0 + m.drift(ypred, S(t + dt))) * dt + noise;
  }
};

}  // namespace sdescore
