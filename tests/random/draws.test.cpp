// KeyedDraws: a sequence that is a pure function of (seed, stream, position), built from the
// keyed variates of normal.hpp / philox.hpp.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <vector>

#include "sdescore/random/draws.hpp"

using namespace sdescore;
using namespace sdescore::random;

TEST_CASE("KeyedDraws: the k-th uniform and normal are the keyed variates") {
  KeyedDraws d(7, 3);
  for (std::uint32_t k = 0; k < 5; ++k) CHECK(d.uniform() == uniform(7, 3, 0, k));
  std::array<double, 64> z{};
  normals(7, 3, 1, std::span<double>(z.data(), 32));
  normals(7, 3, 2, std::span<double>(z.data() + 32, 32));
  for (int j = 0; j < 64; ++j) CHECK(d.normal() == z[j]);  // interleaving uniforms does not shift normals
  CHECK(d.uniform() == uniform(7, 3, 0, 5));
}

TEST_CASE("KeyedDraws: same key, same sequence; other key, other sequence") {
  KeyedDraws a(1, 2), b(1, 2), c(1, 3), e(2, 2);
  for (int i = 0; i < 10; ++i) {
    const double x = a.normal(), y = b.normal();
    CHECK(x == y);
    CHECK(x != c.normal());
    CHECK(x != e.normal());
  }
  CHECK_THROWS_AS(KeyedDraws(1, std::uint64_t{1} << 32), ConfigError);
}

TEST_CASE("KeyedDraws: uniform_int covers 0..n-1 evenly (chi-square, fixed seed)") {
  KeyedDraws d(11, 0);
  const int n = 7, N = 70000;
  std::vector<int> count(n, 0);
  for (int i = 0; i < N; ++i) {
    const int k = d.uniform_int(n);
    REQUIRE(k >= 0);
    REQUIRE(k < n);
    ++count[k];
  }
  double chi2 = 0;
  for (int c : count) chi2 += (c - N / double(n)) * (c - N / double(n)) / (N / double(n));
  CHECK(chi2 < 22.5);  // chi-square with 6 degrees of freedom: P(> 22.5) = 0.001
  double m = 0, m2 = 0;
  for (int i = 0; i < N; ++i) {
    const double z = d.normal();
    m += z / N;
    m2 += z * z / N;
  }
  CHECK(std::abs(m) < 5 / std::sqrt(double(N)));
  CHECK(std::abs(m2 - 1) < 5 * std::sqrt(2.0 / N));
}
