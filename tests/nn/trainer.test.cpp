// Trainer end to end: the score of N(0, 1) (s = -y) learnt by regression and by ISM (exact and
// Hutchinson); determinism for a seed and across thread counts; EMA weights used for evaluation.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "nn_test_support.hpp"
#include "sdescore/nn/trainer.hpp"

using namespace sdescore;
using namespace sdescore::nn;

namespace nn_trainer_test {  // named and around the whole file: unity batches must not mix files' helpers

Eigen::MatrixXd gaussian_samples(Eigen::Index n, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd y(n, 1);
  for (Eigen::Index i = 0; i < n; ++i) y(i, 0) = nd(g);
  return y;
}

Architecture gaussian_arch() {
  Architecture a;
  a.input_dim = a.output_dim = 1;
  a.hidden = {32, 32};
  a.time.n_frequencies = 1;
  return a;
}

TrainerOptions gaussian_options(int steps) {
  TrainerOptions o;
  o.schedule = LrSchedule::warmup_cosine(3e-3, 50, steps, 1e-5);
  o.ema.decay = 0.995;
  o.seed = 1;
  o.threads = 1;  // tiny batches: one thread is fastest and immune to a loaded machine
  return o;
}

/// Relative L2 error of the EMA score against -y under N(0, 1).
double rel_error(const Trainer& tr) {
  const Eigen::MatrixXd y = gaussian_samples(4000, 99);
  const Eigen::VectorXd t = nn_test::random_vector(4000, 98, 0, 1);
  const Eigen::MatrixXd s = tr.evaluate(y, t);
  return std::sqrt((s + y).squaredNorm() / y.squaredNorm());
}


TEST_CASE("Trainer: regression learns the score of N(0,1) to < 2% relative L2 error") {
  const int steps = 1500, B = 256;
  Trainer tr(gaussian_arch(), gaussian_options(steps));
  for (int k = 0; k < steps; ++k) {
    const Eigen::MatrixXd y = gaussian_samples(B, 1000 + k);
    const Eigen::VectorXd t = nn_test::random_vector(B, 5000 + k, 0, 1);
    tr.step_regression(y, t, -y);
  }
  const double err = rel_error(tr);
  MESSAGE("regression relative L2 error: ", err);
  CHECK(err < 0.02);
}

TEST_CASE("Trainer: exact ISM learns the score of N(0,1) to < 3% relative L2 error") {
  const int steps = 1500, B = 256;
  Trainer tr(gaussian_arch(), gaussian_options(steps));
  StepStats st;
  for (int k = 0; k < steps; ++k) {
    const Eigen::MatrixXd y = gaussian_samples(B, 1000 + k);
    const Eigen::VectorXd t = nn_test::random_vector(B, 5000 + k, 0, 1);
    st = tr.step_ism(y, t, DivergenceKind::exact);
  }
  // the ISM minimum for N(0,1) is E[s^2 + 2 s'] = E[y^2] - 2 = -1
  CHECK(st.loss == doctest::Approx(-1.0).epsilon(0.3));
  const double err = rel_error(tr);
  MESSAGE("exact ISM relative L2 error: ", err);
  CHECK(err < 0.03);
}

TEST_CASE("Trainer: Hutchinson ISM learns the score of N(0,1) to < 5% relative L2 error") {
  const int steps = 1500, B = 256;
  TrainerOptions o = gaussian_options(steps);
  o.probe_kind = ProbeKind::gaussian;
  Trainer tr(gaussian_arch(), o);
  for (int k = 0; k < steps; ++k) {
    const Eigen::MatrixXd y = gaussian_samples(B, 1000 + k);
    const Eigen::VectorXd t = nn_test::random_vector(B, 5000 + k, 0, 1);
    tr.step_ism(y, t, DivergenceKind::hutchinson);
  }
  const double err = rel_error(tr);
  MESSAGE("Hutchinson ISM relative L2 error: ", err);
  CHECK(err < 0.05);
}

TEST_CASE("Trainer: same seed gives the same weights, for 1 and 2 threads alike") {
  auto run = [](int threads, std::uint64_t seed, DivergenceKind kind) {
    TrainerOptions o = gaussian_options(100);
    o.threads = threads;
    o.seed = seed;
    Architecture a = Architecture::score_model(2);
    Trainer tr(a, o);
    for (int k = 0; k < 5; ++k) {
      const Eigen::MatrixXd y = nn_test::random_matrix(300, 2, 10 + k);
      const Eigen::VectorXd t = nn_test::random_vector(300, 20 + k, 0, 1);
      if (kind == DivergenceKind::none)
        tr.step_regression(y, t, -y);
      else
        tr.step_ism(y, t, kind);
    }
    return std::pair{tr.model().parameters(), tr.ema().average()};
  };
  for (DivergenceKind kind : {DivergenceKind::none, DivergenceKind::exact, DivergenceKind::hutchinson}) {
    const auto a = run(1, 3, kind), b = run(2, 3, kind), c = run(1, 4, kind);
    CHECK(a.first == b.first);
    CHECK(a.second == b.second);
    CHECK(a.first != c.first);
  }
}

TEST_CASE("Trainer: evaluation uses the EMA weights; custom losses; errors") {
  TrainerOptions o = gaussian_options(100);
  o.ema.decay = 0.5;
  o.ema.warmup = false;
  Trainer tr(gaussian_arch(), o);
  const Eigen::MatrixXd y = gaussian_samples(64, 1);
  const Eigen::VectorXd t = Eigen::VectorXd::Constant(64, 0.5);
  const StepStats st = tr.step_custom(y, t, Eigen::VectorXd(), Divergence::none(),
                                      [&](const Eigen::MatrixXd& s, const Eigen::VectorXd&) {
                                        return weighted_squared_loss(s, -y, LossWeights::scalar(Eigen::VectorXd::Constant(64, 2.0)));
                                      });
  CHECK(st.step == 1);
  CHECK(st.lr == doctest::Approx(3e-3 / 50));
  CHECK(tr.ema().updates() == 2);
  Trainer::Net ema = tr.ema_model();
  CHECK(ema.parameters() != tr.model().parameters());
  CHECK(tr.evaluate(y, t) == ema.evaluate(y, t));
  CHECK_THROWS_AS(tr.step_ism(y, t, DivergenceKind::none), ConfigError);
  o.probes_per_sample = 0;
  CHECK_THROWS_AS(Trainer(gaussian_arch(), o), ConfigError);
}

TEST_CASE("Trainer: checkpoint restore continues bit-identically (regression and Hutchinson ISM)") {
  auto batch = [](int k) {
    return std::pair{nn_test::random_matrix(64, 2, 100 + k), nn_test::random_vector(64, 200 + k, 0, 1)};
  };
  TrainerOptions o = gaussian_options(100);
  Architecture a = Architecture::score_model(2);
  a.hidden = {16, 16};
  auto step = [&](Trainer& tr, int k) {
    const auto [y, t] = batch(k);
    if (k % 2)
      tr.step_regression(y, t, -y);
    else
      tr.step_ism(y, t, DivergenceKind::hutchinson);
  };
  Trainer full(a, o), part(a, o);
  for (int k = 0; k < 8; ++k) step(full, k);
  for (int k = 0; k < 5; ++k) step(part, k);
  TrainerOptions o2 = o;
  o2.seed = 77;
  Trainer resumed(a, o);
  resumed.restore(part.model().parameters(), part.optimizer().first_moment(), part.optimizer().second_moment(),
                  part.steps(), part.ema().average(), part.ema().updates());
  for (int k = 5; k < 8; ++k) step(resumed, k);
  CHECK(resumed.model().parameters() == full.model().parameters());
  CHECK(resumed.ema().average() == full.ema().average());
  Trainer wrong(a, o2);
  CHECK_THROWS_AS(wrong.restore(part.model().parameters(), part.optimizer().first_moment(),
                                part.optimizer().second_moment(), -1, part.ema().average(), 1),
                  ConfigError);
}

}  // namespace nn_trainer_test
