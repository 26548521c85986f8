#include "sdescore/eval/model_fields.hpp"

#include <doctest/doctest.h>

#include "eval_test_support.hpp"
#include "support/toy_models.hpp"

using namespace sdescore;
using namespace sdescore::eval;

namespace eval_model_fields_test {  // named and around the whole file: unity batches must not mix files' helpers
// The toy models of these tests (support/toy_models.hpp): Multiplicative1D has a zero-flux
// stationary density with a closed-form score; General2D has y-dependent noise in every entry.
using toy::General2D;
using toy::Multiplicative1D;
static_assert(SdeModel<Multiplicative1D>);
static_assert(SdeModel<General2D>);

TEST_CASE("model fields: div D by autodiff equals central differences of D") {
  General2D m;
  for (const Vec<double, 2>& y : {Vec<double, 2>(0.3, -0.7), Vec<double, 2>(-1.2, 0.5), Vec<double, 2>(2.0, 1.0)}) {
    Vec<double, 2> fd = Vec<double, 2>::Zero();
    const double h = 1e-5;  // truncation ~1e-10, round-off ~1e-11
    for (int j = 0; j < 2; ++j) {
      Vec<double, 2> a = y, b = y;
      a(j) += h;
      b(j) -= h;
      const Mat<double, 2, 2> dD = (diffusion_matrix(m, a, 0.0) - diffusion_matrix(m, b, 0.0)) / (2 * h);
      for (int i = 0; i < 2; ++i) fd(i) += dD(i, j);
    }
    CHECK((diffusion_divergence(m, y, 0.0) - fd).norm() < 1e-8);
  }
  CHECK(diffusion_divergence(models::OU2{}, Vec<double, 2>(1, 2), 0.0).norm() == 0.0);
}

TEST_CASE("model fields: multiplicative noise, zero-flux stationary score gives v = 0") {
  Multiplicative1D m;
  auto score = pointwise_score<1>([](const Vec<double, 1>& y, double) { return Vec<double, 1>(-4 * y(0) / (1 + y(0) * y(0))); });
  const Eigen::MatrixXd y = Eigen::VectorXd::LinSpaced(41, -3.0, 3.0);
  CHECK(velocity_field(m, score, y, 0.0).cwiseAbs().maxCoeff() < 1e-13);
  CHECK((diffusion_divergence(m, Vec<double, 1>(0.8), 0.0) - Vec<double, 1>(0.8)).norm() < 1e-15);
}

TEST_CASE("model fields: batched drift and pseudo-inverse") {
  models::OU2 m;
  const Eigen::MatrixXd y = eval_test::gaussian_samples(1000, Eigen::Vector2d(1, 1), Eigen::Matrix2d::Identity(), 1);
  const Eigen::MatrixXd f = batch_drift(m, y, 0.0);
  CHECK((f + y * m.B.transpose()).norm() < 1e-12);
  Mat<double, 2, 2> A;
  A << 0, 0, 0, 4;
  const Mat<double, 2, 2> P = symmetric_pseudo_inverse<2>(A);
  CHECK(P(0, 0) == doctest::Approx(0.0));
  CHECK(P(1, 1) == doctest::Approx(0.25));
  CHECK_THROWS_AS(batch_drift(m, Eigen::MatrixXd(3, 1), 0.0), ConfigError);
}

}  // namespace eval_model_fields_test
