// tests/ensemble/init.test.cpp - init specs, initial-law and stationary-law samplers.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sdescore/ensemble/init.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/models/overdamped_langevin.hpp"
#include "sdescore/models/underdamped_langevin.hpp"

using namespace sdescore;
using namespace sdescore::ensemble;

namespace ensemble_init_test {  // named and around the whole file: unity batches must not mix files' helpers
struct Moments {
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
};
Moments moments(const StateMatrix& s) {
  const auto st = compute_stats(s.view(), StatsOptions{});
  return {st.mean(), st.cov()};
}

TEST_CASE("init spec parser: valid forms") {
  auto p = parse_init_spec("point:0,1.5");
  CHECK(p.kind == InitSpec::Kind::point);
  CHECK(p.values == std::vector<double>{0, 1.5});
  CHECK(parse_init_spec("point").values.empty());
  CHECK(parse_init_spec("normal:0,0.2").kind == InitSpec::Kind::normal);
  CHECK(parse_init_spec("uniform:-1,1,0,2").values.size() == 4);
  CHECK(parse_init_spec("stationary").kind == InitSpec::Kind::stationary);
  const auto f = parse_init_spec("file:runs/a.h5");
  CHECK(f.kind == InitSpec::Kind::file);
  CHECK(f.path == "runs/a.h5");
  CHECK(f.text == "file:runs/a.h5");
  CHECK(resolve_init_values(parse_init_spec("normal:1,2"), 3, "m") == std::vector<double>{1, 2, 1, 2, 1, 2});
  CHECK(resolve_init_values(parse_init_spec("point:7"), 2, "m") == std::vector<double>{7, 7});
}

TEST_CASE("init spec parser: bad specs are rejected naming the spec and listing valid forms") {
  for (const char* bad : {"gauss:0,1", "normal", "normal:0", "normal:0,-1", "uniform:1,0", "point:a", "point:1,,2",
                          "stationary:3", "file:", "point:nan", ""}) {
    INFO(bad);
    try {
      parse_init_spec(bad);
      FAIL("accepted");
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      CHECK(msg.find(std::string("'") + bad + "'") != std::string::npos);
      CHECK(msg.find("valid forms: point") != std::string::npos);
    }
  }
  CHECK_THROWS_WITH_AS(resolve_init_values(parse_init_spec("point:1,2,3"), 2, "ou2d"),
                       doctest::Contains("model ou2d has state_dim 2"), ConfigError);
  CHECK_THROWS_AS(sample_initial(models::OU1{}, parse_init_spec("file:x"), 1, 0, 4), ConfigError);
}

TEST_CASE("point, normal and uniform laws: moments and per-path reproducibility") {
  const std::int64_t n = 40000;
  const models::OU2 m;
  const auto pt = sample_initial(m, parse_init_spec("point:1,-2"), 3, 0, 5);
  CHECK(pt(0, 4) == 1.0);
  CHECK(pt(1, 4) == -2.0);
  CHECK(sample_initial(m, parse_init_spec("point"), 3, 0, 2)(0, 1) == m.initial_state()(0));

  const auto g = sample_initial(m, parse_init_spec("normal:1,0.5,-2,2"), 11, 0, n);
  const auto mg = moments(g);
  // sd(mean_i) = s_i / sqrt(n); sd(var_i) = s_i^2 sqrt(2 / n); 5 sigma.
  CHECK(std::abs(mg.mean(0) - 1) < 5 * 0.5 / std::sqrt(double(n)));
  CHECK(std::abs(mg.mean(1) + 2) < 5 * 2 / std::sqrt(double(n)));
  CHECK(std::abs(mg.cov(0, 0) - 0.25) < 5 * 0.25 * std::sqrt(2.0 / n));
  CHECK(std::abs(mg.cov(1, 1) - 4) < 5 * 4 * std::sqrt(2.0 / n));
  CHECK(std::abs(mg.cov(0, 1)) < 5 * 0.5 * 2 / std::sqrt(double(n)));

  const auto u = sample_initial(m, parse_init_spec("uniform:-1,1,0,3"), 11, 0, n);
  const auto mu = moments(u);
  // U[lo, hi): mean (lo+hi)/2, var (hi-lo)^2/12; sd(mean) = sqrt(var / n), sd(var) ~ var sqrt(0.8 / n).
  CHECK(std::abs(mu.mean(0)) < 5 * std::sqrt(4.0 / 12 / n));
  CHECK(std::abs(mu.mean(1) - 1.5) < 5 * std::sqrt(9.0 / 12 / n));
  CHECK(std::abs(mu.cov(1, 1) - 9.0 / 12) < 5 * 9.0 / 12 * std::sqrt(0.8 / n));
  for (std::int64_t p = 0; p < n; ++p) {
    REQUIRE(u(0, p) >= -1);
    REQUIRE(u(0, p) < 1);
  }
  // Path p's initial state does not depend on the range it was sampled in.
  for (const char* spec : {"normal:0,1", "uniform:-1,1", "stationary"}) {
    const auto all = sample_initial(m, parse_init_spec(spec), 99, 0, 300);
    const auto part = sample_initial(m, parse_init_spec(spec), 99, 123, 77);
    CHECK(part == all.slice(123, 77));
  }
}

TEST_CASE("stationary laws: OU Gaussian, mixture at T = 1, underdamped equipartition") {
  const std::int64_t n = 40000;
  const models::OU2 ou;
  const auto s = sample_initial(ou, parse_init_spec("stationary"), 1, 0, n);
  const auto mo = moments(s);
  const Eigen::Matrix2d C = ou.stationary_covariance();
  for (int i = 0; i < 2; ++i) {
    CHECK(std::abs(mo.mean(i) - ou.mu(i)) < 5 * std::sqrt(C(i, i) / n));
    for (int j = 0; j < 2; ++j)  // sd(C_ij hat) = sqrt((C_ii C_jj + C_ij^2) / n)
      CHECK(std::abs(mo.cov(i, j) - C(i, j)) < 5 * std::sqrt((C(i, i) * C(j, j) + C(i, j) * C(i, j)) / n));
  }

  const models::OverdampedLangevin1D ol;
  const auto x = sample_initial(ol, parse_init_spec("stationary"), 2, 0, n);
  // Mixture 0.3 N(-1.5, 0.25) + 0.7 N(1.5, 0.25): mean 0.6, var 0.25 + 0.21 * 9 = 2.14.
  const auto mx = moments(x);
  CHECK(std::abs(mx.mean(0) - 0.6) < 5 * std::sqrt(2.14 / n));
  CHECK(std::abs(mx.cov(0, 0) - 2.14) < 5 * 2.14 * std::sqrt(2.0 / n));  // ~ Gaussian bound, generous
  models::OverdampedLangevin1D hot;
  hot.T = 2;
  CHECK_THROWS_WITH_AS(sample_initial(hot, parse_init_spec("stationary"), 1, 0, 4), doctest::Contains("only at T = 1"), ConfigError);

  const models::UnderdampedLangevin ud;
  const auto xv = sample_initial(ud, parse_init_spec("stationary"), 3, 0, n);
  const auto mv = moments(xv);
  CHECK(std::abs(mv.mean(1)) < 5 * std::sqrt(ud.T / n));
  CHECK(std::abs(mv.cov(1, 1) - ud.T) < 5 * ud.T * std::sqrt(2.0 / n));
  CHECK(std::abs(mv.cov(0, 1)) < 5 * std::sqrt(mv.cov(0, 0) * ud.T / n));
}

TEST_CASE("double-well stationary sampler matches the Boltzmann density (chi-square)") {
  const models::DoubleWell m;  // a = 1, T = 0.5
  const std::int64_t n = 200000;
  const auto s = sample_initial(m, parse_init_spec("stationary"), 4, 0, n);
  const int K = 40;
  const double lo = -2.0, hi = 2.0, w = (hi - lo) / K;
  auto dens = [&](double x) { return std::exp(-m.potential(x) / m.T); };
  // Bin probabilities by Simpson's rule (normaliser over [-3, 3]; the mass beyond is < e^-80).
  auto integrate = [&](double a, double b) {
    const int N = 200;
    const double h = (b - a) / N;
    double acc = dens(a) + dens(b);
    for (int i = 1; i < N; ++i) acc += (i % 2 ? 4 : 2) * dens(a + i * h);
    return acc * h / 3;
  };
  const double Z = integrate(-3, 3);
  std::vector<double> cnt(K, 0);
  std::int64_t outside = 0;
  for (std::int64_t p = 0; p < n; ++p) {
    const double x = s(0, p);
    if (x < lo || x >= hi) ++outside;
    else cnt[static_cast<std::size_t>(std::min(K - 1, int((x - lo) / w)))] += 1;
  }
  double chi2 = 0;
  int dof = 0;
  for (int i = 0; i < K; ++i) {
    const double e = n * integrate(lo + i * w, lo + (i + 1) * w) / Z;
    if (e < 5) continue;  // pool-free: skip nearly empty edge bins
    chi2 += (cnt[static_cast<std::size_t>(i)] - e) * (cnt[static_cast<std::size_t>(i)] - e) / e;
    ++dof;
  }
  // chi-square with ~dof degrees of freedom: mean dof, sd sqrt(2 dof); accept below dof + 5 sd.
  CHECK(chi2 < dof + 5 * std::sqrt(2.0 * dof));
  CHECK(double(outside) / n < 1e-3);
}

TEST_CASE("models without a known stationary law are rejected") {
  static_assert(!HasStationaryLaw<models::ActiveSwimmer> && HasStationaryLaw<models::DoubleWell>);
  CHECK_THROWS_WITH_AS(sample_initial(models::ActiveSwimmer{}, parse_init_spec("stationary"), 1, 0, 4),
                       doctest::Contains("model active_swimmer has no known stationary law"), ConfigError);
}

TEST_CASE("stationary samplers draw from the documented keys (the model's law, the engine's draws)") {
  // Written out from the documented keys with the scalar random:: functions, independently of
  // the batch path: OU is mu + L z with z_d(seed, path, kInitCounterBase); the underdamped
  // particle takes x by rejection on uniforms (kInitCounterBase + r, j = 0, 1) and v = sqrt(T) z_0.
  const std::uint64_t seed = 11, first = 1000;
  const std::int64_t n = 37;
  const models::OU2 ou;
  const auto s = sample_initial(ou, parse_init_spec("stationary"), seed, first, n);
  const Eigen::Matrix2d L = ou.stationary_covariance().llt().matrixL();
  for (std::int64_t p = 0; p < n; ++p) {
    Eigen::Vector2d z;
    for (int d = 0; d < 2; ++d) z(d) = random::normal(seed, first + p, kInitCounterBase, d);
    const Eigen::Vector2d y = ou.mu + L * z;
    CHECK(s(0, p) == doctest::Approx(y(0)).epsilon(1e-14));
    CHECK(s(1, p) == doctest::Approx(y(1)).epsilon(1e-14));
  }
  models::UnderdampedLangevin ud;
  const auto u = sample_initial(ud, parse_init_spec("stationary"), seed, first, n);
  const double Lbox = std::sqrt(1.0 + std::sqrt(40.0 * ud.T / ud.a));
  for (std::int64_t p = 0; p < n; ++p) {
    double x = std::nan("");
    for (std::uint64_t r = 0; r < 1000 && std::isnan(x); ++r) {
      const double c = Lbox * (2.0 * random::uniform(seed, first + p, kInitCounterBase + r, 0) - 1.0);
      if (random::uniform(seed, first + p, kInitCounterBase + r, 1) < std::exp(-ud.a * (c * c - 1) * (c * c - 1) / ud.T))
        x = c;
    }
    CHECK(u(0, p) == x);
    CHECK(u(1, p) == std::sqrt(ud.T) * random::normal(seed, first + p, kInitCounterBase, 0));
  }
}

TEST_CASE("given states: rows of a matrix, broadcast, errors") {
  Eigen::MatrixXd rows(5, 2);
  for (int i = 0; i < 5; ++i) rows.row(i) << i, 10 * i;
  const auto s = states_from_rows(rows, 2, 1, 3);
  CHECK(s(0, 0) == 1);
  CHECK(s(1, 2) == 30);
  CHECK(states_from_rows(rows.topRows(1), 2, 7, 4)(1, 3) == 0);
  CHECK_THROWS_AS(states_from_rows(rows, 3, 0, 5), ConfigError);
  CHECK_THROWS_WITH_AS(states_from_rows(rows, 2, 3, 3), doctest::Contains("5 rows"), ConfigError);
  rows(2, 1) = NAN;
  CHECK_THROWS_WITH_AS(states_from_rows(rows, 2, 0, 5), doctest::Contains("not finite"), ConfigError);
}

TEST_CASE("2D data-set init laws: two moons lie on their arcs, checkerboard on its dark squares") {
  sdescore::models::OverdampedLangevin2D m;
  const auto moons = sample_initial(m, parse_init_spec("two_moons:0"), 7, 0, 4000);
  int upper = 0;
  for (std::int64_t p = 0; p < 4000; ++p) {
    // undo the centring and scaling: each point is on the unit circle (upper moon) or on the
    // circle of radius 1 around (1, 0.5) (lower moon)
    const double x = moons.coord(0)[p] / 1.5 + 0.5, y = moons.coord(1)[p] / 1.5 + 0.25;
    const double r_up = std::hypot(x, y), r_lo = std::hypot(x - 1.0, y - 0.5);
    const bool on_up = std::abs(r_up - 1) < 1e-12 && y >= -1e-12, on_lo = std::abs(r_lo - 1) < 1e-12 && y <= 0.5 + 1e-12;
    CHECK((on_up || on_lo));
    upper += on_up;
  }
  // fair coin per path: 2000 +- 5 sigma (sigma = sqrt(4000)/2 ~ 32)
  CHECK(std::abs(upper - 2000) < 160);
  const auto board = sample_initial(m, parse_init_spec("checkerboard:4"), 7, 0, 4000);
  for (std::int64_t p = 0; p < 4000; ++p) {
    const int i = static_cast<int>(std::floor(board.coord(0)[p] + 2)), j = static_cast<int>(std::floor(board.coord(1)[p] + 2));
    CHECK((i + j) % 2 == 0);
    CHECK(i >= 0);
    CHECK(i < 4);
  }
  sdescore::models::DoubleWell dw;
  CHECK_THROWS_WITH_AS(sample_initial(dw, parse_init_spec("two_moons"), 1, 0, 10), doctest::Contains("is a 2D data set"),
                       sdescore::ConfigError);
  CHECK_THROWS_AS(parse_init_spec("two_moons:-1"), sdescore::ConfigError);
}

}  // namespace ensemble_init_test
