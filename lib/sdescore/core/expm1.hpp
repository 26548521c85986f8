#pragma once
/// \file
/// `portable_expm1`: e^x - 1 in plain double arithmetic that GCC vectorises across a loop (the
/// local-linearisation step of the ensemble engine, docs/simulation.md), where `std::expm1` is a
/// libm call that keeps the loop scalar.
///
/// Method: x = k ln2 + r, |r| <= ln2/2 (Cody-Waite with a two-part ln2, and the rounding error
/// c of r carried); expm1(r) by its Taylor series to degree 13 (truncation < 1e-17 relative);
/// then expm1(x) = 2^k expm1(r) + (2^k - 1) for k <= 52 (both terms exact but the sum), and
/// (expm1(r) + 1) 2^(k-1) 2 above (the -1 is below half an ulp there; overflow gives inf). x is
/// clamped to [-60, 710] first (the result is -1 below and inf above either way). No branch,
/// no table, no libm: every path computes the same operations, so with -ffp-contract=off (the
/// engine's flag) the scalar code and every SIMD width give the same bits.
///
/// Accuracy against glibc's expm1 (tests/core/expm1.test.cpp, 8e6 arguments over [-70, 710]
/// and |x| in [2^-70, 2^10]): at most 2 ulp, equal in ~97% of cases; exact for x = +-0,
/// subnormals and tiny |x| (the result is x), -1 below -37.4, inf above 709.78, NaN for NaN.
///
/// The engine's translation units are built with -fno-trapping-math (SDESCORE_ENGINE_FLAGS):
/// without it GCC keeps the clamps as branches for AVX2 and SSE2 (an FP operation "could trap"),
/// and the loop stays scalar there.
#include <bit>
#include <cstdint>

#include "sdescore/core/inline.hpp"

namespace sdescore {

/// Also returns the series part q(r), expm1(r) = r + r^2 q(r): for |x| < ln2/2 (k = 0, r = x)
/// q(x) = (e^x - 1 - x) / x^2 without cancellation (phi2 of linearize/gaussian_transition.hpp).
SDESCORE_FORCE_INLINE double portable_expm1(double x, double& q_out) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // trailing zero bits: k * kLn2Hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: (y + kShift) - kShift rounds y to an integer
  const double xc = x > 710.0 ? 710.0 : (x < -60.0 ? -60.0 : x);  // NaN passes through
  const double t = xc * kLog2e + kShift;
  const double kd = t - kShift;  // k = round(x / ln2), in [-87, 1024]
  const std::int64_t k = std::bit_cast<std::int64_t>(t) - std::bit_cast<std::int64_t>(kShift);
  const double hi = xc - kd * kLn2Hi;
  const double lo = kd * kLn2Lo;
  const double r = hi - lo;
  const double c = (hi - r) - lo;  // r + c = hi - lo to twice the precision
  double q = 1.0 / 6227020800.0;   // 1/13!
  q = q * r + 1.0 / 479001600.0;
  q = q * r + 1.0 / 39916800.0;
  q = q * r + 1.0 / 3628800.0;
  q = q * r + 1.0 / 362880.0;
  q = q * r + 1.0 / 40320.0;
  q = q * r + 1.0 / 5040.0;
  q = q * r + 1.0 / 720.0;
  q = q * r + 1.0 / 120.0;
  q = q * r + 1.0 / 24.0;
  q = q * r + 1.0 / 6.0;
  q = q * r + 0.5;
  q_out = q;
  double em = r + (r * r) * q;  // expm1(r)
  em = em + (c + c * em);        // expm1(r + c) to first order in c
  const double h = std::bit_cast<double>((k + 1022) << 52);  // 2^(k-1), a normal number
  const double two_k = 2.0 * h;
  const double small = two_k * em + (two_k - 1.0);
  const double big = ((em + 1.0) * h) * 2.0;
  const double res = kd <= 52.0 ? small : big;
  return x == 0.0 ? x : res;  // keeps the sign of -0
}

SDESCORE_FORCE_INLINE double portable_expm1(double x) {
  double q;
  return portable_expm1(x, q);
}

/// The same for a scalar type wrapping a double (the engine's `ensemble::Lane`): explicit
/// conversion to double and construction from it.
template <class S>
SDESCORE_FORCE_INLINE S portable_expm1(const S& x) {
  return S(portable_expm1(static_cast<double>(x)));
}

}  // namespace sdescore
