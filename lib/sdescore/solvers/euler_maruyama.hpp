#pragma once
// Euler-Maruyama: y += f(y,t) dt + G(y,t) dW. Strong order 1/2 (1 for additive noise), weak order 1.
#include <type_traits>

#include "sdescore/solvers/block.hpp"
#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

struct EulerMaruyama {
  static constexpr std::string_view name = "euler_maruyama";
  template <class M>
  static constexpr int noise_dim = M::noise_dim;
  template <class M>
  static constexpr bool supports = true;
  /// do_step is templated on the scalar S (double, or the engine's ensemble::Lane).
  /// A step never throws (the engine runs it in its SIMD-cloned loop, ensemble/engine.hpp).
  template <class M>
  static constexpr bool nothrow_step = true;
  template <class M>
  static constexpr bool generic_scalar = true;

  template <SdeModel M, class S>
  void do_step(const M& m, Vec<S, M::state_dim>& y, std::type_identity_t<S> t, double dt,
               const Vec<std::type_identity_t<S>, M::noise_dim>& dW) const {
    if constexpr (is_additive_v<M>) {
      y += m.drift(y, t) * dt + detail::noise_term<S, M::state_dim, M::noise_dim>(m.diffusion(y, t), dW);
    } else {
      const Vec<S, M::state_dim> f = m.drift(y, t);
      y += f * dt + detail::noise_term<S, M::state_dim, M::noise_dim>(m.diffusion(y, t), dW);
    }
  }

  /// The same step over a block of paths of a BlockModel (solvers/block.hpp).
  template <class S, BlockModel M>
  void do_block(const M& m, const BlockStep& b) const {
    detail::euler_block<S>(m, b);
  }
};

}  // namespace sdescore
