// The study and physics entry points of the library (eval/study.hpp, eval/physics_report.hpp):
// the one hold-out rule decides which paths judge a fit. End-to-end numbers of both are checked
// through the CLI in tests/scorefit.
#include <doctest/doctest.h>

#include <random>

#include "sdescore/eval/physics_report.hpp"
#include "sdescore/eval/study.hpp"

using namespace sdescore;

namespace eval_study_test {  // named and around the whole file: unity batches must not mix files' helpers

/// OU (B = 1, S = 1) sampled exactly from N(1, 0.2^2), snapshots every 0.1 up to 1.
score::TrainingData ou_data(int paths, std::uint64_t seed) {
  score::TrainingData d;
  d.info.model = "ou";
  d.info.model_parameters = {{"B", 1.0}, {"mu", 0.0}, {"S", 1.0}};
  d.info.dt = 1e-3;
  d.info.seed = seed;
  d.info.path_count = paths;
  d.data.dt = 1e-3;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd y(paths, 1);
  for (int i = 0; i < paths; ++i) y(i, 0) = 1.0 + 0.2 * nd(rng);
  const double a = std::exp(-0.1), sd = std::sqrt((1 - std::exp(-0.2)) / 2);
  for (int k = 0; k <= 10; ++k) {
    if (k > 0)
      for (int i = 0; i < paths; ++i) y(i, 0) = a * y(i, 0) + sd * nd(rng);
    d.data.times.push_back(0.1 * k);
    d.data.states.push_back(y);
  }
  return d;
}

/// An (untrained) score model of OU that says it was trained on `data` with holdout_every.
score::ScoreModel untrained(const score::TrainingData& data, int holdout_every) {
  score::ScoreModelFile f;
  f.arch.input_dim = f.arch.output_dim = 1;
  f.arch.hidden = {8};
  nn::Mlp<float> net(f.arch, 3);
  f.ema_parameters = net.flat_parameters();
  f.data = data.info;
  f.t_min = 0.1;
  f.t_max = 1.0;
  score::TrainingConfig c;
  c.holdout_every = holdout_every;
  f.config = c.numeric_settings();
  f.config_text = c.text_settings();
  return score::ScoreModel(f);
}


TEST_CASE("compare refuses to judge fits on training paths when nothing was held out") {
  const auto data = ou_data(200, 1);
  eval::StudyOptions o;
  o.train.holdout_every = 0;
  o.train.steps = 10;
  o.seeds = {1};
  CHECK_THROWS_WITH_AS(eval::run_study(o, data), doctest::Contains("compare: the score was trained on every path"), ConfigError);
  o.seeds.clear();
  CHECK_THROWS_WITH_AS(eval::run_study(o, data), doctest::Contains("the list of seeds is empty"), ConfigError);
}

TEST_CASE("physics uses the held-out paths of the training ensemble, and every path of an independent one") {
  const auto data = ou_data(200, 1);
  eval::PhysicsOptions o;
  o.times = {0.5, 1.0};
  o.flow_samples = 10;
  o.n = {11};
  o.threads = 1;
  const auto held = eval::compute_physics(untrained(data, 10), data, o);
  CHECK(held.ensemble_samples == 20);  // paths 9, 19, ..., 199
  CHECK(held.flow_samples == 10);
  CHECK(held.times == std::vector<double>{0.5, 1.0});
  REQUIRE(held.has_grid);
  CHECK(held.velocity.size() == 2);
  CHECK_THROWS_WITH_AS(eval::compute_physics(untrained(data, 0), data, o), doctest::Contains("physics: the score was trained on every path"),
                       ConfigError);
  const auto other = ou_data(150, 2);  // another seed: an independent ensemble of the same model
  CHECK(eval::compute_physics(untrained(data, 0), other, o).ensemble_samples == 150);
  o.density = "kde";
  CHECK_THROWS_WITH_AS(eval::compute_physics(untrained(data, 10), data, o), doctest::Contains("valid values are ensemble, score"), ConfigError);
}

}  // namespace eval_study_test
