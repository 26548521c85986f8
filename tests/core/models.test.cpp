// Model conformance: finite values, dimensions, validation of bad parameters, stationary laws.
#include <doctest/doctest.h>

#include <vector>

#include "sdescore/sdescore.hpp"
#include "test_support.hpp"

using namespace sdescore;

TEST_CASE_TEMPLATE("every model: finite drift and diffusion of the declared shapes; default parameters valid", M,
                   models::DoubleWell, models::OU1, models::OU2, models::ActiveSwimmer, models::ActiveBrownian2D,
                   models::UnderdampedLangevin, models::OverdampedLangevin1D, models::OverdampedLangevin2D) {
  static_assert(SdeModel<M>);
  M m;
  CHECK_NOTHROW(m.validate());
  test::GaussianIncrements rng(7);
  for (int i = 0; i < 50; ++i) {
    Vec<double, M::state_dim> y;
    for (int j = 0; j < M::state_dim; ++j) y(j) = 2 * rng.normal();
    CHECK(m.drift(y, 0.5).allFinite());
    CHECK(m.diffusion(y, 0.5).allFinite());
  }
  int n_params = 0;
  m.for_each_param([&](const ParamInfo& p, double& v) {
    ++n_params;
    CHECK(!p.name.empty());
    CHECK(!p.meaning.empty());
  });
  CHECK(n_params > 0);
}

TEST_CASE("bad parameters are rejected with messages naming the value and the valid range") {
  models::DoubleWell dw;
  dw.T = -0.5;
  CHECK_THROWS_WITH_AS(dw.validate(), doctest::Contains("parameter T = -0.5 is out of range: valid values are in (0, inf)"),
                       ConfigError);
  dw.T = std::nan("");
  CHECK_THROWS_WITH_AS(dw.validate(), doctest::Contains("parameter T = nan is not a finite number"), ConfigError);
  dw.T = 0.5;
  dw.a = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(dw.validate(), doctest::Contains("parameter a = inf"), ConfigError);
  models::ActiveBrownian2D abp;
  abp.Dr = 0.0;
  CHECK_THROWS_WITH_AS(abp.validate(), doctest::Contains("Dr = 0"), ConfigError);
  abp.Dr = 1.0;
  abp.Dt = 0.0;  // zero translational noise is allowed (Dt >= 0)
  CHECK_NOTHROW(abp.validate());
  models::OverdampedLangevin2D ol;
  ol.target.widths[1] = -0.1;
  CHECK_THROWS_WITH_AS(ol.validate(), doctest::Contains("s1 = -0.10000000000000001"), ConfigError);
  models::OU2 ou;
  ou.S.setZero();
  CHECK_THROWS_WITH_AS(ou.validate(), doctest::Contains("positive definite"), ConfigError);
}

namespace core_models_test {  // named and around the whole file: unity batches must not mix files' helpers

/// Pearson chi-square of a histogram of samples against a density known up to normalisation
/// (normalised by Simpson quadrature over [lo, hi]; samples outside are pooled in the two tails).
template <class LogDensity>
double chi_square(const std::vector<double>& xs, LogDensity&& logp, double lo, double hi, int bins) {
  const int q = 200;  // Simpson panels per bin
  std::vector<double> mass(bins + 2, 0.0);
  double total = 0;
  const double w = (hi - lo) / bins;
  for (int b = 0; b < bins; ++b) {
    const double h = w / q;
    double s = 0;
    for (int i = 0; i <= q; ++i) s += ((i == 0 || i == q) ? 1 : (i % 2 ? 4 : 2)) * std::exp(logp(lo + b * w + i * h));
    mass[b + 1] = s * h / 3;
    total += mass[b + 1];
  }
  // tails: integrate far enough that the neglected mass is negligible
  auto tail = [&](double a, double b) {
    const int n = 4000;
    const double h = (b - a) / n;
    double s = 0;
    for (int i = 0; i <= n; ++i) s += ((i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2)) * std::exp(logp(a + i * h));
    return s * h / 3;
  };
  mass[0] = tail(lo - 10, lo);
  mass[bins + 1] = tail(hi, hi + 10);
  total += mass[0] + mass[bins + 1];
  std::vector<double> count(bins + 2, 0.0);
  for (double x : xs) {
    const int b = x < lo ? 0 : (x >= hi ? bins + 1 : std::min(bins, 1 + static_cast<int>((x - lo) / w)));
    count[b] += 1;
  }
  double chi2 = 0;
  for (int b = 0; b < bins + 2; ++b) {
    const double e = xs.size() * mass[b] / total;
    chi2 += (count[b] - e) * (count[b] - e) / e;
  }
  return chi2;
}


TEST_CASE("stationary law: double-well histogram against the Boltzmann density (chi-square)") {
  models::DoubleWell m{.a = 1.0, .T = 0.5};
  test::GaussianIncrements rng(2024);
  const double dt = 0.005;
  const int n_paths = 20000, n_steps = 1000;  // t = 5: many intra-well relaxation times
  std::vector<double> xs;
  xs.reserve(n_paths);
  Vec<double, 1> w;
  for (int p = 0; p < n_paths; ++p) {
    Vec<double, 1> y(0.0);  // the barrier top: paths split symmetrically, as the Boltzmann law
    for (int k = 0; k < n_steps; ++k) {
      rng.fill(w, dt);
      Heun{}.do_step(m, y, k * dt, dt, w);  // weak order 2: density bias O(dt^2) ~ 2.5e-5
    }
    xs.push_back(y(0));
  }
  const double chi2 = chi_square(xs, [&](double x) { return m.log_stationary_density(Vec<double, 1>(x)); }, -2.0, 2.0, 30);
  // 32 cells (30 bins + 2 tails) -> 31 degrees of freedom; P(chi2 > 61.1) = 0.001
  MESSAGE("double well chi2 = ", chi2, " (31 dof)");
  CHECK(chi2 < 61.1);
}

TEST_CASE("stationary law: 1D Gaussian-mixture Langevin at T = 1 keeps the mixture invariant (chi-square)") {
  models::OverdampedLangevin1D m;
  test::GaussianIncrements rng(77);
  const double dt = 0.005;
  const int n_paths = 20000, n_steps = 600;
  std::vector<double> xs;
  std::uniform_real_distribution<double> U(0, 1);
  const double p0 = m.target.weights[0] / (m.target.weights[0] + m.target.weights[1]);
  Vec<double, 1> w;
  for (int p = 0; p < n_paths; ++p) {
    const int k = U(rng.gen) < p0 ? 0 : 1;  // exact mixture sample as the start
    Vec<double, 1> y(m.target.centres[k](0) + m.target.widths[k] * rng.normal());
    for (int s = 0; s < n_steps; ++s) {
      rng.fill(w, dt);
      Heun{}.do_step(m, y, s * dt, dt, w);
    }
    xs.push_back(y(0));
  }
  const double chi2 =
      chi_square(xs, [&](double x) { return m.log_stationary_density(Vec<double, 1>(x)); }, -3.0, 3.0, 30);
  MESSAGE("mixture chi2 = ", chi2, " (31 dof)");
  CHECK(chi2 < 61.1);
  // and the test has power: the same samples against the wrong weights (0.5, 0.5) fail clearly
  models::OverdampedLangevin1D wrong = m;
  wrong.target.weights = {0.5, 0.5};
  CHECK(chi_square(xs, [&](double x) { return wrong.log_stationary_density(Vec<double, 1>(x)); }, -3.0, 3.0, 30) > 200);
}

TEST_CASE("OU closed forms: stationary covariance solves the Lyapunov equation; transition tends to it") {
  models::OU2 m;
  const auto S = m.stationary_covariance();
  CHECK((m.B * S + S * m.B.transpose() - m.S * m.S.transpose()).norm() < 1e-12);
  CHECK((m.exact_covariance(40.0) - S).norm() < 1e-12);
  CHECK(m.exact_covariance(0.0).norm() < 1e-14);
}

}  // namespace core_models_test
