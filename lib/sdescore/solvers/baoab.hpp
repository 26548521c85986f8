#pragma once
// BAOAB splitting for underdamped Langevin dynamics (Leimkuhler & Matthews 2013):
//   B: v += dt/2 F(x);  A: x += dt/2 v;  O: v = e^{-gamma dt} v + sqrt(T (1 - e^{-2 gamma dt})) xi;
//   A: x += dt/2 v;     B: v += dt/2 F(x),       xi = dW / sqrt(dt).
// Needs a model with state [x; v], `position_dim`, `force(x)`, `gamma` and `T` (unit mass).
// Its configurational sampling error is O(dt^2) and very small in practice.
#include <cmath>
#include <type_traits>

#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

template <class M>
concept LangevinModel = SdeModel<M> && requires(const M& m, const Vec<double, M::position_dim>& x) {
  requires M::state_dim == 2 * M::position_dim;
  requires M::noise_dim == M::position_dim;
  { m.force(x) } -> std::same_as<Vec<double, M::position_dim>>;
  { m.gamma } -> std::convertible_to<double>;
  { m.T } -> std::convertible_to<double>;
};

struct BAOAB {
  static constexpr std::string_view name = "baoab";
  template <class M>
  static constexpr int noise_dim = M::noise_dim;
  template <class M>
  static constexpr bool supports = LangevinModel<M>;
  /// do_step is templated on the scalar S (double, or the engine's ensemble::Lane).
  /// A step never throws (the engine runs it in its SIMD-cloned loop, ensemble/engine.hpp).
  template <class M>
  static constexpr bool nothrow_step = true;
  template <class M>
  static constexpr bool generic_scalar = true;

  template <SdeModel M, class S>
  void do_step(const M& m, Vec<S, M::state_dim>& y, std::type_identity_t<S> /*t*/, double dt,
               const Vec<std::type_identity_t<S>, M::noise_dim>& dW) const {
    static_assert(supports<M>, "BAOAB needs an underdamped Langevin model (position_dim, force, gamma, T)");
    constexpr int P = M::position_dim;
    auto x = y.template head<P>();
    auto v = y.template tail<P>();
    const double c1 = std::exp(-m.gamma * dt);
    const double c2 = std::sqrt(m.T * (1.0 - c1 * c1) / dt);  // times dW = sqrt(dt) xi
    v += 0.5 * dt * m.force(Vec<S, P>(x));
    x += 0.5 * dt * v;
    v = c1 * v + c2 * dW;
    x += 0.5 * dt * v;
    v += 0.5 * dt * m.force(Vec<S, P>(x));
  }
};

}  // namespace sdescore
