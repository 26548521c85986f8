// sdesim's run(): reproducibility (threads, path ranges, checkpoint + resume), file safety,
// bad input -> documented exit codes and messages, --init file:, stats-only, every model.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "sdescore/app/registry.hpp"
#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/io/io.hpp"
#include "sdesim.hpp"

namespace fs = std::filesystem;
using sdescore::sdesim::Options;
using sdescore::sdesim::run;

namespace sdesim_sdesim_test {  // named and around the whole file: unity batches must not mix files' helpers

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("sdescore-sdesim-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::size_t count() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), {})); }
};

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// A small double-well run: 300 paths (not a multiple of the block size), 200 steps.
Options small(const std::string& out) {
  Options o;
  o.model = "double_well";
  o.params = {"T=0.5"};
  o.init = "normal:0,0.3";
  o.paths = 300;
  o.dt = 0.01;
  o.t_end = 2.0;
  o.save_every = 20;
  o.seed = 7;
  o.threads = 1;
  o.output = out;
  o.quiet = true;
  return o;
}

int run_quiet(Options o) {
  std::ostringstream sink;
  o.out = &sink;
  return run(o);
}

/// The raw trajectory dataset (snapshot, path, dim) of an sdesim file, as stored.
sdescore::io::Array<double> trajectory(const std::string& file) {
  return sdescore::io::open_file(file).read_array<double>("particles/ensemble/position/value");
}

bool same_bytes(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// Exit code and message of run(o) as the app reports them (cli::guarded's mapping).
struct Failure {
  int code = 0;
  std::string message;
};
Failure failure_of(Options o) {
  std::ostringstream sink;
  o.out = &sink;
  Failure f;
  f.code = sdescore::cli::guarded("sdesim-test", [&] {
    try {
      return run(o);
    } catch (const std::exception& e) {
      f.message = e.what();
      throw;
    }
  });
  return f;
}


TEST_CASE("1 thread and 2 threads give byte-identical trajectories") {
  TempDir dir;
  Options a = small(dir / "a.h5"), b = small(dir / "b.h5");
  a.paths = b.paths = 1000;
  b.threads = 2;
  REQUIRE(run_quiet(a) == 0);
  REQUIRE(run_quiet(b) == 0);
  const auto ta = trajectory(a.output), tb = trajectory(b.output);
  CHECK(ta.shape == std::vector<std::size_t>{11, 1000, 1});
  CHECK(same_bytes(ta.data, tb.data));
}

TEST_CASE("--path-range replays a slice of the full run bit for bit") {
  TempDir dir;
  Options full = small(dir / "full.h5");
  full.paths = 700;
  full.threads = 2;
  REQUIRE(run_quiet(full) == 0);
  Options part = small(dir / "part.h5");
  part.path_range = "333:211";  // neither block- nor chunk-aligned
  REQUIRE(run_quiet(part) == 0);
  const auto tf = trajectory(full.output), tp = trajectory(part.output);
  REQUIRE(tp.shape == std::vector<std::size_t>{11, 211, 1});
  std::vector<double> slice;
  for (std::size_t s = 0; s < 11; ++s)
    for (std::size_t p = 333; p < 333 + 211; ++p) slice.push_back(tf.data[s * 700 + p]);
  CHECK(same_bytes(slice, tp.data));
  sdescore::io::EnsembleReader r(part.output);
  CHECK(r.info().path_first == 333);
  CHECK(r.path_indices().front() == 333);
}

TEST_CASE("a run stopped after a checkpoint and resumed equals an unsplit run") {
  TempDir dir;
  Options whole = small(dir / "whole.h5");
  REQUIRE(run_quiet(whole) == 0);

  for (const bool stats_only : {false, true}) {
    CAPTURE(stats_only);
    Options ref = small(dir / (stats_only ? "ref_stats.h5" : "ref.h5"));
    Options first = small(dir / (stats_only ? "split_stats.h5" : "split.h5"));
    if (stats_only) {
      for (Options* o : {&ref, &first}) {
        o->stats_only = true;
        o->hist = {"0:-2:2:16"};
      }
      REQUIRE(run_quiet(ref) == 0);
    }
    first.checkpoint_every = 70;  // not a multiple of save_every: checkpoints at steps 70 and 140
    first.stop_after_checkpoint_step = 140;
    CHECK_THROWS_AS(run_quiet(first), sdescore::sdesim::Interrupted);
    const std::string ckpt = sdescore::sdesim::checkpoint_path_for(first.output);
    CHECK_FALSE(fs::exists(first.output));  // no partial output at the target
    REQUIRE(fs::exists(ckpt));
    CHECK(sdescore::io::read_checkpoint(ckpt).step == 140);

    Options second = first;
    second.stop_after_checkpoint_step = -1;
    second.resume = ckpt;
    second.threads = 2;  // thread count is free to change
    REQUIRE(run_quiet(second) == 0);
    CHECK_FALSE(fs::exists(ckpt));  // removed after success (no --keep-checkpoint)
    if (!stats_only) {
      const auto tw = trajectory(whole.output), ts = trajectory(second.output);
      CHECK(tw.shape == ts.shape);
      CHECK(same_bytes(tw.data, ts.data));
      sdescore::io::EnsembleReader rw(whole.output), rs(second.output);
      CHECK(rw.times() == rs.times());
      CHECK(rw.steps() == rs.steps());
    } else {
      sdescore::io::ObservablesReader rr(ref.output), rs(second.output);
      REQUIRE(rr.n_snapshots() == rs.n_snapshots());
      CHECK(rr.steps() == rs.steps());
      for (std::int64_t s = 0; s < rr.n_snapshots(); ++s) {
        CHECK(rr.mean(s) == rs.mean(s));
        CHECK(rr.covariance(s) == rs.covariance(s));
        CHECK(rr.histogram(s) == rs.histogram(s));
      }
    }
  }
}

TEST_CASE("a kept final checkpoint extends a run to a later t_end exactly") {
  TempDir dir;
  Options whole = small(dir / "whole.h5");
  REQUIRE(run_quiet(whole) == 0);
  Options first = small(dir / "first.h5");
  first.t_end = 1.0;
  first.checkpoint_every = 100;
  first.keep_checkpoint = true;
  REQUIRE(run_quiet(first) == 0);
  const std::string ckpt = sdescore::sdesim::checkpoint_path_for(first.output);
  REQUIRE(fs::exists(ckpt));
  Options more = small(dir / "more.h5");
  more.resume = ckpt;
  REQUIRE(run_quiet(more) == 0);
  CHECK(same_bytes(trajectory(whole.output).data, trajectory(more.output).data));
  CHECK(fs::exists(ckpt));  // this run wrote no checkpoint of its own: the resumed file is left alone
}

TEST_CASE("resuming from a checkpoint of a different run is refused with exit code 2") {
  TempDir dir;
  Options first = small(dir / "a.h5");
  first.checkpoint_every = 100;
  first.keep_checkpoint = true;
  REQUIRE(run_quiet(first) == 0);
  const std::string ckpt = sdescore::sdesim::checkpoint_path_for(first.output);
  struct Case {
    std::function<void(Options&)> change;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {[](Options& o) { o.model = "ou"; o.params = {}; }, "model"},
      {[](Options& o) { o.params = {"T=0.6"}; }, "'T'"},
      {[](Options& o) { o.stepper = "heun"; }, "stepper"},
      {[](Options& o) { o.dt = 0.005; }, "dt"},
      {[](Options& o) { o.seed = 8; }, "--seed"},
      {[](Options& o) { o.paths = 301; }, "path range"},
      {[](Options& o) { o.save_every = 10; }, "--save-every"},
  };
  for (const auto& c : cases) {
    Options o = small(dir / "b.h5");
    o.resume = ckpt;
    c.change(o);
    const auto f = failure_of(o);
    CAPTURE(f.message);
    CHECK(f.code == sdescore::cli::usage_error);
    CHECK(f.message.find(c.expect) != std::string::npos);
    CHECK_FALSE(fs::exists(o.output));
  }
  Options missing = small(dir / "c.h5");
  missing.resume = dir / "no-such-checkpoint.h5";
  CHECK(failure_of(missing).code == sdescore::cli::io_error);
}

TEST_CASE("an existing output is refused without --force and left byte-for-byte unchanged") {
  TempDir dir;
  const std::string out = dir / "out.h5";
  { std::ofstream(out) << "precious bytes"; }
  const auto f = failure_of(small(out));
  CHECK(f.code == sdescore::cli::io_error);
  CHECK(f.message.find(out) != std::string::npos);
  CHECK(f.message.find("--force") != std::string::npos);
  CHECK(read_bytes(out) == "precious bytes");
  CHECK(dir.count() == 1);  // no temporary left behind

  Options forced = small(out);
  forced.force = true;
  REQUIRE(run_quiet(forced) == 0);
  CHECK(trajectory(out).shape == std::vector<std::size_t>{11, 300, 1});

  // A checkpoint target that exists is refused too (it would be replaced periodically).
  const std::string out2 = dir / "out2.h5";
  { std::ofstream(sdescore::sdesim::checkpoint_path_for(out2)) << "old checkpoint"; }
  Options ck = small(out2);
  ck.checkpoint_every = 50;
  CHECK(failure_of(ck).code == sdescore::cli::io_error);
  CHECK(read_bytes(sdescore::sdesim::checkpoint_path_for(out2)) == "old checkpoint");
  CHECK_FALSE(fs::exists(out2));
}

TEST_CASE("bad input exits with the documented code and names the value") {
  TempDir dir;
  const std::string existing = dir / "existing.h5";
  { std::ofstream(existing) << "keep me"; }
  struct Case {
    std::string what;
    std::function<void(Options&)> change;
    int code;
    std::vector<std::string> expect;  // substrings of the message
  };
  const std::vector<Case> cases = {
      {"unknown model", [](Options& o) { o.model = "double_wel"; }, 2, {"double_wel", "double_well", "ou2d"}},
      {"no model", [](Options& o) { o.model = ""; }, 2, {"--model", "double_well"}},
      {"unknown parameter", [](Options& o) { o.params = {"temperature=1"}; }, 2, {"temperature", "a, T"}},
      {"malformed parameter", [](Options& o) { o.params = {"T"}; }, 2, {"'T'", "name=value"}},
      {"non-numeric parameter", [](Options& o) { o.params = {"T=warm"}; }, 2, {"warm"}},
      {"non-finite parameter", [](Options& o) { o.params = {"T=nan"}; }, 2, {"T", "nan"}},
      {"infinite parameter", [](Options& o) { o.params = {"a=inf"}; }, 2, {"a", "inf"}},
      {"out-of-range parameter", [](Options& o) { o.params = {"T=-1"}; }, 2, {"T", "-1"}},
      {"unknown stepper", [](Options& o) { o.stepper = "rk4"; }, 2, {"rk4", "euler_maruyama"}},
      {"stepper not valid for model", [](Options& o) { o.stepper = "baoab"; }, 2, {"baoab", "euler_maruyama"}},
      {"dt = 0", [](Options& o) { o.dt = 0; }, 2, {"--dt", "0", "> 0"}},
      {"dt < 0", [](Options& o) { o.dt = -0.01; }, 2, {"--dt", "-0.01"}},
      {"dt non-finite", [](Options& o) { o.dt = std::numeric_limits<double>::quiet_NaN(); }, 2, {"--dt", "nan"}},
      {"t_end non-finite", [](Options& o) { o.t_end = std::numeric_limits<double>::infinity(); }, 2, {"--t-end", "inf"}},
      {"t_end not a multiple of dt", [](Options& o) { o.t_end = 2.005; }, 2, {"--t-end = 2.005", "2", "2.01"}},
      {"save_every not dividing", [](Options& o) { o.save_every = 30; }, 2, {"--save-every = 30", "200", "25"}},
      {"negative paths", [](Options& o) { o.paths = 0; }, 2, {"--paths = 0"}},
      {"bad path range", [](Options& o) { o.path_range = "10-20"; }, 2, {"10-20", "FIRST:COUNT"}},
      {"bad init", [](Options& o) { o.init = "gauss:0,1"; }, 2, {"gauss:0,1", "normal:"}},
      {"init of the wrong size", [](Options& o) { o.init = "point:1,2,3"; }, 2, {"point:1,2,3"}},
      {"bad hist", [](Options& o) { o.stats_only = true; o.hist = {"0:2:-2:10"}; }, 2, {"0:2:-2:10", "LO < HI"}},
      {"hist coordinate", [](Options& o) { o.stats_only = true; o.hist = {"1:-2:2:10"}; }, 2, {"coordinate 1", "0..0"}},
      {"hist without stats-only", [](Options& o) { o.hist = {"0:-2:2:10"}; }, 2, {"--stats-only"}},
      {"compression level", [](Options& o) { o.compress = 12; }, 2, {"--compress = 12", "0 (off) .. 9"}},
      {"no output", [](Options& o) { o.output = ""; }, 2, {"-o FILE"}},
      {"missing directory", [&](Options& o) { o.output = dir / "no/such/dir/x.h5"; }, 3, {"no/such/dir"}},
      {"existing output", [&](Options& o) { o.output = existing; }, 3, {"existing.h5", "--force"}},
      {"missing init file", [&](Options& o) { o.init = "file:" + (dir / "nope.h5"); }, 3, {"nope.h5"}},
      {"diverging paths",
       [](Options& o) {
         o.init = "point:20";
         o.dt = 0.5;
         o.t_end = 5;  // x -> -1.6e4, 8e12, -1e39, 2e117, inf
         o.save_every = 0;
       },
       4,
       {"non-finite", "path 0", "dt = 0.5"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Options o = small(dir / "out.h5");
    c.change(o);
    const auto f = failure_of(o);
    CAPTURE(f.message);
    CHECK(f.code == c.code);
    for (const auto& s : c.expect) CHECK_MESSAGE(f.message.find(s) != std::string::npos, "expected '" << s << "'");
  }
  CHECK(read_bytes(existing) == "keep me");
  CHECK(dir.count() == 1);  // nothing created, no temporaries left
}

TEST_CASE("the command-line parser maps to the same exit codes") {
  TempDir dir;
  const std::string out = dir / "cli.h5";
  auto call = [](std::vector<std::string> args) {
    args.insert(args.begin(), "sdesim");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return sdescore::sdesim::main_program(static_cast<int>(argv.size()), argv.data());
  };
  CHECK(call({"--model", "ou", "--paths", "64", "--t-end", "0.1", "--dt", "0.01", "-q", "-o", out}) == 0);
  CHECK(call({"--model", "ou", "--paths", "64", "--t-end", "0.1", "--dt", "0.01", "-q", "-o", out}) == 3);
  CHECK(call({"--model", "ou", "--dt", "fast", "-o", out}) == 2);
  CHECK(call({"--model", "ou", "--no-such-option"}) == 2);
  CHECK(call({"--model", "ou", "--paths", "5", "--path-range", "0:5", "-o", out}) == 2);
  CHECK(call({"--list-models"}) == 0);
  CHECK(call({"--describe", "nope"}) == 2);
  const auto info = sdescore::io::EnsembleReader(out).info();
  CHECK(info.command_line.find("sdesim --model ou --paths 64") == 0);
}

TEST_CASE("--init file: starts from the last snapshot of an ensemble file") {
  TempDir dir;
  Options a = small(dir / "a.h5");
  REQUIRE(run_quiet(a) == 0);
  Options b = small(dir / "b.h5");
  b.init = "file:" + a.output;
  b.seed = 99;
  REQUIRE(run_quiet(b) == 0);
  sdescore::io::EnsembleReader ra(a.output), rb(b.output);
  CHECK(rb.snapshot(0) == ra.snapshot(-1));
  CHECK(rb.info().initial_law == "file:" + a.output);

  // A path range picks the matching global paths of the file.
  Options c = small(dir / "c.h5");
  c.init = "file:" + a.output;
  c.path_range = "100:50";
  REQUIRE(run_quiet(c) == 0);
  CHECK(sdescore::io::EnsembleReader(c.output).snapshot(0) == ra.snapshot(-1).middleRows(100, 50));

  // A checkpoint file works as an init file too (its state, not its saved trajectory).
  Options k = small(dir / "k.h5");
  k.checkpoint_every = 200;
  k.keep_checkpoint = true;
  REQUIRE(run_quiet(k) == 0);
  Options d = small(dir / "d.h5");
  d.init = "file:" + sdescore::sdesim::checkpoint_path_for(k.output);
  REQUIRE(run_quiet(d) == 0);
  CHECK(sdescore::io::EnsembleReader(d.output).snapshot(0) == sdescore::io::EnsembleReader(k.output).snapshot(-1));

  // Wrong dimension, too few paths: exit code 2, message naming the mismatch.
  Options w = small(dir / "w.h5");
  w.model = "ou2d";
  w.params = {};
  w.init = "file:" + a.output;
  auto f = failure_of(w);
  CHECK(f.code == 2);
  CHECK(f.message.find("dimension 1") != std::string::npos);
  CHECK(f.message.find("ou2d") != std::string::npos);
  Options many = small(dir / "many.h5");
  many.paths = 400;
  many.init = "file:" + a.output;
  f = failure_of(many);
  CHECK(f.code == 2);
  CHECK(f.message.find("[0, 300)") != std::string::npos);
}

TEST_CASE("stats-only output matches statistics of a full run's snapshots") {
  TempDir dir;
  Options full = small(dir / "full.h5");
  full.model = "ou2d";
  full.params = {};
  full.init = "normal:1,0.5";
  full.paths = 1000;
  REQUIRE(run_quiet(full) == 0);
  Options st = full;
  st.output = dir / "stats.h5";
  st.stats_only = true;
  st.hist = {"0:-3:3:30", "1:-2:2:30"};
  st.threads = 2;
  REQUIRE(run_quiet(st) == 0);

  CHECK_FALSE(sdescore::io::open_file(st.output).has_group("particles"));
  sdescore::io::EnsembleReader rf(full.output);
  sdescore::io::ObservablesReader rs(st.output);
  REQUIRE(rs.n_snapshots() == rf.n_snapshots());
  CHECK(rs.n_paths() == 1000);
  CHECK(rs.times() == rf.times());
  REQUIRE(rs.has_histogram());
  sdescore::ensemble::StatsOptions so;
  so.enabled = true;
  so.histograms = {{0, {}}, {1, {}}};
  for (int i = 0; i <= 30; ++i) {
    so.histograms[0].edges.push_back(i == 30 ? 3.0 : -3.0 + 6.0 * i / 30.0);
    so.histograms[1].edges.push_back(i == 30 ? 2.0 : -2.0 + 4.0 * i / 30.0);
  }
  for (std::int64_t s = 0; s < rf.n_snapshots(); ++s) {
    CAPTURE(s);
    const auto x = sdescore::ensemble::StateMatrix::from_rows(rf.snapshot(s));
    const auto ref = sdescore::ensemble::compute_stats(x.view(), so);
    const Eigen::VectorXd m = ref.mean();
    const Eigen::MatrixXd c = ref.cov();
    CHECK((rs.mean(s) - m).cwiseAbs().maxCoeff() <= 1e-14);
    CHECK((rs.covariance(s) - c).cwiseAbs().maxCoeff() <= 1e-14);
    const auto h = rs.histogram(s);
    for (int j = 0; j < 2; ++j)
      for (int b = 0; b < 30; ++b) CHECK(h(j, b) == ref.histograms[static_cast<std::size_t>(j)].counts[static_cast<std::size_t>(b)]);
  }
}

TEST_CASE("every model runs a few steps with its default stepper") {
  TempDir dir;
  for (const auto& m : sdescore::app::list_models()) {
    CAPTURE(m.name);
    Options o;
    o.model = m.name;
    o.paths = 100;
    o.dt = 1e-3;
    o.t_end = 0.01;
    o.seed = 3;
    o.output = dir / (m.name + ".h5");
    std::ostringstream out;
    o.out = &out;
    REQUIRE(run(o) == 0);
    CHECK(out.str().find(o.output) != std::string::npos);
    CHECK(out.str().find("particle-steps/s") != std::string::npos);
    sdescore::io::EnsembleReader r(o.output);
    CHECK(r.dim() == m.state_dim);
    CHECK(r.n_snapshots() == 11);  // default save_every: n_steps / 10
    CHECK(r.info().stepper == sdescore::sdesim::default_stepper(m.name));
    CHECK(r.snapshot(-1).allFinite());
  }
}

TEST_CASE("--list-models and --describe") {
  std::ostringstream out;
  Options o;
  o.out = &out;
  o.list_models = true;
  REQUIRE(run(o) == 0);
  for (const auto& m : sdescore::app::list_models()) CHECK(out.str().find(m.name) != std::string::npos);
  std::ostringstream d;
  Options od;
  od.out = &d;
  od.describe = "underdamped_langevin";
  REQUIRE(run(od) == 0);
  CHECK(d.str().find("gamma") != std::string::npos);
  CHECK(d.str().find("baoab (default)") != std::string::npos);
  CHECK(d.str().find("dV =") != std::string::npos);
}

}  // namespace sdesim_sdesim_test
