// The score model type and its training configuration: one set of defaults (the library's), a
// lossless round trip config <-> FitOptions <-> file settings, save/load, and the fields
// s, D s and v = f - div D - D s against hand-computed values with the model's own D.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "sdescore/models/double_well.hpp"
#include "sdescore/models/underdamped_langevin.hpp"
#include "sdescore/score/holdout.hpp"
#include "sdescore/score/score_model.hpp"

using namespace sdescore;
using namespace sdescore::score;
namespace fs = std::filesystem;

namespace score_score_model_test {  // named and around the whole file: unity batches must not mix files' helpers

/// A record of a small random network for `model` (name and parameters as sdesim writes them).
ScoreModelFile small_record(const std::string& model, const std::map<std::string, double>& params, int d) {
  ScoreModelFile f;
  f.arch.input_dim = f.arch.output_dim = d;
  f.arch.hidden = {8, 8};
  f.arch.time.t_max = 2.0;
  nn::Mlp<float> net(f.arch, 7);
  f.ema_parameters = net.flat_parameters();
  f.data.model = model;
  f.data.model_parameters = params;
  f.data_file = "data.h5";
  f.objective = "local-dsm";
  f.t_min = 0.1;
  f.t_max = 2.0;
  f.seed = 5;
  const TrainingConfig c;
  f.config = c.numeric_settings();
  f.config_text = c.text_settings();
  return f;
}

Eigen::MatrixXd random_points(int n, int d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd y(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) y(i, j) = nd(rng);
  return y;
}


TEST_CASE("TrainingConfig: the defaults are the library's, and config -> FitOptions -> config is lossless") {
  const TrainingConfig c;
  const FitOptions fo;
  // one source: the config shows exactly what fit_score runs with by default
  CHECK(c.delta_max == fo.schedule.delta_max);
  CHECK(c.steps == fo.steps);
  CHECK(c.lr == fo.trainer.schedule.base_lr);
  CHECK(c.warmup == fo.trainer.schedule.warmup_steps);
  CHECK(c.hidden == fo.arch.hidden);
  CHECK(c.holdout_every == fo.holdout_every);
  // the delta_max the CLI documented (docs/cli.md) and the library now agree
  CHECK(c.delta_max == 0.05);
  CHECK(c.auto_growth == fo.schedule.auto_elapsed);

  TrainingConfig x;
  x.objective = "ism-hutchinson";
  x.steps = 1234;
  x.batch = 96;
  x.groups = 4;
  x.reference_size = 7;
  x.antithetic = true;
  x.weight = "scalar";
  x.schedule = "fixed";
  x.delta = 0.03;
  x.delta_min = 2e-3;
  x.delta_max = 0.2;
  x.auto_growth = 0.15;
  x.ito_correction = false;
  x.t_min = 0.25;
  x.t_max = 1.5;
  x.holdout_every = 4;
  x.hidden = {16, 8, 4};
  x.activation = "tanh";
  x.time_frequencies = 3;
  x.lr = 1e-3;
  x.lr_final = 1e-6;
  x.warmup = 10;
  x.clip = 0.5;
  x.ema = 0.99;
  x.probes = 3;
  x.probe_kind = "gaussian";
  x.seed = 99;
  const TrainingConfig y(x.fit_options());
  CHECK(y.numeric_settings() == x.numeric_settings());
  CHECK(y.text_settings() == x.text_settings());
  CHECK(y.hidden == x.hidden);
  CHECK(y.seed == 99);
  CHECK(y.t_min == 0.25);
  // the file's settings give the same config back
  const TrainingConfig z = TrainingConfig::from_settings(x.numeric_settings(), x.text_settings(), x.hidden, x.seed, x.t_min, x.t_max, "f");
  CHECK(z.numeric_settings() == x.numeric_settings());
  CHECK(z.text_settings() == x.text_settings());
  auto num = x.numeric_settings();
  num.erase("delta_max");
  CHECK_THROWS_WITH_AS(TrainingConfig::from_settings(num, x.text_settings(), x.hidden, 1, 0, 1, "file f.h5"),
                       doctest::Contains("file f.h5 lacks the training setting 'delta_max'"), IoError);
  // auto_growth became a setting in session 14: a file without it reads as 0 (what ran is its saved schedule)
  num = x.numeric_settings();
  num.erase("auto_growth");
  CHECK(TrainingConfig::from_settings(num, x.text_settings(), x.hidden, 1, 0, 1, "file f.h5").auto_growth == 0);
}

TEST_CASE("TrainingConfig::set names each setting as the file does and refuses unknown names and wrong types") {
  TrainingConfig c;
  c.set("delta_max", 0.07);
  c.set("pools", 16.0);
  c.set("objective", std::string("ism"));
  c.set("hidden", std::vector<int>{32});
  c.set("ito_corrected_mean", 0.0);
  c.set("auto_growth", 0.2);
  CHECK(c.auto_growth == 0.2);
  CHECK(c.fit_options().schedule.auto_elapsed == 0.2);
  c.set("auto_growth", -0.5);
  CHECK_THROWS_WITH_AS(c.fit_options(), doctest::Contains("setting auto_growth = -0.5 is invalid: it must be >= 0"), ConfigError);
  c.set("auto_growth", 0.1);
  CHECK(c.delta_max == 0.07);
  CHECK(c.n_pools == 16);
  CHECK(c.objective == "ism");
  CHECK(c.hidden == std::vector<int>{32});
  CHECK(!c.ito_correction);
  CHECK_THROWS_WITH_AS(c.set("delta_maks", 0.1), doctest::Contains("valid settings are objective, weight"), ConfigError);
  CHECK_THROWS_WITH_AS(c.set("batch", 12.5), doctest::Contains("batch = 12.5 is invalid: it must be a whole number"), ConfigError);
  CHECK_THROWS_WITH_AS(c.set("batch", std::string("big")), doctest::Contains("takes a number"), ConfigError);
  CHECK_THROWS_WITH_AS(c.set("antithetic", 2.0), doctest::Contains("is a switch"), ConfigError);
  c.objective = "sliced";
  CHECK_THROWS_WITH_AS(c.fit_options(), doctest::Contains("valid objectives are local-dsm"), ConfigError);
}

TEST_CASE("the one hold-out rule: every k-th path; nothing held out refuses evaluation on the training ensemble") {
  CHECK(split_paths(10, 5, true) == std::vector<int>{4, 9});
  CHECK(split_paths(10, 5, false) == std::vector<int>{0, 1, 2, 3, 5, 6, 7, 8});
  CHECK(split_paths(3, 0, true).empty());
  CHECK(evaluation_paths(10, 5, true, "compare") == std::vector<int>{4, 9});
  CHECK(evaluation_paths(4, 0, false, "physics").size() == 4);  // an independent ensemble: every path
  CHECK_THROWS_WITH_AS(evaluation_paths(10, 0, true, "compare"), doctest::Contains("compare: the score was trained on every path"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(evaluation_paths(3, 5, true, "physics"), doctest::Contains("holds out no path of 3"), ConfigError);
}

TEST_CASE("ScoreModel evaluates s, D s and v = f - div D - D s with the trained model's diffusion") {
  SUBCASE("double well: D = T") {
    models::DoubleWell dw;
    dw.T = 0.7;
    const ScoreModel m(small_record("double_well", {{"a", dw.a}, {"T", dw.T}}, 1));
    const Eigen::MatrixXd y = random_points(20, 1, 1);
    const Eigen::VectorXd t = Eigen::VectorXd::LinSpaced(20, 0.2, 1.8);
    const Eigen::MatrixXd s = m.score(y, t, 1);
    CHECK(s.isApprox(m.network().evaluate(y, t, Eigen::VectorXd(), 1)));
    const Eigen::MatrixXd ds = m.diffusion_score(y, t, 1), v = m.velocity(y, t, 1);
    for (int i = 0; i < 20; ++i) {
      const double x = y(i, 0);
      CHECK(ds(i, 0) == doctest::Approx(dw.T * s(i, 0)));  // D = G^2/2 with G = sqrt(2T)
      CHECK(v(i, 0) == doctest::Approx(-4 * dw.a * x * (x * x - 1) - dw.T * s(i, 0)));
    }
  }
  SUBCASE("underdamped Langevin: noise on the velocity only, so D s has a zero position component") {
    models::UnderdampedLangevin ul;
    std::map<std::string, double> params;
    ul.for_each_param([&](const ParamInfo& p, double& v) { params[p.name] = v; });
    const ScoreModel m(small_record("underdamped_langevin", params, 2));
    const Eigen::MatrixXd y = random_points(10, 2, 2);
    const Eigen::VectorXd t = Eigen::VectorXd::Constant(10, 0.5);
    const Eigen::MatrixXd s = m.score(y, t), ds = m.diffusion_score(y, t), v = m.velocity(y, t);
    for (int i = 0; i < 10; ++i) {
      const Vec<double, 2> yi = y.row(i).transpose();
      const auto G = ul.diffusion(yi, 0.5);
      const Mat<double, 2, 2> D = 0.5 * G * G.transpose();
      const Vec<double, 2> si = s.row(i).transpose();
      const Vec<double, 2> expect_ds = D * si, expect_v = ul.drift(yi, 0.5) - D * si;
      CHECK(ds(i, 0) == doctest::Approx(0.0));
      CHECK(ds(i, 1) == doctest::Approx(expect_ds(1)));
      CHECK(v(i, 0) == doctest::Approx(expect_v(0)));
      CHECK(v(i, 1) == doctest::Approx(expect_v(1)));
    }
  }
}

TEST_CASE("ScoreModel saves and loads itself bit for bit, with its configuration; bad shapes are refused") {
  const auto dir = fs::temp_directory_path() / ("score-model-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto rec = small_record("double_well", {{"a", 1.0}, {"T", 0.5}}, 1);
  rec.config["delta_max"] = 0.125;
  const ScoreModel m(rec);
  m.save(dir / "m.h5");
  CHECK_THROWS_WITH_AS(m.save(dir / "m.h5"), doctest::Contains("--force"), IoError);
  const ScoreModel back = ScoreModel::load(dir / "m.h5");
  CHECK(back.record().ema_parameters == rec.ema_parameters);
  CHECK(back.config().delta_max == 0.125);
  CHECK(back.config().hidden == std::vector<int>{8, 8});
  CHECK(back.config().seed == 5);
  const Eigen::MatrixXd y = random_points(5, 1, 3);
  const Eigen::VectorXd t = Eigen::VectorXd::Constant(5, 1.0);
  CHECK(back.score(y, t) == m.score(y, t));
  CHECK_THROWS_WITH_AS(m.score(random_points(5, 2, 4), t), doctest::Contains("give an n x 1 array"), ConfigError);
  CHECK_THROWS_WITH_AS(m.score(y, Eigen::VectorXd::Constant(4, 1.0)), doctest::Contains("4 times for 5 points"), ConfigError);
  CHECK_THROWS_AS(m.fit_state(), IoError);  // no optimiser state in this record: not resumable
  fs::remove_all(dir);
}

}  // namespace score_score_model_test
