#pragma once
// Stochastic Heun for additive noise (an SRA-type two-stage scheme):
//   y* = y + f(y,t) dt + G dW,    y+ = y + 1/2 (f(y,t) + f(y*,t+dt)) dt + G dW,   G = G(t + dt/2).
// Strong order 1 and weak order 2 for additive noise (Kloeden & Platen 1992, section 15.1;
// the orders are measured in tests/core/steppers.test.cpp: strong order 1 for additive noise, weak order 2 on OU). For multiplicative noise Heun converges
// to the Stratonovich solution, so it is restricted to additive noise here.
#include <type_traits>

#include "sdescore/solvers/block.hpp"
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
    const Vec<S, M::state_dim> noise = detail::noise_term<S, M::state_dim, M::noise_dim>(m.diffusion(y, S(t + 0.5 * dt)), dW);
    const Vec<S, M::state_dim> f0 = m.drift(y, t);
    const Vec<S, M::state_dim> ypred = y + f0 * dt + noise;
    y += 0.5 * (f0 + m.drift(ypred, S(t + dt))) * dt + noise;
  }

  /// The same step over a block of paths of a BlockModel (solvers/block.hpp): the expressions
  /// of do_step per path, the two drifts by drift_block (at y, then at all predictors).
  template <class S, BlockModel M>
  void do_block(const M& m, const BlockStep& b) const {
    static_assert(supports<M>, "stochastic Heun is for additive noise (it targets Stratonovich otherwise)");
    constexpr int D = M::state_dim, Mn = M::noise_dim;
    constexpr std::int64_t C = kBlockChunk;
    alignas(64) double f0[D * C], f1[D * C], yp[D * C], nz[D * C];
    for (std::int64_t c = 0; c < b.n; c += C) {
      const std::int64_t w = std::min(C, b.n - c);
      double* y = b.y + c;
      const Mat<S, D, Mn> G =
          m.diffusion(detail::load_lane<double, D>(y, b.ld, 0), b.t + 0.5 * b.dt).template cast<S>();
      m.drift_block(y, b.ld, b.t, f0, C, w);
      for (std::int64_t i = 0; i < w; ++i) {
        const Vec<S, D> noise = detail::noise_term<S, D, Mn>(G, detail::noise_lane<S, Mn>(b, c + i));
        const Vec<S, D> ypred = detail::load_lane<S, D>(y, b.ld, i) + detail::load_lane<S, D>(f0, C, i) * b.dt + noise;
        detail::store_lane<S, D>(noise, nz, C, i);
        detail::store_lane<S, D>(ypred, yp, C, i);
      }
      m.drift_block(yp, C, b.t + b.dt, f1, C, w);
      for (std::int64_t i = 0; i < w; ++i) {
        Vec<S, D> yi = detail::load_lane<S, D>(y, b.ld, i);
        yi += 0.5 * (detail::load_lane<S, D>(f0, C, i) + detail::load_lane<S, D>(f1, C, i)) * b.dt +
              detail::load_lane<S, D>(nz, C, i);
        detail::store_lane<S, D>(yi, y, b.ld, i);
      }
    }
  }
};

}  // namespace sdescore
