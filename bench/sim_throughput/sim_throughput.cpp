// Particle-steps per second of the double-well Euler-Maruyama ensemble through the real library
// path (sdescore::ensemble::simulate), against baselines measured in the same run:
//   (a) plain C++ loop: std::mt19937_64 + std::normal_distribution + Euler step, 1 thread
//   (b) the same loop fused by hand around our normal kernel (library overhead)
//   (c) in-place numpy Euler loop (rate passed in by run.sh: --numpy-rate R)
//   (d) 1 vs 2 threads
// and the cost of snapshots (to a no-op sink, and to a sink that copies them into a buffer).
// Usage: bench_sim_throughput [--paths N] [--steps K] [--numpy-rate R] [--reps R]
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"

using namespace sdescore;
using Clock = std::chrono::steady_clock;

namespace {

volatile double g_sink = 0;  // defeats dead-code elimination of the baselines

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

double library_rate(std::int64_t n, std::int64_t steps, int threads, std::int64_t save_every, bool copy_sink,
                    int reps, int block = 256) {
  const models::DoubleWell m;
  ensemble::EnsembleOptions o;
  o.seed = 1;
  o.dt = 1e-3;
  o.n_steps = steps;
  o.n_threads = threads;
  o.save_every = save_every;
  o.block_size = block;
  std::vector<double> buffer;
  ensemble::SnapshotSink sink;
  if (save_every > 0) {
    if (copy_sink)
      sink = [&](const ensemble::Snapshot& s) {
        const auto sz = static_cast<std::size_t>(s.state.dim * s.state.n_paths);
        const std::size_t old = buffer.size();
        buffer.resize(old + sz);  // the buffer grows like an in-memory writer's
        std::memcpy(buffer.data() + old, s.state.data, sz * sizeof(double));
      };
    else
      sink = [](const ensemble::Snapshot&) {};
  }
  const double sec = best_seconds(reps, [&] {
    buffer.clear();
    buffer.shrink_to_fit();
    ensemble::StateMatrix s(1, n, 0.5);
    ensemble::simulate(EulerMaruyama{}, m, s, o, sink);
    g_sink = g_sink + s(0, 0);
  });
  return double(n) * double(steps) / sec;
}

double plain_rate(std::int64_t n, std::int64_t steps, int reps) {
  const models::DoubleWell m;
  const double dt = 1e-3, sig = std::sqrt(2 * m.T * dt), a4 = 4 * m.a;
  const double sec = best_seconds(reps, [&] {
    std::mt19937_64 gen(1);
    std::normal_distribution<double> nd(0.0, 1.0);
    std::vector<double> x(static_cast<std::size_t>(n), 0.5);
    for (std::int64_t k = 0; k < steps; ++k)
      for (auto& xi : x) xi += -a4 * xi * (xi * xi - 1) * dt + sig * nd(gen);
    g_sink = g_sink + x[0];
  });
  return double(n) * double(steps) / sec;
}

double fused_rate(std::int64_t n, std::int64_t steps, int reps) {
  const models::DoubleWell m;
  const double dt = 1e-3, sig = std::sqrt(2 * m.T * dt), a4 = 4 * m.a;
  constexpr std::int64_t B = 256;
  const double sec = best_seconds(reps, [&] {
    std::vector<double> x(static_cast<std::size_t>(n), 0.5);
    alignas(64) double z[B];
    for (std::int64_t p0 = 0; p0 < n; p0 += B) {
      const std::int64_t nb = std::min(B, n - p0);
      double* xb = x.data() + p0;
      for (std::int64_t k = 0; k < steps; ++k) {
        random::detail::normal_block_unchecked(1, static_cast<std::uint64_t>(p0), nb, static_cast<std::uint64_t>(k), 1, z, B);
        for (std::int64_t i = 0; i < nb; ++i) xb[i] += -a4 * xb[i] * (xb[i] * xb[i] - 1) * dt + sig * z[i];
      }
    }
    g_sink = g_sink + x[0];
  });
  return double(n) * double(steps) / sec;
}

double normals_rate(std::int64_t n, int reps) {
  std::vector<double> z(static_cast<std::size_t>(random::padded_count(n)));
  const double sec = best_seconds(reps, [&] {
    for (int k = 0; k < 10; ++k) random::detail::normal_block_unchecked(1, 0, n, static_cast<std::uint64_t>(k), 1, z.data(), 0);
    g_sink = g_sink + z[0];
  });
  return 10.0 * double(n) / sec;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 100000, steps = 1000;
  double numpy_rate = 0;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--paths") n = std::atoll(argv[i + 1]);
    else if (a == "--steps") steps = std::atoll(argv[i + 1]);
    else if (a == "--numpy-rate") numpy_rate = std::atof(argv[i + 1]);
    else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const int max_threads = omp_get_max_threads();
  std::printf("sim_throughput: double well, Euler-Maruyama, %lld paths x %lld steps, best of %d, up to %d threads\n",
              static_cast<long long>(n), static_cast<long long>(steps), reps, max_threads);
  const double r_norm = normals_rate(n, reps);
  const double r_plain = plain_rate(n, std::max<std::int64_t>(1, steps / 10), reps);
  const double r_fused = fused_rate(n, steps, reps);
  const double r1 = library_rate(n, steps, 1, 0, false, reps);
  const double r2 = max_threads >= 2 ? library_rate(n, steps, 2, 0, false, reps) : 0;
  const double r_snap = library_rate(n, steps, max_threads, 10, false, reps);
  const double r_copy = library_rate(n, steps, max_threads, 10, true, reps);
  const double r_best = std::max(r1, r2);
  std::printf("%-58s %12s %10s\n", "case", "steps/s", "ratio");
  std::printf("%-58s %12.3e\n", "normal kernel alone (variates/s, 1 thread)", r_norm);
  std::printf("%-58s %12.3e %10s\n", "library, 1 thread", r1, "");
  std::printf("%-58s %12.3e %10s\n", "library, 2 threads", r2, "");
  std::printf("%-58s %12.3e %9.2fx  (target >= 3)\n", "(a) plain C++ mt19937_64 + normal_distribution, 1 thread",
              r_plain, r1 / r_plain);
  std::printf("%-58s %12.3e %9.2fx  (target <= 1.2, fused/library)\n", "(b) hand-fused loop around our RNG, 1 thread",
              r_fused, r_fused / r1);
  if (numpy_rate > 0)
    std::printf("%-58s %12.3e %9.2fx  (target >= 5, best library/numpy)\n", "(c) in-place numpy Euler loop", numpy_rate,
                r_best / numpy_rate);
  if (r2 > 0)
    std::printf("%-58s %12s %9.1f%%  (target >= 90%%)\n", "(d) 2-thread efficiency r2 / (2 r1)", "",
                100.0 * r2 / (2 * r1));
  const double r_nosnap = max_threads >= 2 ? r2 : r1;
  std::printf("%-58s %12.3e %9.1f%%\n", "snapshots every 10 steps, no-op sink (cost vs none)", r_snap,
              100.0 * (r_nosnap / r_snap - 1));
  std::printf("%-58s %12.3e %9.1f%%\n", "snapshots every 10 steps, copying sink (cost vs none)", r_copy,
              100.0 * (r_nosnap / r_copy - 1));
  return 0;
}
