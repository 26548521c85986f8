// Checks before training and evaluation (issue #14): bad data and settings are refused before any
// work, naming the snapshot and path; a diverging loss stops the run; times outside the trained
// range are refused.
#include <doctest/doctest.h>

#include <limits>

#include "score_test_support.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/score/checks.hpp"
#include "sdescore/score/fit.hpp"

using namespace sdescore;
using namespace sdescore::score;

namespace score_checks_test {  // named and around the whole file: unity batches must not mix files' helpers
EnsembleData small(int paths) {
  EnsembleData d;
  d.times = {0.0, 0.1, 0.2};
  for (int k = 0; k < 3; ++k) d.states.push_back(Eigen::MatrixXd::Constant(paths, 1, 0.1 * k));
  d.dt = 0.01;
  return d;
}

TEST_CASE("checks: non-finite positions and positions outside the model's domain are named by file, snapshot and path") {
  const models::DoubleWell dw;
  auto d = small(20);
  CHECK_NOTHROW(check_training_data(dw, d, 10, "dw.h5"));
  d.states[1](7, 0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(check_training_data(dw, d, 10, "dw.h5"), doctest::Contains("dw.h5: snapshot 1 (t = 0.10000000000000001), path 7"),
                       ConfigError);
  d.states[1](7, 0) = 0;
  d.states[2](3, 0) = 1e300;  // finite, but the cubic drift overflows
  CHECK_THROWS_WITH_AS(check_training_data(dw, d, 10, "dw.h5"), doctest::Contains("drift of the model is not finite"), ConfigError);
  // the same data through fit_score: refused before any training step
  FitOptions fo;
  fo.steps = 10;
  fo.batch = 8;
  fo.groups = 2;
  fo.pool_size = 8;
  fo.n_pools = 2;
  fo.target.reference_size = 4;
  CHECK_THROWS_WITH_AS(fit_score(dw, EulerMaruyama{}, d, fo), doctest::Contains("path 3"), ConfigError);
}

TEST_CASE("checks: the hold-out must leave paths for training and evaluation, naming --holdout-every 0") {
  const models::OU1 ou;
  CHECK_THROWS_WITH_AS(check_training_data(ou, small(1), 10, "one.h5"), doctest::Contains("--holdout-every 0"), ConfigError);
  CHECK_THROWS_AS(check_training_data(ou, small(9), 10, "nine.h5"), ConfigError);
  CHECK_NOTHROW(check_training_data(ou, small(10), 10, "ten.h5"));
  CHECK_NOTHROW(check_training_data(ou, small(1), 0, "one.h5"));
  CHECK_THROWS_WITH_AS(check_training_data(ou, small(1), 1, "one.h5"), doctest::Contains("none for training"), ConfigError);
}

TEST_CASE("checks: hold-out and time-range settings") {
  CHECK_NOTHROW(check_fit_settings(10, -1, -1));  // the library's "unset" sentinel
  CHECK_NOTHROW(check_fit_settings(0, 0.1, 0.5));
  CHECK_THROWS_WITH_AS(check_fit_settings(-3, -1, -1), doctest::Contains("--holdout-every -3 is invalid"), ConfigError);
  CHECK_THROWS_AS(check_fit_settings(10, std::numeric_limits<double>::quiet_NaN(), -1), ConfigError);
  CHECK_THROWS_AS(check_fit_settings(10, -1, std::numeric_limits<double>::infinity()), ConfigError);
  CHECK_THROWS_WITH_AS(check_fit_settings(10, 0.5, 0.2), doctest::Contains("must exceed --t-min"), ConfigError);
}

TEST_CASE("checks: the loss guard stops non-finite and exploding losses, naming the step") {
  LossGuard g;
  g.set_reference(2.0);   // loss of the untrained network on the first batch
  g.observe(50, 1.5e8);   // large but within 1e8 x max(|2|, 1) = 2e8
  CHECK_THROWS_WITH_AS(g.observe(150, 3e8), doctest::Contains("training diverged at step 150"), NumericalError);
  CHECK_THROWS_WITH_AS(g.observe(150, 3e8), doctest::Contains("is 300000000"), NumericalError);  // the loss is named
  CHECK_THROWS_WITH_AS(g.observe(200, std::numeric_limits<double>::quiet_NaN()), doctest::Contains("step 200"), NumericalError);
  LossGuard neg;  // ISM losses are negative: magnitude counts, with a floor of 1
  neg.set_reference(-0.01);
  neg.observe(50, -5e7);
  CHECK_THROWS_AS(neg.observe(100, -2e8), NumericalError);
  LossGuard none;  // no reference: only non-finite losses stop the run
  none.observe(50, 1e300);
  CHECK_THROWS_AS(none.observe(100, std::numeric_limits<double>::infinity()), NumericalError);
  none.set_reference(std::numeric_limits<double>::quiet_NaN());  // a NaN reference is ignored
  CHECK_FALSE(none.has_reference());
}

TEST_CASE("checks: a run that blows up in its first block is caught there (regression: --lr 1e6 finished with exit 0)") {
  // The old guard took its reference from the first block average (here 1.4e16) and so passed
  // the plateau that followed; the untrained network's loss cannot be corrupted by training.
  LossGuard g;
  g.set_reference(3.5);
  CHECK_THROWS_WITH_AS(g.observe(50, 1.4e16), doctest::Contains("training diverged at step 50"), NumericalError);
}

TEST_CASE("checks: evaluation times must lie in the trained range") {
  CHECK_NOTHROW(require_trained_time("t", 0.5, 0.01, 2.0));
  CHECK_NOTHROW(require_trained_time("t", 2.0 + 1e-12, 0.01, 2.0));
  CHECK_THROWS_WITH_AS(require_trained_time("grid: --times", 3.0, 0.01, 2.0),
                       doctest::Contains("grid: --times = 3 is outside the time range the score was trained on, [0.01, 2]"), ConfigError);
  CHECK_THROWS_AS(require_trained_time("t", 0.0, 0.01, 2.0), ConfigError);
  CHECK_THROWS_AS(require_trained_time("t", std::numeric_limits<double>::quiet_NaN(), 0.01, 2.0), ConfigError);
}

}  // namespace score_checks_test
