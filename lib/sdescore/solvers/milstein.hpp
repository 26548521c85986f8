#pragma once
// Milstein for diagonal (or additive) noise:
//   y_i += f_i dt + g_i dW_i + 1/2 g_i (d g_i / d y_i) (dW_i^2 - dt),   g_i = G_ii(y, t).
// Strong order 1. The derivative d g_i / d y_i comes from forward-mode autodiff of `diffusion`.
#include <Eigen/Dense>
#include <unsupported/Eigen/AutoDiff>

#include <type_traits>

#include "sdescore/solvers/block.hpp"
#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

struct Milstein {
  static constexpr std::string_view name = "milstein";
  template <class M>
  static constexpr int noise_dim = M::noise_dim;
  template <class M>
  static constexpr bool supports = is_additive_v<M> || is_diagonal_v<M>;
  /// For additive noise do_step is templated on the scalar S (double, or the engine's
  /// ensemble::Lane); the diagonal-noise correction differentiates in double.
  /// A step never throws (the engine runs it in its SIMD-cloned loop, ensemble/engine.hpp).
  template <class M>
  static constexpr bool nothrow_step = true;
  template <class M>
  static constexpr bool generic_scalar = is_additive_v<M>;

  template <SdeModel M, class S>
  void do_step(const M& m, Vec<S, M::state_dim>& y, std::type_identity_t<S> t, double dt,
               const Vec<std::type_identity_t<S>, M::noise_dim>& dW) const {
    static_assert(supports<M>, "Milstein here needs additive or diagonal noise");
    static_assert(is_additive_v<M> || std::is_same_v<S, double>, "Milstein with diagonal noise steps double");
    constexpr int D = M::state_dim;
    if constexpr (is_additive_v<M>) {
      y += m.drift(y, t) * dt + detail::noise_term<S, M::state_dim, M::noise_dim>(m.diffusion(y, t), dW);  // the Milstein correction vanishes
    } else {
      using AD = Eigen::AutoDiffScalar<Vec<double, D>>;
      Vec<AD, D> ya;
      for (int i = 0; i < D; ++i) ya(i) = AD(y(i), D, i);
      const Mat<AD, D, D> Ga = m.diffusion(ya, AD(t));
      const Vec<double, D> f = m.drift(y, t);
      for (int i = 0; i < D; ++i) {
        const double g = Ga(i, i).value();
        const double dg = Ga(i, i).derivatives().size() ? Ga(i, i).derivatives()(i) : 0.0;
        y(i) += f(i) * dt + g * dW(i) + 0.5 * g * dg * (dW(i) * dW(i) - dt);
      }
    }
  }

  /// Additive noise over a block of paths of a BlockModel (solvers/block.hpp): the Euler step,
  /// as do_step. (Diagonal noise steps path by path.)
  template <class S, BlockModel M>
    requires is_additive_v<M>
  void do_block(const M& m, const BlockStep& b) const {
    detail::euler_block<S>(m, b);
  }
};

}  // namespace sdescore
