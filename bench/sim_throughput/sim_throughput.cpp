// Simulation throughput of the default (portable) build, side by side in one run, against
// baselines measured by run.sh in the same run. Two modes:
//   --raw            measures the bare normal kernel per SIMD target, the engine per model and
//                    stepper (1 thread) and 2 threads, the double well's engine / kernel ratio
//                    from 40 interleaved pairs of short runs, and prints "<key> <value>" lines;
//   --report FILE    reads FILE, where run.sh collected R interleaved repeats of every
//                    measurement ("<key> <value>" lines, one per repeat and key):
//                      base_<case>   plain mt19937_64 + normal_distribution loops built -O3 -march=native (baseline.cpp)
//                      numpy_dw_em   the in-place numpy Euler loop (numpy_euler.py)
//                      eng_<case>, kern_<target>_<rows>   this program's --raw lines
//                      sdesim_<...>  seconds of sdesim runs (run.sh)
//                    and prints each case's median rate, the median of its per-repeat ratios
//                    (repeat i of the engine against repeat i of its baseline, measured
//                    minutes apart at most), their spread [min, max] and the verdict on the median.
// Every rate is the median of three timed runs after an untimed one. Times are process CPU
// seconds for 1-thread cases (robust on a loaded machine), wall seconds with --clock wall and for
// the 2-thread case.
// Usage: bench_sim_throughput --raw [--paths N] [--steps K] [--clock cpu|wall]
//        bench_sim_throughput --report FILE [--clock cpu|wall]
#include <omp.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <algorithm>
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

// Seconds of f: one untimed run, then the median of `reps` timed runs.
template <class F>
double best_seconds(int reps, F&& f, bool wall = false) {
  const bool cpu = g_cpu_clock && !wall;
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    const double c0 = cpu ? cpu_now() : 0.0;
    f();
    t.push_back(cpu ? cpu_now() - c0 : std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
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

std::map<std::string, std::vector<double>> read_values(const std::string& path) {
  std::map<std::string, std::vector<double>> out;
  std::ifstream in(path);
  std::string key;
  double v;
  while (in >> key >> v) out[key].push_back(v);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Engine / bare kernel for the double well EM from `pairs` interleaved short runs (the kernel as
// kernel_rate calls it, then the engine, the order alternating from pair to pair, each timed
// once): the median of the per-pair ratios. The two halves of a pair run tens of milliseconds
// apart, so a load burst on a shared machine hits both, where eng_dw_em / kern_auto_2 compares
// medians taken seconds apart (a spread of +-10 % per round under load).
double paired_engine_kernel_ratio(std::int64_t n, std::int64_t steps, int pairs) {
  constexpr std::int64_t B = 256;
  const models::DoubleWell dw;
  ensemble::EnsembleOptions o;
  o.seed = 1;
  o.dt = 1e-3;
  o.n_steps = steps;
  o.n_threads = 1;
  std::vector<double> z(static_cast<std::size_t>(2 * B));
  auto kernel = [&] {
    for (std::int64_t p0 = 0; p0 < n; p0 += B)
      for (std::int64_t k = 0; k < steps / 2; ++k)
        random::detail::normal_block_unchecked(1, static_cast<std::uint64_t>(p0), std::min(B, n - p0),
                                               static_cast<std::uint64_t>(k), 2, z.data(), B);
    g_sink = g_sink + z[0];
  };
  auto engine = [&] {
    ensemble::StateMatrix s(1, n, 0.5);
    ensemble::simulate(EulerMaruyama{}, dw, s, o);
    g_sink = g_sink + s(0, 0);
  };
  auto seconds = [](auto&& f) {
    const auto t0 = Clock::now();
    const double c0 = g_cpu_clock ? cpu_now() : 0.0;
    f();
    return g_cpu_clock ? cpu_now() - c0 : std::chrono::duration<double>(Clock::now() - t0).count();
  };
  kernel();
  engine();
  std::vector<double> r;
  for (int i = 0; i < pairs; ++i) {
    double tk, te;
    if (i % 2 == 0) {
      tk = seconds(kernel);
      te = seconds(engine);
    } else {
      te = seconds(engine);
      tk = seconds(kernel);
    }
    r.push_back(tk / te);  // the same n * steps normals and path-steps
  }
  return median(r);
}

struct Summary {
  double rate = 0, ratio = 0, lo = 0, hi = 0;  // median rate; median, min, max of the per-repeat ratios
  bool ok = false;
};

// Per-repeat ratios f(i) for i < n, summarised.
template <class F>
Summary summarise(double rate, std::size_t n, F&& f) {
  Summary s;
  if (n == 0) return s;
  std::vector<double> r;
  for (std::size_t i = 0; i < n; ++i) r.push_back(f(i));
  s.rate = rate;
  s.ratio = median(r);
  s.lo = *std::min_element(r.begin(), r.end());
  s.hi = *std::max_element(r.begin(), r.end());
  s.ok = true;
  return s;
}

void line(const char* what, const Summary& s, double scale, const char* unit, const char* target, bool met) {
  char spread[64];
  std::snprintf(spread, sizeof spread, "[%.2f, %.2f]", scale * s.lo, scale * s.hi);
  std::printf("%-54s %10.3e %8.2f%-2s %-16s %-9s %s\n", what, s.rate, scale * s.ratio, unit, spread, target,
              met ? "met" : "MISSED");
}

int raw(std::int64_t n, std::int64_t steps, int reps) {
  for (const auto& t : random::simd_targets()) {
    random::set_simd_target(t);
    std::printf("kern_%s_1 %.6e\nkern_%s_2 %.6e\n", t.c_str(), kernel_rate(n, steps, 1, reps), t.c_str(),
                kernel_rate(n, steps, 2, reps));
  }
  random::set_simd_target("auto");
  std::printf("kern_auto_2 %.6e\n", kernel_rate(n, steps, 2, reps));  // the engine draws two steps per call
  const models::DoubleWell dw;
  const models::ActiveSwimmer sw;
  const models::UnderdampedLangevin ud;
  std::printf("eng_dw_em %.6e\n", engine_rate(EulerMaruyama{}, dw, 0.5, n, steps, 1, reps));
  std::printf("pair_dw_em_kern %.6f\n", paired_engine_kernel_ratio(n, std::max<std::int64_t>(2, steps / 2 * 2), 40));
  if (omp_get_num_procs() >= 2) {
    std::printf("eng_dw_em_2t %.6e\n", engine_rate(EulerMaruyama{}, dw, 0.5, n, steps, 2, reps));
    // 2 threads timed in process CPU seconds (both threads): rate per CPU-second. Equal to the
    // 1-thread rate when threading costs nothing; measurable on a loaded machine, unlike the
    // wall-clock efficiency.
    if (g_cpu_clock)
      std::printf("eng_dw_em_2t_cpu %.6e\n", engine_rate(EulerMaruyama{}, dw, 0.5, n, steps, 2, reps, 0, true));
  }
  std::printf("eng_dw_em_sync10 %.6e\n", engine_rate(EulerMaruyama{}, dw, 0.5, n, steps, 1, reps, 10));  // no sink
  std::printf("eng_dw_milstein %.6e\n", engine_rate(Milstein{}, dw, 0.5, n, steps, 1, reps));
  std::printf("eng_dw_heun %.6e\n", engine_rate(Heun{}, dw, 0.5, n, steps, 1, reps));
  std::printf("eng_dw_ll %.6e\n", engine_rate(LocalLinearization{}, dw, 0.5, n, steps, 1, reps));
  std::printf("eng_swimmer_em %.6e\n", engine_rate(EulerMaruyama{}, sw, 0.5, n, steps, 1, reps));
  std::printf("eng_ud_baoab %.6e\n", engine_rate(BAOAB{}, ud, -1.0, n, steps, 1, reps));
  return 0;
}

int report(const std::string& file) {
  const auto v = read_values(file);
  auto all = [&](const std::string& k) { return v.count(k) ? v.at(k) : std::vector<double>(); };
  auto med = [&](const std::string& k) { return v.count(k) ? median(v.at(k)) : 0.0; };
  // Ratio summary of engine key a against baseline key b over their common repeats.
  auto pair = [&](const std::string& a, const std::string& b, double scale_b = 1.0) {
    const auto x = all(a), y = all(b);
    return summarise(med(a), std::min(x.size(), y.size()), [&](std::size_t i) { return x[i] / (scale_b * y[i]); });
  };
  const std::size_t R = all("eng_dw_em").size();
  std::printf("%zu interleaved repeats; each value the median of 3 timed runs after a warm-up; %s time. SIMD target chosen: %s\n",
              R, g_cpu_clock ? "CPU" : "wall", random::simd_target().c_str());
  std::printf("\nbare normal kernel (blocks of 256 paths, normals/s, median [min, max] over repeats), per SIMD target:\n");
  for (const auto& t : random::simd_targets()) {
    const auto a = all("kern_" + t + "_1"), b = all("kern_" + t + "_2");
    if (a.empty() || b.empty()) continue;
    std::printf("  %-8s  1 row (cos only) %10.3e [%.3e, %.3e]   2 rows (cos+sin) %10.3e [%.3e, %.3e]\n", t.c_str(),
                median(a), *std::min_element(a.begin(), a.end()), *std::max_element(a.begin(), a.end()), median(b),
                *std::min_element(b.begin(), b.end()), *std::max_element(b.begin(), b.end()));
  }
  std::printf("  baselines, median [min, max] steps/s:");
  for (const char* k : {"base_dw_em", "base_dw_heun", "base_dw_ll", "base_swimmer_em", "base_ud_baoab", "numpy_dw_em"}) {
    const auto a = all(k);
    if (!a.empty())
      std::printf(" %s %.3e [%.3e, %.3e]", k, median(a), *std::min_element(a.begin(), a.end()),
                  *std::max_element(a.begin(), a.end()));
  }
  std::printf("\n\n%-54s %10s %10s %-16s %-9s\n", "case (1 thread unless noted)", "steps/s", "ratio", "[min, max]", "target");
  Summary s = pair("eng_dw_em", "kern_auto_2");
  if (s.ok) line("double well EM, engine vs bare kernel (2 rows)", s, 1, "", ">= 0.80", s.ratio >= 0.8);
  const auto pk = all("pair_dw_em_kern");
  s = summarise(med("eng_dw_em"), pk.size(), [&](std::size_t i) { return pk[i]; });
  if (s.ok) line("  the same, paired: 40 interleaved runs a round", s, 1, "", ">= 0.80", s.ratio >= 0.8);
  struct Case {
    const char* what;
    const char* eng;
    const char* base;
  };
  for (const Case& c : {Case{"double well EM, engine vs mt19937 loop -march=native", "eng_dw_em", "base_dw_em"},
                        Case{"double well EM, engine vs in-place numpy loop", "eng_dw_em", "numpy_dw_em"},
                        Case{"double well Milstein vs its plain loop", "eng_dw_milstein", "base_dw_milstein"},
                        Case{"double well Heun vs its plain loop", "eng_dw_heun", "base_dw_heun"},
                        Case{"double well local linearisation vs its plain loop", "eng_dw_ll", "base_dw_ll"},
                        Case{"active swimmer (2D) EM vs its plain loop", "eng_swimmer_em", "base_swimmer_em"},
                        Case{"underdamped Langevin (2D) BAOAB vs its plain loop", "eng_ud_baoab", "base_ud_baoab"}}) {
    s = pair(c.eng, c.base);
    if (s.ok) line(c.what, s, 1, "x", ">= 3x", s.ratio >= 3);
  }
  s = pair("eng_dw_em_2t", "eng_dw_em", 2.0);
  if (s.ok) line("double well EM, 2 threads: efficiency r2 / (2 r1)", s, 100, "%", ">= 90%", s.ratio >= 0.9);
  s = pair("eng_dw_em_2t_cpu", "eng_dw_em");
  if (s.ok)
    std::printf("%-54s %10.3e %8.1f%%  [%.1f, %.1f] (CPU-time proxy: 1-thread rate per CPU-second = 100%%)\n",
                "double well EM, 2 threads: rate per CPU-second", s.rate, 100 * s.ratio, 100 * s.lo, 100 * s.hi);
  s = pair("eng_dw_em", "eng_dw_em_sync10");
  if (s.ok)
    std::printf("%-54s %10.3e %8.1f%%  [%.1f, %.1f] (engine stopping every 10 steps, no writing)\n",
                "double well EM, engine synced every 10 steps: cost", med("eng_dw_em_sync10"), 100 * (s.ratio - 1),
                100 * (s.lo - 1), 100 * (s.hi - 1));
  // sdesim (run.sh), 1 thread: snapshots every 10 steps vs only at the start and the end (same
  // steps, run one right after the other in each repeat), and end to end (start-up, stepping,
  // 100 snapshots written) against the engine.
  const double s_steps = med("sdesim_steps"), s_paths = med("sdesim_paths");
  const std::string clk = g_cpu_clock ? "cpu" : "wall";
  const auto t10 = all("sdesim_save10_" + clk + "_s"), tends = all("sdesim_save_ends_" + clk + "_s");
  s = summarise(s_paths * s_steps / median(t10.empty() ? std::vector<double>{1} : t10), std::min(t10.size(), tends.size()),
                [&](std::size_t i) { return t10[i] / tends[i] - 1; });
  if (s.ok) line("sdesim snapshots every 10 steps: cost vs start/end only", s, 100, "%", "<= 10%", s.ratio <= 0.10);
  const auto te = all("sdesim_e2e_" + clk + "_s"), em = all("eng_dw_em");
  const double e2e_steps = med("sdesim_e2e_steps");
  s = summarise(s_paths * e2e_steps / median(te.empty() ? std::vector<double>{1} : te), std::min(te.size(), em.size()),
                [&](std::size_t i) { return s_paths * e2e_steps / te[i] / em[i]; });
  if (s.ok) line("sdesim end to end (100 snapshots) vs engine bare rate", s, 100, "%", ">= 85%", s.ratio >= 0.85);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 100000, steps = 200;
  int reps = 3;
  std::string report_file;
  bool raw_mode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--raw") raw_mode = true;
    else if (a == "--paths" && has) n = std::atoll(argv[++i]);
    else if (a == "--steps" && has) steps = std::atoll(argv[++i]);
    else if (a == "--reps" && has) reps = std::atoi(argv[++i]);
    else if (a == "--report" && has) report_file = argv[++i];
    else if (a == "--clock" && has) g_cpu_clock = std::string(argv[++i]) != "wall";
    else {
      std::fprintf(stderr, "unknown option %s (usage: --raw [--paths N] [--steps K] [--reps R] [--clock cpu|wall] | --report FILE)\n", a.c_str());
      return 2;
    }
  }
  if (raw_mode) return raw(n, steps, reps);
  if (!report_file.empty()) return report(report_file);
  std::fprintf(stderr, "give --raw or --report FILE (run.sh does both)\n");
  return 2;
}
