// Uniforms -> normals, with runtime CPU dispatch (Google Highway). This file is compiled once per
// SIMD target (hwy/foreach_target.h re-includes it for SCALAR, SSSE3, SSE4, AVX2, AVX3); at run
// time HWY_DYNAMIC_DISPATCH calls the best target the CPU supports, so the portable build runs
// AVX-512 where the machine has it without any -march flag.
//
// One vector lane = one Philox4x32-10 instance (counter words kept in the low halves of 64-bit
// lanes, 32x32->64 products by MulEven), the lane's 4 words -> two 52-bit uniforms -> Box-Muller
// with Highway's polynomial Log (hwy/contrib/math) and our own cos and sin of 2 pi u2
// (sincos_2pi: exact quadrant reduction, one polynomial each). Every lane computes the same
// operations in the same order whatever the vector width, so:
//   - all entry points (normal, normals, normal_block, normal_chunk16, any block size) give the
//     same bits;
//   - targets with FMA (AVX2, AVX3) give the same bits: Highway's MulAdd is one fused operation
//     on both. Pre-FMA targets (SSE4, SSSE3, SCALAR) evaluate MulAdd as a rounded multiply then
//     an add, so their last bits can differ (docs/simulation.md, "Reproducibility contract").
// The file is built with -ffp-contract=off (CMakeLists.txt): only the explicit MulAdd of the
// polynomials is fused, never a multiply and add that GCC might contract on one target only.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "sdescore/random/normal.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include <cstddef>
#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace sdescore::random::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DU = hn::ScalableTag<std::uint64_t>;
using DF = hn::ScalableTag<double>;
using VU = hn::Vec<DU>;
using VF = hn::Vec<DF>;

// The functions below work on K vectors side by side, each stage for all K before the next.
// One vector's variates are a long dependency chain (ten Philox rounds of 5-cycle products, the
// division in Log, Sqrt) that the CPU cannot overlap with the next vector's; K = 4 interleaved
// chains (with the cheaper Log below) ran 2.1x (AVX3), 1.9x (AVX2) and 1.7x (SSE4) faster than
// one vector at a time (session 9; K = 2 gained only 1.3x). Each lane computes the same
// operations in the same order whatever K, so K does not change the bits.
constexpr int kRowK = 4;
// Vectors a step for 16 lanes (normal_chunk16, box_muller16, the end of a row): 16 / N, at most kRowK.
constexpr int kChunkK = static_cast<int>(HWY_MIN(std::size_t{kRowK}, 16 / hn::MaxLanes(DF())));

// Philox4x32-10 on Lanes(DU) counters (each word in the low 32 bits of a lane). The high halves
// carry garbage between rounds (products of MulEven, XOR-ed in) but MulEven reads only the low
// halves, so the low halves are exactly Random123's words; they are masked at the end.
// Full 32x32 -> 64-bit product of the low halves of a's lanes with the constant m.
HWY_INLINE VU mul_lo32(VU a, std::uint32_t m) {
  const DU du;
#if HWY_TARGET == HWY_SCALAR
  return hn::Mul(hn::And(a, hn::Set(du, 0xFFFFFFFFull)), hn::Set(du, std::uint64_t{m}));
#else
  const hn::Repartition<std::uint32_t, DU> d32;
  return hn::MulEven(hn::BitCast(d32, a), hn::BitCast(d32, hn::Set(du, std::uint64_t{m})));
#endif
}

// Rounds first_round .. 9 (keys k0, k1 of round 0; bumped first_round times here) of the K
// counter vectors c[word][k].
template <int K>
HWY_INLINE void philox(std::uint32_t k0, std::uint32_t k1, VU (&c)[4][K], int first_round = 0) {
  const DU du;
  k0 += static_cast<std::uint32_t>(first_round) * 0x9E3779B9u;
  k1 += static_cast<std::uint32_t>(first_round) * 0xBB67AE85u;
  for (int r = first_round; r < 10; ++r) {
    const VU key0 = hn::Set(du, std::uint64_t{k0}), key1 = hn::Set(du, std::uint64_t{k1});
    for (int k = 0; k < K; ++k) {
      const VU p0 = mul_lo32(c[0][k], 0xD2511F53u);
      const VU p1 = mul_lo32(c[2][k], 0xCD9E8D57u);
      c[0][k] = hn::Xor(hn::Xor(hn::ShiftRight<32>(p1), c[1][k]), key0);
      c[1][k] = p1;
      c[2][k] = hn::Xor(hn::Xor(hn::ShiftRight<32>(p0), c[3][k]), key1);
      c[3][k] = p0;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  const VU lo = hn::Set(du, 0xFFFFFFFFull);
  for (auto& word : c)
    for (VU& v : word) v = hn::And(v, lo);
}

// Philox4x32-10 of the counters (s0, s1, s2, stream[k]) where only the last word differs between
// lanes (normal_rows: sub, counter lo, counter hi are the same for the whole row). The same
// integer operations as philox(), but the first three rounds compute the words that are still
// the same in every lane once, in scalar code: round 1 has no per-lane product, rounds 2 and 3
// one each (instead of two). XOR is exact and associative, so the words are identical.
template <int K>
HWY_INLINE void philox_rows(std::uint32_t k0, std::uint32_t k1, std::uint32_t s0, std::uint32_t s1, std::uint32_t s2,
                            const VU (&stream)[K], VU (&c)[4][K]) {
  const DU du;
  constexpr std::uint64_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  auto hi = [](std::uint64_t p) { return static_cast<std::uint32_t>(p >> 32); };
  auto lo = [](std::uint64_t p) { return static_cast<std::uint32_t>(p); };
  // round 1: words (s0, s1, s2, stream); only word 2 comes out per lane
  std::uint64_t p0 = s0 * M0, p1 = s2 * M1;
  const std::uint32_t a0 = hi(p1) ^ s1 ^ k0, a1 = lo(p1), a3 = lo(p0);
  const VU x2 = hn::Set(du, std::uint64_t{hi(p0) ^ k1});
  k0 += W0;
  k1 += W1;
  // round 2: words (a0, a1, v2, a3); words 0 and 1 come out per lane
  p0 = a0 * M0;
  const VU x0 = hn::Set(du, std::uint64_t{a1 ^ k0});
  VU v0[K], v1[K];
  for (int k = 0; k < K; ++k) {
    const VU v2 = hn::Xor(stream[k], x2);
    v1[k] = mul_lo32(v2, static_cast<std::uint32_t>(M1));
    v0[k] = hn::Xor(hn::ShiftRight<32>(v1[k]), x0);
  }
  const std::uint32_t b2 = hi(p0) ^ a3 ^ k1, b3 = lo(p0);
  k0 += W0;
  k1 += W1;
  // round 3: words (v0, v1, b2, b3); word 1 stays the same in every lane
  p1 = b2 * M1;
  const VU y0 = hn::Set(du, std::uint64_t{hi(p1) ^ k0}), y1 = hn::Set(du, std::uint64_t{lo(p1)});
  const VU y2 = hn::Set(du, std::uint64_t{b3 ^ k1});
  for (int k = 0; k < K; ++k) {
    const VU q0 = mul_lo32(v0[k], static_cast<std::uint32_t>(M0));
    c[0][k] = hn::Xor(v1[k], y0);
    c[1][k] = y1;
    c[2][k] = hn::Xor(hn::ShiftRight<32>(q0), y2);
    c[3][k] = q0;
  }
  // rounds 4 .. 10
  philox(k0 - 2 * W0, k1 - 2 * W1, c, 3);
}

// zc = r cos(2 pi u), zs = r sin(2 pi u) for u in [0, 1) a multiple of 2^-52, cos and sin within
// 1.1 ulp (1.6 without FMA; measured against long double in tests/random/normal.test.cpp).
// Highway's Cos and Sin each reduce a general argument (four multiply-adds against pi) and
// evaluate a degree-19 polynomial; here the reduction is exact and shared: q = round(4 u) (0 .. 4),
// x = 4 u - q in [-1/2, 1/2] (both exact: u has 52 bits, q is an integer, |x| <= 1/2),
// 2 pi u = q pi/2 + (pi/2) x, so cos and sin of 2 pi u are +-cos or +-sin of (pi/2) x by q mod 4.
// The polynomials are in x with pi/2 folded in (no rounded angle): near-minimax fits of
// sin((pi/2) x) = x (pi/2 + y P(y)) and cos((pi/2) x) = 1 + y (-pi^2/8 + y Q(y)), y = x^2, on
// |x| <= 1/2, relative error 2^-56 and 2^-55 before rounding (mpmath chebyfit, degrees 13 and 14);
// pi/2 is split into hi + lo so that the leading term of sin is exact inside its MulAdd.
template <bool Both>
HWY_INLINE void sincos_2pi(VF u, VF r, VF& zc, VF& zs) {
  const DU du;
  const DF df;
  const VF round = hn::Set(df, 6755399441055744.0);  // 1.5 * 2^52: t = 4u + round rounds 4u to an integer
  const VF u4 = hn::Mul(u, hn::Set(df, 4.0));
  const VF t = hn::Add(u4, round);
  const VF x = hn::Sub(u4, hn::Sub(t, round));
  const VF y = hn::Mul(x, x);
  VF ps = hn::Set(df, 5.642225369163528e-08);
  ps = hn::MulAdd(ps, y, hn::Set(df, -3.5987029509735105e-06));
  ps = hn::MulAdd(ps, y, hn::Set(df, 0.00016044116661409423));
  ps = hn::MulAdd(ps, y, hn::Set(df, -0.004681754134254207));
  ps = hn::MulAdd(ps, y, hn::Set(df, 0.07969262624614423));
  ps = hn::MulAdd(ps, y, hn::Set(df, -0.6459640975062462));
  const VF tail = hn::MulAdd(x, hn::Set(df, 6.123233995736766e-17), hn::Mul(hn::Mul(x, y), ps));
  const VF s = hn::MulAdd(x, hn::Set(df, 1.5707963267948966), tail);
  VF pc = hn::Set(df, -5.6805801855878766e-09);
  pc = hn::MulAdd(pc, y, hn::Set(df, 4.7058097400822523e-07));
  pc = hn::MulAdd(pc, y, hn::Set(df, -2.5201902009348312e-05));
  pc = hn::MulAdd(pc, y, hn::Set(df, 0.0009192602567709894));
  pc = hn::MulAdd(pc, y, hn::Set(df, -0.020863480762298152));
  pc = hn::MulAdd(pc, y, hn::Set(df, 0.25366950790102544));
  pc = hn::MulAdd(pc, y, hn::Set(df, -1.2337005501361697));
  const VF c = hn::MulAdd(pc, y, hn::Set(df, 1.0));
  // q mod 4 is in the low bits of t (1.5 * 2^52 + q). Quadrants 0 .. 3 give (cos, sin) =
  // (c, s), (-s, c), (-c, -s), (s, -c): swap if q is odd, negate cos if q is 1 or 2 (bit 1 of
  // q + 1), sin if q is 2 or 3 (bit 1 of q); the sign goes on r, which is >= 0.
  const VU q = hn::BitCast(du, t);
  const VU two = hn::Set(du, 2);
  const auto odd = hn::RebindMask(df, hn::TestBit(q, hn::Set(du, 1)));
  const VF sign_c = hn::BitCast(df, hn::ShiftLeft<62>(hn::And(hn::Add(q, hn::Set(du, 1)), two)));
  zc = hn::Mul(hn::Xor(r, sign_c), hn::IfThenElse(odd, s, c));
  if constexpr (Both) {
    const VF sign_s = hn::BitCast(df, hn::ShiftLeft<62>(hn::And(q, two)));
    zs = hn::Mul(hn::Xor(r, sign_s), hn::IfThenElse(odd, c, s));
  }
}

// Philox words -> z_{2 sub} (zc) and, if Both, z_{2 sub + 1} (zs), for K vectors.
// u1 = 2 - [1, 2) from words (w1, w0) in (0, 1], u2 = [1, 2) - 1 from (w3, w2) in [0, 1)
// (52 random bits each, exact); r = sqrt(-2 log u1), zc = r cos(2 pi u2), zs = r sin(2 pi u2).
// u1 >= 2^-52 is never subnormal: Highway's Log without the subnormal rescaling (its public Log
// with a compare, a multiply and blends less; the same arithmetic on normal inputs, so the same
// bits) ran ~10% faster.
template <int K, bool Both>
HWY_INLINE void box_muller_words(const VU (&c)[4][K], VF (&zc)[K], VF (&zs)[K]) {
  const DU du;
  const DF df;
  const VU one_exp = hn::Set(du, 0x3FF0000000000000ull);
  VF u1[K], u2[K], r[K];
  for (int k = 0; k < K; ++k) {
    const VU b1 = hn::Or(one_exp, hn::Or(hn::ShiftLeft<20>(c[1][k]), hn::ShiftRight<12>(c[0][k])));
    const VU b2 = hn::Or(one_exp, hn::Or(hn::ShiftLeft<20>(c[3][k]), hn::ShiftRight<12>(c[2][k])));
    u1[k] = hn::Sub(hn::Set(df, 2.0), hn::BitCast(df, b1));
    u2[k] = hn::Sub(hn::BitCast(df, b2), hn::Set(df, 1.0));
  }
  // hn::impl is Highway's internal namespace (1.0.3, pinned by Debian 12): on an upgrade that drops
  // it, hn::Log(df, u1[k]) gives the same bits (normal inputs), ~10 % slower.
  for (int k = 0; k < K; ++k) r[k] = hn::impl::Log<DF, VF, /*kAllowSubnormals=*/false>(df, u1[k]);
  for (int k = 0; k < K; ++k) r[k] = hn::Sqrt(hn::Mul(hn::Set(df, -2.0), r[k]));
  for (int k = 0; k < K; ++k) sincos_2pi<Both>(u2[k], r[k], zc[k], zs[k]);
}

// Columns [c0, c1) of rows 2 sub (rc) and, if Both, 2 sub + 1 (rs) of normal_rows, K vectors a step.
template <int K, bool Both>
HWY_INLINE std::int64_t row_block(std::uint32_t k0, std::uint32_t k1, std::uint32_t sub, std::uint32_t clo,
                                 std::uint32_t chi, std::uint64_t first_stream, std::int64_t c0, std::int64_t c1,
                                 double* HWY_RESTRICT rc, double* HWY_RESTRICT rs) {
  const DU du;
  const DF df;
  const auto N = static_cast<std::int64_t>(hn::Lanes(df));
  const VU lo = hn::Set(du, 0xFFFFFFFFull);
  std::int64_t c = c0;
  for (; c + K * N <= c1; c += K * N) {
    VU stream[K], w[4][K];
    VF zc[K], zs[K];
    for (int k = 0; k < K; ++k)
      stream[k] = hn::And(hn::Iota(du, first_stream + static_cast<std::uint64_t>(c + k * N)), lo);
    philox_rows<K>(k0, k1, sub, clo, chi, stream, w);
    box_muller_words<K, Both>(w, zc, zs);
    for (int k = 0; k < K; ++k) {
      hn::StoreU(zc[k], df, rc + c + k * N);
      if constexpr (Both) hn::StoreU(zs[k], df, rs + c + k * N);
    }
  }
  return c;
}

// Rows 2 sub and, if Both, 2 sub + 1: kRowK vectors a step, the rest (padded is a multiple of
// 16, not always of kRowK N = 32 on AVX3) by 16 / N <= kRowK vectors.
template <bool Both>
HWY_INLINE void rows(std::uint32_t k0, std::uint32_t k1, std::uint32_t sub, std::uint32_t clo, std::uint32_t chi,
                     std::uint64_t first_stream, std::int64_t padded, double* HWY_RESTRICT rc, double* HWY_RESTRICT rs) {
  const std::int64_t c = row_block<kRowK, Both>(k0, k1, sub, clo, chi, first_stream, 0, padded, rc, rs);
  row_block<kChunkK, Both>(k0, k1, sub, clo, chi, first_stream, c, padded, rc, rs);
}

// out[j * ld + i] = z_j(seed, first_stream + i, counter), j < m, i < padded (a multiple of 16,
// hence of Lanes(DF) on every target).
void normal_rows(std::uint64_t seed, std::uint64_t first_stream, std::int64_t padded, std::uint64_t counter, int m,
                 double* HWY_RESTRICT out, std::ptrdiff_t ld) {
  const auto k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  const auto clo = static_cast<std::uint32_t>(counter), chi = static_cast<std::uint32_t>(counter >> 32);
  for (int s = 0; 2 * s < m; ++s) {
    double* HWY_RESTRICT rc = out + static_cast<std::ptrdiff_t>(2 * s) * ld;
    if (2 * s + 1 < m)
      rows<true>(k0, k1, static_cast<std::uint32_t>(s), clo, chi, first_stream, padded, rc, rc + ld);
    else
      rows<false>(k0, k1, static_cast<std::uint32_t>(s), clo, chi, first_stream, padded, rc, nullptr);
  }
}

// 16 arbitrary counters (sub[i], clo, chi, stream[i]) -> zc[i] = z_{2 sub[i]}, zs[i] = z_{2 sub[i] + 1}.
void normal_chunk16(std::uint64_t seed, const std::uint32_t* HWY_RESTRICT sub, std::uint64_t counter,
                    const std::uint32_t* HWY_RESTRICT stream, double* HWY_RESTRICT zc, double* HWY_RESTRICT zs) {
  const DU du;
  const DF df;
  const hn::Rebind<std::uint32_t, DU> d32;  // Lanes(du) u32 lanes, promoted to u64
  const std::size_t N = hn::Lanes(df);
  const auto k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  constexpr int K = kChunkK;
  for (std::size_t c = 0; c < 16; c += K * N) {
    VU w[4][K];
    VF a[K], b[K];
    for (int k = 0; k < K; ++k) {
      w[0][k] = hn::PromoteTo(du, hn::LoadU(d32, sub + c + k * N));
      w[1][k] = hn::Set(du, counter & 0xFFFFFFFFull);
      w[2][k] = hn::Set(du, counter >> 32);
      w[3][k] = hn::PromoteTo(du, hn::LoadU(d32, stream + c + k * N));
    }
    philox(k0, k1, w);
    box_muller_words<K, true>(w, a, b);
    for (int k = 0; k < K; ++k) {
      hn::StoreU(a[k], df, zc + c + k * N);
      hn::StoreU(b[k], df, zs + c + k * N);
    }
  }
}

// 16 sets of Philox output words (w[word * 16 + i]) -> zc[i], zs[i]: the Box-Muller stage alone,
// for tests at chosen uniforms.
void box_muller16(const std::uint32_t* HWY_RESTRICT w, double* HWY_RESTRICT zc, double* HWY_RESTRICT zs) {
  const DU du;
  const DF df;
  const hn::Rebind<std::uint32_t, DU> d32;
  const std::size_t N = hn::Lanes(df);
  constexpr int K = kChunkK;
  for (std::size_t c = 0; c < 16; c += K * N) {
    VU v[4][K];
    VF a[K], b[K];
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < K; ++k) v[j][k] = hn::PromoteTo(du, hn::LoadU(d32, w + 16 * j + c + k * N));
    box_muller_words<K, true>(v, a, b);
    for (int k = 0; k < K; ++k) {
      hn::StoreU(a[k], df, zc + c + k * N);
      hn::StoreU(b[k], df, zs + c + k * N);
    }
  }
}

// 16 angles u[i] -> c[i] = cos(2 pi u[i]), s[i] = sin(2 pi u[i]): the angle stage alone (r = 1,
// so the signed products are exact), for tests.
void cos_sin16(const double* HWY_RESTRICT u, double* HWY_RESTRICT c, double* HWY_RESTRICT s) {
  const DF df;
  const std::size_t N = hn::Lanes(df);
  for (std::size_t i = 0; i < 16; i += N) {
    VF zc, zs;
    sincos_2pi<true>(hn::LoadU(df, u + i), hn::Set(df, 1.0), zc, zs);
    hn::StoreU(zc, df, c + i);
    hn::StoreU(zs, df, s + i);
  }
}

std::int64_t target_bit() { return HWY_TARGET; }

}  // namespace sdescore::random::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <string>

#include "sdescore/core/error.hpp"
#include "sdescore/core/parse.hpp"
#include "sdescore/random/normal.hpp"

namespace sdescore::random {
HWY_EXPORT(normal_rows);
HWY_EXPORT(normal_chunk16);
HWY_EXPORT(box_muller16);
HWY_EXPORT(cos_sin16);
HWY_EXPORT(target_bit);

namespace {

constexpr int L = kLanes;

std::string upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

std::mutex g_target_mutex;
std::int64_t g_forced = 0;  // the target forced by set_simd_target / SDESCORE_SIMD_TARGET (0: best)

void apply(std::int64_t bits) {
  g_forced = bits;
  hwy::SetSupportedTargetsForTest(bits);
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
}

// Targets compiled into this library and supported by this CPU, best first (Highway numbers
// better targets with lower bits). Lifts the forced target for a moment: like set_simd_target,
// not to be called while another thread draws.
std::vector<std::int64_t> available_bits() {
  hwy::SetSupportedTargetsForTest(0);
  const std::int64_t supported = hwy::SupportedTargets() & HWY_TARGETS;
  apply(g_forced);
  std::vector<std::int64_t> out;
  for (std::int64_t t = supported; t != 0; t &= t - 1) out.push_back(t & ~(t - 1));
  return out;
}

void select(std::string_view name) {
  const std::string want = upper(name);
  if (want.empty() || want == "AUTO") return apply(0);
  std::string valid = "auto";
  for (const std::int64_t b : available_bits()) {
    if (want == hwy::TargetName(b)) return apply(b);
    valid += std::string(", ") + hwy::TargetName(b);
  }
  throw ConfigError("SIMD target '" + std::string(name) + "' is not available on this CPU (SDESCORE_SIMD_TARGET or "
                    "set_simd_target); valid: " + valid);
}

// SDESCORE_SIMD_TARGET, read once before the first checked draw. Throws ConfigError (and retries
// on the next call) if it names no available target.
std::once_flag g_env_once;
void init_from_env() {
  std::call_once(g_env_once, [] {
    const char* env = std::getenv("SDESCORE_SIMD_TARGET");
    if (env != nullptr && *env != '\0') {
      const std::lock_guard<std::mutex> lock(g_target_mutex);
      select(env);
    }
  });
}

void check_streams(std::uint64_t first, std::uint64_t n, const char* what) {
  if (first >= kMaxStreams || n > kMaxStreams - first)
    throw ConfigError(std::string(what) + ": streams [" + std::to_string(first) + ", " + std::to_string(first + n) +
                      ") exceed the 32-bit stream range; valid stream indices are < 2^32 = 4294967296");
}

void chunk16(std::uint64_t seed, const std::uint32_t* sub, std::uint64_t counter, const std::uint32_t* stream,
             double* zc, double* zs) {
  HWY_DYNAMIC_DISPATCH(normal_chunk16)(seed, sub, counter, stream, zc, zs);
}

}  // namespace

std::vector<std::string> simd_targets() {
  init_from_env();
  const std::lock_guard<std::mutex> lock(g_target_mutex);
  std::vector<std::string> out;
  for (const std::int64_t b : available_bits()) out.emplace_back(hwy::TargetName(b));
  return out;
}

std::string simd_target() {
  init_from_env();
  return hwy::TargetName(HWY_DYNAMIC_DISPATCH(target_bit)());
}

void set_simd_target(std::string_view name) {
  init_from_env();
  const std::lock_guard<std::mutex> lock(g_target_mutex);
  select(name);
}

namespace detail {

void normal_block_unchecked(std::uint64_t seed, std::uint64_t first_stream, std::int64_t n, std::uint64_t counter,
                            int m, double* out, std::ptrdiff_t ld) noexcept {
  if (n <= 0 || m <= 0) return;
  HWY_DYNAMIC_DISPATCH(normal_rows)(seed, first_stream, padded_count(n), counter, m, out, ld);
}

void box_muller(std::span<const Words> w, std::span<double> z) {
  if (z.size() != 2 * w.size())
    throw ConfigError("box_muller: z has " + std::to_string(z.size()) + " entries; it must have 2 w.size() = " +
                      std::to_string(2 * w.size()));
  init_from_env();
  alignas(64) std::uint32_t words[4 * L];
  alignas(64) double zc[L], zs[L];
  for (std::size_t i0 = 0; i0 < w.size(); i0 += L) {
    const std::size_t n = std::min<std::size_t>(L, w.size() - i0);
    std::fill(std::begin(words), std::end(words), 0u);  // padding lanes: u1 = 1, u2 = 0
    for (std::size_t i = 0; i < n; ++i)
      for (int j = 0; j < 4; ++j) words[j * L + static_cast<int>(i)] = w[i0 + i][static_cast<std::size_t>(j)];
    HWY_DYNAMIC_DISPATCH(box_muller16)(words, zc, zs);
    for (std::size_t i = 0; i < n; ++i) {
      z[2 * (i0 + i)] = zc[i];
      z[2 * (i0 + i) + 1] = zs[i];
    }
  }
}

void cos_sin_2pi(std::span<const double> u, std::span<double> c, std::span<double> s) {
  if (c.size() != u.size() || s.size() != u.size())
    throw ConfigError("cos_sin_2pi: c and s have " + std::to_string(c.size()) + " and " + std::to_string(s.size()) +
                      " entries; they must have u.size() = " + std::to_string(u.size()));
  for (const double v : u)
    if (!(v >= 0 && v < 1) || std::ldexp(v, 52) != std::floor(std::ldexp(v, 52)))
      throw ConfigError("cos_sin_2pi: u = " + parse::shortest_decimal(v) + " is not a multiple of 2^-52 in [0, 1)");
  init_from_env();
  alignas(64) double ub[L], cb[L], sb[L];
  for (std::size_t i0 = 0; i0 < u.size(); i0 += L) {
    const std::size_t n = std::min<std::size_t>(L, u.size() - i0);
    std::fill(std::begin(ub), std::end(ub), 0.0);
    std::copy_n(u.begin() + static_cast<std::ptrdiff_t>(i0), n, ub);
    HWY_DYNAMIC_DISPATCH(cos_sin16)(ub, cb, sb);
    std::copy_n(cb, n, c.begin() + static_cast<std::ptrdiff_t>(i0));
    std::copy_n(sb, n, s.begin() + static_cast<std::ptrdiff_t>(i0));
  }
}

}  // namespace detail

void normal_block(std::uint64_t seed, std::uint64_t first_stream, std::int64_t n, std::uint64_t counter, int m,
                  double* out, std::ptrdiff_t ld) {
  init_from_env();
  if (n < 0 || m < 0) throw ConfigError("normal_block: n and m must be >= 0");
  check_streams(first_stream, static_cast<std::uint64_t>(n), "normal_block");
  if (m > 1 && ld < padded_count(n))
    throw ConfigError("normal_block: leading dimension ld = " + std::to_string(ld) + " is too small; it must be >= " +
                      std::to_string(padded_count(n)) + " (n rounded up to a multiple of kLanes = 16)");
  detail::normal_block_unchecked(seed, first_stream, n, counter, m, out, ld);
}

void normals(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::span<double> out) {
  init_from_env();
  check_streams(stream, 1, "normals");
  if (out.size() > kMaxStreams) throw ConfigError("normals: at most 2^32 variates per (stream, counter)");
  alignas(64) std::uint32_t sub[L], str[L];
  alignas(64) double zc[L], zs[L];
  for (int i = 0; i < L; ++i) str[i] = static_cast<std::uint32_t>(stream);
  const std::size_t m = out.size();
  // Lanes run over sub-blocks: one chunk gives 2 L variates of this stream.
  for (std::size_t s0 = 0; 2 * s0 < m; s0 += L) {
    for (int i = 0; i < L; ++i) sub[i] = static_cast<std::uint32_t>(s0 + static_cast<std::size_t>(i));
    chunk16(seed, sub, counter, str, zc, zs);
    for (int i = 0; i < L; ++i) {
      const std::size_t j = 2 * (s0 + static_cast<std::size_t>(i));
      if (j < m) out[j] = zc[i];
      if (j + 1 < m) out[j + 1] = zs[i];
    }
  }
}

double normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::uint32_t j) {
  init_from_env();
  check_streams(stream, 1, "normal");
  alignas(64) std::uint32_t sub[L], str[L];
  alignas(64) double zc[L], zs[L];
  for (int i = 0; i < L; ++i) {
    sub[i] = j / 2;
    str[i] = static_cast<std::uint32_t>(stream);
  }
  chunk16(seed, sub, counter, str, zc, zs);
  return j % 2 ? zs[0] : zc[0];
}

}  // namespace sdescore::random
#endif  // HWY_ONCE
