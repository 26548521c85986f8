// scorefit's run() functions end to end on files: train -> score model file -> score / grid.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "apps/common/cli.hpp"
#include "scorefit.hpp"
#include "sdescore/io/ensemble_writer.hpp"
#include "sdescore/io/h5.hpp"
#include "sdescore/io/output_file.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/score/score_file.hpp"
#include "scorefit_test_support.hpp"

using namespace sdescore;
using namespace sdescore::scorefit_test;
namespace fs = std::filesystem;


TEST_CASE("scorefit train writes a complete score model file; score and grid answer the documented contract") {
  TempDir tmp;
  const auto data = write_ou_file(tmp.path);
  const auto model = tmp.path / "score.h5";
  auto o = quick_train(data, model);
  o.command_line = "scorefit train ...";
  CHECK(scorefit::run_train(o) == 0);
  REQUIRE(fs::exists(model));
  const auto f = score::read_score_file(model);
  CHECK(f.objective == "local-dsm");
  CHECK(f.data.model == "ou");
  CHECK(f.steps_done == 300);
  CHECK(f.curve.size() == 6);  // 300 steps / log_every 50
  CHECK(static_cast<long>(f.ema_parameters.size()) == f.arch.num_parameters());
  CHECK(f.schedule.t.size() == 64);
  CHECK(f.config.at("batch") == 128);
  CHECK(std::isfinite(f.heldout_ism));

  // the /points + /time -> /score contract
  const auto pts = tmp.path / "pts.h5";
  {
    io::AtomicFile in(pts, false);
    std::vector<double> p{-1.0, 0.0, 0.5, 1.0}, t{0.5, 0.5, 0.8, 1.0};
    in.root().write_array("points", std::span<const double>(p), {4, 1});
    in.root().write_array("time", std::span<const double>(t), {4});
    in.commit();
  }
  scorefit::ScoreOptions so{model.string(), pts.string(), (tmp.path / "out.h5").string(), false, 1, ""};
  CHECK(scorefit::run_score(so) == 0);
  const auto s = io::open_file(tmp.path / "out.h5").read_array<double>("score");
  REQUIRE(s.shape == std::vector<std::size_t>{4, 1});
  // after 300 steps of a 32x32 net the sign and rough size are right: exact scores -(y - m_t)/v_t
  for (int i = 0; i < 4; ++i) {
    const std::vector<double> p{-1.0, 0.0, 0.5, 1.0}, t{0.5, 0.5, 0.8, 1.0};
    const double mt = std::exp(-t[i]), vt = 0.04 * std::exp(-2 * t[i]) + (1 - std::exp(-2 * t[i])) / 2;
    const double ref = -(p[i] - mt) / vt;
    CHECK_MESSAGE(std::abs(s.data[i] - ref) < 0.25 * std::abs(ref) + 0.3, "point ", i, ": ", s.data[i], " vs ", ref);
  }

  scorefit::GridOptions go;
  go.model = model.string();
  go.output = (tmp.path / "grid.h5").string();
  go.times = {0.5, 1.0};
  go.lo = {-2};
  go.hi = {2};
  go.n = {11};
  CHECK(scorefit::run_grid(go) == 0);
  const auto g = io::open_file(tmp.path / "grid.h5");
  CHECK(g.read_array<double>("score").shape == std::vector<std::size_t>{2, 11, 1});
  // D s with D = S^2/2 = 1/2, and the flow velocity f - D s with f = -y
  const auto sc = g.read_array<double>("score"), ds = g.read_array<double>("diffusion_score"),
             v = g.read_array<double>("flow_velocity"), x = g.read_array<double>("x");
  for (int i = 0; i < 11; ++i) {
    CHECK(ds.data[i] == doctest::Approx(0.5 * sc.data[i]));
    CHECK(v.data[i] == doctest::Approx(-x.data[i] - 0.5 * sc.data[i]));
  }
  CHECK(g.dim_names("score") == std::vector<std::string>{"time", "x", "component"});
}

TEST_CASE("scorefit refuses bad input and leaves existing files untouched") {
  TempDir tmp;
  const auto data = write_ou_file(tmp.path);
  const auto model = tmp.path / "score.h5";
  {
    std::ofstream(model) << "precious";
  }
  auto o = quick_train(data, model);
  CHECK_THROWS_WITH_AS(scorefit::run_train(o), doctest::Contains("--force"), IoError);
  REQUIRE(fs::is_regular_file(model));  // still there, still the 8 bytes written above
  CHECK(fs::file_size(model) == 8);
  std::string content;
  std::ifstream(model) >> content;
  CHECK(content == "precious");
  o.output = (tmp.path / "new.h5").string();
  o.objective = "sliced";
  CHECK_THROWS_WITH_AS(scorefit::run_train(o), doctest::Contains("valid objectives are local-dsm"), ConfigError);
  o.objective = "local-dsm";
  o.reference_size = 1000;
  CHECK_THROWS_WITH_AS(scorefit::run_train(o), doctest::Contains("reference size R = 1000 is invalid"), ConfigError);
  o.reference_size = 64;
  o.data = (tmp.path / "missing.h5").string();
  CHECK_THROWS_AS(scorefit::run_train(o), IoError);
  CHECK(!fs::exists(tmp.path / "new.h5"));
  // the score contract: a model file that is not one
  scorefit::ScoreOptions so{data.string(), data.string(), (tmp.path / "o.h5").string(), false, 1, ""};
  CHECK_THROWS_WITH_AS(scorefit::run_score(so), doctest::Contains("is not an sdescore score model"), IoError);
  // dsm on a nonlinear model
  TempDir tmp2;
  const auto dw = write_ou_file(tmp2.path, "double_well");
  auto o2 = quick_train(dw, tmp2.path / "s.h5");
  o2.objective = "dsm";
  CHECK_THROWS_WITH_AS(scorefit::run_train(o2), doctest::Contains("objective dsm needs a closed-form transition"), ConfigError);
}

TEST_CASE("DSM and ISM train end to end through the app on a linear model") {
  TempDir tmp;
  const auto data = write_ou_file(tmp.path);
  for (std::string obj : {"dsm", "ism", "ism-hutchinson"}) {
    auto o = quick_train(data, tmp.path / (obj + ".h5"));
    o.objective = obj;
    CHECK(scorefit::run_train(o) == 0);
    CHECK(score::read_score_file(tmp.path / (obj + ".h5")).objective == obj);
  }
}

TEST_CASE("scorefit compare writes the HDF5 report, CSV and Markdown with every metric, and refuses to overwrite") {
  TempDir tmp;
  const auto data = write_ou_file(tmp.path);
  scorefit::CompareOptions c;
  c.data = data.string();
  c.output = (tmp.path / "study.h5").string();
  c.objectives = {"local-dsm", "dsm"};
  c.seeds = {1};
  c.train = quick_train(data, tmp.path / "unused.h5");
  c.eval_times = {0.2, 0.6, 1.0};
  c.eval_every = 100;
  c.flow_samples = 150;
  c.reverse_steps = 100;
  c.threshold = 0.5;
  c.quiet = true;
  CHECK(scorefit::run_compare(c) == 0);
  const auto r = io::open_file(tmp.path / "study.h5");
  const auto times = r.read_array<double>("study/time").data;  // snapshot times 0.1 k, snapped
  REQUIRE(times.size() == 3);
  CHECK(times[0] == doctest::Approx(0.2));
  CHECK(times[1] == doctest::Approx(0.6));
  CHECK(times[2] == doctest::Approx(1.0));
  for (const char* obj : {"local-dsm", "dsm"}) {
    const auto g = r.group(std::string("runs/") + obj + "/seed_1");
    const auto e = g.read_array<double>("score_error").data;
    REQUIRE(e.size() == 3);
    // 300 steps of a 32x32 net on OU: coarse but clearly learned (an untrained net gives ~1)
    for (double x : e) CHECK(x < 0.5);
    CHECK(g.read_array<double>("sliced_w1").data.size() == 3);
    CHECK(g.read_array<double>("sliced_w1_floor").data[0] > 0);
    const auto outside = g.read_array<double>("flow_outside_fraction").data;  // flow samples dropped out of range
    REQUIRE(outside.size() == 3);
    CHECK(outside[0] == 0);  // the start: held-out SDE samples, inside by construction
    for (double x : outside) CHECK((x >= 0 && x <= 1));
    CHECK(g.has_group("accuracy_trace"));
    CHECK(g.has_group("reverse_sde"));
    CHECK(g.attr_double("time_to_accuracy") > 0);  // 0.5 is reached
  }
  CHECK(r.read_array<double>("reference/density").shape[0] == 3);
  // The reference's own error: the same solve on 500 cells against 1000. OU's SG scheme is second
  // order (score error 1.1e-4 at 400 cells, docs/reference.md), so the difference is small but not 0.
  const auto check = r.read_array<double>("reference/check_score_error").data;
  REQUIRE(check.size() == 3);
  for (double x : check) CHECK((x > 0 && x < 1e-2));
  CHECK(r.read_array<double>("reference/grid_cells").data == std::vector<double>{1000});
  CHECK(fs::exists(tmp.path / "study.csv"));
  CHECK(fs::exists(tmp.path / "study.md"));
  std::ifstream md(tmp.path / "study.md");
  std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  CHECK(text.find("| local-dsm |") != std::string::npos);
  CHECK(text.find("| dsm |") != std::string::npos);
  CHECK(text.find("last time (samples out of range)") != std::string::npos);
  CHECK(text.find("Reference: Fokker-Planck on 1000 cells (upwind3 flux in noiseless directions). Its own error by "
                  "refinement (the same solve on 500 cells) at t = 0.2, 0.6, 1: score ") != std::string::npos);
  std::ifstream csv(tmp.path / "study.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header.ends_with(",heldout_ism,flow_outside_fraction,reference_check_score_error,reference_check_diffusion_score_error"));
  CHECK_THROWS_WITH_AS(scorefit::run_compare(c), doctest::Contains("--force"), IoError);
}

TEST_CASE("scorefit train --resume continues a stopped run bit-identically, on any thread count") {
  TempDir tmp;
  const auto data = write_ou_file(tmp.path);
  for (std::string obj : {"local-dsm", "ism-hutchinson"}) {
    CAPTURE(obj);
    // A: 300 steps in one go
    auto a = quick_train(data, tmp.path / ("a-" + obj + ".h5"));
    a.objective = obj;
    a.checkpoint_every = 100;  // checkpoints must not perturb the run
    REQUIRE(scorefit::run_train(a) == 0);
    // B: the same run stopped at step 150, then resumed (on 2 threads) in place up to the planned 300
    const auto b_path = tmp.path / ("b-" + obj + ".h5");
    auto b = quick_train(data, b_path);
    b.objective = obj;
    b.stop_at = 150;
    REQUIRE(scorefit::run_train(b) == 0);
    const auto half = score::read_score_file(b_path);
    CHECK(half.steps_done == 150);
    CHECK(half.config.at("steps") == 300);
    CHECK(half.curve.size() == 3);
    scorefit::TrainOptions r;
    r.resume = b_path.string();
    r.output = b_path.string();
    r.quiet = true;
    r.threads = 2;
    REQUIRE(scorefit::run_train(r) == 0);

    const auto fa = score::read_score_file(tmp.path / ("a-" + obj + ".h5"));
    const auto fb = score::read_score_file(b_path);
    CHECK(fb.steps_done == 300);
    CHECK(fb.ema_updates == fa.ema_updates);
    CHECK(fb.ema_parameters == fa.ema_parameters);  // exact equality of every float
    CHECK(fb.raw_parameters == fa.raw_parameters);
    CHECK(fb.adam_m == fa.adam_m);
    CHECK(fb.adam_v == fa.adam_v);
    REQUIRE(fb.curve.size() == fa.curve.size());
    for (std::size_t i = 0; i < fa.curve.size(); ++i) {
      CHECK(fb.curve[i].step == fa.curve[i].step);
      CHECK(fb.curve[i].loss == fa.curve[i].loss);
    }
    CHECK(fb.heldout_ism == fa.heldout_ism);
    CHECK(fb.objective == obj);
    // and a finished run can be extended beyond its plan
    scorefit::TrainOptions e = r;
    e.output = (tmp.path / ("c-" + obj + ".h5")).string();
    e.steps = 350;
    e.steps_given = true;
    REQUIRE(scorefit::run_train(e) == 0);
    CHECK(score::read_score_file(e.output).steps_done == 350);
  }
}

TEST_CASE("scorefit train --resume refuses what would not continue the saved run") {
  TempDir tmp;
  const auto data = write_ou_file(tmp.path);
  const auto model = tmp.path / "score.h5";
  REQUIRE(scorefit::run_train(quick_train(data, model)) == 0);
  scorefit::TrainOptions r;
  r.resume = model.string();
  r.output = (tmp.path / "more.h5").string();
  r.quiet = true;
  // finished and no new total
  CHECK_THROWS_WITH_AS(scorefit::run_train(r), doctest::Contains("finished its 300 steps: give --steps larger than 300"), ConfigError);
  r.steps_given = true;
  r.steps = 200;
  CHECK_THROWS_WITH_AS(scorefit::run_train(r), doctest::Contains("steps = 200 is invalid for resuming"), ConfigError);
  r.steps = 400;
  // a changed setting
  r.given_flags = {"--steps", "--lr"};
  CHECK_THROWS_WITH_AS(scorefit::run_train(r), doctest::Contains("--lr cannot be given with --resume"), ConfigError);
  r.given_flags.clear();
  // another ensemble
  TempDir tmp2;
  r.data = write_ou_file(tmp2.path, "double_well").string();
  CHECK_THROWS_WITH_AS(scorefit::run_train(r), doctest::Contains("but the saved run trained on ou"), ConfigError);
  // not a score model file
  r.data.clear();
  r.resume = data.string();
  CHECK_THROWS_AS(scorefit::run_train(r), IoError);
  CHECK(!fs::exists(tmp.path / "more.h5"));
}
