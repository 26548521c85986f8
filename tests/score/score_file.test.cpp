// Score model files: the saved step schedule reads back exactly (audit of issue #14: its
// contents were written but never read back in a test).
#include <doctest/doctest.h>

#include <filesystem>
#include <random>
#include <unistd.h>

#include "score_test_support.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/score/score_file.hpp"

using namespace sdescore;
using namespace sdescore::score;
namespace fs = std::filesystem;

TEST_CASE("score file: an error-controlled schedule round-trips (kind, tolerance, times, Delta, local error, Sigma_bar)") {
  Mat<double, 2, 2> C;
  C << 0.5, 0.1, 0.1, 0.8;
  const test::GaussianSource<models::ActiveSwimmer> ens(models::ActiveSwimmer{}, 500, Vec<double, 2>(0.2, -0.1), C, 0.0, 5);
  ScheduleOptions so;
  so.kind = "error-controlled";
  so.delta_min = 1e-3;
  so.delta_max = 0.05;
  so.tolerance = 0.02;
  so.grid = 7;
  so.samples = 16;
  ScoreModelFile f;
  f.schedule = build_schedule(ens.src, 0.1, 0.8, so, 3);
  REQUIRE(f.schedule.t.size() == 7);
  f.arch.input_dim = f.arch.output_dim = 2;
  f.arch.hidden = {8};
  f.arch.time.t_max = 0.8;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  f.ema_parameters.resize(static_cast<std::size_t>(f.arch.num_parameters()));
  for (auto& p : f.ema_parameters) p = u(rng);
  f.objective = "local-dsm";
  f.t_min = 0.1;
  f.t_max = 0.8;
  f.data.model = "active_swimmer";

  const fs::path dir = fs::temp_directory_path() / ("sdescore_score_file_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_score_file(dir / "s.h5", f, false);
  const ScoreModelFile g = read_score_file(dir / "s.h5");
  fs::remove_all(dir);

  CHECK(g.schedule.kind == "error-controlled");
  CHECK(g.schedule.tolerance == 0.02);
  CHECK(g.schedule.t == f.schedule.t);
  CHECK(g.schedule.delta == f.schedule.delta);
  CHECK(g.schedule.local_error == f.schedule.local_error);
  REQUIRE(g.schedule.sigma_bar.size() == f.schedule.sigma_bar.size());
  for (std::size_t k = 0; k < f.schedule.sigma_bar.size(); ++k) CHECK(g.schedule.sigma_bar[k] == f.schedule.sigma_bar[k]);
  // and lookups on the read schedule give what the trainer used
  for (double t : {0.1, 0.35, 0.79}) {
    CHECK(g.schedule.delta_at(t) == f.schedule.delta_at(t));
    CHECK(g.schedule.sigma_bar_at(t) == f.schedule.sigma_bar_at(t));
  }
  CHECK(g.ema_parameters == f.ema_parameters);
}
