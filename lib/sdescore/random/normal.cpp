// Uniforms -> normals, with runtime CPU dispatch (Google Highway). This file is compiled once per
// SIMD target (hwy/foreach_target.h re-includes it for SCALAR, SSSE3, SSE4, AVX2, AVX3); at run
// time HWY_DYNAMIC_DISPATCH calls the best target the CPU supports, so the portable build runs
// AVX-512 where the machine has it without any -march flag.
//
// One vector lane = one Philox4x32-10 instance (counter words kept in the low halves of 64-bit
// lanes, 32x32->64 products by MulEven), the lane's 4 words -> two 52-bit uniforms -> Box-Muller
// with Highway's polynomial Log, Sin and Cos (hwy/contrib/math). Every lane computes the same
// operations in the same order whatever the vector width, so:
//   - all entry points (normal, normals, normal_block, any block size) give the same bits;
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

// Rounds first_round .. 9 (keys k0, k1 of round 0; bumped first_round times here).
HWY_INLINE void philox(std::uint32_t k0, std::uint32_t k1, VU& c0, VU& c1, VU& c2, VU& c3, int first_round = 0) {
  const DU du;
  k0 += static_cast<std::uint32_t>(first_round) * 0x9E3779B9u;
  k1 += static_cast<std::uint32_t>(first_round) * 0xBB67AE85u;
  for (int r = first_round; r < 10; ++r) {
    const VU p0 = mul_lo32(c0, 0xD2511F53u);
    const VU p1 = mul_lo32(c2, 0xCD9E8D57u);
    c0 = hn::Xor(hn::Xor(hn::ShiftRight<32>(p1), c1), hn::Set(du, std::uint64_t{k0}));
    c1 = p1;
    c2 = hn::Xor(hn::Xor(hn::ShiftRight<32>(p0), c3), hn::Set(du, std::uint64_t{k1}));
    c3 = p0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  const VU lo = hn::Set(du, 0xFFFFFFFFull);
  c0 = hn::And(c0, lo);
  c1 = hn::And(c1, lo);
  c2 = hn::And(c2, lo);
  c3 = hn::And(c3, lo);
}

// Philox4x32-10 of the counters (s0, s1, s2, stream) where only the last word differs between
// lanes (normal_rows: sub, counter lo, counter hi are the same for the whole row). The same
// integer operations as philox(), but the first three rounds compute the words that are still
// the same in every lane once, in scalar code: round 1 has no per-lane product, rounds 2 and 3
// one each (instead of two). XOR is exact and associative, so the words are identical.
HWY_INLINE void philox_rows(std::uint32_t k0, std::uint32_t k1, std::uint32_t s0, std::uint32_t s1, std::uint32_t s2,
                            VU stream, VU& c0, VU& c1, VU& c2, VU& c3) {
  const DU du;
  constexpr std::uint64_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  auto hi = [](std::uint64_t p) { return static_cast<std::uint32_t>(p >> 32); };
  auto lo = [](std::uint64_t p) { return static_cast<std::uint32_t>(p); };
  // round 1: words (s0, s1, s2, stream); only word 2 comes out per lane
  std::uint64_t p0 = s0 * M0, p1 = s2 * M1;
  const std::uint32_t a0 = hi(p1) ^ s1 ^ k0, a1 = lo(p1), a3 = lo(p0);
  const VU v2 = hn::Xor(stream, hn::Set(du, std::uint64_t{hi(p0) ^ k1}));
  k0 += W0;
  k1 += W1;
  // round 2: words (a0, a1, v2, a3); words 0 and 1 come out per lane
  p0 = a0 * M0;
  const VU q1 = mul_lo32(v2, static_cast<std::uint32_t>(M1));
  const VU v0 = hn::Xor(hn::ShiftRight<32>(q1), hn::Set(du, std::uint64_t{a1 ^ k0}));
  const VU v1 = q1;
  const std::uint32_t b2 = hi(p0) ^ a3 ^ k1, b3 = lo(p0);
  k0 += W0;
  k1 += W1;
  // round 3: words (v0, v1, b2, b3); word 1 stays the same in every lane
  const VU q0 = mul_lo32(v0, static_cast<std::uint32_t>(M0));
  p1 = b2 * M1;
  c0 = hn::Xor(v1, hn::Set(du, std::uint64_t{hi(p1) ^ k0}));
  c1 = hn::Set(du, std::uint64_t{lo(p1)});
  c2 = hn::Xor(hn::ShiftRight<32>(q0), hn::Set(du, std::uint64_t{b3 ^ k1}));
  c3 = q0;
  // rounds 4 .. 10
  philox(k0 - 2 * W0, k1 - 2 * W1, c0, c1, c2, c3, 3);
}

// Counter (sub, clo, chi, stream) per lane -> z_{2 sub} (zc) and, if both, z_{2 sub + 1} (zs).
// u1 = 2 - [1, 2) from words (w1, w0) in (0, 1], u2 = [1, 2) - 1 from (w3, w2) in [0, 1)
// (52 random bits each, exact); r = sqrt(-2 log u1), a = 2 pi u2, zc = r cos a, zs = r sin a.
// box_muller_words: the same from the Philox output words.
template <bool Both>
HWY_INLINE void box_muller_words(VU c0, VU c1, VU c2, VU c3, VF& zc, VF& zs) {
  const DU du;
  const DF df;
  const VU one_exp = hn::Set(du, 0x3FF0000000000000ull);
  const VU b1 = hn::Or(one_exp, hn::Or(hn::ShiftLeft<20>(c1), hn::ShiftRight<12>(c0)));
  const VU b2 = hn::Or(one_exp, hn::Or(hn::ShiftLeft<20>(c3), hn::ShiftRight<12>(c2)));
  const VF u1 = hn::Sub(hn::Set(df, 2.0), hn::BitCast(df, b1));
  const VF u2 = hn::Sub(hn::BitCast(df, b2), hn::Set(df, 1.0));
  const VF r = hn::Sqrt(hn::Mul(hn::Set(df, -2.0), hn::Log(df, u1)));
  const VF a = hn::Mul(hn::Set(df, 6.283185307179586476925286766559), u2);
  zc = hn::Mul(r, hn::Cos(df, a));
  if constexpr (Both) zs = hn::Mul(r, hn::Sin(df, a));
}

template <bool Both>
HWY_INLINE void box_muller(std::uint32_t k0, std::uint32_t k1, VU c0, VU c1, VU c2, VU c3, VF& zc, VF& zs) {
  philox(k0, k1, c0, c1, c2, c3);
  box_muller_words<Both>(c0, c1, c2, c3, zc, zs);
}

// The same for a row: counters (sub, clo, chi, stream[lane]).
template <bool Both>
HWY_INLINE void box_muller_row(std::uint32_t k0, std::uint32_t k1, std::uint32_t sub, std::uint32_t clo, std::uint32_t chi,
                               VU stream, VF& zc, VF& zs) {
  VU c0, c1, c2, c3;
  philox_rows(k0, k1, sub, clo, chi, stream, c0, c1, c2, c3);
  box_muller_words<Both>(c0, c1, c2, c3, zc, zs);
}

// out[j * ld + i] = z_j(seed, first_stream + i, counter), j < m, i < padded (a multiple of 16,
// hence of Lanes(DF) on every target).
void normal_rows(std::uint64_t seed, std::uint64_t first_stream, std::int64_t padded, std::uint64_t counter, int m,
                 double* HWY_RESTRICT out, std::ptrdiff_t ld) {
  const DU du;
  const DF df;
  const auto N = static_cast<std::int64_t>(hn::Lanes(df));
  const auto k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  const auto clo = static_cast<std::uint32_t>(counter), chi = static_cast<std::uint32_t>(counter >> 32);
  const VU lo = hn::Set(du, 0xFFFFFFFFull);
  for (int s = 0; 2 * s < m; ++s) {
    const auto sub = static_cast<std::uint32_t>(s);
    double* HWY_RESTRICT rc = out + static_cast<std::ptrdiff_t>(2 * s) * ld;
    double* HWY_RESTRICT rs = rc + ld;
    VF zc, zs;
    if (2 * s + 1 < m) {
      for (std::int64_t c = 0; c < padded; c += N) {
        const VU stream = hn::And(hn::Iota(du, first_stream + static_cast<std::uint64_t>(c)), lo);
        box_muller_row<true>(k0, k1, sub, clo, chi, stream, zc, zs);
        hn::StoreU(zc, df, rc + c);
        hn::StoreU(zs, df, rs + c);
      }
    } else {
      for (std::int64_t c = 0; c < padded; c += N) {
        const VU stream = hn::And(hn::Iota(du, first_stream + static_cast<std::uint64_t>(c)), lo);
        box_muller_row<false>(k0, k1, sub, clo, chi, stream, zc, zs);
        hn::StoreU(zc, df, rc + c);
      }
    }
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
  const VU clo = hn::Set(du, counter & 0xFFFFFFFFull), chi = hn::Set(du, counter >> 32);
  for (std::size_t c = 0; c < 16; c += N) {
    const VU s = hn::PromoteTo(du, hn::LoadU(d32, sub + c));
    const VU st = hn::PromoteTo(du, hn::LoadU(d32, stream + c));
    VF a, b;
    box_muller<true>(k0, k1, s, clo, chi, st, a, b);
    hn::StoreU(a, df, zc + c);
    hn::StoreU(b, df, zs + c);
  }
}

std::int64_t target_bit() { return HWY_TARGET; }

}  // namespace sdescore::random::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <string>

#include "sdescore/core/error.hpp"
#include "sdescore/random/normal.hpp"

namespace sdescore::random {
HWY_EXPORT(normal_rows);
HWY_EXPORT(normal_chunk16);
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
