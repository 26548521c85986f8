#pragma once
// Counter-based random numbers for parameter init and probes: value = hash(seed, stream, index).
// Bit-identical on any platform and thread count (std:: distributions are implementation-defined).
#include <cmath>
#include <cstdint>

namespace sdescore::nn::detail {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// 64 random bits keyed by (seed, stream, index).
inline std::uint64_t random_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  return splitmix64(splitmix64(splitmix64(seed) ^ stream) + index * 0xD1B54A32D192ED03ull);
}

/// Uniform in [0, 1) with 53 random bits.
inline double uniform01(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

/// Standard normal from two counter draws (Box-Muller, first output).
inline double standard_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  const double u1 = 1.0 - uniform01(random_bits(seed, stream, 2 * index));  // (0, 1]
  const double u2 = uniform01(random_bits(seed, stream, 2 * index + 1));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace sdescore::nn::detail
