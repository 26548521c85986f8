#include "sdescore/reference/fokker_planck.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "reference_test_support.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/reference/analytic.hpp"
#include "support/toy_models.hpp"

using namespace sdescore;
using namespace sdescore::reference;

namespace reference_fokker_planck_test {  // named and around the whole file: unity batches must not mix files' helpers

template <int N>
double l1_error(const DensitySnapshot<N>& s, const GaussianLaw<N>& law) {
  double e = 0;
  for (int k = 0; k < s.grid.size(); ++k) e += std::abs(s.density(k) - law.density(s.grid.centre_of(k)));
  return e * s.grid.cell_volume();
}

// The toy models of these tests (support/toy_models.hpp): MovingOU has a closed-form
// time-dependent mean, VarNoise y-dependent noise, VanishingNoise noise that vanishes at 0.
using toy::MovingOU;
using toy::VanishingNoise;
using toy::VarNoise;


TEST_CASE("fokker_planck: OU 1D against the exact Gaussian, order 2 in space and time") {
  const models::OU1 m;  // B = 1, S = 1: D = 1/2
  const GaussianLaw<1> p0{Vec<double, 1>(1.0), Mat<double, 1, 1>(0.09)};
  const double T = 1.0;
  const GaussianLaw<1> exact = ou_marginal(m, p0, T);
  std::vector<double> hs, l1, se;
  for (int n : {50, 100, 200, 400}) {
    FokkerPlanckSolver<models::OU1> fp(m, GridSpec<1>{{-5.0}, {5.0}, {n}});
    CHECK(fp.autonomous());
    fp.set_initial_gaussian(p0.mean, p0.cov);
    const double h = fp.grid().h(0);
    fp.advance_to(T, h);  // dt = h: TR-BDF2 time error O(h^2) like the space error
    CHECK(fp.factorizations() == 1);  // autonomous: one LU for the whole run
    const auto s = fp.snapshot();
    hs.push_back(h);
    l1.push_back(l1_error(s, exact));
    se.push_back(relative_score_error(s, [&](const Vec<double, 1>& y) { return exact.score(y); }).relative);
  }
  // Measured: L1 5.4e-3 -> 8.3e-5, score 7.1e-3 -> 1.1e-4, orders 2.002 / 2.002 (clean
  // asymptotic regime); 0.15 leaves room for compiler/round-off differences, not for order 1.
  CHECK(test::fitted_order(hs, l1) == doctest::Approx(2.0).epsilon(0.075));
  CHECK(test::fitted_order(hs, se) == doctest::Approx(2.0).epsilon(0.075));
  CHECK(l1.back() < 1.5e-4);
  CHECK(se.back() < 2e-4);
}

TEST_CASE("fokker_planck: OU 2D (non-symmetric B) against the exact Gaussian, order 2") {
  const models::OU2 m;  // B = [[1, .5], [-.5, 1]], S = I: D = I/2 (diagonal)
  const GaussianLaw<2> p0{Vec<double, 2>(1.0, -0.5), (Mat<double, 2, 2>() << 0.2, 0.0, 0.0, 0.3).finished()};
  const double T = 0.5;
  const GaussianLaw<2> exact = ou_marginal(m, p0, T);
  std::vector<double> hs, l1, se;
  for (int n : {20, 40, 80}) {
    FokkerPlanckSolver<models::OU2> fp(m, GridSpec<2>{{-4.0, -4.0}, {4.0, 4.0}, {n, n}});
    fp.set_initial_gaussian(p0.mean, p0.cov);
    const double h = fp.grid().h(0);
    fp.advance_to(T, h / 2);
    const auto s = fp.snapshot();
    hs.push_back(h);
    l1.push_back(l1_error(s, exact));
    se.push_back(relative_score_error(s, [&](const Vec<double, 2>& y) { return exact.score(y); }).relative);
    // The rotation (non-symmetric B) shows in the mean: compare with the exact mean.
    CHECK((s.mean() - exact.mean).norm() < 0.05 * h);
  }
  // Measured: L1 3.0e-2 -> 1.9e-3, score 3.4e-2 -> 2.2e-3, orders 2.01 / 1.97.
  CHECK(test::fitted_order(hs, l1) == doctest::Approx(2.0).epsilon(0.1));
  CHECK(test::fitted_order(hs, se) == doctest::Approx(2.0).epsilon(0.1));
  CHECK(l1.back() < 2.5e-3);
  CHECK(se.back() < 3e-3);
}

TEST_CASE("fokker_planck: time order of BE / BDF2 / TR-BDF2 on a fixed grid") {
  const models::OU1 m;
  const GaussianLaw<1> p0{Vec<double, 1>(1.0), Mat<double, 1, 1>(0.09)};
  const GridSpec<1> spec{{-5.0}, {5.0}, {200}};
  // Measured orders: 1.005, 2.10, 2.015 (errors against dt = 1/1280 on the same grid).
  for (auto [sc, order] : {std::pair{TimeScheme::backward_euler, 1.0}, std::pair{TimeScheme::bdf2, 2.0},
                           std::pair{TimeScheme::tr_bdf2, 2.0}}) {
    FokkerPlanckOptions o;
    o.scheme = sc;
    auto run = [&](double dt) {
      FokkerPlanckSolver<models::OU1> fp(m, spec, o);
      fp.set_initial_gaussian(p0.mean, p0.cov);
      fp.advance_to(1.0, dt);
      return fp.density();
    };
    const Eigen::VectorXd ref = run(1.0 / 1280);
    std::vector<double> dts, errs;
    for (double dt : {0.1, 0.05, 0.025}) {
      dts.push_back(dt);
      errs.push_back((run(dt) - ref).lpNorm<1>() * 0.05);
    }
    CAPTURE(int(sc));
    CHECK(test::fitted_order(dts, errs) == doctest::Approx(order).epsilon(0.1));
  }
}

TEST_CASE("fokker_planck: mass to 1e-12 at every step, positivity (backward Euler exactly)") {
  models::DoubleWell m;
  m.T = 0.5;
  for (TimeScheme sc : {TimeScheme::backward_euler, TimeScheme::bdf2, TimeScheme::tr_bdf2}) {
    FokkerPlanckOptions o;
    o.scheme = sc;
    FokkerPlanckSolver<models::DoubleWell> fp(m, GridSpec<1>{{-2.5}, {2.5}, {400}}, o);
    fp.set_initial_gaussian(Vec<double, 1>(-1.0), Mat<double, 1, 1>(0.04));
    double prev = fp.mass(), worst_step = 0, worst = 0, minp = 0;
    for (int i = 0; i < 500; ++i) {
      fp.do_step(0.01);
      worst_step = std::max(worst_step, std::abs(fp.mass() - prev));
      worst = std::max(worst, std::abs(fp.mass() - 1));
      prev = fp.mass();
      minp = std::min(minp, fp.density().minCoeff() / fp.density().maxCoeff());
    }
    CAPTURE(int(sc));
    // Zero column sums make the update conservative in exact arithmetic; what is left is LU
    // round-off, ~1e-14 per step (measured worst cumulative over 1000 steps: 8.6e-13).
    CHECK(worst_step < 1e-13);
    CHECK(worst < 1e-12);
    if (sc == TimeScheme::backward_euler) {
      CHECK(minp >= 0.0);  // M-matrix: exact positivity
    } else {
      // Second-order schemes may undershoot where p ~ 0 next to steep drift (measured
      // -8e-8 * max for TR-BDF2 at the box edge with |f| h / D = 5); documented.
      CHECK(minp > -1e-6);
    }
  }
}

TEST_CASE("fokker_planck: double well (T = 0.5) relaxes to its Boltzmann law") {
  models::DoubleWell m;
  m.T = 0.5;
  // Symmetric start: only the fast intra-well modes are excited, so by t = 10 the remaining
  // difference is the O(h^2) discretisation error of the stationary state (measured 6.4e-5).
  {
    FokkerPlanckSolver<models::DoubleWell> fp(m, GridSpec<1>{{-2.5}, {2.5}, {400}});
    fp.set_initial_gaussian(Vec<double, 1>(0.0), Mat<double, 1, 1>(0.04));
    fp.advance_to(10.0, 0.01);
    const auto s = fp.snapshot();
    const Eigen::VectorXd pinf = stationary_density_on_grid(m, fp.grid());
    CHECK((s.density - pinf).lpNorm<1>() * fp.grid().h(0) < 2e-4);
    CHECK(relative_score_error(s, stationary_score(m)).relative < 1e-3);  // measured 2.5e-4
  }
  // Start in the left well: the hopping mode decays at the Kramers rate 2k ~ 0.24 (L1 0.11 at
  // t = 10), so run to t = 60 (e^{-14}) with large L-stable steps.
  {
    FokkerPlanckSolver<models::DoubleWell> fp(m, GridSpec<1>{{-2.5}, {2.5}, {400}});
    fp.set_initial_gaussian(Vec<double, 1>(-1.0), Mat<double, 1, 1>(0.04));
    fp.advance_to(60.0, 0.05);
    const Eigen::VectorXd pinf = stationary_density_on_grid(m, fp.grid());
    const double l1 = (fp.density() - pinf).lpNorm<1>() * fp.grid().h(0);
    MESSAGE("DW asym L1 " << l1);
    CHECK(l1 < 2e-4);
  }
}

TEST_CASE("fokker_planck: 1D y-dependent diffusion reaches the exact stationary law at order 2") {
  // D = 1 + y^2/4, f = -2y: zero flux f p = (D p)' gives p ~ (1 + y^2/4)^{-5}.
  std::vector<double> hs, l1;
  for (int n : {100, 200, 400}) {
    FokkerPlanckOptions o;
    o.scheme = TimeScheme::backward_euler;  // steady state: the time scheme does not matter
    FokkerPlanckSolver<VarNoise> fp(VarNoise{}, GridSpec<1>{{-8.0}, {8.0}, {n}}, o);
    fp.set_initial_gaussian(Vec<double, 1>(1.0), Mat<double, 1, 1>(0.5));
    fp.advance_to(50.0, 0.5);  // BE amplification of the slowest mode (~ -2) per step ~ 0.5
    Eigen::VectorXd pex(n);
    for (int k = 0; k < n; ++k) pex(k) = std::pow(1 + std::pow(fp.grid().centre(0, k), 2) / 4, -5.0);
    pex /= pex.sum() * fp.grid().h(0);
    hs.push_back(fp.grid().h(0));
    l1.push_back((fp.density() - pex).lpNorm<1>() * fp.grid().h(0));
  }
  MESSAGE("var-noise L1 " << l1[0] << " " << l1[2] << " order " << test::fitted_order(hs, l1));
  CHECK(test::fitted_order(hs, l1) == doctest::Approx(2.0).epsilon(0.1));
}

TEST_CASE("fokker_planck: active swimmer (hypoelliptic) conserves mass, stays >= 0, v-marginal is OU") {
  models::ActiveSwimmer m;
  m.gamma = 1.0;  // faster than the default 0.1 so that a short run shows the relaxation
  m.D = 1.0;
  FokkerPlanckSolver<models::ActiveSwimmer> fp(m, GridSpec<2>{{-3.0, -5.0}, {3.0, 5.0}, {60, 80}});
  const double var0 = 0.25, v0 = 1.0;
  fp.set_initial_gaussian(Vec<double, 2>(0.5, v0), Vec<double, 2>(0.1, var0).asDiagonal().toDenseMatrix());
  double worst_mass = 0, minp = 0;
  const double dt = 0.02;
  std::vector<double> ts, mx;
  std::vector<Vec<double, 2>> ef;
  for (int i = 1; i <= 100; ++i) {
    fp.do_step(dt);
    worst_mass = std::max(worst_mass, std::abs(fp.mass() - 1));
    minp = std::min(minp, fp.density().minCoeff() / fp.density().maxCoeff());
    const auto s = fp.snapshot();
    ts.push_back(fp.time());
    mx.push_back(s.mean()(0));
    Vec<double, 2> e = Vec<double, 2>::Zero();  // E[f(Y)] under the grid density
    for (int k = 0; k < s.grid.size(); ++k) e += s.density(k) * m.drift(s.grid.centre_of(k), 0.0);
    ef.push_back(e * s.grid.cell_volume());
    if (i % 25 == 0) {
      // v is an OU process on its own: E v_t = v0 e^{-t}, Var v_t = var0 e^{-2t} + D(1 - e^{-2t}).
      // The v-marginal of the scheme is the 1D SG scheme (x-fluxes cancel in the sum over x),
      // so it is O(h_v^2 + dt^2) accurate: measured errors <= 8e-4 with h_v = 0.125.
      const double t = fp.time();
      const double mv = v0 * std::exp(-t), vv = var0 * std::exp(-2 * t) + m.D * (1 - std::exp(-2 * t));
      CHECK(s.mean()(1) == doctest::Approx(mv).epsilon(3e-3));
      CHECK(s.covariance()(1, 1) == doctest::Approx(vv).epsilon(3e-3));
    }
  }
  CHECK(worst_mass < 1e-12);
  CHECK(minp > -1e-9);  // measured -2e-11 (TR-BDF2 undershoot at the edge of the support)
  CHECK(fp.factorizations() == 1);
  // d/dt E x = E[-x^3 + v]: central differences of the mean against the grid expectation.
  // The upwind x-flux approximates f p at the face to O(h_x), so allow 0.05 (|E f_x| ~ 0.5).
  for (size_t i = 1; i + 1 < ts.size(); i += 10) {
    const double dmx = (mx[i + 1] - mx[i - 1]) / (ts[i + 1] - ts[i - 1]);
    CHECK(dmx == doctest::Approx(ef[i](0)).epsilon(0.1).scale(0.5));
  }
}

TEST_CASE("fokker_planck: active swimmer grid refinement (upwind1 order 1, upwind3 order 2 in x)") {
  models::ActiveSwimmer m;
  m.gamma = 1.0;  // smooth density (no under-resolved ridge), so both advection fluxes converge
  for (auto [adv, lo] : {std::pair{Advection::upwind1, 0.7}, std::pair{Advection::upwind3, 1.6}}) {
    std::vector<double> q;
    FokkerPlanckOptions o;
    o.advection = adv;
    for (int n : {24, 48, 96}) {
      FokkerPlanckSolver<models::ActiveSwimmer> fp(m, GridSpec<2>{{-3.0, -5.0}, {3.0, 5.0}, {n, n}}, o);
      fp.set_initial_gaussian(Vec<double, 2>(0.5, 1.0), Vec<double, 2>(0.1, 0.25).asDiagonal().toDenseMatrix());
      fp.advance_to(1.0, 0.02);
      q.push_back(fp.snapshot().covariance()(0, 0));  // Var x: sensitive to the x-discretisation
    }
    // Richardson estimate of the order from three grids. Measured: upwind1 0.89, upwind3 2.66.
    const double order = std::log2(std::abs(q[0] - q[1]) / std::abs(q[1] - q[2]));
    CAPTURE(int(adv));
    CHECK(order > lo);
  }
}

TEST_CASE("fokker_planck: time-dependent drift is detected and refactored") {
  const MovingOU m;
  FokkerPlanckSolver<MovingOU> fp(m, GridSpec<1>{{-5.0}, {5.0}, {200}});
  CHECK_FALSE(fp.autonomous());
  fp.set_initial_gaussian(Vec<double, 1>(0.5), Mat<double, 1, 1>(0.1));
  fp.advance_to(2.0, 0.01);
  const double t = 2.0;
  const double mex = std::exp(-t) * 0.5 + (std::sin(t) - std::cos(t) + std::exp(-t)) / 2;
  const double vex = 0.1 * std::exp(-2 * t) + 0.5 * (1 - std::exp(-2 * t));
  // Measured mean error 1.6e-4 (h = 0.05, dt = 0.01).
  CHECK(fp.snapshot().mean()(0) == doctest::Approx(mex).epsilon(1e-3));
  CHECK(fp.snapshot().covariance()(0, 0) == doctest::Approx(vex).epsilon(3e-3));
  CHECK(fp.factorizations() >= 400);  // two stage times per TR-BDF2 step
}

TEST_CASE("fokker_planck: bad input is rejected with messages naming the value") {
  const models::OU1 m;
  FokkerPlanckSolver<models::OU1> fp(m, GridSpec<1>{{-5.0}, {5.0}, {50}});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(fp.set_initial_gaussian(Vec<double, 1>(nan), Mat<double, 1, 1>(1.0)),
                       doctest::Contains("mean[0] = nan"), ConfigError);
  CHECK_THROWS_WITH_AS(fp.set_initial_gaussian(Vec<double, 1>(0.0), Mat<double, 1, 1>(-1.0)),
                       doctest::Contains("positive definite"), ConfigError);
  CHECK_THROWS_WITH_AS(fp.set_initial_density([](const Vec<double, 1>& y) { return y(0); }),
                       doctest::Contains("must be finite and >= 0"), ConfigError);
  CHECK_THROWS_WITH_AS(fp.set_initial_density([](const Vec<double, 1>&) { return 0.0; }),
                       doctest::Contains("zero on the whole grid"), ConfigError);
  fp.set_initial_gaussian(Vec<double, 1>(0.0), Mat<double, 1, 1>(1.0));
  CHECK_THROWS_WITH_AS(fp.do_step(0.0), doctest::Contains("dt = 0"), ConfigError);
  CHECK_THROWS_WITH_AS(fp.do_step(nan), doctest::Contains("dt = nan"), ConfigError);
  fp.advance_to(1.0, 0.1);
  CHECK_THROWS_WITH_AS(fp.advance_to(0.5, 0.1), doctest::Contains("t_end = 0.5"), ConfigError);
  CHECK_THROWS_WITH_AS(FokkerPlanckSolver<models::OU1>(m, GridSpec<1>{{-5.0}, {5.0}, {0}}),
                       doctest::Contains("cells[0] = 0"), ConfigError);
  CHECK_THROWS_WITH_AS(FokkerPlanckSolver<models::OU1>(m, GridSpec<1>{{5.0}, {-5.0}, {10}}),
                       doctest::Contains("lower[0] = 5 >= upper[0] = -5"), ConfigError);
  // Non-diagonal D in 2D.
  models::OU2 m2;
  m2.S(0, 1) = 0.5;
  CHECK_THROWS_WITH_AS(FokkerPlanckSolver<models::OU2>(m2, GridSpec<2>{{-3.0, -3.0}, {3.0, 3.0}, {10, 10}}),
                       doctest::Contains("diagonal diffusion matrices only"), ConfigError);
  // Noise vanishing in places only.
  CHECK_THROWS_WITH_AS(FokkerPlanckSolver<VanishingNoise>(VanishingNoise{}, GridSpec<1>{{-1.0}, {1.0}, {11}}),
                       doctest::Contains("D_00 vanishes at y = (0)"), ConfigError);
  // Bad model parameters are caught by the model's own validation.
  models::OU1 bad;
  bad.S(0, 0) = 0;
  CHECK_THROWS_AS(FokkerPlanckSolver<models::OU1>(bad, GridSpec<1>{{-5.0}, {5.0}, {10}}), ConfigError);
}

// The evaluation-size timings and the self-convergence of the swimmer score (they only print)
// live in bench/fokker_planck (docs/reference.md).

}  // namespace reference_fokker_planck_test
