#pragma once
// Philox4x32-10 on kLanes independent counters in structure-of-arrays form, written so that
// GCC vectorises it (32x32->64 widening multiplies). Bit-identical to r123::Philox4x32
// (tests/random/philox.test.cpp checks it).
#include <cstdint>

namespace sdescore::random::detail {

template <int L>
inline void philox4x32_10_lanes(std::uint32_t k0, std::uint32_t k1, std::uint32_t* __restrict c0,
                                std::uint32_t* __restrict c1, std::uint32_t* __restrict c2,
                                std::uint32_t* __restrict c3) {
  constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    for (int i = 0; i < L; ++i) {
      const std::uint64_t p0 = std::uint64_t{M0} * c0[i];
      const std::uint64_t p1 = std::uint64_t{M1} * c2[i];
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[i] ^ k0;
      const std::uint32_t n1 = static_cast<std::uint32_t>(p1);
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[i] ^ k1;
      const std::uint32_t n3 = static_cast<std::uint32_t>(p0);
      c0[i] = n0;
      c1[i] = n1;
      c2[i] = n2;
      c3[i] = n3;
    }
    k0 += W0;
    k1 += W1;
  }
}

}  // namespace sdescore::random::detail
