#include "sdescore/eval/physics.hpp"

#include <doctest/doctest.h>

#include "eval_test_support.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"

using namespace sdescore;
using namespace sdescore::eval;

TEST_CASE("physics: equilibrium double well with the Boltzmann score has v = 0 and Pi = 0") {
  models::DoubleWell m;
  m.T = 0.7;
  const auto s_ref = reference::stationary_score(m);
  auto score = pointwise_score<1>([&](const Vec<double, 1>& y, double) { return s_ref(y); });
  Eigen::MatrixXd y = Eigen::VectorXd::LinSpaced(201, -2.0, 2.0);
  const Eigen::MatrixXd v = velocity_field(m, score, y, 0.0);
  // v = -U' - T (-U'/T): zero up to round-off of |U'| <= 24 at |x| = 2.
  CHECK(v.cwiseAbs().maxCoeff() < 1e-12);
  const EntropyProduction ep = entropy_production_rate(m, score, y, 0.0);
  CHECK(ep.rate < 1e-24);
  CHECK(ep.mean_speed < 1e-12);
}

TEST_CASE("physics: stationary OU with a rotating drift has Pi = tr((B - D C^-1)^T D^-1 (B - D C^-1) C)") {
  models::OU2 m;  // B = [[1, .5], [-.5, 1]], S = I
  m.S << 1.0, 0.0, 0.4, 0.8;  // correlated noise, so C is not a multiple of I
  const Mat<double, 2, 2> C = m.stationary_covariance();
  const Mat<double, 2, 2> D = 0.5 * m.S * m.S.transpose();
  const Mat<double, 2, 2> K = m.B - D * C.inverse();
  const double Pi = (K.transpose() * D.inverse() * K * C).trace();
  CHECK(Pi > 0.1);
  auto score = pointwise_score<2>([&](const Vec<double, 2>& y, double) { return Vec<double, 2>(-C.ldlt().solve(y)); });
  const Eigen::MatrixXd y = eval_test::gaussian_samples(20000, Eigen::Vector2d::Zero(), Eigen::MatrixXd(C), 3);
  const EntropyProduction ep = entropy_production_rate(m, score, y, 0.0);
  // Monte-Carlo mean of the quadratic form v^T D^-1 v: within 5 of its standard errors.
  CHECK(std::abs(ep.rate - Pi) < 5 * ep.rate_stderr);
  CHECK(ep.rate_stderr < 0.05 * Pi);
  CHECK(ep.mean_speed > 0);

  // The default model (S = I): C = I/2, D C^-1 = I, B - I antisymmetric: Pi = 2 * 0.5^2 = 0.5.
  models::OU2 m0;
  const Mat<double, 2, 2> C0 = m0.stationary_covariance();
  auto score0 = pointwise_score<2>([&](const Vec<double, 2>& x, double) { return Vec<double, 2>(-C0.ldlt().solve(x)); });
  const Eigen::MatrixXd y0 = eval_test::gaussian_samples(20000, Eigen::Vector2d::Zero(), Eigen::MatrixXd(C0), 4);
  const EntropyProduction ep0 = entropy_production_rate(m0, score0, y0, 0.0);
  CHECK(std::abs(ep0.rate - 0.5) < 5 * ep0.rate_stderr);
}

TEST_CASE("physics: probability current is p v; hypoelliptic Pi uses the noisy coordinates only") {
  models::ActiveSwimmer m;  // D = diag(0, gamma D) = diag(0, 0.1)
  auto score = [](const Eigen::MatrixXd& y, const Eigen::VectorXd&) { return (-y).eval(); };
  Eigen::MatrixXd y(3, 2);
  y << 0.5, 1.0, -1.0, 0.2, 0.0, -2.0;
  const Eigen::MatrixXd v = velocity_field(m, score, y, 0.0);
  Eigen::VectorXd p(3);
  p << 0.1, 0.2, 0.3;
  const Eigen::MatrixXd j = probability_current(m, score, y, 0.0, p);
  for (int i = 0; i < 3; ++i) {
    const double x = y(i, 0), u = y(i, 1);
    // v_x = f_x = -x^3 + u (no noise on x); v_u = -gamma u - 0.1 * (-u) = 0
    CHECK(v(i, 0) == doctest::Approx(-x * x * x + u));
    CHECK(v(i, 1) == doctest::Approx(-0.1 * u + 0.1 * u));
    CHECK((j.row(i) - p(i) * v.row(i)).norm() < 1e-15);
  }
  // v_u = 0 everywhere, so Pi (restricted to the range of D) is 0 although v_x != 0.
  CHECK(entropy_production_rate(m, score, y, 0.0).rate == doctest::Approx(0.0));
  auto score2 = [](const Eigen::MatrixXd& y2, const Eigen::VectorXd&) { return Eigen::MatrixXd::Zero(y2.rows(), 2).eval(); };
  // s = 0: v_u = -gamma u, Pi = mean (gamma u)^2 / (gamma D) = gamma mean(u^2) / D.
  CHECK(entropy_production_rate(m, score2, y, 0.0).rate == doctest::Approx(0.1 * (1.0 + 0.04 + 4.0) / 3.0));
  CHECK_THROWS_AS(probability_current(m, score, y, 0.0, Eigen::VectorXd(2)), ConfigError);
}

TEST_CASE("physics: the Kozachenko-Leonenko entropy of Gaussian samples is 0.5 log((2 pi e)^d det C) within its sampling error") {
  const int n = 3000;
  // 1D, sigma = 0.7
  const Eigen::MatrixXd y1 = eval_test::gaussian_samples(n, Eigen::VectorXd::Constant(1, 0.3), Eigen::MatrixXd::Constant(1, 1, 0.49), 11);
  const double h1 = 0.5 * std::log(2 * std::numbers::pi * std::exp(1.0) * 0.49);
  // sd of the estimator ~ sqrt(Var log p / n) = sqrt(d / (2 n)); allow 5 sd plus a small-sample bias of 0.02
  CHECK(std::abs(knn_entropy(y1) - h1) < 5 * std::sqrt(0.5 / n) + 0.02);
  // 2D, correlated
  Eigen::Matrix2d C;
  C << 1.0, 0.6, 0.6, 0.5;
  const Eigen::MatrixXd y2 = eval_test::gaussian_samples(n, Eigen::Vector2d::Zero(), Eigen::MatrixXd(C), 12);
  const double h2 = 0.5 * std::log(std::pow(2 * std::numbers::pi * std::exp(1.0), 2) * C.determinant());
  CHECK(std::abs(knn_entropy(y2) - h2) < 5 * std::sqrt(1.0 / n) + 0.02);
  // it tells a wider law from a narrower one by the right amount: log 2 per dimension for 2x scale
  CHECK(std::abs(knn_entropy(2.0 * y2) - knn_entropy(y2) - 2 * std::log(2.0)) < 1e-9);
  Eigen::MatrixXd point = Eigen::MatrixXd::Zero(10, 1);
  CHECK_THROWS_WITH_AS(knn_entropy(point), doctest::Contains("identical neighbours"), NumericalError);
  CHECK_THROWS_AS(knn_entropy(y1.topRows(3)), ConfigError);
}

TEST_CASE("physics: density_from_score recovers a Gaussian density from its score on 1D and 2D grids") {
  // 1D: N(0.3, 0.8^2) on [-4, 4], 201 nodes: trapezoid integration is second order in h
  NodeGrid g1{{-4.0}, {0.04}, {201}};
  Eigen::MatrixXd S1(201, 1);
  Eigen::VectorXd exact1(201);
  for (int i = 0; i < 201; ++i) {
    const double x = -4.0 + 0.04 * i;
    S1(i, 0) = -(x - 0.3) / 0.64;
    exact1(i) = std::exp(-0.5 * (x - 0.3) * (x - 0.3) / 0.64) / std::sqrt(2 * std::numbers::pi * 0.64);
  }
  const Eigen::VectorXd p1 = density_from_score(g1, S1);
  CHECK(p1.sum() * 0.04 == doctest::Approx(1.0));
  CHECK((p1 - exact1).cwiseAbs().maxCoeff() < 2e-3 * exact1.maxCoeff());
  // 2D: correlated Gaussian, 81 x 61 nodes
  Eigen::Matrix2d C;
  C << 1.0, 0.5, 0.5, 0.8;
  const Eigen::Matrix2d P = C.inverse();
  NodeGrid g2{{-5.0, -4.5}, {0.125, 0.15}, {81, 61}};
  Eigen::MatrixXd S2(81 * 61, 2);
  Eigen::VectorXd exact2(81 * 61);
  for (int i = 0; i < 81; ++i)
    for (int j = 0; j < 61; ++j) {
      const Eigen::Vector2d y(-5.0 + 0.125 * i, -4.5 + 0.15 * j);
      S2.row(i * 61 + j) = (-P * y).transpose();
      exact2(i * 61 + j) = std::exp(-0.5 * y.dot(P * y)) / (2 * std::numbers::pi * std::sqrt(C.determinant()));
    }
  const Eigen::VectorXd p2 = density_from_score(g2, S2);
  CHECK(p2.sum() * g2.cell_volume() == doctest::Approx(1.0));
  CHECK((p2 - exact2).cwiseAbs().maxCoeff() < 1e-2 * exact2.maxCoeff());
  CHECK_THROWS_AS(density_from_score(g2, S1), ConfigError);
}

TEST_CASE("physics: histogram_density counts samples in the cells centred on the nodes") {
  NodeGrid g{{0.0, 0.0}, {0.5, 1.0}, {3, 2}};  // nodes x = 0, .5, 1; y = 0, 1
  Eigen::MatrixXd y(5, 2);
  y << 0.1, 0.2,   // node (0, 0)
      0.6, 0.9,    // node (1, 1)
      0.55, 1.3,   // node (1, 1)
      1.2, -0.4,   // node (2, 0)
      3.0, 0.0;    // outside
  const Eigen::VectorXd p = histogram_density(g, y);
  const double unit = 1.0 / (5 * 0.5);
  CHECK(p(0) == doctest::Approx(unit));
  CHECK(p(1 * 2 + 1) == doctest::Approx(2 * unit));
  CHECK(p(2 * 2 + 0) == doctest::Approx(unit));
  CHECK(p.sum() * g.cell_volume() == doctest::Approx(0.8));  // 4 of 5 samples are inside
}
