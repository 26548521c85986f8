#include "sdescore/reference/snapshot.hpp"

#include <doctest/doctest.h>

#include "reference_test_support.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/reference/analytic.hpp"

using namespace sdescore;
using namespace sdescore::reference;

TEST_CASE("snapshot: bilinear interpolation is exact for bilinear functions and clamps outside") {
  const Grid<2> g(GridSpec<2>{{-1.0, 0.0}, {1.0, 2.0}, {5, 7}});
  auto f = [](const Vec<double, 2>& y) { return 1 + 2 * y(0) - 3 * y(1) + 0.5 * y(0) * y(1); };
  Eigen::VectorXd v(g.size());
  for (int k = 0; k < g.size(); ++k) v(k) = f(g.centre_of(k));
  for (const Vec<double, 2>& y : {Vec<double, 2>(0.1, 0.3), Vec<double, 2>(-0.77, 1.6), Vec<double, 2>(0.79, 0.15)})
    CHECK(interpolate(g, v, y) == doctest::Approx(f(y)).epsilon(1e-13));
  // Beyond the outermost centre the value is held: same as at the centre row.
  CHECK(interpolate(g, v, Vec<double, 2>(0.95, 1.0)) == doctest::Approx(f(Vec<double, 2>(0.8, 1.0))));
}

TEST_CASE("snapshot: grid score of a Gaussian is second-order accurate, the mask marks the tails") {
  const GaussianLaw<2> law{Vec<double, 2>(0.2, -0.3), (Mat<double, 2, 2>() << 0.5, 0.1, 0.1, 0.3).finished()};
  std::vector<double> hs, errs;
  for (int n : {20, 40, 80}) {
    const Grid<2> g(GridSpec<2>{{-4.0, -4.0}, {4.0, 4.0}, {n, n}});
    Eigen::VectorXd p(g.size());
    for (int k = 0; k < g.size(); ++k) p(k) = law.density(g.centre_of(k));
    const DensitySnapshot<2> s = make_snapshot(g, p, 0.0);
    const ScoreError e = relative_score_error(s, [&](const Vec<double, 2>& y) { return law.score(y); });
    hs.push_back(g.h(0));
    errs.push_back(e.relative);
    CHECK(e.mass_used > 1 - 1e-6);  // the masked tails carry negligible mass
    // Tails below 1e-8 * max are masked, the centre is not.
    CHECK(s.valid[g.flat({0, 0})] == 0);
    CHECK(s.valid[g.flat({n / 2, n / 2})] == 1);
    // Interpolated score at a point is close to the exact score (bilinear: O(h^2)).
    const Vec<double, 2> y(0.33, -0.41);
    CHECK((s.score_at(y) - law.score(y)).norm() < 2.0 * g.h(0) * g.h(0));
    CHECK(s.density_at(y) == doctest::Approx(law.density(y)).epsilon(g.h(0) * g.h(0)));
    CHECK(s.density_at(Vec<double, 2>(5, 0)) == 0.0);
  }
  // Central differences of log p: exact for a quadratic log p inside, so the error comes from
  // the three-point one-sided formulas only... both exact for quadratics; errors are round-off.
  CHECK(errs.back() < 1e-9);
  // s = 0 gives relative error exactly 1; s = s_ref gives 0.
  const Grid<2> g(GridSpec<2>{{-4.0, -4.0}, {4.0, 4.0}, {30, 30}});
  Eigen::VectorXd p(g.size());
  for (int k = 0; k < g.size(); ++k) p(k) = law.density(g.centre_of(k));
  const auto s = make_snapshot(g, p, 0.0);
  CHECK(relative_score_error(s, [](const Vec<double, 2>&) { return Vec<double, 2>::Zero().eval(); }).relative ==
        doctest::Approx(1.0));
  CHECK(relative_score_error(s, [&](const Vec<double, 2>& y) { return s.score_at(y); }).relative < 1e-12);
  // A density floor restricts the cells. For a 2D Gaussian the mass where p > a * max p is
  // exactly 1 - a; at h = 0.27 the cell-sum approximates it to a few per cent.
  ScoreErrorOptions o;
  o.relative_floor = 0.5;
  CHECK(relative_score_error(s, [&](const Vec<double, 2>& y) { return law.score(y); }, o).mass_used ==
        doctest::Approx(0.5).epsilon(0.05));
}

TEST_CASE("snapshot: score of a non-Gaussian density converges at order 2") {
  // log p = -x^4/4 - y^2/2 + x y / 3 is not quadratic, so the differences have O(h^2) error.
  auto logp = [](const Vec<double, 2>& y) { return -std::pow(y(0), 4) / 4 - y(1) * y(1) / 2 + y(0) * y(1) / 3; };
  auto score = [](const Vec<double, 2>& y) { return Vec<double, 2>(-std::pow(y(0), 3) + y(1) / 3, -y(1) + y(0) / 3); };
  std::vector<double> hs, errs;
  for (int n : {20, 40, 80, 160}) {
    const Grid<2> g(GridSpec<2>{{-3.0, -4.0}, {3.0, 4.0}, {n, n}});
    Eigen::VectorXd p(g.size());
    for (int k = 0; k < g.size(); ++k) p(k) = std::exp(logp(g.centre_of(k)));
    const auto s = make_snapshot(g, p, 0.0);
    hs.push_back(g.h(0));
    errs.push_back(relative_score_error(s, score).relative);
  }
  // Order 2 up to pre-asymptotic effects; 0.2 covers the spread seen from 20 to 160 cells.
  CHECK(test::fitted_order(hs, errs) == doctest::Approx(2.0).epsilon(0.1));
}

TEST_CASE("snapshot: D s error sees only the noisy directions (active swimmer: v only)") {
  const models::ActiveSwimmer m;
  const Grid<2> g(GridSpec<2>{{-3.0, -4.0}, {3.0, 4.0}, {40, 40}});
  const GaussianLaw<2> law{Vec<double, 2>(0, 0), Mat<double, 2, 2>::Identity()};
  Eigen::VectorXd p(g.size());
  for (int k = 0; k < g.size(); ++k) p(k) = law.density(g.centre_of(k));
  const auto s = make_snapshot(g, p, 0.0);
  // A score wrong only in x: full error large, D s error zero.
  auto wrong_x = [&](const Vec<double, 2>& y) { return Vec<double, 2>(law.score(y)(0) + 1.0, law.score(y)(1)); };
  CHECK(relative_score_error(s, wrong_x).relative > 0.5);
  CHECK(relative_diffusion_score_error(s, wrong_x, diffusion_matrix(m, 0.0)).relative < 1e-9);
  auto wrong_v = [&](const Vec<double, 2>& y) { return Vec<double, 2>(law.score(y)(0), 0.0); };
  CHECK(relative_diffusion_score_error(s, wrong_v, diffusion_matrix(m, 0.0)).relative == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("snapshot: bad input") {
  const Grid<1> g(GridSpec<1>{{0.0}, {1.0}, {10}});
  CHECK_THROWS_WITH_AS(make_snapshot(g, Eigen::VectorXd::Ones(9), 0.0), doctest::Contains("9 entries"), ConfigError);
  CHECK_THROWS_WITH_AS(make_snapshot(g, Eigen::VectorXd::Ones(10), 0.0, ScoreOptions{1.5}),
                       doctest::Contains("relative_floor = 1.5"), ConfigError);
  Eigen::VectorXd p = Eigen::VectorXd::Ones(10);
  p(3) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(make_snapshot(g, p, 0.0), NumericalError);
}
