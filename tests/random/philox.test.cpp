// tests/random/philox.test.cpp - the key/counter layout, the SoA Philox against Random123,
// uniforms, seed derivation.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <vector>

#include "sdescore/random/detail/philox_lanes.hpp"
#include "sdescore/random/philox.hpp"

using namespace sdescore::random;

TEST_CASE("SoA Philox4x32-10 lanes are bit-identical to r123::Philox4x32") {
  constexpr int L = 16;
  for (std::uint64_t seed : {0ull, 1ull, 0xDEADBEEFCAFEF00Dull}) {
    std::uint32_t c0[L], c1[L], c2[L], c3[L];
    for (int i = 0; i < L; ++i) {
      c0[i] = static_cast<std::uint32_t>(i * 7u);
      c1[i] = 0xFFFFFFF0u + static_cast<std::uint32_t>(i);
      c2[i] = static_cast<std::uint32_t>(i * 0x10001u);
      c3[i] = 123456u + static_cast<std::uint32_t>(i);
    }
    std::uint32_t in0[L], in1[L], in2[L], in3[L];
    for (int i = 0; i < L; ++i) in0[i] = c0[i], in1[i] = c1[i], in2[i] = c2[i], in3[i] = c3[i];
    sdescore::random::detail::philox4x32_10_lanes<L>(static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), c0, c1,
                                   c2, c3);
    for (int i = 0; i < L; ++i) {
      const std::uint64_t counter = (std::uint64_t{in2[i]} << 32) | in1[i];
      const Words w = philox_words(seed, in3[i], counter, in0[i]);
      CHECK(w[0] == c0[i]);
      CHECK(w[1] == c1[i]);
      CHECK(w[2] == c2[i]);
      CHECK(w[3] == c3[i]);
    }
  }
}

TEST_CASE("Philox known-answer test (Random123 kat_vectors, philox4x32 10 rounds)") {
  // From Random123's kat_vectors: philox4x32 10 ctr=0 key=0 -> 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
  const Words w = philox_words(0, 0, 0, 0);
  CHECK(w[0] == 0x6627e8d5u);
  CHECK(w[1] == 0xe169c58du);
  CHECK(w[2] == 0xbc57ac4cu);
  CHECK(w[3] == 0x9b00dbd8u);
}

TEST_CASE("uniforms: range, moments, and distinct keys give distinct words") {
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = uniform(42, static_cast<std::uint64_t>(i), 7, static_cast<std::uint32_t>(i % 3));
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    s += u;
    s2 += u * u;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  // sd of the mean of U(0,1) is sqrt(1/12 / n) = 6.5e-4: 5 sigma.
  CHECK(std::abs(mean - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  // sd of the sample variance ~ sqrt((1/80 - 1/144) / n) = 1.7e-4: 5 sigma.
  CHECK(std::abs(var - 1.0 / 12) < 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
  std::set<double> seen;
  for (std::uint64_t seed : {1ull, 2ull})
    for (std::uint64_t stream : {0ull, 1ull})
      for (std::uint64_t counter : {0ull, 1ull, 1ull << 32})
        for (std::uint32_t j : {0u, 1u, 2u}) seen.insert(uniform(seed, stream, counter, j));
  CHECK(seen.size() == 2 * 2 * 3 * 3);
}

TEST_CASE("derive_seed separates domains") {
  CHECK(derive_seed(1, "a") != derive_seed(1, "b"));
  CHECK(derive_seed(1, "a") != derive_seed(2, "a"));
  CHECK(derive_seed(1, "a") == derive_seed(1, "a"));
  static_assert(derive_seed(7, "x") == derive_seed(7, "x"));
}
