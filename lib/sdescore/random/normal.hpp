#pragma once
/// \file
/// Standard normal variates keyed by (seed, stream, counter, j).
///
///   z_j(seed, stream, counter) ~ N(0, 1),  independent over all four arguments,
///
/// from Philox4x32-10 (philox.hpp; words of sub-block j / 2) and Box-Muller on 52-bit uniforms:
///   u1 in (0, 1], u2 in [0, 1),  r = sqrt(-2 log u1),  a = 2 pi u2,
///   z_{2s} = r cos(a),  z_{2s+1} = r sin(a),
/// with log the polynomial approximation of Google Highway (hwy/contrib/math, within 4 ulp of the
/// exact function) and cos and sin of 2 pi u2 the kernel's own (exact quadrant reduction, within
/// 1.1 ulp; 1.6 ulp on pre-FMA targets), evaluated by a vector kernel dispatched at run time to the
/// best SIMD target of the CPU (AVX3 = AVX-512, AVX2, SSE4, SSSE3, SCALAR).
/// Bits: every entry point and batch decomposition gives the same bits; so does every target with
/// FMA (AVX2, AVX3: tests/random/normal.test.cpp forces each and compares). Pre-FMA targets (SSE4,
/// SSSE3, SCALAR) round the polynomials' multiply-adds twice and may differ in the last bits.
/// Tails: |z| <= sqrt(2 * 52 ln 2) = 8.49.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

/// SIMD targets compiled into the library and supported by this CPU, best first (e.g. "AVX3",
/// "AVX2", "SSE4", "SSSE3", "SCALAR").
std::vector<std::string> simd_targets();

/// The target the kernels run on: the best available one, unless forced by set_simd_target or
/// the environment variable SDESCORE_SIMD_TARGET (read before the first draw).
std::string simd_target();

/// Forces the kernels onto `name` (one of simd_targets(), case-insensitive), or back to the best
/// with "auto" or "". Process-wide; not to be called while another thread draws. Throws
/// ConfigError naming the valid targets. For tests and benchmarks across targets.
void set_simd_target(std::string_view name);

namespace detail {
/// The same, without argument checks (hot loop of the ensemble engine; the engine checks once).
void normal_block_unchecked(std::uint64_t seed, std::uint64_t first_stream, std::int64_t n, std::uint64_t counter,
                            int m, double* out, std::ptrdiff_t ld) noexcept;

/// The kernel's Box-Muller stage alone, on the current SIMD target: z[2 i] and z[2 i + 1] from
/// the Philox output words w[i] exactly as normal() computes z_{2 sub}, z_{2 sub + 1} from the
/// words of sub-block sub. For tests at chosen uniforms (the angle's quadrant boundaries, the
/// tails). Throws ConfigError unless z.size() == 2 w.size().
void box_muller(std::span<const Words> w, std::span<double> z);

/// The kernel's angle stage alone, on the current SIMD target: c[i] = cos(2 pi u[i]) and
/// s[i] = sin(2 pi u[i]) as the variates use them (z_{2 sub} = r c, z_{2 sub + 1} = r s). For
/// tests. Throws ConfigError unless every u[i] is a multiple of 2^-52 in [0, 1) (the uniforms u2
/// of the kernel) and c and s have u.size() entries.
void cos_sin_2pi(std::span<const double> u, std::span<double> c, std::span<double> s);
}  // namespace detail

}  // namespace sdescore::random
