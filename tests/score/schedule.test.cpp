// The error-controlled step schedule against the true local error (audit of issue #14): the
// step-doubling estimate of schedule.hpp must track the error of one linearised step measured
// against a fine-step reference, and Delta must shrink as the tolerance lambda shrinks.
#include <doctest/doctest.h>

#include "score_test_support.hpp"
#include "sdescore/core/autodiff.hpp"
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

}  // namespace score_schedule_test
