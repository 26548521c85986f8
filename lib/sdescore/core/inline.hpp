#pragma once
/// \file
/// SDESCORE_FORCE_INLINE: for the small functions of a step that the engine's SIMD clones of the
/// step loop (GCC target_clones, ensemble/engine.hpp) must inline. A clone has its own `arch`
/// and GCC inlines a function of the default target into it only when that function is
/// always_inline; whatever GCC's size limits leave out of line stays a scalar call per path.
#if defined(__GNUC__) && !defined(__clang__)
#define SDESCORE_FORCE_INLINE __attribute__((always_inline)) inline
#else
#define SDESCORE_FORCE_INLINE inline
#endif

#include <bit>
#include <cstdint>
#include <type_traits>

namespace sdescore {

/// `c ? a : b` on values, for double or a scalar wrapping one (ensemble::Lane). A conditional
/// between two lvalues of a class type selects an address, which keeps the operands in memory
/// and the engine's loop over paths from if-converting; selecting the doubles does not.
template <class S>
SDESCORE_FORCE_INLINE S select_value(bool c, const S& a, const S& b) {
  if constexpr (std::is_arithmetic_v<S>)
    return c ? a : b;
  else
    return S(c ? static_cast<double>(a) : static_cast<double>(b));
}

/// The same by bit masks: for a condition that does not vary across the engine's paths (an option,
/// a constant noise), where GCC 12 does not vectorise a select on a loop-invariant bool.
template <class S>
SDESCORE_FORCE_INLINE S select_bits(bool c, const S& a, const S& b) {
  const std::uint64_t m = std::uint64_t{0} - static_cast<std::uint64_t>(c);
  const auto ua = std::bit_cast<std::uint64_t>(static_cast<double>(a));
  const auto ub = std::bit_cast<std::uint64_t>(static_cast<double>(b));
  return S(std::bit_cast<double>((ua & m) | (ub & ~m)));
}

}  // namespace sdescore
