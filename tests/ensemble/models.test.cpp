// tests/ensemble/models.test.cpp - statistical model tests that exercise the engine end to end.
// Tolerances are k * sigma / sqrt(N) with sigma from the closed form or the sample, plus the
// stepper's known bias where it is not exact.
#include <doctest/doctest.h>

#include <cmath>
#include <string_view>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/models/active_brownian_2d.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/models/underdamped_langevin.hpp"
#include "sdescore/solvers/baoab.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"
#include "sdescore/solvers/local_linearization.hpp"

using namespace sdescore;
using namespace sdescore::ensemble;

namespace ensemble_models_test {  // named and around the whole file: unity batches must not mix files' helpers
// Engine options are written as designated initializers; `.stats = {}` names the one member
// without a default initializer, which -Wmissing-field-initializers would otherwise flag.

/// Runs n paths of m from the init spec with options o, and calls check(snapshot) at every
/// snapshot from step from_step on (1: all but the initial one). Returns how many it checked.
template <class St, class M, class F>
int simulate_and_check(const St& stepper, const M& m, std::string_view init, std::int64_t n, const EnsembleOptions& o,
                       std::int64_t from_step, F&& check) {
  StateMatrix s = sample_initial(m, parse_init_spec(init), o.seed, 0, n);
  int checked = 0;
  simulate(stepper, m, s, o, [&](const Snapshot& snap) {
    if (snap.step < from_step) return;
    check(snap);
    ++checked;
  });
  return checked;
}

TEST_CASE("OU2 ensemble moments match exact_mean / exact_covariance (local linearisation is exact in law)") {
  const models::OU2 m;
  const std::int64_t n = 20000;
  const Eigen::Vector2d y0(1.0, -0.5);
  const EnsembleOptions o{.seed = 31, .dt = 0.05, .n_steps = 40, .save_every = 10,
                          .stats = {.enabled = true, .histograms = {}}};
  const int checked = simulate_and_check(LocalLinearization{}, m, "point:1,-0.5", n, o, 1, [&](const Snapshot& snap) {
    const Eigen::Vector2d mean = m.exact_mean(y0, snap.t);
    const Eigen::Matrix2d C = m.exact_covariance(snap.t);
    for (int i = 0; i < 2; ++i) {
      CHECK(std::abs(snap.stats->mean()(i) - mean(i)) < 5 * std::sqrt(C(i, i) / n));
      for (int j = 0; j < 2; ++j)
        CHECK(std::abs(snap.stats->cov()(i, j) - C(i, j)) < 5 * std::sqrt((C(i, i) * C(j, j) + C(i, j) * C(i, j)) / n));
    }
  });
  CHECK(checked == 4);
}

TEST_CASE("underdamped Langevin with BAOAB: equipartition <v^2> = T") {
  const models::UnderdampedLangevin m;  // T = 0.5
  const std::int64_t n = 20000;
  const EnsembleOptions o{.seed = 8, .dt = 0.05, .n_steps = 400, .save_every = 100,
                          .stats = {.enabled = true, .histograms = {}}};
  double v2 = 0;
  // starts far from equilibrium in v; averages from step 200 on, relaxed (gamma = 1: velocity memory e^-10)
  const int k = simulate_and_check(BAOAB{}, m, "point:-1,0", n, o, 200, [&](const Snapshot& snap) {
    v2 += snap.stats->cov()(1, 1) + snap.stats->mean()(1) * snap.stats->mean()(1);
  });
  v2 /= k;
  // sd(<v^2>) = T sqrt(2 / n) per snapshot (correlated snapshots: use that bound); BAOAB's v law
  // is exact for the harmonic part and its bias here is far below this.
  CHECK(std::abs(v2 - m.T) < 5 * m.T * std::sqrt(2.0 / n));
}

TEST_CASE("free active Brownian particle: mean-squared displacement vs free_msd(t)") {
  models::ActiveBrownian2D m;  // v0 = 1, k = 0, Dt = 0.1, Dr = 1
  const std::int64_t n = 20000;
  const EnsembleOptions o{.seed = 12, .dt = 0.005, .n_steps = 400, .save_every = 100, .stats = {}};
  const char* init = "uniform:0,0,0,0,-3.14159,3.14159";
  const int checked = simulate_and_check(EulerMaruyama{}, m, init, n, o, 1, [&](const Snapshot& snap) {
    double acc = 0, acc2 = 0;
    for (std::int64_t p = 0; p < n; ++p) {
      const double r2 = snap.state(0, p) * snap.state(0, p) + snap.state(1, p) * snap.state(1, p);
      acc += r2;
      acc2 += r2 * r2;
    }
    const double msd = acc / n, sd = std::sqrt(acc2 / n - msd * msd);
    const double exact = m.free_msd(snap.t);
    // 5 sigma statistical + 1% for the Euler-Maruyama bias of the heading integration (O(dt)).
    CHECK(std::abs(msd - exact) < 5 * sd / std::sqrt(double(n)) + 0.01 * exact);
  });
  CHECK(checked == 4);
}

TEST_CASE("active swimmer: <v^2>(t) follows the OU formula D (1 - e^{-2 gamma t})") {
  const models::ActiveSwimmer m;  // gamma = 0.1, D = 1
  const std::int64_t n = 10000;
  const EnsembleOptions o{.seed = 13, .dt = 0.01, .n_steps = 1000, .save_every = 250,
                          .stats = {.enabled = true, .histograms = {}}};
  const int checked = simulate_and_check(EulerMaruyama{}, m, "point:0,0", n, o, 1, [&](const Snapshot& snap) {
    const double var = m.D * (1 - std::exp(-2 * m.gamma * snap.t));
    const double v2 = snap.stats->cov()(1, 1) + snap.stats->mean()(1) * snap.stats->mean()(1);
    // v is Gaussian with mean 0: sd(<v^2>) = var sqrt(2 / n); EM's bias on v is O(gamma dt) = 1e-3.
    CHECK(std::abs(v2 - var) < 5 * var * std::sqrt(2.0 / n) + 2e-3 * var);
  });
  CHECK(checked == 4);
}

}  // namespace ensemble_models_test
