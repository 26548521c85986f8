// The network's float kernels with runtime CPU dispatch (Google Highway), so the portable build
// trains at the machine's vector width without any -march flag: the GEMM of every layer and the
// SiLU activation with its derivatives. This file is compiled once per SIMD target
// (hwy/foreach_target.h: SSSE3, SSE4, AVX2, AVX3 and the baseline) and HWY_DYNAMIC_DISPATCH calls
// the best one the CPU has (the same choice as the normal kernel's, random::set_simd_target
// forces both).
//
// Same bits on every target with FMA (AVX2, AVX3): each element of C is one sequence of fused
// multiply-adds over the inner index in order, whatever the vector width, and remainder rows use
// a one-lane vector of the same target; SiLU uses Highway's polynomial Exp lane by lane. Pre-FMA
// targets round the multiply separately, so their last bits differ (docs/nn.md). The file is
// built with -ffp-contract=off (CMakeLists.txt) so GCC fuses nothing on one target only.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "sdescore/nn/simd.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cstddef>
#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace sdescore::nn::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using D1 = hn::CappedTag<float, 1>;

// C[i, j] (+)= alpha sum_p A[i, p] B(p, j) for rows [i0, i0 + rows) of a block of NC columns:
// A column-major (lda), B(p, j) = b[p * bs_p + j * bs_j]. One accumulator per (row vector, column).
template <int NV, int NC, class D>
HWY_INLINE void block(D d, std::int64_t i0, std::int64_t j0, std::int64_t k, const float* HWY_RESTRICT a, std::int64_t lda,
                      const float* HWY_RESTRICT b, std::int64_t bs_p, std::int64_t bs_j, float* HWY_RESTRICT c, std::int64_t ldc,
                      float alpha, bool accumulate) {
  using V = hn::Vec<D>;
  const std::int64_t N = static_cast<std::int64_t>(hn::Lanes(d));
  V acc[NV][NC];
  for (int v = 0; v < NV; ++v)
    for (int q = 0; q < NC; ++q) acc[v][q] = hn::Zero(d);
  const float* bp = b + j0 * bs_j;
  const float* ap = a + i0;
  for (std::int64_t p = 0; p < k; ++p, ap += lda, bp += bs_p) {
    V av[NV];
    for (int v = 0; v < NV; ++v) av[v] = hn::LoadU(d, ap + v * N);
    for (int q = 0; q < NC; ++q) {
      const V bv = hn::Set(d, bp[q * bs_j]);
      for (int v = 0; v < NV; ++v) acc[v][q] = hn::MulAdd(av[v], bv, acc[v][q]);
    }
  }
  const V va = hn::Set(d, alpha);
  for (int q = 0; q < NC; ++q) {
    float* cp = c + i0 + (j0 + q) * ldc;
    for (int v = 0; v < NV; ++v) {
      V r = hn::Mul(acc[v][q], va);
      if (accumulate) r = hn::Add(hn::LoadU(d, cp + v * N), r);
      hn::StoreU(r, d, cp + v * N);
    }
  }
}

// Columns [j0, j1) of C, all m rows: vector rows in pairs, then single vectors, then one-lane rows.
template <int NC>
HWY_INLINE void columns(std::int64_t m, std::int64_t j0, std::int64_t k, const float* HWY_RESTRICT a, std::int64_t lda,
                        const float* HWY_RESTRICT b, std::int64_t bs_p, std::int64_t bs_j, float* HWY_RESTRICT c,
                        std::int64_t ldc, float alpha, bool accumulate) {
  const DF d;
  const D1 d1;
  const std::int64_t N = static_cast<std::int64_t>(hn::Lanes(d));
  std::int64_t i = 0;
  for (; i + 2 * N <= m; i += 2 * N) block<2, NC>(d, i, j0, k, a, lda, b, bs_p, bs_j, c, ldc, alpha, accumulate);
  for (; i + N <= m; i += N) block<1, NC>(d, i, j0, k, a, lda, b, bs_p, bs_j, c, ldc, alpha, accumulate);
  for (; i < m; ++i) block<1, NC>(d1, i, j0, k, a, lda, b, bs_p, bs_j, c, ldc, alpha, accumulate);
}

// C (m x n, ldc) (+)= alpha A B with A column-major m x k (lda) and B(p, j) = b[p bs_p + j bs_j].
void gemm_f32(std::int64_t m, std::int64_t n, std::int64_t k, const float* HWY_RESTRICT a, std::int64_t lda,
              const float* HWY_RESTRICT b, std::int64_t bs_p, std::int64_t bs_j, float* HWY_RESTRICT c, std::int64_t ldc,
              float alpha, bool accumulate) {
  std::int64_t j = 0;
  for (; j + 4 <= n; j += 4) columns<4>(m, j, k, a, lda, b, bs_p, bs_j, c, ldc, alpha, accumulate);
  for (; j < n; ++j) columns<1>(m, j, k, a, lda, b, bs_p, bs_j, c, ldc, alpha, accumulate);
}

// SiLU: h = z sg, d1 = sg (1 + z (1 - sg)), d2 = sg (1 - sg) (2 + z (1 - 2 sg)), sg = 1 / (1 + e^-z).
template <class D>
HWY_INLINE void silu_lanes(D d, const float* HWY_RESTRICT z, float* HWY_RESTRICT h, float* HWY_RESTRICT d1,
                           float* HWY_RESTRICT d2) {
  using V = hn::Vec<D>;
  const V one = hn::Set(d, 1.0f), two = hn::Set(d, 2.0f);
  const V zv = hn::LoadU(d, z);
  // e^-z with -z clamped at 88 (Highway's Exp is valid up to 104; e^88 ~ 1.7e38 already gives sg ~ 6e-39)
  const V sg = hn::Div(one, hn::Add(one, hn::Exp(d, hn::Min(hn::Neg(zv), hn::Set(d, 88.0f)))));
  const V oms = hn::Sub(one, sg);
  if (d2) hn::StoreU(hn::Mul(hn::Mul(sg, oms), hn::Add(two, hn::Mul(zv, hn::Sub(one, hn::Mul(two, sg))))), d, d2);
  hn::StoreU(hn::Mul(zv, sg), d, h);
  if (d1) hn::StoreU(hn::Mul(sg, hn::Add(one, hn::Mul(zv, oms))), d, d1);
}

void silu_f32(std::int64_t n, const float* HWY_RESTRICT z, float* HWY_RESTRICT h, float* HWY_RESTRICT d1, float* HWY_RESTRICT d2) {
  const DF d;
  const D1 d1t;
  const std::int64_t N = static_cast<std::int64_t>(hn::Lanes(d));
  std::int64_t i = 0;
  for (; i + N <= n; i += N) silu_lanes(d, z + i, h + i, d1 ? d1 + i : nullptr, d2 ? d2 + i : nullptr);
  for (; i < n; ++i) silu_lanes(d1t, z + i, h + i, d1 ? d1 + i : nullptr, d2 ? d2 + i : nullptr);
}

}  // namespace sdescore::nn::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <vector>

#include "sdescore/nn/simd.hpp"

namespace sdescore::nn::simd {
HWY_EXPORT(gemm_f32);
HWY_EXPORT(silu_f32);

void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, bool trans_a, const float* b,
          std::int64_t ldb, bool trans_b, float* c, std::int64_t ldc, float alpha, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (std::int64_t j = 0; j < n; ++j) std::fill(c + j * ldc, c + j * ldc + m, 0.0f);
    return;
  }
  if (trans_a) {  // op(A) = A^T: pack it column-major (m x k), the layout the kernel streams
    thread_local std::vector<float> packed;
    packed.resize(static_cast<std::size_t>(m * k));
    for (std::int64_t p = 0; p < k; ++p)
      for (std::int64_t i = 0; i < m; ++i) packed[static_cast<std::size_t>(i + p * m)] = a[p + i * lda];
    HWY_DYNAMIC_DISPATCH(gemm_f32)(m, n, k, packed.data(), m, b, trans_b ? ldb : 1, trans_b ? 1 : ldb, c, ldc, alpha, accumulate);
    return;
  }
  HWY_DYNAMIC_DISPATCH(gemm_f32)(m, n, k, a, lda, b, trans_b ? ldb : 1, trans_b ? 1 : ldb, c, ldc, alpha, accumulate);
}

void silu(std::int64_t n, const float* z, float* h, float* d1, float* d2) {
  if (n > 0) HWY_DYNAMIC_DISPATCH(silu_f32)(n, z, h, d1, d2);
}

}  // namespace sdescore::nn::simd
#endif
