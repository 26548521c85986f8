// tests/ensemble/engine.test.cpp - the reproducibility contract of the engine (bit-identical
// under thread count, block size, path-range replay, checkpoint/resume), snapshots, progress,
// streaming statistics and non-finite detection.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/models/active_brownian_2d.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/models/underdamped_langevin.hpp"
#include "sdescore/solvers/baoab.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"
#include "sdescore/solvers/heun.hpp"
#include "sdescore/solvers/local_linearization.hpp"
#include "sdescore/solvers/milstein.hpp"
#include "support/toy_models.hpp"

using namespace sdescore;
using namespace sdescore::ensemble;

namespace {

// Engine options are written as designated initializers; `.stats = {}` names the one member
// without a default initializer, which -Wmissing-field-initializers would otherwise flag.

struct Recorded {
  std::vector<std::int64_t> index, step;
  std::vector<double> t;
  std::vector<StateMatrix> states;
  std::vector<EnsembleStats> stats;
};

SnapshotSink recorder(Recorded& r) {
  return [&r](const Snapshot& s) {
    r.index.push_back(s.index);
    r.step.push_back(s.step);
    r.t.push_back(s.t);
    StateMatrix m(s.state.dim, s.state.n_paths);
    std::copy(s.state.data, s.state.data + s.state.dim * s.state.n_paths, m.data().begin());
    r.states.push_back(std::move(m));
    if (s.stats) r.stats.push_back(*s.stats);
  };
}

template <class St, class M>
StateMatrix run(const St& st, const M& m, std::int64_t n, EnsembleOptions o, std::uint64_t first_path = 0,
                Recorded* rec = nullptr) {
  o.first_path = first_path;
  StateMatrix s = sample_initial(m, parse_init_spec("normal:0,1"), o.seed, first_path, n);
  simulate(st, m, s, o, rec ? recorder(*rec) : SnapshotSink{});
  return s;
}

bool same_stats(const EnsembleStats& a, const EnsembleStats& b) {
  if (a.n != b.n || a.mean_data != b.mean_data || a.cov_data != b.cov_data || a.histograms.size() != b.histograms.size()) return false;
  for (std::size_t h = 0; h < a.histograms.size(); ++h)
    if (a.histograms[h].counts != b.histograms[h].counts || a.histograms[h].underflow != b.histograms[h].underflow ||
        a.histograms[h].overflow != b.histograms[h].overflow)
      return false;
  return true;
}

}  // namespace

TEST_CASE("bit-identical for 1 vs 2 threads and any block size") {
  EnsembleOptions o{.seed = 77, .dt = 0.01, .n_steps = 50, .save_every = 10, .stats = {}};
  const std::int64_t n = 1000;  // not a multiple of any block size
  SUBCASE("double well, Euler-Maruyama") {
    std::vector<StateMatrix> results;
    for (int threads : {1, 2})
      for (int bs : {64, 128, 512}) {
        o.n_threads = threads;
        o.block_size = bs;
        results.push_back(run(EulerMaruyama{}, models::DoubleWell{}, n, o));
      }
    omp_set_num_threads(2);  // the OpenMP default path too
    o.n_threads = 0;
    results.push_back(run(EulerMaruyama{}, models::DoubleWell{}, n, o));
    for (const auto& r : results) CHECK(r == results.front());
  }
  SUBCASE("2D ABP (3 noises), underdamped Langevin with BAOAB, OU2 with local linearisation") {
    for (int bs : {64, 256}) {
      o.block_size = bs;
      o.n_threads = 1;
      const auto a1 = run(EulerMaruyama{}, models::ActiveBrownian2D{}, n, o);
      const auto b1 = run(BAOAB{}, models::UnderdampedLangevin{}, n, o);
      const auto c1 = run(LocalLinearization{}, models::OU2{}, n, o);
      o.n_threads = 2;
      o.block_size = 320;
      CHECK(run(EulerMaruyama{}, models::ActiveBrownian2D{}, n, o) == a1);
      CHECK(run(BAOAB{}, models::UnderdampedLangevin{}, n, o) == b1);
      CHECK(run(LocalLinearization{}, models::OU2{}, n, o) == c1);
    }
  }
}

TEST_CASE("a path-range replay reproduces those paths exactly") {
  EnsembleOptions o{.seed = 5, .dt = 0.02, .n_steps = 40, .save_every = 8, .stats = {}};
  Recorded all, part;
  const auto full = run(EulerMaruyama{}, models::ActiveBrownian2D{}, 1000, o, 0, &all);
  o.block_size = 128;
  o.n_threads = 1;
  const auto replay = run(EulerMaruyama{}, models::ActiveBrownian2D{}, 37, o, 301, &part);
  CHECK(replay == full.slice(301, 37));
  REQUIRE(part.states.size() == all.states.size());
  for (std::size_t s = 0; s < all.states.size(); ++s) CHECK(part.states[s] == all.states[s].slice(301, 37));
}

TEST_CASE("split run (checkpoint at step k, resume) equals the unsplit run byte for byte") {
  const models::UnderdampedLangevin m;
  EnsembleOptions o{.seed = 123, .t0 = 0.5, .dt = 0.01, .save_every = 10,
                    .stats = {.enabled = true, .histograms = {{0, {-2, -1, 0, 1, 2}}}}};
  StateMatrix init = sample_initial(m, parse_init_spec("stationary"), o.seed, 0, 700);

  Recorded one;
  StateMatrix a = init;
  o.n_steps = 100;
  const auto sum = simulate(BAOAB{}, m, a, o, recorder(one));
  CHECK(sum.final_step == 100);
  CHECK(sum.snapshots == 11);

  Recorded two;
  StateMatrix b = init;
  o.n_steps = 40;
  simulate(BAOAB{}, m, b, o, recorder(two));
  StateMatrix checkpoint = b;  // what a checkpoint file would hold, with step 40
  o.step0 = 40;
  o.n_steps = 60;
  o.emit_initial = false;
  o.n_threads = 1;
  o.block_size = 64;
  simulate(BAOAB{}, m, checkpoint, o, recorder(two));

  CHECK(checkpoint == a);
  REQUIRE(two.states.size() == one.states.size());
  for (std::size_t s = 0; s < one.states.size(); ++s) {
    CHECK(two.states[s] == one.states[s]);
    CHECK(two.step[s] == one.step[s]);
    CHECK(two.index[s] == one.index[s]);
    CHECK(two.t[s] == one.t[s]);
    CHECK(same_stats(two.stats[s], one.stats[s]));
  }
  // Resuming from a step that is not a snapshot step also matches.
  StateMatrix c = init;
  o = EnsembleOptions{.seed = 123, .t0 = 0.5, .dt = 0.01, .n_steps = 37, .stats = {}};
  simulate(BAOAB{}, m, c, o);
  o.step0 = 37;
  o.n_steps = 63;
  simulate(BAOAB{}, m, c, o);
  CHECK(c == a);
}

TEST_CASE("snapshots: indices, steps, times; progress reports") {
  EnsembleOptions o{.t0 = 1.0, .dt = 0.1, .n_steps = 25, .save_every = 10, .progress_every = 4, .stats = {}};
  StateMatrix s(1, 300);
  Recorded r;
  std::vector<Progress> prog;
  simulate(EulerMaruyama{}, models::DoubleWell{}, s, o, recorder(r), [&](const Progress& p) { prog.push_back(p); });
  CHECK(r.step == std::vector<std::int64_t>{0, 10, 20});
  CHECK(r.index == std::vector<std::int64_t>{0, 1, 2});
  CHECK(r.t[2] == doctest::Approx(3.0));
  REQUIRE(!prog.empty());
  CHECK(prog.back().path_steps_done == 300 * 25);
  CHECK(prog.back().path_steps_total == 300 * 25);
  for (std::size_t i = 1; i < prog.size(); ++i) CHECK(prog[i].path_steps_done > prog[i - 1].path_steps_done);
  // The final state equals the one of a run without syncs: intervals never change the paths.
  StateMatrix s2(1, 300);
  o.save_every = 0;
  o.progress_every = 0;
  simulate(EulerMaruyama{}, models::DoubleWell{}, s2, o);
  CHECK(s2 == s);
}

TEST_CASE("streaming statistics equal statistics of the stored snapshots") {
  const models::OU2 m;
  EnsembleOptions o{.seed = 9, .dt = 0.05, .n_steps = 20, .save_every = 5,
                    .stats = {.enabled = true, .histograms = {{1, {-3, -1, 0, 0.5, 1, 3}}, {0, {-0.5, 0.5}}}}};
  Recorded r;
  const std::int64_t n = 1234;
  run(EulerMaruyama{}, m, n, o, 0, &r);
  REQUIRE(r.stats.size() == 5);
  for (std::size_t s = 0; s < r.states.size(); ++s) {
    const auto& st = r.stats[s];
    // Same chunked algorithm on the stored snapshot: identical bits.
    CHECK(same_stats(st, compute_stats(r.states[s].view(), o.stats)));
    // Naive two-pass statistics: equal to rounding.
    const Eigen::MatrixXd X = r.states[s].to_rows();
    const Eigen::VectorXd mean = X.colwise().mean();
    const Eigen::MatrixXd Xc = X.rowwise() - mean.transpose();
    const Eigen::MatrixXd cov = Xc.transpose() * Xc / double(n - 1);
    CHECK(st.n == n);
    CHECK((st.mean() - mean).norm() < 1e-13);
    CHECK((st.cov() - cov).norm() < 1e-13);
    const auto& h = st.histograms[0];
    std::vector<std::int64_t> counts(5, 0);
    std::int64_t under = 0, over = 0;
    for (std::int64_t p = 0; p < n; ++p) {
      const double v = X(p, 1);
      if (v < -3) ++under;
      else if (v > 3) ++over;
      else {
        int i = 0;
        while (i < 4 && v >= h.edges[static_cast<std::size_t>(i + 1)]) ++i;
        ++counts[static_cast<std::size_t>(i)];
      }
    }
    CHECK(h.counts == counts);
    CHECK(h.underflow == under);
    CHECK(h.overflow == over);
  }
  // Statistics do not depend on thread count or block size either.
  Recorded r2;
  o.n_threads = 1;
  o.block_size = 448;
  run(EulerMaruyama{}, m, n, o, 0, &r2);
  for (std::size_t s = 0; s < r.stats.size(); ++s) CHECK(same_stats(r.stats[s], r2.stats[s]));
}

TEST_CASE("non-finite states raise NumericalError naming the first failing path, step and time") {
  StateMatrix s(1, 500, 0.0);
  s(0, 437) = 3.0;  // explodes first
  s(0, 38) = 1.5;   // explodes later
  EnsembleOptions o{.dt = 0.1, .n_steps = 200, .save_every = 50, .stats = {}};
  int snaps = 0;
  try {
    simulate(EulerMaruyama{}, toy::Blowup{}, s, o, [&](const Snapshot&) { ++snaps; });
    FAIL("no exception");
  } catch (const NumericalError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("path 437 at step") != std::string::npos);
    CHECK(msg.find("blowup") != std::string::npos);
    CHECK(msg.find("t = ") != std::string::npos);
    CHECK(msg.find("smaller dt") != std::string::npos);
  }
  CHECK(snaps == 1);  // only the initial snapshot: the failing interval is not delivered
  // The same with 1 thread and another block size: the same first failure.
  StateMatrix s2(1, 500, 0.0);
  s2(0, 437) = 3.0;
  s2(0, 38) = 1.5;
  o.n_threads = 1;
  o.block_size = 64;
  CHECK_THROWS_WITH_AS(simulate(EulerMaruyama{}, toy::Blowup{}, s2, o), doctest::Contains("path 437 at step"), NumericalError);
}

TEST_CASE("bad engine options are rejected with messages") {
  StateMatrix s(1, 10);
  EnsembleOptions o{.n_steps = 1, .block_size = 100, .stats = {}};
  CHECK_THROWS_WITH_AS(simulate(EulerMaruyama{}, models::DoubleWell{}, s, o), doctest::Contains("multiple of 64"), ConfigError);
  o.block_size = 64;
  o.dt = -1;
  CHECK_THROWS_AS(simulate(EulerMaruyama{}, models::DoubleWell{}, s, o), ConfigError);
  o.dt = 0.1;
  StateMatrix s2(2, 10);
  CHECK_THROWS_WITH_AS(simulate(EulerMaruyama{}, models::DoubleWell{}, s2, o), doctest::Contains("state_dim 1"), ConfigError);
  o.stats.enabled = true;
  o.stats.histograms = {{3, {0, 1}}};
  CHECK_THROWS_WITH_AS(simulate(EulerMaruyama{}, models::DoubleWell{}, s, o), doctest::Contains("coordinate out of range"), ConfigError);
  o.stats.histograms = {{0, {1, 0}}};
  CHECK_THROWS_WITH_AS(simulate(EulerMaruyama{}, models::DoubleWell{}, s, o), doctest::Contains("strictly increasing"), ConfigError);
}

namespace {
/// Euler-Maruyama that refuses states beyond 1e100, by throwing (as the LL stepper's Cholesky
/// does on a non-finite covariance).
struct RefusingStepper {
  static constexpr std::string_view name = "refusing";
  template <class M>
  static constexpr int noise_dim = M::noise_dim;
  template <class M>
  static constexpr bool supports = true;
  template <SdeModel M>
  void do_step(const M& m, Vec<double, M::state_dim>& y, double t, double dt, const Vec<double, M::noise_dim>& dW) const {
    if (std::abs(y(0)) > 1e100) throw NumericalError("state refused by the stepper");
    EulerMaruyama{}.do_step(m, y, t, dt, dW);
  }
};
}  // namespace

TEST_CASE("regression: an exception from a stepper inside the engine's OpenMP region is raised after it, naming the paths") {
  const models::OU1 ou;
  for (int threads : {1, 2}) {
    StateMatrix s(1, 200, 0.0);
    s(0, 137) = 1e200;  // a user's bad initial state (e.g. from --init file:)
    EnsembleOptions o{.dt = 0.01, .n_steps = 10, .save_every = 5, .block_size = 64, .n_threads = threads, .stats = {}};
    // before: std::terminate (exit 134); now a NumericalError naming the block [128, 192) and the steps
    CHECK_THROWS_WITH_AS(simulate(RefusingStepper{}, ou, s, o), doctest::Contains("failed on paths [128, 192) between steps 0 and 5"),
                         NumericalError);
    CHECK_THROWS_WITH_AS(simulate(RefusingStepper{}, ou, s, o), doctest::Contains("state refused by the stepper"), NumericalError);
  }
}

TEST_CASE("engine: thread counts beyond the limit are refused before the region") {
  const models::OU1 ou;
  StateMatrix s(1, 10, 0.0);
  EnsembleOptions o{.dt = 0.01, .n_steps = 1, .n_threads = 100000, .stats = {}};
  CHECK_THROWS_WITH_AS(simulate(EulerMaruyama{}, ou, s, o), doctest::Contains("n_threads = 100000 is invalid"), ConfigError);
}

namespace engine_lanes_test {

/// Path p stepped on its own in double, the way the docs define it: step k uses
/// z_{Mn (k mod 2) + j}(seed, first_path + p, k / 2), dW = sqrt(dt) z.
template <class St, class M>
StateMatrix step_each_path(const St& st, const M& m, StateMatrix s, const EnsembleOptions& o) {
  constexpr int D = M::state_dim;
  constexpr int Mn = St::template noise_dim<M>;
  for (std::int64_t p = 0; p < s.n_paths(); ++p) {
    Vec<double, D> y;
    for (int d = 0; d < D; ++d) y(d) = s(d, p);
    for (std::int64_t k = o.step0; k < o.step0 + o.n_steps; ++k) {
      Vec<double, Mn> dW;
      for (int j = 0; j < Mn; ++j)
        dW(j) = std::sqrt(o.dt) * random::normal(o.seed, o.first_path + static_cast<std::uint64_t>(p),
                                                 static_cast<std::uint64_t>(k / 2),
                                                 static_cast<std::uint32_t>(Mn * (k % 2) + j));
      st.do_step(m, y, o.t0 + static_cast<double>(k) * o.dt, o.dt, dW);
    }
    for (int d = 0; d < D; ++d) s(d, p) = y(d);
  }
  return s;
}

/// The LL step with the general Cholesky (robust_cholesky, which may throw): the reference for
/// the engine's nothrow 1D LL step (which takes z = dW * (1 / sqrt(dt)) in 1D).
struct GeneralLL {
  static constexpr std::string_view name = "general_ll";
  template <class M>
  static constexpr int noise_dim = M::state_dim;
  template <class M>
  static constexpr bool supports = true;
  template <SdeModel M>
  void do_step(const M& m, Vec<double, M::state_dim>& y, double t, double dt, const Vec<double, M::state_dim>& dW) const {
    const auto tr = local_linear_transition(m, y, t, dt);
    const Mat<double, M::state_dim, M::state_dim> L = robust_cholesky<M::state_dim>(tr.cov);
    y = tr.mean + L * (dW * (1.0 / std::sqrt(dt)));
  }
};

template <class St, class M, class Ref = St>
void check_engine_equals_per_path(const St& st, const M& m, const Ref& ref_stepper = Ref{}) {
  EnsembleOptions o{.seed = 7, .first_path = 1000, .t0 = 0.25, .dt = 0.01, .step0 = 3, .n_steps = 40, .block_size = 64,
                    .n_threads = 1, .stats = {}};
  const StateMatrix s0 = sample_initial(m, parse_init_spec("normal:0,1"), o.seed, o.first_path, 150);
  StateMatrix s = s0;
  simulate(st, m, s, o);
  const StateMatrix ref = step_each_path(ref_stepper, m, s0, o);
  CHECK(s == ref);
}

}  // namespace engine_lanes_test

TEST_CASE("the step loop (lane-wise for generic-scalar models) equals each path stepped alone in double, bit for bit") {
  using engine_lanes_test::check_engine_equals_per_path;
  static_assert(ensemble::detail::lanes_v<EulerMaruyama, models::ActiveSwimmer>);
  static_assert(ensemble::detail::lanes_v<BAOAB, models::UnderdampedLangevin>);
  static_assert(!ensemble::detail::lanes_v<LocalLinearization, models::OU2>);
  SUBCASE("active swimmer, Euler-Maruyama") { check_engine_equals_per_path(EulerMaruyama{}, models::ActiveSwimmer{}); }
  SUBCASE("underdamped Langevin, BAOAB") { check_engine_equals_per_path(BAOAB{}, models::UnderdampedLangevin{}); }
  SUBCASE("double well, Heun and Milstein") {
    check_engine_equals_per_path(Heun{}, models::DoubleWell{});
    check_engine_equals_per_path(Milstein{}, models::DoubleWell{});
  }
  SUBCASE("OU2 (full 2x2 noise), ABP (3 noises, sin/cos)") {
    models::OU2 ou;
    ou.S << 1.0, 0.3, -0.2, 0.7;
    check_engine_equals_per_path(EulerMaruyama{}, ou);
    check_engine_equals_per_path(EulerMaruyama{}, models::ActiveBrownian2D{});
  }
  SUBCASE("local linearisation in 1D (cloned loop, nothrow step) equals the general LL step") {
    static_assert(ensemble::detail::clone_step_loop_v<LocalLinearization, models::DoubleWell>);
    static_assert(!ensemble::detail::clone_step_loop_v<LocalLinearization, models::OU2>);
    check_engine_equals_per_path(LocalLinearization{}, models::DoubleWell{}, engine_lanes_test::GeneralLL{});
    check_engine_equals_per_path(LocalLinearization{}, models::OU1{}, engine_lanes_test::GeneralLL{});
  }
  SUBCASE("a model stepped in double (not generic-scalar): diagonal-noise Milstein") {
    static_assert(!ensemble::detail::lanes_v<Milstein, toy::GeometricBrownian>);
    check_engine_equals_per_path(Milstein{}, toy::GeometricBrownian{});
  }
}

// The engine's step loop is compiled for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the
// baseline (target_clones, picked by the loader): the test compiles the same loop for each
// explicitly and compares the bytes on the CPU's supported subset.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
namespace engine_clones_test {

template <class St, class M>
std::vector<double> run_block(std::int64_t (*loop)(const St&, const M&, const EnsembleOptions&, std::uint64_t, std::int64_t,
                                                   std::int64_t, std::int64_t, double*, double*, std::ptrdiff_t),
                              const St& st, const M& m) {
  constexpr int D = M::state_dim;
  const std::int64_t nb = 200, ldz = random::padded_count(nb);
  EnsembleOptions o{.seed = 11, .dt = 0.01, .stats = {}};
  const StateMatrix s0 = sample_initial(m, parse_init_spec("normal:0,1"), o.seed, 0, nb);
  std::vector<double> xb(static_cast<std::size_t>(D * ldz)), z(static_cast<std::size_t>(2 * St::template noise_dim<M> * ldz));
  for (int d = 0; d < D; ++d)
    for (std::int64_t i = 0; i < ldz; ++i) xb[static_cast<std::size_t>(d * ldz + i)] = s0(d, std::min(i, nb - 1));
  CHECK(loop(st, m, o, 0, nb, 0, 101, z.data(), xb.data(), ldz) == -1);
  return xb;
}

#define SDESCORE_TEST_LOOP(NAME, ATTR)                                                                                  \
  template <class St, class M>                                                                                         \
  ATTR std::int64_t NAME(const St& st, const M& m, const EnsembleOptions& o, std::uint64_t s0, std::int64_t nb,        \
                         std::int64_t k0, std::int64_t k1, double* z, double* xb, std::ptrdiff_t ldz) {                \
    return ensemble::detail::step_interval(st, m, o, s0, nb, k0, k1, z, xb, ldz);                                                \
  }
SDESCORE_TEST_LOOP(loop_v4, __attribute__((target("arch=x86-64-v4"), flatten, noinline)))
SDESCORE_TEST_LOOP(loop_v3, __attribute__((target("arch=x86-64-v3"), flatten, noinline)))
SDESCORE_TEST_LOOP(loop_base, __attribute__((flatten, noinline)))
#undef SDESCORE_TEST_LOOP

template <class St, class M>
void check_clones_agree(const St& st, const M& m) {
  const auto base = run_block(&loop_base<St, M>, st, m);
  if (__builtin_cpu_supports("x86-64-v3")) CHECK(run_block(&loop_v3<St, M>, st, m) == base);
  if (__builtin_cpu_supports("x86-64-v4")) CHECK(run_block(&loop_v4<St, M>, st, m) == base);
}

}  // namespace engine_clones_test

TEST_CASE("the step loop compiled for x86-64-v4, x86-64-v3 and the baseline gives the same bytes") {
  using engine_clones_test::check_clones_agree;
  MESSAGE("CPU supports x86-64-v3: " << __builtin_cpu_supports("x86-64-v3") << ", x86-64-v4: " << __builtin_cpu_supports("x86-64-v4"));
  check_clones_agree(EulerMaruyama{}, models::DoubleWell{});
  check_clones_agree(Heun{}, models::DoubleWell{});
  check_clones_agree(EulerMaruyama{}, models::ActiveSwimmer{});
  check_clones_agree(BAOAB{}, models::UnderdampedLangevin{});
  check_clones_agree(LocalLinearization{}, models::DoubleWell{});  // vectorised: portable_expm1, jets
  check_clones_agree(LocalLinearization{}, models::OU1{});
  models::OU2 ou;
  ou.S << 1.0, 0.3, -0.2, 0.7;
  check_clones_agree(EulerMaruyama{}, ou);
}
#endif

TEST_CASE("regression: a non-finite padding lane neither stops a block's interval nor changes its paths") {
  // Padding lanes (beyond the block's nb paths, up to a multiple of 16) start as path p0 but draw
  // other streams' normals, so they may diverge where no path does; a check over them once
  // returned "failed at step k" with no failing path, and the block skipped the rest of the interval.
  const models::DoubleWell m;
  const EnsembleOptions o{.seed = 3, .dt = 0.01, .stats = {}};
  const std::int64_t nb = 20, ldz = random::padded_count(nb);
  std::vector<double> z(static_cast<std::size_t>(2 * ldz)), a(static_cast<std::size_t>(ldz)), b;
  for (std::int64_t i = 0; i < ldz; ++i) a[static_cast<std::size_t>(i)] = i < nb ? 0.05 * static_cast<double>(i) - 0.5 : 0.0;
  b = a;
  for (std::int64_t i = nb; i < ldz; ++i) b[static_cast<std::size_t>(i)] = std::numeric_limits<double>::quiet_NaN();
  CHECK(ensemble::detail::step_interval(EulerMaruyama{}, m, o, 0, nb, 0, 10, z.data(), a.data(), ldz) == -1);
  CHECK(ensemble::detail::step_interval(EulerMaruyama{}, m, o, 0, nb, 0, 10, z.data(), b.data(), ldz) == -1);
  CHECK(std::vector<double>(a.begin(), a.begin() + nb) == std::vector<double>(b.begin(), b.begin() + nb));
}

TEST_CASE("the step loop's non-finite screen: zero for every finite double, non-zero for infinities and NaNs") {
  using ensemble::detail::nonfinite_bits;
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (const double x : {0.0, -0.0, 1.0, -3.5, std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                         std::numeric_limits<double>::min(), std::numeric_limits<double>::denorm_min(), -1e-310})
    CHECK(nonfinite_bits(x) == 0);
  for (const double x : {inf, -inf, std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN()})
    CHECK(nonfinite_bits(x) != 0);
}
