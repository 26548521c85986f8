// tests/random/normal.test.cpp - normal variates: one pure function of (seed, stream, counter, j)
// whatever entry point or batch decomposition computed it, with the right law.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sdescore/core/error.hpp"
#include "sdescore/random/normal.hpp"

using namespace sdescore::random;

namespace {
double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
}  // namespace

TEST_CASE("normal, normals and normal_block agree bit for bit under any decomposition") {
  const std::uint64_t seed = 0x5EEDull, counter = 12345;
  const int m = 5;
  const std::int64_t n = 100;
  // Reference: one variate at a time.
  std::vector<double> ref(static_cast<std::size_t>(m * n));
  for (int j = 0; j < m; ++j)
    for (std::int64_t i = 0; i < n; ++i)
      ref[static_cast<std::size_t>(j * n + i)] = normal(seed, 1000 + static_cast<std::uint64_t>(i), counter, static_cast<std::uint32_t>(j));
  // normals(): all m of one stream.
  for (std::int64_t i = 0; i < n; i += 7) {
    std::vector<double> z(m);
    normals(seed, 1000 + static_cast<std::uint64_t>(i), counter, z);
    for (int j = 0; j < m; ++j) CHECK(z[static_cast<std::size_t>(j)] == ref[static_cast<std::size_t>(j * n + i)]);
  }
  // normal_block() over blocks of sizes not aligned to kLanes, and with fewer rows (m odd/even).
  for (std::int64_t bs : {1, 3, 16, 17, 64, 100}) {
    for (int mm : {1, 2, m}) {
      for (std::int64_t b0 = 0; b0 < n; b0 += bs) {
        const std::int64_t nb = std::min(bs, n - b0);
        const std::ptrdiff_t ld = padded_count(nb) + 16;
        std::vector<double> z(static_cast<std::size_t>(mm * ld));
        normal_block(seed, 1000 + static_cast<std::uint64_t>(b0), nb, counter, mm, z.data(), ld);
        for (int j = 0; j < mm; ++j)
          for (std::int64_t i = 0; i < nb; ++i)
            REQUIRE(z[static_cast<std::size_t>(j * ld + i)] == ref[static_cast<std::size_t>(j * n + b0 + i)]);
      }
    }
  }
}

TEST_CASE("normal variates: mean 0, variance 1, Kolmogorov-Smirnov and chi-square") {
  const std::int64_t n = 1 << 20;
  std::vector<double> z(static_cast<std::size_t>(2 * n));
  normal_block(2024, 0, n, 3, 2, z.data(), n);  // two rows: cos and sin variates
  for (int row = 0; row < 2; ++row) {
    std::vector<double> x(z.begin() + row * n, z.begin() + (row + 1) * n);
    double s = 0, s2 = 0;
    for (double v : x) s += v, s2 += v * v;
    const double mean = s / n, var = s2 / n - mean * mean;
    // sd(mean) = 1/sqrt(n) ~ 1e-3, sd(var) = sqrt(2/n) ~ 1.4e-3; allow 5 sigma.
    CHECK(std::abs(mean) < 5.0 / std::sqrt(double(n)));
    CHECK(std::abs(var - 1.0) < 5.0 * std::sqrt(2.0 / n));
    // KS: sqrt(n) D_n < 1.95 has probability 0.999 under the null.
    std::sort(x.begin(), x.end());
    double D = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double F = Phi(x[static_cast<std::size_t>(i)]);
      D = std::max({D, F - double(i) / n, double(i + 1) / n - F});
    }
    CHECK(std::sqrt(double(n)) * D < 1.95);
    // Chi-square on 40 equiprobable bins: 39 dof, mean 39, sd 8.8; 99.9% quantile ~ 72.
    const int K = 40;
    std::vector<double> cnt(K, 0.0);
    for (double v : x) cnt[static_cast<std::size_t>(std::min(K - 1, int(Phi(v) * K)))] += 1;
    double chi2 = 0;
    for (double c : cnt) chi2 += (c - double(n) / K) * (c - double(n) / K) / (double(n) / K);
    CHECK(chi2 < 72.0);
  }
  // The two variates of a pair are uncorrelated: sd of the sample correlation ~ 1/sqrt(n).
  double sxy = 0;
  for (std::int64_t i = 0; i < n; ++i) sxy += z[static_cast<std::size_t>(i)] * z[static_cast<std::size_t>(n + i)];
  CHECK(std::abs(sxy / n) < 5.0 / std::sqrt(double(n)));
}

TEST_CASE("neighbouring streams, counters and seeds are uncorrelated") {
  const int n = 1 << 16;
  auto corr = [&](auto fa, auto fb) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += fa(i) * fb(i);
    return s / n;
  };
  std::vector<double> a(n), b(n), c(n), d(n);
  normal_block(1, 0, n, 0, 1, a.data(), n);
  normal_block(1, 1, n, 0, 1, b.data(), n);  // shifted stream
  normal_block(1, 0, n, 1, 1, c.data(), n);  // next counter
  normal_block(2, 0, n, 0, 1, d.data(), n);  // next seed
  const double tol = 5.0 / std::sqrt(double(n));  // sd of a sample correlation ~ 1/sqrt(n)
  CHECK(std::abs(corr([&](int i) { return a[i]; }, [&](int i) { return b[i]; })) < tol);
  CHECK(std::abs(corr([&](int i) { return a[i]; }, [&](int i) { return c[i]; })) < tol);
  CHECK(std::abs(corr([&](int i) { return a[i]; }, [&](int i) { return d[i]; })) < tol);
}

TEST_CASE("stream range is checked") {
  std::vector<double> z(32);
  CHECK_THROWS_AS(normal_block(1, (1ull << 32) - 4, 8, 0, 1, z.data(), 16), sdescore::ConfigError);
  CHECK_THROWS_AS(normal(1, 1ull << 32, 0, 0), sdescore::ConfigError);
  CHECK_THROWS_AS(normal_block(1, 0, 20, 0, 2, z.data(), 16), sdescore::ConfigError);  // ld < 32
  CHECK_NOTHROW(normal_block(1, (1ull << 32) - 8, 8, 0, 1, z.data(), 16));
}
