#include "sdescore/eval/metrics.hpp"

#include <doctest/doctest.h>

#include <random>

#include "eval_test_support.hpp"

using namespace sdescore;
using namespace sdescore::eval;

namespace eval_metrics_test {  // named and around the whole file: unity batches must not mix files' helpers
Eigen::MatrixXd normal_1d(Eigen::Index n, double mean, double sd, std::uint64_t seed) {
  return eval_test::gaussian_samples(n, Eigen::VectorXd::Constant(1, mean), Eigen::MatrixXd::Constant(1, 1, sd * sd), seed);
}
Eigen::MatrixXd normal_2d(Eigen::Index n, const Eigen::Vector2d& mean, std::uint64_t seed) {
  Eigen::Matrix2d c;
  c << 1.0, 0.3, 0.3, 0.5;
  return eval_test::gaussian_samples(n, mean, c, seed);
}
// E|Z| for Z ~ N(m, s^2).
double mean_abs_normal(double m, double s) {
  return s * std::sqrt(2 / M_PI) * std::exp(-m * m / (2 * s * s)) + m * (1 - 2 * eval_test::Phi(-m / s));
}

TEST_CASE("metrics: energy distance matches the closed form for two 1D Gaussians") {
  // X ~ N(0, 1), Y ~ N(1, 1.5^2): E = 2 E|X - Y| - E|X - X'| - E|Y - Y'| with
  // X - Y ~ N(-1, 1 + 2.25), X - X' ~ N(0, 2), Y - Y' ~ N(0, 4.5).
  const double exact = 2 * mean_abs_normal(-1.0, std::sqrt(3.25)) - mean_abs_normal(0.0, std::sqrt(2.0)) -
                       mean_abs_normal(0.0, std::sqrt(4.5));
  CHECK(exact == doctest::Approx(0.4870).epsilon(1e-3));
  const Eigen::MatrixXd a = normal_1d(2000, 0.0, 1.0, 1), b = normal_1d(2000, 1.0, 1.5, 2);
  // Standard deviation of the estimate at n = m = 2000, measured over 50 replications with
  // other seeds: 0.033. Tolerance 5 sd.
  CHECK(std::abs(energy_distance(a, b) - exact) < 5 * 0.033);
}

TEST_CASE("metrics: energy distance and sliced W1 are ~0 for one law and positive for shifted laws") {
  const Eigen::MatrixXd a = normal_2d(2000, Eigen::Vector2d(0, 0), 3);
  const Eigen::MatrixXd b = normal_2d(2000, Eigen::Vector2d(0, 0), 4);
  const Eigen::MatrixXd c = normal_2d(2000, Eigen::Vector2d(0.5, 0), 5);
  // Same law: the unbiased energy statistic is a degenerate U-statistic, fluctuating at
  // O(1/n) = 5e-4 here. W1 between two same-law 1D samples of n = 2000 unit-variance
  // values is biased upwards: measured mean 0.043, sd 0.015 over 50 replications, so
  // 0.043 + 5 sd bounds it (the sliced value averages projections of variance <= 1).
  const double e_same = energy_distance(a, b), e_shift = energy_distance(a, c);
  CHECK(std::abs(e_same) < 5e-3);
  // Shift of 0.5 along x: energy distance ~ 0.1 (far above the noise).
  CHECK(e_shift > 0.05);
  CHECK(e_shift > 20 * std::abs(e_same));
  const double w_same = sliced_wasserstein1(a, b), w_shift = sliced_wasserstein1(a, c);
  CHECK(w_same < 0.043 + 5 * 0.015);
  // E|theta_x| * 0.5 = (2/pi) 0.5 = 0.32 for directions uniform on the circle.
  CHECK(w_shift == doctest::Approx(0.5 * 2 / M_PI).epsilon(0.25));
}

TEST_CASE("metrics: subsampling keeps energy distance within its noise") {
  const Eigen::MatrixXd a = normal_1d(5000, 0.0, 1.0, 6), b = normal_1d(5000, 1.0, 1.5, 7);
  EnergyOptions all;
  all.max_samples = 0;
  EnergyOptions sub;  // default 2000 per set
  const double full = energy_distance(a, b, all), part = energy_distance(a, b, sub);
  CHECK(std::abs(full - part) < 5 * 0.033);  // sd of the 2000-subsample estimate, see above
  CHECK(energy_distance(a, b, sub) == energy_distance(a, b, sub));  // seeded, reproducible
}

TEST_CASE("metrics: 1D W1 is exact for shifted samples and for unequal sizes") {
  const Eigen::MatrixXd a = normal_1d(1000, 0.0, 1.0, 8);
  // b = a + 0.7 exactly: W1 = 0.7 up to round-off.
  const Eigen::VectorXd shifted = (a.col(0).array() + 0.7).matrix();
  CHECK(wasserstein1_1d(a.col(0), shifted) == doctest::Approx(0.7).epsilon(1e-12));
  CHECK(sliced_wasserstein1(a, Eigen::MatrixXd(shifted)) == doctest::Approx(0.7).epsilon(1e-12));
  // Hand-computed unequal sizes: a = {0, 1}, b = {0.5}: integral |F_a - F_b| = 0.5*0.5 + 0.5*0.5.
  CHECK(wasserstein1_1d(Eigen::Vector2d(1, 0), Eigen::VectorXd::Constant(1, 0.5)) == doctest::Approx(0.5));
  // Unequal sizes equal the equal-size answer when a sample is repeated.
  Eigen::VectorXd x(3), y(6);
  x << 0.3, -1.0, 2.0;
  y << 0.3, -1.0, 2.0, 0.3, -1.0, 2.0;
  const Eigen::VectorXd z = (x.array() * 1.3 + 0.2).matrix();
  Eigen::VectorXd zz(6);
  zz << z, z;
  CHECK(wasserstein1_1d(y, z) == doctest::Approx(wasserstein1_1d(x, z)).epsilon(1e-12));
  CHECK(wasserstein1_1d(zz, x) == doctest::Approx(wasserstein1_1d(z, x)).epsilon(1e-12));
  // Independent samples of N(0,1) and N(0.7,1): W1 = 0.7 exactly for the laws; the sample
  // estimate is off by O(1/sqrt(n)) ~ 0.03 at n = 4000 (tolerance 0.1).
  const Eigen::MatrixXd p = normal_1d(4000, 0.0, 1.0, 9), q = normal_1d(4000, 0.7, 1.0, 10);
  CHECK(std::abs(wasserstein1_1d(p.col(0), q.col(0)) - 0.7) < 0.1);
}

TEST_CASE("metrics: sliced W1 of an exact 2D shift is |c| times the mean |cos| of the directions") {
  const Eigen::MatrixXd a = normal_2d(500, Eigen::Vector2d(0, 0), 11);
  const Eigen::RowVector2d c(0.3, -0.4);
  const Eigen::MatrixXd b = a.rowwise() + c;
  SlicedOptions o;
  o.directions = 400;
  // each projection is shifted by theta.c exactly, so the value is mean_k |theta_k . c|,
  // whose expectation is |c| 2/pi and sd |c| sd(|cos|)/sqrt(K) = 0.5 * 0.31 / 20 = 0.008.
  CHECK(std::abs(sliced_wasserstein1(a, b, o) - 0.5 * 2 / M_PI) < 5 * 0.008);
}

TEST_CASE("metrics: mean, covariance and kurtosis errors") {
  const Eigen::MatrixXd a = normal_2d(20000, Eigen::Vector2d(0, 0), 12);
  const Eigen::MatrixXd b = normal_2d(20000, Eigen::Vector2d(0, 0), 13);
  // excess kurtosis of a Gaussian sample has sd sqrt(24/n) = 0.035 at n = 20000; the
  // difference of two has sd 0.049, max over 2 coordinates: tolerance 5 sd.
  CHECK(kurtosis_error(a, b) < 5 * 0.049);
  CHECK(mean_error(a, b) < 5 * std::sqrt(2 * 1.5 / 20000));
  CHECK(covariance_error(a, b) < 0.1);
  // Hand-computed values.
  Eigen::MatrixXd x(4, 1), y(4, 1);
  x << -1, -1, 1, 1;  // mean 0, var 4/3 (n-1), m2 = 1, m4 = 1: excess kurtosis -2
  y << 0, 0, 2, 2;
  CHECK(mean_error(x, y) == doctest::Approx(1.0));
  CHECK(covariance_error(x, y) < 1e-14);  // y = x + 1: same covariance
  CHECK(covariance_error(x, Eigen::MatrixXd(2 * x)) == doctest::Approx(4.0 * 4.0 / 3.0 - 4.0 / 3.0));
  CHECK(excess_kurtosis(x)(0) == doctest::Approx(-2.0));
  // Laplace (excess kurtosis 3) against a Gaussian: error ~ 3.
  std::mt19937_64 gen(14);
  std::exponential_distribution<double> ex(1.0);
  Eigen::MatrixXd lap(20000, 1);
  for (Eigen::Index i = 0; i < lap.rows(); ++i) lap(i, 0) = (i % 2 ? 1 : -1) * ex(gen);
  CHECK(kurtosis_error(lap, a.leftCols(1)) == doctest::Approx(3.0).epsilon(0.2));
}

TEST_CASE("metrics: compare_samples and the noise floor") {
  const Eigen::MatrixXd ref1 = normal_2d(2000, Eigen::Vector2d(0, 0), 15);
  const Eigen::MatrixXd ref2 = normal_2d(2000, Eigen::Vector2d(0, 0), 16);
  const Eigen::MatrixXd good = normal_2d(2000, Eigen::Vector2d(0, 0), 17);
  const Eigen::MatrixXd bad = normal_2d(2000, Eigen::Vector2d(0.4, 0.2), 18);
  const SampleMetrics m = compare_samples(bad, ref1);
  CHECK(m.energy == doctest::Approx(energy_distance(bad, ref1)));
  CHECK(m.sliced_w1 == doctest::Approx(sliced_wasserstein1(bad, ref1)));
  CHECK(m.mean_error == doctest::Approx(mean_error(bad, ref1)));
  CHECK(m.covariance_error == doctest::Approx(covariance_error(bad, ref1)));
  CHECK(m.kurtosis_error == doctest::Approx(kurtosis_error(bad, ref1)));
  const SampleMetricsWithFloor fb = compare_samples_with_floor(bad, ref1, ref2);
  const SampleMetricsWithFloor fg = compare_samples_with_floor(good, ref1, ref2);
  CHECK(fb.energy.floor == fg.energy.floor);
  CHECK(fb.energy.ratio() > 10);
  CHECK(fb.mean_error.ratio() > 5);
  CHECK(fb.sliced_w1.ratio() > 3);
  // Same law: the ratio is O(1) (value and floor are both pure sampling noise).
  CHECK(fg.sliced_w1.ratio() < 4);
  CHECK(fg.mean_error.ratio() < 10);
  CHECK(MetricWithFloor{0.0, 0.0}.ratio() == 1.0);
  CHECK_THROWS_AS(compare_samples(ref1, Eigen::MatrixXd(ref1.leftCols(1))), ConfigError);
  CHECK_THROWS_AS(energy_distance(ref1.topRows(1), ref2), ConfigError);
}

#include <omp.h>

TEST_CASE("metrics: results do not depend on the number of OpenMP threads") {
  const Eigen::MatrixXd a = normal_2d(1500, Eigen::Vector2d(0, 0), 19), b = normal_2d(1500, Eigen::Vector2d(0.2, 0), 20);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const double e1 = energy_distance(a, b), w1 = sliced_wasserstein1(a, b);
  omp_set_num_threads(4);
  const double e4 = energy_distance(a, b), w4 = sliced_wasserstein1(a, b);
  omp_set_num_threads(saved);
  CHECK(e1 == e4);  // bit-identical
  CHECK(w1 == w4);
}

}  // namespace eval_metrics_test
