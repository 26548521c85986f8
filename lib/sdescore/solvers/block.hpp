#pragma once
// Block stepping (docs/simulation.md, "Block models"): models whose drift lives behind an
// indirect call (model files, modelfile/file_model.hpp) evaluate it for a whole block of paths
// per call, and a stepper that knows how advances the block from those values.
//
// A BlockModel has, besides the SdeModel interface,
//   m.drift_block(y, ldy, t, f, ldf, n)      f_d of path i at f[d ldf + i], from y_d at y[d ldy + i]
//   m.diffusion_block(y, ldy, t, g, ldg, n)  G(i, j) (k = i noise_dim + j) of path p at g[k ldg + p]
// giving, path by path, the same bits as drift / diffusion in double.
// A stepper supports it with `template <class S, class M> void do_block(const M&, const BlockStep&) const`
// (S: the engine's lane scalar, ensemble::Lane): the same arithmetic as its do_step, written
// with the same Eigen expressions per path so each path gets the same bits as stepping it
// alone (tests/modelfile/file_model.test.cpp checks it against the per-path evaluation).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "sdescore/core/model.hpp"

namespace sdescore {

template <class M>
concept BlockModel = SdeModel<M> && requires(const M& m, const double* y, double* f, std::ptrdiff_t ld, std::int64_t n, double t) {
  m.drift_block(y, ld, t, f, ld, n);
  m.diffusion_block(y, ld, t, f, ld, n);
};

/// One step of a block of paths in the engine's layout.
struct BlockStep {
  double* y;           ///< state_dim rows of `ld`: y[d ld + i], updated in place
  const double* z;     ///< the step's standard normals, noise_dim rows of `ld`: dW_j = sq z[j ld + i]
  std::ptrdiff_t ld;
  std::int64_t n;      ///< paths (lanes) in the block
  double t, dt, sq;    ///< sq = sqrt(dt), as the engine scales its normals
};

/// Paths per drift_block call inside a block (the stepper's scratch lives on the stack).
inline constexpr std::int64_t kBlockChunk = 64;

namespace detail {

template <class S, int D>
Vec<S, D> load_lane(const double* x, std::ptrdiff_t ld, std::int64_t i) {
  Vec<S, D> v;
  for (int d = 0; d < D; ++d) v(d) = S(x[d * ld + i]);
  return v;
}
template <class S, int D>
void store_lane(const Vec<S, D>& v, double* x, std::ptrdiff_t ld, std::int64_t i) {
  for (int d = 0; d < D; ++d) x[d * ld + i] = static_cast<double>(v(d));
}
/// G dW, each row summed left to right: ((G_i0 dW_0 + G_i1 dW_1) + G_i2 dW_2) + ... The steppers'
/// per-path steps and their block steps both use it, so the two give the same bits for any noise
/// dimension (Eigen's product sums 3 or more terms in an order that depends on the scalar type:
/// packets for double, a pairwise split for the engine's lanes).
template <class S, int D, int Mn>
Vec<S, D> noise_term(const Mat<S, D, Mn>& G, const Vec<S, Mn>& dW) {
  Vec<S, D> r;
  for (int i = 0; i < D; ++i) {
    S acc = G(i, 0) * dW(0);
    for (int j = 1; j < Mn; ++j) acc += G(i, j) * dW(j);
    r(i) = acc;
  }
  return r;
}

template <class S, int Mn>
Vec<S, Mn> noise_lane(const BlockStep& b, std::int64_t i) {
  Vec<S, Mn> dW;
  for (int j = 0; j < Mn; ++j) dW(j) = S(b.sq * b.z[j * b.ld + i]);
  return dW;
}

/// y += f dt + G dW over the block (Euler-Maruyama; Milstein for additive noise): the
/// expressions of EulerMaruyama::do_step per path.
template <class S, BlockModel M>
void euler_block(const M& m, const BlockStep& b) {
  constexpr int D = M::state_dim, Mn = M::noise_dim;
  constexpr std::int64_t C = kBlockChunk;
  alignas(64) double f[D * C];
  for (std::int64_t c = 0; c < b.n; c += C) {
    const std::int64_t w = std::min(C, b.n - c);
    double* y = b.y + c;
    m.drift_block(y, b.ld, b.t, f, C, w);
    if constexpr (is_additive_v<M>) {
      // G does not depend on the state: once per chunk (any path's state gives the same G).
      const Mat<S, D, Mn> G = m.diffusion(load_lane<double, D>(y, b.ld, 0), b.t).template cast<S>();
      for (std::int64_t i = 0; i < w; ++i) {
        Vec<S, D> yi = load_lane<S, D>(y, b.ld, i);
        const Vec<S, D> fi = load_lane<S, D>(f, C, i);
        yi += fi * b.dt + noise_term<S, D, Mn>(G, noise_lane<S, Mn>(b, c + i));
        store_lane<S, D>(yi, y, b.ld, i);
      }
    } else {
      alignas(64) double g[D * Mn * C];
      m.diffusion_block(y, b.ld, b.t, g, C, w);
      for (std::int64_t i = 0; i < w; ++i) {
        Vec<S, D> yi = load_lane<S, D>(y, b.ld, i);
        const Vec<S, D> fi = load_lane<S, D>(f, C, i);
        Mat<S, D, Mn> G;
        for (int r = 0; r < D; ++r)
          for (int j = 0; j < Mn; ++j) G(r, j) = S(g[(r * Mn + j) * C + i]);
        yi += fi * b.dt + noise_term<S, D, Mn>(G, noise_lane<S, Mn>(b, c + i));
        store_lane<S, D>(yi, y, b.ld, i);
      }
    }
  }
}

}  // namespace detail

}  // namespace sdescore
