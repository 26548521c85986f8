#include "sdescore/eval/score_error.hpp"

#include <doctest/doctest.h>

#include "eval_test_support.hpp"
#include "sdescore/models/active_swimmer.hpp"

using namespace sdescore;
using namespace sdescore::eval;
using sdescore::reference::GaussianLaw;

TEST_CASE("score error: 0 for identical callables, 0.1 for a 10% scaled score") {
  models::OU2 m;
  const GaussianLaw<2> p0{Vec<double, 2>(1.0, -0.5), (Mat<double, 2, 2>() << 0.3, 0.1, 0.1, 0.2).finished()};
  eval_test::OuExactScore<2> ref{m, p0};
  eval_test::OuExactScore<2> same{m, p0};
  auto scaled = [&](const Eigen::MatrixXd& y, const Eigen::VectorXd& t) { return (1.1 * ref(y, t)).eval(); };
  const Eigen::MatrixXd y = eval_test::gaussian_samples(1000, sdescore::reference::ou_marginal(m, p0, 0.5), 1);
  CHECK(relative_score_error(same, ref, y, 0.5) == 0.0);
  // ||1.1 s - s|| / ||s|| = 0.1 exactly, whatever the samples.
  CHECK(relative_score_error(scaled, ref, y, 0.5) == doctest::Approx(0.1).epsilon(1e-12));
  const ScoreErrors e = score_errors(m, scaled, ref, y, 0.5);
  CHECK(e.full == doctest::Approx(0.1).epsilon(1e-12));
  CHECK(e.diffusion == doctest::Approx(0.1).epsilon(1e-12));
}

TEST_CASE("score error: hypoelliptic model, an error off the range of D shows in s only") {
  models::ActiveSwimmer m;  // noise on v only: D = diag(0, gamma D)
  Eigen::MatrixXd y = eval_test::gaussian_samples(500, Eigen::Vector2d(0, 0), Eigen::Matrix2d::Identity(), 2);
  auto ref = [](const Eigen::MatrixXd& x, const Eigen::VectorXd&) { return (-x).eval(); };
  auto off_x = [](const Eigen::MatrixXd& x, const Eigen::VectorXd&) {
    Eigen::MatrixXd s = -x;
    s.col(0) *= 2.0;  // wrong only in the noiseless x direction
    return s;
  };
  const ScoreErrors e = score_errors(m, off_x, ref, y, 0.0);
  CHECK(e.diffusion == 0.0);
  CHECK(e.full > 0.5);
  auto off_v = [](const Eigen::MatrixXd& x, const Eigen::VectorXd&) {
    Eigen::MatrixXd s = -x;
    s.col(1) *= 1.2;
    return s;
  };
  CHECK(score_errors(m, off_v, ref, y, 0.0).diffusion == doctest::Approx(0.2).epsilon(1e-12));
  auto zero = [](const Eigen::MatrixXd& x, const Eigen::VectorXd&) { return Eigen::MatrixXd::Zero(x.rows(), x.cols()).eval(); };
  CHECK_THROWS_AS(relative_score_error(ref, zero, y, 0.0), NumericalError);
}
