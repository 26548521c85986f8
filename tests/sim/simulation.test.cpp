// tests/sim/simulation.test.cpp - the simulation run: the positions kept in memory are the
// file's, progress and cancellation (nothing left at the output), keyword-style messages,
// the model traits it uses (default stepper, stationary law).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sdescore/core/error.hpp"
#include "sdescore/io/io.hpp"
#include "sdescore/sim/simulation.hpp"

namespace fs = std::filesystem;
using namespace sdescore;

namespace sim_simulation_test {  // named and around the whole file: unity batches must not mix files' helpers

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("sdescore-sim-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::size_t count() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), {})); }
};

sim::Config small() {
  sim::Config c;
  c.model = "double_well";
  c.params = {{"T", 0.5}};
  c.init = "normal:0,0.3";
  c.paths = 300;
  c.dt = 0.01;
  c.t_end = 2.0;
  c.save_every = 20;
  c.seed = 7;
  c.threads = 2;
  return c;
}


TEST_CASE("the positions kept in memory are the bits written to the file, and read back") {
  TempDir tmp;
  sim::Config c = small();
  c.output = tmp / "dw.h5";
  c.keep_positions = true;
  const auto r = sim::simulate(c);
  REQUIRE(r.times.size() == 11);
  CHECK(r.snapshots == 11);
  CHECK(r.positions.size() == 11u * 300u);
  const auto stored = io::open_file(c.output).read_array<double>("particles/ensemble/position/value");
  REQUIRE(stored.data.size() == r.positions.size());
  CHECK(std::memcmp(stored.data.data(), r.positions.data(), r.positions.size() * sizeof(double)) == 0);

  sim::Config m = small();  // in memory only, one thread: the same bits
  m.keep_positions = true;
  m.threads = 1;
  const auto rm = sim::simulate(m);
  CHECK(rm.output.empty());
  CHECK(std::memcmp(rm.positions.data(), r.positions.data(), r.positions.size() * sizeof(double)) == 0);
  CHECK(rm.times == r.times);

  const auto back = sim::read_ensemble(c.output);
  CHECK(back.info.model == "double_well");
  CHECK(back.info.model_parameters.at("T") == 0.5);
  CHECK(back.n_paths == 300);
  CHECK(back.n_steps == 200);
  CHECK(back.times == r.times);
  CHECK(back.steps == r.steps);
  CHECK(std::memcmp(back.positions.data(), r.positions.data(), r.positions.size() * sizeof(double)) == 0);
  CHECK_THROWS_AS(sim::read_ensemble(tmp / "missing.h5"), IoError);
}

TEST_CASE("progress reaches the total; a stop request cancels and leaves nothing at the output") {
  TempDir tmp;
  sim::Config c = small();
  c.output = tmp / "dw.h5";
  std::vector<double> done;
  sim::Hooks h;
  h.progress = [&](const sim::Progress& p) {
    CHECK(p.total == 300.0 * 200.0);
    done.push_back(p.done);
  };
  sim::simulate(c, h);
  REQUIRE(done.size() >= 10);
  CHECK(std::is_sorted(done.begin(), done.end()));
  CHECK(done.back() == 300.0 * 200.0);

  sim::Config s = small();
  s.output = tmp / "stopped.h5";
  int polls = 0;
  sim::Hooks stop;
  stop.stop_requested = [&] { return ++polls == 5; };
  CHECK_THROWS_AS(sim::simulate(s, stop), sim::Cancelled);
  CHECK(polls == 5);
  CHECK_FALSE(fs::exists(s.output));
  CHECK(tmp.count() == 1);  // dw.h5 only: no temporary left behind
}

TEST_CASE("settings are named as keywords when asked (the Python face), as options otherwise") {
  sim::Config c = small();
  c.keep_positions = true;
  c.dt = -1;
  CHECK_THROWS_WITH_AS(sim::simulate(c), doctest::Contains("--dt = -1 is invalid"), ConfigError);
  c.cli_names = false;
  try {
    sim::simulate(c);
    FAIL("dt = -1 was accepted");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).rfind("dt = -1 is invalid", 0) == 0);  // the keyword, no "--"
  }
  c.dt = 0.01;
  c.t_end = 1.005;
  CHECK_THROWS_WITH_AS(sim::simulate(c), doctest::Contains("t_end = 1.005 is not a whole number of steps of dt = 0.01"),
                       ConfigError);
  c.t_end = 1;
  c.save_every = 7;
  CHECK_THROWS_WITH_AS(sim::simulate(c), doctest::Contains("save_every = 7 does not divide the 100 steps"), ConfigError);
  c.save_every = 0;
  c.keep_positions = false;
  CHECK_THROWS_WITH_AS(sim::simulate(c), doctest::Contains("no output"), ConfigError);
}

TEST_CASE("the model's traits: default stepper and stationary law") {
  sim::Config c;
  c.model = "underdamped_langevin";
  c.paths = 64;
  c.dt = 0.01;
  c.t_end = 0.1;
  c.keep_positions = true;
  CHECK(sim::simulate(c).info.stepper == "baoab");
  CHECK(sim::default_stepper("ou") == "euler_maruyama");
  c.model = "active_swimmer";
  c.init = "stationary";
  CHECK_THROWS_WITH_AS(sim::simulate(c),
                       doctest::Contains("model active_swimmer has no known stationary law; valid: double_well, ou, "
                                         "ou2d, underdamped_langevin, overdamped_langevin_1d, overdamped_langevin"),
                       ConfigError);
}

}  // namespace sim_simulation_test
