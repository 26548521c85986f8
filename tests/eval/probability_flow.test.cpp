#include "sdescore/eval/probability_flow.hpp"

#include <doctest/doctest.h>

#include "eval_test_support.hpp"

using namespace sdescore;
using namespace sdescore::eval;
using sdescore::reference::GaussianLaw;
using sdescore::reference::ou_marginal;

namespace eval_probability_flow_test {  // named and around the whole file: unity batches must not mix files' helpers
constexpr double k_sigma = 5.0;  // statistical checks: 5 standard errors (false alarm ~ 6e-7 per check)

GaussianLaw<2> p0_2d() {
  return GaussianLaw<2>{Vec<double, 2>(1.0, -0.5), (Mat<double, 2, 2>() << 0.3, 0.1, 0.1, 0.2).finished()};
}

TEST_CASE("probability flow: OU 1D with the exact score maps p_0 samples to p_t") {
  models::OU1 m;
  const GaussianLaw<1> p0{Vec<double, 1>(2.0), Mat<double, 1, 1>(0.25)};
  eval_test::OuExactScore<1> score{m, p0};
  const Eigen::MatrixXd y0 = eval_test::gaussian_samples(4000, p0, 101);
  const FlowResult r = integrate_probability_flow(m, score, y0, {0.0, 0.5, 1.0});
  REQUIRE(r.states.size() == 3);
  CHECK(r.states[0] == y0);
  for (std::size_t k = 1; k < 3; ++k) eval_test::check_gaussian_moments(r.states[k], ou_marginal(m, p0, r.times[k]), k_sigma);
  CHECK(r.rhs_evaluations > 0);
}

TEST_CASE("probability flow: OU 2D (rotating drift) forward and backward match the exact marginals") {
  models::OU2 m;
  const GaussianLaw<2> p0 = p0_2d();
  eval_test::OuExactScore<2> score{m, p0};
  const double T = 1.5;
  SUBCASE("forward from p_0") {
    const Eigen::MatrixXd y0 = eval_test::gaussian_samples(4000, p0, 202);
    const FlowResult r = integrate_probability_flow(m, score, y0, {0.0, 0.5, T});
    for (std::size_t k = 1; k < 3; ++k) eval_test::check_gaussian_moments(r.states[k], ou_marginal(m, p0, r.times[k]), k_sigma);
  }
  SUBCASE("backward from p_T") {
    const Eigen::MatrixXd yT = eval_test::gaussian_samples(4000, ou_marginal(m, p0, T), 303);
    const FlowResult r = integrate_probability_flow(m, score, yT, {T, 0.7, 0.0});
    for (std::size_t k = 1; k < 3; ++k) eval_test::check_gaussian_moments(r.states[k], ou_marginal(m, p0, r.times[k]), k_sigma);
  }
}

TEST_CASE("probability flow: deterministic and invertible (forward then backward returns the start)") {
  models::OU2 m;
  const GaussianLaw<2> p0 = p0_2d();
  eval_test::OuExactScore<2> score{m, p0};
  const Eigen::MatrixXd y0 = eval_test::gaussian_samples(500, p0, 404);
  FlowOptions o;
  o.abs_tol = o.rel_tol = 1e-9;
  const FlowResult f = integrate_probability_flow(m, score, y0, {0.0, 1.0}, o);
  const FlowResult f2 = integrate_probability_flow(m, score, y0, {0.0, 1.0}, o);
  CHECK(f.states[1] == f2.states[1]);  // bit-identical
  const FlowResult b = integrate_probability_flow(m, score, f.states[1], {1.0, 0.0}, o);
  // global error ~ tolerance times a modest growth factor over [0, 1]
  CHECK((b.states[1] - y0).cwiseAbs().maxCoeff() < 1e-6);
  // and it really moved
  CHECK((f.states[1] - y0).cwiseAbs().maxCoeff() > 0.1);
}

TEST_CASE("probability flow: log-density by the change of variables equals the exact log p_t") {
  models::OU2 m;
  const GaussianLaw<2> p0 = p0_2d();
  eval_test::OuExactScore<2> score{m, p0};
  const Eigen::MatrixXd y0 = eval_test::gaussian_samples(2000, p0, 505);
  Eigen::VectorXd lp0(y0.rows());
  for (Eigen::Index i = 0; i < y0.rows(); ++i) lp0(i) = p0.log_density(y0.row(i).transpose());
  FlowOptions o;
  o.abs_tol = o.rel_tol = 1e-9;
  o.record_entropy_production = true;
  // The exact score is linear in y, so central differences are exact up to round-off.
  const FlowResult r = integrate_probability_flow_with_density(m, score, finite_difference_score_jacobian(score), y0, lp0,
                                                              {0.0, 0.5, 1.0}, o);
  REQUIRE(r.log_density.size() == 3);
  REQUIRE(r.entropy.size() == 3);
  REQUIRE(r.production.size() == 3);
  CHECK(r.production[2].rate == entropy_production_rate(m, score, r.states[2], 1.0).rate);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto law = ou_marginal(m, p0, r.times[k]);
    double worst = 0;
    for (Eigen::Index i = 0; i < y0.rows(); ++i)
      worst = std::max(worst, std::abs(r.log_density[k](i) - law.log_density(r.states[k].row(i).transpose())));
    CHECK(worst < 1e-6);
    // Gaussian entropy 1/2 log det(2 pi e C); the estimate -mean log p has sd sqrt(d/2)/sqrt(n).
    const double S = 0.5 * std::log(std::pow(2 * M_PI * std::exp(1.0), 2) * law.cov.determinant());
    CHECK(std::abs(r.entropy[k] - S) < k_sigma * std::sqrt(1.0 / y0.rows()));
    // For a Gaussian p_t, div v = -tr B + tr(D C_t^{-1}) is the same at every y, so the
    // entropy rate is exact: compare with the derivative of the closed form (central difference).
    const double h = 1e-4;
    auto S_of = [&](double t) { return 0.5 * std::log(ou_marginal(m, p0, t).cov.determinant()); };
    if (k > 0) {
      const double dS = (S_of(r.times[k] + h) - S_of(r.times[k] - h)) / (2 * h);
      CHECK(r.entropy_rate[k] == doctest::Approx(dS).epsilon(1e-6));
    }
  }
}

TEST_CASE("probability flow: bad input is rejected with a clear error") {
  models::OU1 m;
  const GaussianLaw<1> p0{Vec<double, 1>(0.0), Mat<double, 1, 1>(1.0)};
  eval_test::OuExactScore<1> score{m, p0};
  const Eigen::MatrixXd y0 = eval_test::gaussian_samples(10, p0, 1);
  CHECK_THROWS_AS(integrate_probability_flow(m, score, y0, {0.0, 1.0, 0.5}), ConfigError);
  CHECK_THROWS_AS(integrate_probability_flow(m, score, y0, {}), ConfigError);
  CHECK_THROWS_AS(integrate_probability_flow(m, score, Eigen::MatrixXd(10, 2), {0.0, 1.0}), ConfigError);
  auto wrong_shape = [](const Eigen::MatrixXd& y, const Eigen::VectorXd&) { return Eigen::MatrixXd::Zero(y.rows(), 3).eval(); };
  CHECK_THROWS_AS(integrate_probability_flow(m, wrong_shape, y0, {0.0, 1.0}), ConfigError);
  auto nan_score = [](const Eigen::MatrixXd& y, const Eigen::VectorXd&) {
    return Eigen::MatrixXd::Constant(y.rows(), y.cols(), std::nan("")).eval();
  };
  CHECK_THROWS_AS(integrate_probability_flow(m, nan_score, y0, {0.0, 1.0}), NumericalError);
  FlowOptions o;
  o.rel_tol = 0;
  CHECK_THROWS_AS(integrate_probability_flow(m, score, y0, {0.0, 1.0}, o), ConfigError);
}

TEST_CASE("probability flow: SampleRange is the ensemble's range padded by a share of its width") {
  Eigen::MatrixXd ens(3, 2);
  ens << 0.0, -1.0,  //
      2.0, 1.0,      //
      1.0, 0.0;
  const SampleRange r = SampleRange::of(ens, 0.25);  // x in [-0.5, 2.5], y in [-1.5, 1.5]
  CHECK(r.lo(0) == -0.5);
  CHECK(r.hi(0) == 2.5);
  CHECK(r.lo(1) == -1.5);
  CHECK(r.hi(1) == 1.5);
  Eigen::MatrixXd y(5, 2);
  y << 2.5, 1.5,          // on the corner: inside
      2.6, 0.0,           // x above
      0.0, -1.6,          // y below
      std::nan(""), 0.0,  // not finite
      1.0, 1.0;
  CHECK(r.rows_inside(y) == std::vector<Eigen::Index>{0, 4});
  CHECK(r.contains(y, 0));
  CHECK_FALSE(r.contains(y, 3));
  CHECK_THROWS_AS(SampleRange::of(ens, -0.1), ConfigError);
  CHECK_THROWS_AS(SampleRange::of(Eigen::MatrixXd(0, 2)), ConfigError);
  CHECK_THROWS_AS(r.rows_inside(Eigen::MatrixXd::Zero(2, 3)), ConfigError);
}

TEST_CASE("probability flow in range: samples that leave a time's range are dropped from then on, the rest flow on") {
  models::OU1 m;
  const GaussianLaw<1> p0{Vec<double, 1>(0.0), Mat<double, 1, 1>(1.0)};
  eval_test::OuExactScore<1> score{m, p0};
  Eigen::MatrixXd y0 = eval_test::gaussian_samples(400, p0, 7);
  y0(5, 0) = std::nan("");  // not finite at the start: dropped at times[0]
  Eigen::MatrixXd wide(2, 1), narrow(2, 1);
  wide << -100.0, 100.0;
  narrow << -0.5, 0.5;  // padded 5 %: [-0.55, 0.55]
  const std::vector<double> times{0.0, 0.5, 1.0};
  const std::vector<SampleRange> ranges{SampleRange::of(wide), SampleRange::of(narrow), SampleRange::of(wide)};
  const FlowInRange f = integrate_probability_flow_in_range(m, score, y0, times, ranges);
  REQUIRE(f.states.size() == 3);
  REQUIRE(f.outside_fraction.size() == 3);
  CHECK(f.states[0].rows() == 399);
  CHECK(f.outside_fraction[0] == doctest::Approx(1.0 / 400));
  // expected at t = 0.5: the finite starts flowed alone (the same call), then cut to [-0.55, 0.55]
  std::vector<Eigen::Index> finite;
  for (Eigen::Index i = 0; i < y0.rows(); ++i)
    if (i != 5) finite.push_back(i);
  const Eigen::MatrixXd y_half = integrate_probability_flow(m, score, y0(finite, Eigen::all).eval(), {0.0, 0.5}).states.back();
  std::vector<Eigen::Index> kept;
  for (Eigen::Index i = 0; i < y_half.rows(); ++i)
    if (std::abs(y_half(i, 0)) <= 0.55) kept.push_back(i);
  REQUIRE(kept.size() > 50);
  REQUIRE(kept.size() < 350);  // the cut bites
  CHECK(f.states[1].rows() == static_cast<Eigen::Index>(kept.size()));
  CHECK(f.states[1] == y_half(kept, Eigen::all));
  CHECK(f.outside_fraction[1] == doctest::Approx(1.0 - double(kept.size()) / 400));
  CHECK(f.outside_fraction[2] == f.outside_fraction[1]);  // the wide range drops nobody more
  const Eigen::MatrixXd y_one = integrate_probability_flow(m, score, f.states[1], {0.5, 1.0}).states.back();
  CHECK(f.states[2] == y_one);
  CHECK_THROWS_AS(integrate_probability_flow_in_range(m, score, y0, times, {ranges[0]}), ConfigError);
}

}  // namespace eval_probability_flow_test
