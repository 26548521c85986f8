// portable_expm1 against glibc's expm1 (the reference: an independent implementation), and the
// phi functions of the 1D linearised transition built on it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "sdescore/core/expm1.hpp"
#include "sdescore/linearize/gaussian_transition.hpp"

using namespace sdescore;

namespace core_expm1_test {  // named and around the whole file: unity batches must not mix files' helpers

/// |a - ref| in units of the last place of ref (0 for equal values, both NaN or equal infinities).
double ulps(double a, double ref) {
  if (a == ref || (std::isnan(a) && std::isnan(ref))) return 0;
  if (!std::isfinite(a) || !std::isfinite(ref)) return std::numeric_limits<double>::infinity();
  const double r = std::abs(ref);
  return std::abs(a - ref) / (std::nextafter(r, std::numeric_limits<double>::infinity()) - r);
}

TEST_CASE("portable_expm1: within 2 ulp of libm's expm1 from -70 to 710 and for |x| from 2^-70 to 2^10") {
  std::mt19937_64 gen(20261202);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double worst = 0, worst_x = 0;
  std::int64_t differ = 0, n = 0;
  auto check = [&](double x) {
    const double e = ulps(portable_expm1(x), std::expm1(x));
    ++n;
    differ += e > 0;
    if (e > worst) {
      worst = e;
      worst_x = x;
    }
  };
  for (int i = 0; i < 400000; ++i) check((u(gen) < 0.5 ? -1 : 1) * std::exp2(80 * u(gen) - 70) * (1 + u(gen)));
  for (int i = 0; i < 300000; ++i) check(-70 + 780 * u(gen));
  for (int i = 0; i < 300000; ++i) check(-1 + 2 * u(gen));  // the range the LL step lives in
  MESSAGE("worst ", worst, " ulp at x = ", worst_x, "; differs from libm in ", differ, " of ", n);
  CHECK(worst <= 2.0);
  CHECK(double(differ) < 0.05 * double(n));
}

TEST_CASE("portable_expm1: signed zeros, tiny and subnormal arguments, saturation, overflow, infinities, NaN") {
  for (double x : {0.0, -0.0, 1e-300, -1e-300, 4.9406564584124654e-324, -4.9406564584124654e-324, 1e-17, -1e-17}) {
    CHECK(portable_expm1(x) == std::expm1(x));
    CHECK(std::signbit(portable_expm1(x)) == std::signbit(x));
  }
  CHECK(portable_expm1(-37.5) == std::expm1(-37.5));
  for (double x : {-40.0, -745.0, -1e6, -std::numeric_limits<double>::infinity()}) CHECK(portable_expm1(x) == -1.0);
  CHECK(portable_expm1(709.782712893384) == std::expm1(709.782712893384));  // the largest finite result
  for (double x : {709.7827128933841, 710.0, 1e6, std::numeric_limits<double>::infinity()})
    CHECK(portable_expm1(x) == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(portable_expm1(std::numeric_limits<double>::quiet_NaN())));
}

TEST_CASE("phi1, phi2 and phi1(2z) of the 1D transition equal their definitions to 1e-14, across the series switch") {
  for (double z : {-30.0, -3.0, -0.7, -0.2500001, -0.25, -0.2499999, -0.1, -1e-3, -1e-6, -1e-12, 0.0, 1e-12, 1e-6, 1e-3,
                   0.1, 0.2499999, 0.25, 0.3, 0.7, 3.0, 30.0}) {
    double p1, p2, p1_2z;
    phi12(z, p1, p2, p1_2z);
    // references in long double: libm's expm1l; phi2 by its series where the closed form cancels
    const long double zl = z;
    const long double r1 = z == 0 ? 1.0L : std::expm1l(zl) / zl;
    const long double r1_2z = z == 0 ? 1.0L : std::expm1l(2 * zl) / (2 * zl);
    long double r2 = 0, term = 0.5L;
    if (std::abs(z) < 0.5) {
      for (int k = 0; k < 40; ++k) {  // sum_k z^k / (k + 2)!
        r2 += term;
        term *= zl / (k + 3);
      }
    } else {
      r2 = (std::expm1l(zl) - zl) / (zl * zl);
    }
    CHECK_MESSAGE(p1 == doctest::Approx(double(r1)).epsilon(1e-14), "z = ", z);
    CHECK_MESSAGE(p2 == doctest::Approx(double(r2)).epsilon(1e-14), "z = ", z);
    CHECK_MESSAGE(p1_2z == doctest::Approx(double(r1_2z)).epsilon(1e-14), "z = ", z);
    CHECK(phi1(z) == p1);
    CHECK(phi2(z) == p2);
  }
  double p1, p2, p1_2z;
  phi12(0.0, p1, p2, p1_2z);
  CHECK(p1 == 1.0);  // exact at z = 0
  CHECK(p2 == 0.5);
  CHECK(p1_2z == 1.0);
}

}  // namespace core_expm1_test
