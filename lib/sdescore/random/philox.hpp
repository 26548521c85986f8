#pragma once
/// \file
/// Counter-based random words: Random123 Philox4x32-10 with a fixed layout of key and counter.
///
///   key     = (seed mod 2^32, seed / 2^32)                         (64-bit seed)
///   counter = (sub, counter mod 2^32, counter / 2^32, stream)      (32-bit stream, 64-bit counter)
///
/// `stream` is the path (or sample) index, `counter` the step index; `sub` numbers the 4-word
/// blocks drawn for one (stream, counter): normals use sub = j / 2 (j = variate index, sub < 2^31),
/// uniforms use sub = 2^31 + j / 2, so normals and uniforms never share words.
/// Every variate is a pure function of (seed, stream, counter, j): no state, no order dependence.
/// See docs/simulation.md, "Reproducibility contract".
#include <Random123/philox.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace sdescore::random {

using Words = std::array<std::uint32_t, 4>;

/// Streams are 32-bit: stream indices must be < 2^32 (checked by the batch APIs).
inline constexpr std::uint64_t kMaxStreams = std::uint64_t{1} << 32;
/// Sub-index offset that separates uniforms from normals.
inline constexpr std::uint32_t kUniformSub = 0x8000'0000u;

/// The four Philox4x32-10 output words for (seed, stream, counter, sub) (Random123 reference).
inline Words philox_words(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::uint32_t sub) {
  r123::Philox4x32 rng;
  const r123::Philox4x32::ctr_type c = {{sub, static_cast<std::uint32_t>(counter),
                                         static_cast<std::uint32_t>(counter >> 32), static_cast<std::uint32_t>(stream)}};
  const r123::Philox4x32::key_type k = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  const auto r = rng(c, k);
  return {r.v[0], r.v[1], r.v[2], r.v[3]};
}

/// Uniform variate j in [0, 1) with 53 random bits, a pure function of (seed, stream, counter, j).
inline double uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::uint32_t j) {
  const Words w = philox_words(seed, stream, counter, kUniformSub + j / 2);
  const int o = 2 * static_cast<int>(j % 2);
  const std::uint64_t x = (std::uint64_t{w[o + 1]} << 32) | w[o];
  return static_cast<double>(x >> 11) * 0x1p-53;
}

/// SplitMix64 finaliser: a bijective 64-bit mix.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// Derives an independent seed for another purpose (domain separation), e.g.
/// `derive_seed(seed, "score-batches")`, so two layers using one user seed never share streams.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::string_view tag) {
  std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a of the tag
  for (char ch : tag) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001B3ull;
  return splitmix64(seed ^ splitmix64(h));
}

}  // namespace sdescore::random
