// Simulation throughput of the default (portable) build, side by side in one run, against
// baselines measured by run.sh in the same run and passed in a file (--baselines FILE, lines
// "<key> <value>"):
//   base_<case>   plain mt19937_64 + normal_distribution loops built -O3 -march=native (baseline.cpp)
//   numpy_dw_em   the in-place numpy Euler loop (numpy_euler.py)
//   sdesim_<...>  wall seconds of sdesim runs (run.sh)
// Measured here: the bare normal kernel per SIMD target, the engine per model and stepper
// (1 thread), the 2-thread efficiency. Each line prints its ratio and its target.
// Times are process CPU seconds for 1-thread cases (robust on a loaded machine), wall seconds
// with --clock wall and for the 2-thread case.
// Usage: bench_sim_throughput [--paths N] [--steps K] [--reps R] [--baselines FILE] [--clock cpu|wall]
#include <omp.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/models/underdamped_langevin.hpp"
#include "sdescore/solvers/baoab.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"
#include "sdescore/solvers/heun.hpp"
#include "sdescore/solvers/local_linearization.hpp"
#include "sdescore/solvers/milstein.hpp"

using namespace sdescore;
using Clock = std::chrono::steady_clock;

namespace {

volatile double g_sink = 0;  // defeats dead-code elimination

// Process CPU seconds (default, --clock cpu) or wall seconds (--clock wall). On a shared, loaded
// machine a 1-thread case gets a fraction of a core: its CPU time still measures its cost, its
// wall time measures the load. Multi-thread cases always use wall time.
bool g_cpu_clock = true;

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

template <class F>
double best_seconds(int reps, F&& f, bool wall = false) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const bool cpu = g_cpu_clock && !wall;
    const auto t0 = Clock::now();
    const double c0 = cpu ? cpu_now() : 0.0;
    f();
    best = std::min(best, cpu ? cpu_now() - c0 : std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

// Particle-steps per second of ensemble::simulate (no snapshots).
template <class St, class M>
double engine_rate(const St& stepper, const M& model, double y0, std::int64_t n, std::int64_t steps, int threads,
                   int reps, std::int64_t save_every = 0, bool force_cpu_clock = false) {
  ensemble::EnsembleOptions o;
  o.seed = 1;
  o.dt = 1e-3;
  o.n_steps = steps;
  o.n_threads = threads;
  o.save_every = save_every;
  const double sec = best_seconds(
      reps,
      [&] {
        ensemble::StateMatrix s(M::state_dim, n, y0);
        ensemble::simulate(stepper, model, s, o);
        g_sink = g_sink + s(0, 0);
      },
      threads > 1 && !force_cpu_clock);
  return double(n) * double(steps) / sec;
}

// Normals per second of the bare kernel on the engine's access pattern: blocks of 256 paths,
// one call per (block, step), m rows.
double kernel_rate(std::int64_t n, std::int64_t steps, int m, int reps) {
  constexpr std::int64_t B = 256;
  std::vector<double> z(static_cast<std::size_t>(m * B));
  const double sec = best_seconds(reps, [&] {
    for (std::int64_t p0 = 0; p0 < n; p0 += B)
      for (std::int64_t k = 0; k < steps; ++k)
        random::detail::normal_block_unchecked(1, static_cast<std::uint64_t>(p0), std::min(B, n - p0),
                                               static_cast<std::uint64_t>(k), m, z.data(), B);
    g_sink = g_sink + z[0];
  });
  return double(n) * double(steps) * m / sec;
}

std::map<std::string, double> read_baselines(const std::string& path) {
  std::map<std::string, double> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  std::string key;
  double v;
  while (in >> key >> v) out[key] = v;
  return out;
}

void line(const char* what, double rate, double ratio, const char* unit, const char* target, bool met) {
  std::printf("%-52s %11.3e %9.2f%-2s %-22s %s\n", what, rate, ratio, unit, target, met ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 100000, steps = 200;
  int reps = 3;
  std::string baselines_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--paths") n = std::atoll(argv[i + 1]);
    else if (a == "--steps") steps = std::atoll(argv[i + 1]);
    else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--baselines") baselines_file = argv[i + 1];
    else if (a == "--clock") g_cpu_clock = std::string(argv[i + 1]) != "wall";
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  auto base = read_baselines(baselines_file);
  auto get = [&](const std::string& k) { return base.count(k) ? base[k] : 0.0; };
  const std::string best_target = random::simd_target();
  std::printf("sim_throughput: %lld paths x %lld steps, best of %d, dt = 1e-3, %s time; SIMD target chosen: %s\n",
              static_cast<long long>(n), static_cast<long long>(steps), reps, g_cpu_clock ? "CPU" : "wall",
              best_target.c_str());

  std::printf("\nbare normal kernel (blocks of 256 paths, normals/s), per SIMD target:\n");
  for (const auto& t : random::simd_targets()) {
    random::set_simd_target(t);
    std::printf("  %-8s  1 row (cos only) %10.3e   2 rows (cos+sin) %10.3e\n", t.c_str(),
                kernel_rate(n, steps, 1, reps), kernel_rate(n, steps, 2, reps));
  }
  random::set_simd_target("auto");
  const double r_kernel = kernel_rate(n, steps, 2, reps);  // the engine draws two steps per call

  const models::DoubleWell dw;
  const models::ActiveSwimmer sw;
  const models::UnderdampedLangevin ud;
  const double r_em = engine_rate(EulerMaruyama{}, dw, 0.5, n, steps, 1, reps);
  const double r_em2 = omp_get_num_procs() >= 2 ? engine_rate(EulerMaruyama{}, dw, 0.5, n, steps, 2, reps) : 0;
  // 2 threads timed in process CPU seconds (both threads): rate per CPU-second. Equal to the
  // 1-thread rate when threading costs nothing (no spinning at barriers, no false sharing);
  // measurable on a loaded machine, unlike the wall-clock efficiency.
  const double r_em2_cpu = omp_get_num_procs() >= 2 && g_cpu_clock
                               ? engine_rate(EulerMaruyama{}, dw, 0.5, n, steps, 2, reps, 0, true)
                               : 0;
  const double r_em_sync = engine_rate(EulerMaruyama{}, dw, 0.5, n, steps, 1, reps, 10);  // no sink
  const double r_mil = engine_rate(Milstein{}, dw, 0.5, n, steps, 1, reps);
  const double r_heun = engine_rate(Heun{}, dw, 0.5, n, steps, 1, reps);
  const double r_ll = engine_rate(LocalLinearization{}, dw, 0.5, n, std::max<std::int64_t>(1, steps / 10), 1, reps);
  const double r_sw = engine_rate(EulerMaruyama{}, sw, 0.5, n, steps, 1, reps);
  const double r_ud = engine_rate(BAOAB{}, ud, -1.0, n, steps, 1, reps);

  std::printf("\n%-52s %11s %11s %-22s\n", "case (1 thread unless noted)", "steps/s", "ratio", "target");
  line("double well EM, engine vs bare kernel (2 rows)", r_em, r_em / r_kernel, "", ">= 0.80", r_em >= 0.8 * r_kernel);
  if (get("base_dw_em") > 0)
    line("double well EM, engine vs mt19937 loop -march=native", r_em, r_em / get("base_dw_em"), "x", ">= 3x",
         r_em >= 3 * get("base_dw_em"));
  if (get("numpy_dw_em") > 0)
    line("double well EM, engine vs in-place numpy loop", r_em, r_em / get("numpy_dw_em"), "x", ">= 3x",
         r_em >= 3 * get("numpy_dw_em"));
  struct Case {
    const char* what;
    const char* key;
    double rate;
  };
  for (const Case& c : {Case{"double well Milstein vs its plain loop", "base_dw_milstein", r_mil},
                        Case{"double well Heun vs its plain loop", "base_dw_heun", r_heun},
                        Case{"double well local linearisation vs its plain loop", "base_dw_ll", r_ll},
                        Case{"active swimmer (2D) EM vs its plain loop", "base_swimmer_em", r_sw},
                        Case{"underdamped Langevin (2D) BAOAB vs its plain loop", "base_ud_baoab", r_ud}})
    if (get(c.key) > 0) line(c.what, c.rate, c.rate / get(c.key), "x", ">= 3x", c.rate >= 3 * get(c.key));
  if (r_em2 > 0)
    line("double well EM, 2 threads: efficiency r2 / (2 r1)", r_em2, 100 * r_em2 / (2 * r_em), "%", ">= 90%",
         r_em2 >= 0.9 * 2 * r_em);

  if (r_em2_cpu > 0)
    std::printf("%-52s %11.3e %9.1f%%  (CPU-time proxy: 1-thread rate per CPU-second = 100%%)\n",
                "double well EM, 2 threads: rate per CPU-second", r_em2_cpu, 100 * r_em2_cpu / r_em);
  std::printf("%-52s %11.3e %9.1f%%  (engine stopping every 10 steps, no writing)\n",
              "double well EM, engine synced every 10 steps: cost", r_em_sync, 100 * (r_em / r_em_sync - 1));
  // sdesim (run.sh), 1 thread: snapshots every 10 steps vs only at the start and the end (same
  // steps), and end to end (start-up, stepping, 100 snapshots written) against the engine.
  const double s_steps = get("sdesim_steps"), s_paths = get("sdesim_paths");
  const std::string clk = g_cpu_clock ? "cpu" : "wall";
  const double t_every10 = get("sdesim_save10_" + clk + "_s"), t_ends = get("sdesim_save_ends_" + clk + "_s");
  if (t_every10 > 0 && t_ends > 0) {
    const double cost = t_every10 / t_ends - 1;
    line("sdesim snapshots every 10 steps: cost vs start/end only", s_paths * s_steps / t_every10, 100 * cost, "%",
         "<= 10%", cost <= 0.10);
  }
  const double t_e2e = get("sdesim_e2e_" + clk + "_s"), e2e_steps = get("sdesim_e2e_steps");
  if (t_e2e > 0) {
    const double r_e2e = s_paths * e2e_steps / t_e2e;
    line("sdesim end to end (100 snapshots) vs engine bare rate", r_e2e, 100 * r_e2e / r_em, "%", ">= 85%",
         r_e2e >= 0.85 * r_em);
  }
  return 0;
}
