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


TEST_CASE("parse_sweep: linspace and lists, and what it refuses") {
  const auto ax = sim::parse_sweep({"T=0.3:0.7:5", "a=1,2.5"});
  REQUIRE(ax.size() == 2);
  CHECK(ax[0].name == "T");
  REQUIRE(ax[0].values.size() == 5);
  CHECK(ax[0].values[0] == 0.3);
  CHECK(ax[0].values[4] == 0.7);  // the end point exactly, as numpy.linspace
  CHECK(ax[0].values[2] == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(ax[0].values[1] == doctest::Approx(0.4).epsilon(1e-15));
  CHECK(ax[1].values == std::vector<double>{1.0, 2.5});
  CHECK(sim::parse_sweep({"T=2:5:1"})[0].values == std::vector<double>{2.0});
  CHECK(sim::parse_sweep({"T=1:0:3"})[0].values == std::vector<double>{1.0, 0.5, 0.0});
  for (const char* bad : {"T", "=1,2", "T=", "T=1:2", "T=1:2:0", "T=1:2:x", "T=1:nan:3", "T=1,,2", "T=1,inf",
                          "T=1,1", "time=1,2"})
    CHECK_THROWS_AS(sim::parse_sweep({bad}), ConfigError);
  CHECK_THROWS_AS(sim::parse_sweep({"T=1,2", "T=3"}), ConfigError);
  try {
    sim::parse_sweep({"T=0.3:0.7:0"});
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("N = 0") != std::string::npos);
  }
}

TEST_CASE("a sweep: a grid in one file, each point the bits of its own run; progress; no file on a stop") {
  TempDir tmp;
  sim::Config c = small();
  c.params.clear();
  c.sweep = {"a=1,2", "T=0.4,0.6"};
  c.output = tmp / "grid.h5";
  std::vector<double> done;
  sim::Hooks h;
  h.progress = [&](const sim::Progress& p) {
    CHECK(p.total == 4 * 300.0 * 200.0);
    done.push_back(p.done);
  };
  const auto r = sim::simulate(c, h);
  CHECK(r.sweep_points == 4);
  CHECK(r.snapshots == 11);
  CHECK(std::is_sorted(done.begin(), done.end()));
  CHECK(done.back() == 4 * 300.0 * 200.0);
  const auto stored = io::open_file(c.output).read_array<double>("particles/ensemble/position/value");
  CHECK(stored.shape == std::vector<std::size_t>{2, 2, 11, 300, 1});
  CHECK(io::open_file(c.output).read_array<double>("particles/ensemble/position/T").data ==
        std::vector<double>{0.4, 0.6});
  const std::size_t per = 11u * 300u;
  for (const auto& [i, j] : {std::pair{1, 0}, std::pair{0, 1}}) {
    sim::Config one = small();
    one.params = {{"a", i ? 2.0 : 1.0}, {"T", j ? 0.6 : 0.4}};
    one.keep_positions = true;
    const auto ro = sim::simulate(one);
    REQUIRE(ro.positions.size() == per);
    CHECK(std::memcmp(stored.data.data() + (static_cast<std::size_t>(i) * 2 + j) * per, ro.positions.data(),
                      per * sizeof(double)) == 0);
  }
  // A stop in the third point: nothing at the output.
  sim::Config s = c;
  s.output = tmp / "stopped.h5";
  int polls = 0;
  sim::Hooks stop;
  stop.stop_requested = [&] { return ++polls == 450; };
  CHECK_THROWS_AS(sim::simulate(s, stop), sim::Cancelled);
  CHECK(polls == 450);
  CHECK_FALSE(fs::exists(s.output));
  CHECK(tmp.count() == 1);
  // Keyword names in messages; a bad value names the point.
  sim::Config k = c;
  k.cli_names = false;
  k.sweep = {"T=0.5,-1"};
  try {
    sim::simulate(k);
    FAIL("no error");
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    CHECK(m.find("sweep T=0.5,-1: at T = -1") == 0);
  }
  CHECK(tmp.count() == 1);
}

}  // namespace sim_simulation_test
