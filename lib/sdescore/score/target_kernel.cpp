// The inner loop of the multi-sample local-DSM target (local_dsm.hpp, method.md 2.3) with runtime
// CPU dispatch (Google Highway, like the normal kernel and the network): over a reference set of
// Gaussian kernels N(m_k, P_k^-1) it forms log w_k = c_k - 1/2 r_k' P_k r_k, r_k = y - m_k, and
// the max-shifted sums of w_k, w_k^2 and w_k P_k r_k. Compiled once per SIMD target.
//
// Same bits on every target with FMA: the sums are kept in 8 fixed "virtual lanes" (element k
// goes to lane k mod 8: one AVX-512 vector, two AVX2 vectors, four SSE vectors, eight scalars),
// reduced in one fixed order at the end, and Highway's Exp is evaluated lane by lane. Built with
// -ffp-contract=off (CMakeLists.txt).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "sdescore/score/target_kernel.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cstdint>
#include <limits>

#include "sdescore/score/target_kernel.hpp"

HWY_BEFORE_NAMESPACE();
namespace sdescore::score::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<double>;
constexpr int kVirtualLanes = 8;

template <int D>
HWY_INLINE TargetSums sums_d(std::int64_t count, const double* HWY_RESTRICT rows, std::int64_t ld, const double* y) {
  const DF d;
  using V = hn::Vec<DF>;
  const std::int64_t N = static_cast<std::int64_t>(hn::Lanes(d));
  const int G = static_cast<int>(kVirtualLanes / N);  // vectors per group of 8 elements (N <= 8 on x86)
  const double* mean = rows;                           // D rows
  const double* prec = rows + D * ld;                  // D*D rows, (a, b) at row a + D b
  const double* lnorm = rows + (D + D * D) * ld;       // 1 row
  V yv[D];
  for (int a = 0; a < D; ++a) yv[a] = hn::Set(d, y[a]);
  const V neg_inf = hn::Set(d, -std::numeric_limits<double>::infinity());
  const V half = hn::Set(d, 0.5);
  // r_k, P_k r_k and log w_k for the N elements at k (lanes >= count masked: log w = -inf, pr = 0)
  auto eval = [&](std::int64_t k, V* pr, V& lw) HWY_ATTR {
    const auto valid = hn::FirstN(d, static_cast<std::size_t>(count - k < N ? (count - k > 0 ? count - k : 0) : N));
    V r[D];
    for (int a = 0; a < D; ++a) r[a] = hn::Sub(yv[a], hn::LoadU(d, mean + a * ld + k));
    V q = hn::Zero(d);
    for (int a = 0; a < D; ++a) {
      V s = hn::Mul(hn::LoadU(d, prec + a * ld + k), r[0]);
      for (int b = 1; b < D; ++b) s = hn::MulAdd(hn::LoadU(d, prec + (a + D * b) * ld + k), r[b], s);
      pr[a] = hn::IfThenElseZero(valid, s);
      q = hn::MulAdd(r[a], s, q);
    }
    lw = hn::IfThenElse(valid, hn::NegMulAdd(half, q, hn::LoadU(d, lnorm + k)), neg_inf);
  };
  // pass 1: the largest log-weight (exact: order does not matter)
  V mx = neg_inf;
  for (std::int64_t k = 0; k < count; k += N) {
    V pr[D], lw;
    eval(k, pr, lw);
    mx = hn::Max(mx, lw);
  }
  const double m = hn::GetLane(hn::MaxOfLanes(d, mx));
  const V mv = hn::Set(d, m);
  // pass 2: sums in 8 virtual lanes
  V s[kVirtualLanes], s2[kVirtualLanes], sp[D][kVirtualLanes];
  for (int g = 0; g < G; ++g) {
    s[g] = s2[g] = hn::Zero(d);
    for (int a = 0; a < D; ++a) sp[a][g] = hn::Zero(d);
  }
  for (std::int64_t k0 = 0; k0 < count; k0 += kVirtualLanes)
    for (int g = 0; g < G; ++g) {
      const std::int64_t k = k0 + g * N;
      V pr[D], lw;
      eval(k, pr, lw);
      const V w = hn::Exp(d, hn::Sub(lw, mv));  // exp(-inf) = 0 for masked lanes
      s[g] = hn::Add(s[g], w);
      s2[g] = hn::MulAdd(w, w, s2[g]);
      for (int a = 0; a < D; ++a) sp[a][g] = hn::MulAdd(w, pr[a], sp[a][g]);
    }
  alignas(64) double lanes[kVirtualLanes];
  auto reduce = [&](const V* v) HWY_ATTR {
    for (int g = 0; g < G; ++g) hn::StoreU(v[g], d, lanes + g * N);
    double t = 0;
    for (int i = 0; i < kVirtualLanes; ++i) t += lanes[i];
    return t;
  };
  TargetSums out;
  out.max_log_w = m;
  out.sum_w = reduce(s);
  out.sum_w2 = reduce(s2);
  for (int a = 0; a < D; ++a) out.sum_w_pr[a] = reduce(sp[a]);
  return out;
}

TargetSums target_sums(int dim, std::int64_t count, const double* HWY_RESTRICT rows, std::int64_t ld, const double* y) {
  switch (dim) {
    case 1: return sums_d<1>(count, rows, ld, y);
    case 2: return sums_d<2>(count, rows, ld, y);
    default: return sums_d<3>(count, rows, ld, y);
  }
}

}  // namespace sdescore::score::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sdescore::score::simd {
HWY_EXPORT(target_sums);

TargetSums target_sums(int dim, std::int64_t count, const double* rows, std::int64_t ld, const double* y) {
  return HWY_DYNAMIC_DISPATCH(target_sums)(dim, count, rows, ld, y);
}
}  // namespace sdescore::score::simd
#endif
