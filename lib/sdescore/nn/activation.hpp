#pragma once
// Pointwise activations with their first and second derivatives (the second is needed by the
// parameter gradient of the exact divergence, docs/nn.md).
//   silu(z)     = z sg(z),            sg = 1/(1+e^-z)
//     silu'     = sg (1 + z (1 - sg)),  silu'' = sg (1 - sg) (2 + z (1 - 2 sg))
//   tanh'       = 1 - tanh^2,           tanh'' = -2 tanh (1 - tanh^2)
//   softplus(z) = max(z,0) + log1p(e^-|z|),  softplus' = sg,  softplus'' = sg (1 - sg)
#include <type_traits>

#include <Eigen/Core>

#include "sdescore/nn/architecture.hpp"
#include "sdescore/nn/simd.hpp"

namespace sdescore::nn {

/// h = act(z) elementwise over n contiguous values; d1 = act'(z), d2 = act''(z) when non-null.
/// z must not alias h, d1 or d2.
template <class T>
void activate(Activation act, Eigen::Index n, const T* z, T* h, T* d1 = nullptr, T* d2 = nullptr) {
  using A = Eigen::Array<T, Eigen::Dynamic, 1>;
  Eigen::Map<const A> Z(z, n);
  Eigen::Map<A> H(h, n);
  const T one(1), two(2);
  if constexpr (std::is_same_v<T, float>) {
    if (act == Activation::silu) return simd::silu(n, z, h, d1, d2);  // runtime-dispatched SIMD (simd.cpp)
  }
  switch (act) {
    case Activation::silu:
      if (!d1 && !d2) {
        H = Z / (one + (-Z).exp());
      } else {
        A sg_store;
        T* sgp = d1;
        if (!sgp) {
          sg_store.resize(n);
          sgp = sg_store.data();
        }
        Eigen::Map<A> SG(sgp, n);
        SG = (one + (-Z).exp()).inverse();
        if (d2) Eigen::Map<A>(d2, n) = SG * (one - SG) * (two + Z * (one - two * SG));
        H = Z * SG;
        if (d1) SG = SG * (one + Z * (one - SG));
      }
      break;
    case Activation::tanh:
      H = Z.tanh();
      if (d1 || d2) {
        A store;
        T* p = d1;
        if (!p) {
          store.resize(n);
          p = store.data();
        }
        Eigen::Map<A> D1(p, n);
        D1 = one - H * H;
        if (d2) Eigen::Map<A>(d2, n) = -two * H * D1;
      }
      break;
    case Activation::softplus:
      H = Z.max(T(0)) + (-Z.abs()).exp().log1p();
      if (d1 || d2) {
        A store;
        T* p = d1;
        if (!p) {
          store.resize(n);
          p = store.data();
        }
        Eigen::Map<A> SG(p, n);
        SG = (one + (-Z).exp()).inverse();
        if (d2) Eigen::Map<A>(d2, n) = SG * (one - SG);
      }
      break;
  }
}

}  // namespace sdescore::nn
