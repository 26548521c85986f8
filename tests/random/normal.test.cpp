// tests/random/normal.test.cpp - normal variates: one pure function of (seed, stream, counter, j)
// whatever entry point or batch decomposition computed it, with the right law.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
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

TEST_CASE("normal_block (row-specialised Philox rounds) equals normal for 64-bit seeds, counters >= 2^32, any sub") {
  for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{0xDEADBEEF12345678ull}, ~std::uint64_t{0}})
    for (const std::uint64_t counter : {std::uint64_t{0}, (std::uint64_t{1} << 40) + 7, ~std::uint64_t{0} >> 1}) {
      const int m = 6;
      const std::int64_t nb = 37;
      const std::ptrdiff_t ld = padded_count(nb);
      std::vector<double> z(static_cast<std::size_t>(m * ld));
      normal_block(seed, 0xFFFFFF00ull, nb, counter, m, z.data(), ld);  // streams cross 2^32 - 1 at the end
      for (int j = 0; j < m; ++j)
        for (std::int64_t i = 0; i < nb; ++i)
          REQUIRE(z[static_cast<std::size_t>(j * ld + i)] ==
                  normal(seed, 0xFFFFFF00ull + static_cast<std::uint64_t>(i), counter, static_cast<std::uint32_t>(j)));
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

namespace {
// Independent reference: Random123's Philox words (philox.hpp) and glibc's log, sqrt, cos, sin.
double reference_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter, std::uint32_t j) {
  const Words w = philox_words(seed, stream, counter, j / 2);
  const std::uint64_t b1 = 0x3FF0000000000000ull | (std::uint64_t{w[1]} << 20) | (w[0] >> 12);
  const std::uint64_t b2 = 0x3FF0000000000000ull | (std::uint64_t{w[3]} << 20) | (w[2] >> 12);
  double f1, f2;
  std::memcpy(&f1, &b1, 8);
  std::memcpy(&f2, &b2, 8);
  const double u1 = 2.0 - f1, u2 = f2 - 1.0;
  const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
  return j % 2 ? r * std::sin(a) : r * std::cos(a);
}

bool has_fma(const std::string& target) { return target.rfind("AVX", 0) == 0; }

// Restores automatic target selection when a test that forces targets ends (or fails).
struct AutoTarget {
  ~AutoTarget() { set_simd_target("auto"); }
};
}  // namespace

TEST_CASE("variates follow the documented key/counter layout: Random123 words + Box-Muller, to 1e-14") {
  // The kernel's log/sin/cos are Highway polynomials, glibc's are correctly rounded or nearly:
  // they agree to a few ulp; a wrong key, counter word or bit layout would be off by O(1).
  double worst = 0;
  for (std::uint64_t seed : {0ull, 0x5EEDull, 0xFFFFFFFF00000001ull})
    for (std::uint64_t stream : {0ull, 7ull, 4294967295ull})
      for (std::uint64_t counter : {0ull, 1ull, 123456789012ull, (1ull << 63) + 5}) {
        std::vector<double> z(37);
        normals(seed, stream, counter, z);
        for (std::uint32_t j = 0; j < z.size(); ++j) {
          const double ref = reference_normal(seed, stream, counter, j);
          worst = std::max(worst, std::abs(z[j] - ref) / (1.0 + std::abs(ref)));
        }
      }
  CHECK(worst < 1e-14);
  MESSAGE("largest |z - z_libm| / (1 + |z|) = " << worst << " on target " << simd_target());
}

TEST_CASE("bit-identical across SIMD targets with FMA; pre-FMA targets within 1e-14") {
  const auto targets = simd_targets();
  REQUIRE(!targets.empty());
  MESSAGE("SIMD targets available: " << [&] {
    std::string s;
    for (const auto& t : targets) s += t + " ";
    return s;
  }());
  AutoTarget restore;
  const std::int64_t n = 1000;
  const int m = 3;
  const std::ptrdiff_t ld = padded_count(n);
  auto draw = [&](const std::string& target) {
    set_simd_target(target);
    REQUIRE(simd_target() == target);
    std::vector<double> out(static_cast<std::size_t>(m * ld) + 41);
    normal_block(0xC0FFEEull, 4242, n, 987654321, m, out.data(), ld);
    normals(0xC0FFEEull, 17, 5, std::span<double>(out.data() + m * ld, 40));  // lanes over j
    out.back() = normal(0xC0FFEEull, 4294967295ull, 1ull << 40, 11);
    return out;
  };
  const auto best = draw(targets.front());
  for (const auto& t : targets) {
    const auto z = draw(t);
    std::size_t differ = 0;
    double worst = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
      differ += std::memcmp(&z[i], &best[i], sizeof(double)) != 0;
      worst = std::max(worst, std::abs(z[i] - best[i]));
    }
    if (has_fma(t) && has_fma(targets.front())) {
      CHECK_MESSAGE(differ == 0, t << " vs " << targets.front());
    } else {
      CHECK_MESSAGE(worst < 1e-14, t << " vs " << targets.front());
      MESSAGE(t << " (no FMA) vs " << targets.front() << ": " << differ << " of " << z.size()
                << " variates differ, by at most " << worst);
    }
  }
}

TEST_CASE("an unknown SIMD target is refused with the valid ones") {
  AutoTarget restore;
  CHECK_THROWS_WITH_AS(set_simd_target("NEON"), doctest::Contains("valid: auto"), sdescore::ConfigError);
  CHECK_NOTHROW(set_simd_target("scalar"));
  CHECK(simd_target() == "SCALAR");
}

// Run by the ctest entries random_env_target (SDESCORE_SIMD_TARGET=scalar) and
// random_env_target_bad (=NEON) with only this test case, so the variable is read at the first draw.
TEST_CASE("SDESCORE_SIMD_TARGET: environment selection before the first draw") {
  const char* env = std::getenv("SDESCORE_SIMD_TARGET");
  if (env == nullptr) return;  // see tests/random/CMakeLists.txt
  if (std::string(env) == "scalar") {
    const double z = normal(3, 4, 5, 6);
    CHECK(simd_target() == "SCALAR");
    CHECK(std::abs(z - reference_normal(3, 4, 5, 6)) < 1e-14 * (1 + std::abs(z)));
  } else {
    CHECK_THROWS_WITH_AS(normal(3, 4, 5, 6), doctest::Contains("SIMD target 'NEON' is not available"),
                         sdescore::ConfigError);
    CHECK_THROWS_AS(simd_target(), sdescore::ConfigError);  // still refused on the next call
  }
}
