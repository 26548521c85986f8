// Uniforms -> normals. THIS FILE ONLY is compiled with -ffast-math (see CMakeLists.txt): glibc's
// <bits/math-vector.h> declares the libmvec variants of log and cos (_ZGV?N?v_log, ...) only
// under __FAST_MATH__, and without them GCC keeps the Box-Muller loop scalar (~8x slower).
// Nothing here relies on NaN/inf semantics: u1 is in (0, 1], u2 in [0, 1).
// Determinism: every variate goes through the same fixed-size chunk loop (kLanes lanes, constant
// trip count, aligned local buffers: no alignment peeling, no scalar remainder), so its bits do
// not depend on which entry point or batch decomposition produced it.
#include "sdescore/random/normal.hpp"

#include <bit>
#include <cmath>
#include <string>

#include "sdescore/core/error.hpp"
#include "sdescore/random/detail/philox_lanes.hpp"

namespace sdescore::random {
namespace {

constexpr int L = kLanes;
constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr double kHalfPi = 1.5707963267948966192313216916398;

struct Key {
  std::uint32_t k0, k1;
  explicit Key(std::uint64_t seed)
      : k0(static_cast<std::uint32_t>(seed)), k1(static_cast<std::uint32_t>(seed >> 32)) {}
};

// One chunk: lane i uses counter (sub[i], clo, chi, stream[i]). Writes zc[i] = z_{2 sub},
// zs[i] = z_{2 sub + 1} (only when Both; z_{2 sub} has the same bits either way, tested).
template <bool Both>
inline void chunk(Key key, const std::uint32_t* __restrict sub, std::uint32_t clo, std::uint32_t chi,
                  const std::uint32_t* __restrict stream, double* __restrict zc, double* __restrict zs) {
  alignas(64) std::uint32_t c0[L], c1[L], c2[L], c3[L];
  for (int i = 0; i < L; ++i) {
    c0[i] = sub[i];
    c1[i] = clo;
    c2[i] = chi;
    c3[i] = stream[i];
  }
  detail::philox4x32_10_lanes<L>(key.k0, key.k1, c0, c1, c2, c3);
  alignas(64) double u1[L], u2[L];
  for (int i = 0; i < L; ++i) {
    // 52 random bits into the mantissa of a double in [1, 2).
    const std::uint64_t b1 = 0x3FF0000000000000ull | (std::uint64_t{c1[i]} << 20) | (c0[i] >> 12);
    const std::uint64_t b2 = 0x3FF0000000000000ull | (std::uint64_t{c3[i]} << 20) | (c2[i] >> 12);
    u1[i] = 2.0 - std::bit_cast<double>(b1);  // (0, 1]
    u2[i] = std::bit_cast<double>(b2) - 1.0;  // [0, 1)
  }
  for (int i = 0; i < L; ++i) {
    const double r = std::sqrt(-2.0 * std::log(u1[i]));
    const double a = kTwoPi * u2[i];
    zc[i] = r * std::cos(a);
    if constexpr (Both) zs[i] = r * std::cos(a - kHalfPi);
  }
}

void check_streams(std::uint64_t first, std::uint64_t n, const char* what) {
  if (first >= kMaxStreams || n > kMaxStreams - first)
    throw ConfigError(std::string(what) + ": streams [" + std::to_string(first) + ", " + std::to_string(first + n) +
                      ") exceed the 32-bit stream range; valid stream indices are < 2^32 = 4294967296");
}

}  // namespace

namespace detail {

void normal_block_unchecked(std::uint64_t seed, std::uint64_t first_stream, std::int64_t n, std::uint64_t counter,
                            int m, double* out, std::ptrdiff_t ld) noexcept {
  const Key key(seed);
  const auto clo = static_cast<std::uint32_t>(counter), chi = static_cast<std::uint32_t>(counter >> 32);
  alignas(64) std::uint32_t sub[L], stream[L];
  alignas(64) double zc[L], zs[L];
  for (int s = 0; 2 * s < m; ++s) {
    for (int i = 0; i < L; ++i) sub[i] = static_cast<std::uint32_t>(s);
    double* rc = out + static_cast<std::ptrdiff_t>(2 * s) * ld;
    double* rs = rc + ld;
    const bool both = 2 * s + 1 < m;
    for (std::int64_t c = 0; c < n; c += L) {
      const auto s0 = static_cast<std::uint32_t>(first_stream + static_cast<std::uint64_t>(c));
      for (int i = 0; i < L; ++i) stream[i] = s0 + static_cast<std::uint32_t>(i);
      if (both) {
        chunk<true>(key, sub, clo, chi, stream, zc, zs);
        for (int i = 0; i < L; ++i) rs[c + i] = zs[i];
      } else {
        chunk<false>(key, sub, clo, chi, stream, zc, zs);
      }
      for (int i = 0; i < L; ++i) rc[c + i] = zc[i];
    }
  }
}

}  // namespace detail

void normal_block(std::uint64_t seed, std::uint64_t first_stream, std::int64_t n, std::uint64_t counter, int m,
                  double* out, std::ptrdiff_t ld) {
  if (n < 0 || m < 0) throw ConfigError("normal_block: n and m must be >= 0");
  check_streams(first_stream, static_cast<std::uint64_t>(n), "normal_block");
  if (m > 1 && ld < padded_count(n))
    throw ConfigError("normal_block: leading dimension ld = " + std::to_string(ld) + " is too small; it must be >= " +
                      std::to_string(padded_count(n)) + " (n rounded up to a multiple of kLanes = 16)");
  detail::normal_block_unchecked(seed, first_stream, n, counter, m, out, ld);
}

void normals(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::span<double> out) {
  check_streams(stream, 1, "normals");
  if (out.size() > kMaxStreams) throw ConfigError("normals: at most 2^32 variates per (stream, counter)");
  const Key key(seed);
  const auto clo = static_cast<std::uint32_t>(counter), chi = static_cast<std::uint32_t>(counter >> 32);
  alignas(64) std::uint32_t sub[L], str[L];
  alignas(64) double zc[L], zs[L];
  for (int i = 0; i < L; ++i) str[i] = static_cast<std::uint32_t>(stream);
  const std::size_t m = out.size();
  // Lanes run over sub-blocks: one chunk gives 2 L variates of this stream.
  for (std::size_t s0 = 0; 2 * s0 < m; s0 += L) {
    for (int i = 0; i < L; ++i) sub[i] = static_cast<std::uint32_t>(s0 + static_cast<std::size_t>(i));
    chunk<true>(key, sub, clo, chi, str, zc, zs);
    for (int i = 0; i < L; ++i) {
      const std::size_t j = 2 * (s0 + static_cast<std::size_t>(i));
      if (j < m) out[j] = zc[i];
      if (j + 1 < m) out[j + 1] = zs[i];
    }
  }
}

double normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::uint32_t j) {
  check_streams(stream, 1, "normal");
  const Key key(seed);
  alignas(64) std::uint32_t sub[L], str[L];
  alignas(64) double zc[L], zs[L];
  for (int i = 0; i < L; ++i) {
    sub[i] = j / 2;
    str[i] = static_cast<std::uint32_t>(stream);
  }
  chunk<true>(key, sub, static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32), str, zc, zs);
  return j % 2 ? zs[0] : zc[0];
}

}  // namespace sdescore::random
