// Model files against the built-in double well, measured in the same run:
//   (1) simulation: particle-steps/s of Euler-Maruyama through ensemble::simulate, 1 thread;
//   (2) training: local-DSM steps/s of score::fit_score on the same ensemble, 1 thread;
//   (3) first use (parse + generate + compile + dlopen, empty cache) and cached load times.
// Prints "RESULT <what> <builtin> <file> <ratio>" lines and "RESULT first_use_s / cached_load_s".
// Usage: bench_modelfile [--paths N] [--steps K] [--train-steps S] [--reps R]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/modelfile/visit.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/score/fit.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"

using namespace sdescore;
using Clock = std::chrono::steady_clock;

namespace {

volatile double g_sink = 0;

template <class F>
double best_seconds(int reps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

template <class M>
double sim_rate(const M& m, std::int64_t n, std::int64_t steps, int reps) {
  ensemble::EnsembleOptions o;
  o.seed = 1;
  o.dt = 1e-3;
  o.n_steps = steps;
  o.n_threads = 1;
  const double sec = best_seconds(reps, [&] {
    ensemble::StateMatrix s(1, n, 0.5);
    ensemble::simulate(EulerMaruyama{}, m, s, o);
    g_sink = g_sink + s(0, 0);
  });
  return double(n) * double(steps) / sec;
}

score::EnsembleData make_data(const models::DoubleWell& m) {
  ensemble::EnsembleOptions o;
  o.seed = 2;
  o.dt = 1e-3;
  o.n_steps = 1000;
  o.save_every = 100;
  score::EnsembleData d;
  d.dt = o.dt;
  ensemble::StateMatrix s(1, 4000, 0.0);
  ensemble::simulate(EulerMaruyama{}, m, s, o, [&](const ensemble::Snapshot& sn) {
    d.times.push_back(sn.t);
    Eigen::MatrixXd x(sn.state.n_paths, 1);
    for (std::int64_t p = 0; p < sn.state.n_paths; ++p) x(p, 0) = sn.state.data[p];
    d.states.push_back(x);
  });
  return d;
}

template <class M>
double train_rate(const M& m, const score::EnsembleData& data, long steps) {
  score::FitOptions opt;
  opt.objective = score::Objective::local_dsm;
  opt.steps = steps;
  opt.batch = 256;
  opt.groups = 8;
  opt.pool_size = 256;
  opt.n_pools = 32;
  opt.target.reference_size = 256;
  opt.schedule.kind = "fixed";
  opt.schedule.delta = 0.02;
  opt.t_min = 0.1;
  opt.t_max = 1.0;
  opt.arch.hidden = {64, 64};
  opt.trainer.threads = 1;
  opt.trainer.schedule = nn::LrSchedule::warmup_cosine(3e-3, 100, opt.steps, 1e-4);
  const auto t0 = Clock::now();
  const auto res = score::fit_score(m, EulerMaruyama{}, data, opt);
  g_sink = g_sink + res.curve.back().loss;
  return double(steps) / std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 4096, steps = 2000;
  long train_steps = 600;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--paths")) n = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--train-steps")) train_steps = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  const std::string file = std::string(SDESCORE_MODELS_DIR) + "/double_well.toml";

  // (3) first use into an empty cache, then the cached load (a new dlopen after unloading).
  char tmpl[] = "/tmp/sdescore-bench-cache-XXXXXX";
  if (!mkdtemp(tmpl)) return 3;
  ::setenv("SDESCORE_CACHE_DIR", tmpl, 1);
  double first = 0, cached = 1e300;
  {
    auto t0 = Clock::now();
    auto lm = modelfile::compile_and_load(modelfile::read_model_file(file));
    first = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  for (int r = 0; r < 3; ++r) {
    auto t0 = Clock::now();
    auto lm = modelfile::compile_and_load(modelfile::read_model_file(file));
    cached = std::min(cached, std::chrono::duration<double>(Clock::now() - t0).count());
    if (!lm->code.from_cache) std::printf("warning: the cached load compiled again\n");
  }
  std::filesystem::remove_all(tmpl);
  std::printf("RESULT first_use_s %.3f (target <= 10)\nRESULT cached_load_s %.4f (target <= 0.2)\n", first, cached);

  // (1), (2): the file double well (cache as configured by the environment) vs the built-in.
  ::unsetenv("SDESCORE_CACHE_DIR");
  const models::DoubleWell builtin;
  const modelfile::FileModel<1, 1, additive_noise> fm(modelfile::load_model_file(file));
  // Interleaved (one repetition each in turn), best of reps each, to share the machine's load fairly.
  double rb = 0, rf = 0;
  for (int r = 0; r < reps; ++r) {
    rb = std::max(rb, sim_rate(builtin, n, steps, 1));
    rf = std::max(rf, sim_rate(fm, n, steps, 1));
  }
  std::printf("RESULT simulate_particle_steps_per_s builtin %.4g file %.4g ratio %.3f (target >= 0.9)\n", rb, rf, rf / rb);
  const auto data = make_data(builtin);
  double tb = 0, tf = 0;
  for (int r = 0; r < 2; ++r) {
    tb = std::max(tb, train_rate(builtin, data, train_steps));
    tf = std::max(tf, train_rate(fm, data, train_steps));
  }
  std::printf("RESULT local_dsm_steps_per_s builtin %.4g file %.4g ratio %.3f (target >= 0.9)\n", tb, tf, tf / tb);
  return 0;
}
