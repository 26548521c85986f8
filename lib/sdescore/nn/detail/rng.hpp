#pragma once
// Counter-based random numbers for parameter init and probes: value = f(seed, stream, index),
// drawn from sdescore::random (Philox4x32-10): the 64 bits of (stream, index) are the words of
// random::uniform(seed, 0, stream, index), and standard_normal is random::normal(seed, 0, stream,
// index). Bit-identical on any thread count and standard library (std:: distributions are
// implementation-defined). index must be < 2^32.
#include <cmath>
#include <cstdint>

#include "sdescore/random/normal.hpp"
#include "sdescore/random/philox.hpp"

namespace sdescore::nn::detail {

/// 64 random bits keyed by (seed, stream, index).
inline std::uint64_t random_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  const auto j = static_cast<std::uint32_t>(index);
  const random::Words w = random::philox_words(seed, 0, stream, random::kUniformSub + j / 2);
  const int o = 2 * static_cast<int>(j % 2);
  return (std::uint64_t{w[o + 1]} << 32) | w[o];
}

/// Uniform in [0, 1) with 53 random bits.
inline double uniform01(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

/// Standard normal keyed by (seed, stream, index).
inline double standard_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  return random::normal(seed, 0, stream, static_cast<std::uint32_t>(index));
}

}  // namespace sdescore::nn::detail
