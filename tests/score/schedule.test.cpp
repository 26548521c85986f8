// The error-controlled step schedule against the true local error (audit of issue #14): the
// step-doubling estimate of schedule.hpp must track the error of one linearised step measured
// against a fine-step reference, and Delta must shrink as the tolerance lambda shrinks.
#include <doctest/doctest.h>

#include "score_test_support.hpp"
#include "sdescore/core/autodiff.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/score/schedule.hpp"

using namespace sdescore;
using namespace sdescore::score;

namespace score_schedule_test {  // named and around the whole file: unity batches must not mix files' helpers

/// The reference for one step of Delta from y at s: n chained linearised sub-steps of Delta/n
/// (each linearised at the previous sub-step's mean, its linear propagator carrying the
/// covariance), which converges to the Gaussian moment flow as n grows. Measured in the metric
/// step_doubling_error uses: the Mahalanobis distance of the one-step mean from the reference
/// mean under the one-step covariance, plus the relative Frobenius mismatch of the covariances.
template <SdeModel M>
double fine_step_error(const M& m, const Vec<double, M::state_dim>& y, double s, double delta, int n) {
  constexpr int D = M::state_dim;
  const auto one = local_linear_transition(m, y, s, delta);
  Vec<double, D> mean = y;
  Mat<double, D, D> cov = Mat<double, D, D>::Zero();
  const double h = delta / n;
  for (int k = 0; k < n; ++k) {
    const auto sub = local_linear_transition(m, mean, s + k * h, h);
    const Mat<double, D, D> E = (drift_jacobian(m, mean, s + k * h) * h).exp();
    cov = E * cov * E.transpose() + sub.cov;
    mean = sub.mean;
  }
  const Mat<double, D, D> L = one.cov.llt().matrixL();
  const double mahal = L.template triangularView<Eigen::Lower>().solve(mean - one.mean).norm();
  return mahal + (cov - one.cov).norm() / one.cov.norm();
}


TEST_CASE("error-controlled schedule: the step-doubling estimate tracks the fine-step local error") {
  const models::DoubleWell dw;
  // states across the double well: near the barrier, in the wells, on the steep walls (not x = 0
  // itself: by symmetry both errors are at round-off there, 1e-14, and their ratio is noise)
  for (double x : {0.2, 0.5, -1.0, 1.3, -1.8}) {
    const Vec<double, 1> y(x);
    std::vector<double> est, truth;
    for (double d : {0.0125, 0.025, 0.05, 0.1}) {
      est.push_back(step_doubling_error(dw, y, 0.3, d, {}));
      truth.push_back(fine_step_error(dw, y, 0.3, d, 256));
      // the estimate compares 1 step with 2: for an error ~ C Delta^p it sees (1 - 2^-p) of the
      // true error, between 1/2 (p = 1) and 7/8 (p = 3) - never more than the error, and not
      // much less
      MESSAGE("x = ", x, " Delta = ", d, ": estimate ", est.back(), ", fine-step error ", truth.back());
      CHECK(est.back() <= 1.05 * truth.back());
      CHECK(est.back() >= 0.4 * truth.back());
    }
    // and it scales with Delta as the true error does (log-log slopes within 0.3)
    const double s_est = std::log(est.back() / est.front()) / std::log(8.0);
    const double s_true = std::log(truth.back() / truth.front()) / std::log(8.0);
    CHECK(std::abs(s_est - s_true) < 0.3);
  }
}

TEST_CASE("error-controlled schedule: Delta shrinks as the tolerance shrinks, and the chosen Delta meets it for real") {
  models::DoubleWell dw;
  const test::GaussianSource ens(dw, 2000, Vec<double, 1>(0.0), Mat<double, 1, 1>(0.5), 0.0, 16);
  ScheduleOptions so;
  so.kind = "error-controlled";
  so.delta_min = 1e-3;
  so.delta_max = 0.2;
  so.grid = 4;
  so.samples = 64;
  std::vector<StepSchedule> sch;
  const std::vector<double> tols{0.1, 0.03, 0.01, 0.003};
  for (double tol : tols) {
    so.tolerance = tol;
    sch.push_back(build_schedule(ens.src, 0.3, 1.0, so, 17));  // same seed: same probe samples
  }
  for (std::size_t i = 0; i < sch[0].t.size(); ++i) {
    for (std::size_t k = 1; k < tols.size(); ++k) CHECK(sch[k].delta[i] <= sch[k - 1].delta[i]);
    CHECK(sch.back().delta[i] < sch.front().delta[i]);  // strictly, over the whole range of lambda
  }
  // The chosen Delta's true (fine-step) error, averaged over the probe law like the estimate, is
  // within the tolerance up to the estimate's 1/(1 - 2^-p) <= 2 underestimate.
  sdescore::random::KeyedDraws rng(99, 0);
  for (std::size_t k = 0; k < tols.size(); ++k)
    for (std::size_t i = 0; i < sch[k].t.size(); ++i) {
      const double t = sch[k].t[i], d = sch[k].delta[i];
      double e = 0, e2 = 0;
      const int n = 64;
      for (int j = 0; j < n; ++j) {
        const double ej = fine_step_error(dw, ens.src.sample(std::max(0.0, t - so.delta_max), rng), t - d, d, 128);
        e += ej;
        e2 += ej * ej;
      }
      e /= n;
      const double se = std::sqrt(std::max(0.0, e2 / n - e * e) / n);  // Monte Carlo error of the mean over the probe law
      CHECK(sch[k].local_error[i] <= tols[k]);
      if (d > so.delta_min) CHECK(e <= 2.0 * tols[k] + 3.0 * se);
    }
}

TEST_CASE("auto schedule: Delta = 0.16 x the noisy coordinates' relaxation time, capped at 4% of the span") {
  // Active swimmer: noise on v only, J_vv = -gamma exactly, so tau = 1/gamma whatever the samples
  // (the x block, -3 x^2, must not enter).
  models::ActiveSwimmer m;
  m.gamma = 2.0;
  const test::GaussianSource ens(m, 500, Vec<double, 2>(0.3, 0.0), Mat<double, 2, 2>::Identity(), 0.0, 5);
  ScheduleOptions so;  // the defaults: auto
  CHECK(so.kind == "auto");
  so.grid = 8;
  so.samples = 16;
  StepSchedule sch = build_schedule(ens.src, 0.2, 10.2, so, 3);  // span 10: cap 0.4 is not reached
  CHECK(sch.kind == "auto");
  CHECK(sch.relaxation == doctest::Approx(0.5).epsilon(1e-12));
  for (std::size_t i = 0; i < sch.t.size(); ++i) CHECK(sch.delta[i] == doctest::Approx(0.16 * 0.5).epsilon(1e-12));
  CHECK(sch.base_delta == doctest::Approx(0.08).epsilon(1e-12));
  // gamma = 0.1: 0.16 x 10 = 1.6 > 4% of a span of 5 = 0.2: capped at 0.2, and past t = 2 Delta
  // grows as 10% of the time elapsed since the first snapshot (t_first = 0): 0.51 at t = 5.1
  m.gamma = 0.1;
  const test::GaussianSource slow(m, 500, Vec<double, 2>(0.3, 0.0), Mat<double, 2, 2>::Identity(), 0.0, 5);
  so.grid = 32;
  sch = build_schedule(slow.src, 0.1, 5.1, so, 3);
  CHECK(sch.relaxation == doctest::Approx(10.0).epsilon(1e-12));
  CHECK(sch.base_delta == doctest::Approx(0.2).epsilon(1e-12));
  int grown = 0;
  for (std::size_t i = 0; i < sch.t.size(); ++i) {
    const double t = sch.t[i], d = std::min(std::max(0.2, 0.1 * t), t);
    CHECK(sch.delta[i] == doctest::Approx(d).epsilon(1e-12));
    // the velocity is an OU process whatever x: its linearised variance over d is
    // D (1 - exp(-2 gamma d)) exactly, and where d exceeds the base 0.2 the weight is
    // scaled back to the base step's scale by 0.2 / d
    const double var = m.D * (1 - std::exp(-2 * m.gamma * d));
    CHECK(sch.sigma_bar[i](1, 1) == doctest::Approx(var * std::min(1.0, 0.2 / d)).epsilon(1e-9));
    grown += d > 0.2;
  }
  CHECK(grown > 10);
  CHECK(sch.delta.back() > 0.45);
  // growth off: the capped Delta everywhere
  ScheduleOptions flat = so;
  flat.auto_elapsed = 0;
  sch = build_schedule(slow.src, 0.1, 5.1, flat, 3);
  for (std::size_t i = 0; i < sch.t.size(); ++i) CHECK(sch.delta[i] == doctest::Approx(std::min(0.2, sch.t[i])).epsilon(1e-12));
  flat.auto_elapsed = -1;
  CHECK_THROWS_WITH_AS(build_schedule(slow.src, 0.1, 5.1, flat, 3), doctest::Contains("auto_elapsed = -1"), ConfigError);
  // Delta(t) = min(Delta, t - t_first), as for the fixed schedule
  sch = build_schedule(slow.src, 0.05, 5.05, so, 3);
  CHECK(sch.delta.front() == doctest::Approx(0.05).epsilon(1e-12));
}

TEST_CASE("auto schedule: on the double well, tau is 1 / rms f'(x) over the samples (computed here by finite differences)") {
  // f(x) = -4 a x (x^2 - 1); one snapshot of N(0.2, 0.6^2) at t = 0, advanced by the source's
  // stepper to each grid time: tau is checked against the same samples, drawn again from the
  // same keyed stream as build_schedule draws them (seed, stream 1).
  models::DoubleWell dw;
  const test::GaussianSource ens(dw, 4000, Vec<double, 1>(0.2), Mat<double, 1, 1>(0.36), 0.0, 21);
  ScheduleOptions so;
  so.grid = 4;
  so.samples = 8;
  const double t_min = 0.01, t_max = 4.01;  // cap 0.16: tau decides
  const StepSchedule sch = build_schedule(ens.src, t_min, t_max, so, 9);
  random::KeyedDraws rng(9, 1);
  double s2 = 0;
  int n = 0;
  for (int i = 0; i < so.grid; ++i) {
    const double t = t_min + (t_max - t_min) * i / so.grid;
    for (int j = 0; j < 16; ++j, ++n) {
      const double x = ens.src.sample(t, rng)(0), h = 1e-6;
      const double fp = (dw.drift(Vec<double, 1>(x + h), 0.0)(0) - dw.drift(Vec<double, 1>(x - h), 0.0)(0)) / (2 * h);
      s2 += fp * fp;
    }
  }
  const double tau = 1 / std::sqrt(s2 / n);
  CHECK(sch.relaxation == doctest::Approx(tau).epsilon(1e-6));
  const double expect = std::max(std::min(0.16 * tau, 0.04 * (t_max - t_min)), so.delta_min);
  REQUIRE(expect < 0.16);  // tau decides, so Delta does not grow with the elapsed time either
  for (std::size_t i = 0; i < sch.t.size(); ++i) CHECK(sch.delta[i] == doctest::Approx(std::min(expect, sch.t[i])).epsilon(1e-9));
}

TEST_CASE("schedule kinds: an unknown one is refused, naming the valid ones") {
  models::DoubleWell dw;
  const test::GaussianSource ens(dw, 100, Vec<double, 1>(0.0), Mat<double, 1, 1>(0.5), 0.0, 4);
  ScheduleOptions so;
  so.kind = "adaptive";
  CHECK_THROWS_WITH_AS(build_schedule(ens.src, 0.1, 1.0, so, 1), doctest::Contains("valid schedules are auto, fixed, error-controlled"), ConfigError);
}

}  // namespace score_schedule_test
