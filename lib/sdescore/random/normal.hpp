#pragma once
/// \file
/// Standard normal variates keyed by (seed, stream, counter, j).
///
///   z_j(seed, stream, counter) ~ N(0, 1),  independent over all four arguments,
///
/// from Philox4x32-10 (philox.hpp; words of sub-block j / 2) and Box-Muller on 52-bit uniforms:
///   u1 in (0, 1], u2 in [0, 1),  r = sqrt(-2 log u1),  a = 2 pi u2,
///   z_{2s} = r cos(a),  z_{2s+1} = r cos(a - pi/2)   (= r sin a; written as a cosine so that GCC
///   calls the vector cos instead of a scalar sincos).
/// All entry points run the same vectorised kernel on fixed chunks of kLanes variates (no scalar
/// remainder), so a variate has the same bits whichever entry point or batch produced it, within
/// one build. Changing -march (vector width), the compiler or glibc's libmvec may change the last
/// bits. Tails: |z| <= sqrt(2 * 52 ln 2) = 8.49.
#include <cstddef>
#include <cstdint>
#include <span>

#include "sdescore/random/philox.hpp"

namespace sdescore::random {

/// Variates are produced in chunks of kLanes; batch buffers are padded to a multiple of it.
inline constexpr int kLanes = 16;

/// n rounded up to a multiple of kLanes: the row length `normal_block` writes.
constexpr std::int64_t padded_count(std::int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

/// out[j] = z_j(seed, stream, counter) for j < out.size(). For a few normals of one sample,
/// e.g. the score layer advancing sample `id` at step k: normals(seed, id, k, dW).
/// Throws ConfigError if stream >= 2^32 or out.size() > 2^32.
void normals(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::span<double> out);

/// z_j(seed, stream, counter). Convenience; use `normals` or `normal_block` for many.
double normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::uint32_t j);

/// The batch kernel of the ensemble engine (dimension-major, one row per variate index):
///   out[j * ld + i] = z_j(seed, first_stream + i, counter)   for j < m, i < n.
/// Each row is written up to padded_count(n) entries (the tail is scratch), so ld must be
/// >= padded_count(n). Throws ConfigError if ld is too small or first_stream + n > 2^32.
void normal_block(std::uint64_t seed, std::uint64_t first_stream, std::int64_t n, std::uint64_t counter, int m,
                  double* out, std::ptrdiff_t ld);

namespace detail {
/// The same, without argument checks (hot loop of the ensemble engine; the engine checks once).
void normal_block_unchecked(std::uint64_t seed, std::uint64_t first_stream, std::int64_t n, std::uint64_t counter,
                            int m, double* out, std::ptrdiff_t ld) noexcept;
}  // namespace detail

}  // namespace sdescore::random
