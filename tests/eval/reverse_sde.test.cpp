#include "sdescore/eval/reverse_sde.hpp"

#include <doctest/doctest.h>

#include "eval_test_support.hpp"

using namespace sdescore;
using namespace sdescore::eval;
using sdescore::reference::GaussianLaw;
using sdescore::reference::ou_marginal;

TEST_CASE("reverse SDE: OU from exact p_T samples recovers the p_0 moments") {
  // Euler-Maruyama has weak order 1: with 400 steps over [0, 1] the moment bias is
  // O(h) = O(2.5e-3) times O(1) constants; allow 0.02 on top of 5 standard errors.
  ReverseSdeOptions o;
  o.steps = 400;
  o.seed = 42;
  SUBCASE("1D") {
    models::OU1 m;
    const GaussianLaw<1> p0{Vec<double, 1>(2.0), Mat<double, 1, 1>(0.25)};
    eval_test::OuExactScore<1> score{m, p0};
    const Eigen::MatrixXd yT = eval_test::gaussian_samples(4000, ou_marginal(m, p0, 1.0), 7);
    const Eigen::MatrixXd y0 = reverse_sde_sample(m, score, yT, 1.0, 0.0, o);
    eval_test::check_gaussian_moments(y0, p0, 5.0, 0.02);
  }
  SUBCASE("2D rotating drift, to an intermediate time") {
    models::OU2 m;
    const GaussianLaw<2> p0{Vec<double, 2>(1.0, -0.5), (Mat<double, 2, 2>() << 0.3, 0.1, 0.1, 0.2).finished()};
    eval_test::OuExactScore<2> score{m, p0};
    const Eigen::MatrixXd yT = eval_test::gaussian_samples(4000, ou_marginal(m, p0, 1.0), 8);
    eval_test::check_gaussian_moments(reverse_sde_sample(m, score, yT, 1.0, 0.0, o), p0, 5.0, 0.02);
    o.steps = 200;
    eval_test::check_gaussian_moments(reverse_sde_sample(m, score, yT, 1.0, 0.5, o), ou_marginal(m, p0, 0.5), 5.0, 0.02);
  }
}

TEST_CASE("reverse SDE: the reverse drift is -f + 2 div D + 2 D s") {
  models::OU2 m;
  m.S << 0.8, 0.0, 0.3, 1.1;
  Eigen::MatrixXd y(2, 2), s(2, 2);
  y << 0.3, -0.2, 1.0, 0.5;
  s << -1.0, 0.4, 0.2, 0.7;
  const Eigen::MatrixXd b = reverse_drift_from_score_values(m, y, 0.0, s);
  const Mat<double, 2, 2> Dm = 0.5 * m.S * m.S.transpose();
  for (int i = 0; i < 2; ++i) {
    const Vec<double, 2> yi = y.row(i).transpose(), si = s.row(i).transpose();
    CHECK((b.row(i).transpose() - (-m.drift(yi, 0.0) + 2 * Dm * si)).norm() < 1e-14);
  }
}

TEST_CASE("reverse SDE: seeded and reproducible; bad input rejected") {
  models::OU1 m;
  const GaussianLaw<1> p0{Vec<double, 1>(0.0), Mat<double, 1, 1>(1.0)};
  eval_test::OuExactScore<1> score{m, p0};
  const Eigen::MatrixXd yT = eval_test::gaussian_samples(100, p0, 9);
  ReverseSdeOptions o;
  o.steps = 50;
  const Eigen::MatrixXd a = reverse_sde_sample(m, score, yT, 1.0, 0.0, o);
  CHECK(a == reverse_sde_sample(m, score, yT, 1.0, 0.0, o));
  o.seed = 2;
  CHECK(a != reverse_sde_sample(m, score, yT, 1.0, 0.0, o));
  CHECK_THROWS_AS(reverse_sde_sample(m, score, yT, 1.0, 1.0, o), ConfigError);
  o.steps = 0;
  CHECK_THROWS_AS(reverse_sde_sample(m, score, yT, 1.0, 0.0, o), ConfigError);
}
