// Plain single-thread loops, the baselines of sim_throughput: std::mt19937_64 +
// std::normal_distribution and the model's update written out by hand, as a user would write it.
// Built -O3 -march=native on purpose (the best case for the baseline; CMakeLists.txt), and as a
// separate executable that links nothing of sdescore (so -march=native mixes with no Eigen code).
// Prints "<case> <particle-steps per second>" lines. Usage: bench_sim_baseline [paths] [steps] [cpu|wall]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <random>
#include <vector>

namespace {

volatile double g_sink = 0;

bool g_wall = false;  // process CPU time unless the third argument is "wall" (as sim_throughput)

double now() {
  if (g_wall) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// One untimed run first (the case that runs first otherwise paid the CPU's wake-up: session 5
// saw 5.5e7-7.9e7 for the EM loop from run to run, EM being the first case timed), then the
// median of three.
template <class F>
double rate(std::int64_t n, std::int64_t steps, F&& f) {
  f();
  double t[3];
  for (double& ti : t) {
    const double t0 = now();
    f();
    ti = now() - t0;
  }
  std::sort(t, t + 3);
  return double(n) * double(steps) / t[1];
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 100000;
  const std::int64_t steps = argc > 2 ? std::atoll(argv[2]) : 20;
  g_wall = argc > 3 && std::string(argv[3]) == "wall";
  const double dt = 1e-3;
  const double a = 1.0, T = 0.5;      // double well and underdamped Langevin defaults
  const double gamma_s = 0.1, D = 1;  // active swimmer defaults
  const double gamma_u = 1.0;
  auto force = [&](double x) { return -4 * a * x * (x * x - 1); };

  // Double well, Euler-Maruyama (Milstein is the same update: the noise is additive).
  const double sig = std::sqrt(2 * T * dt);
  const double r_em = rate(n, steps, [&] {
    std::mt19937_64 gen(1);
    std::normal_distribution<double> nd;
    std::vector<double> x(static_cast<std::size_t>(n), 0.5);
    for (std::int64_t k = 0; k < steps; ++k)
      for (auto& xi : x) xi += force(xi) * dt + sig * nd(gen);
    g_sink = g_sink + x[0];
  });
  std::printf("base_dw_em %.6e\n", r_em);
  std::printf("base_dw_milstein %.6e\n", r_em);

  // Double well, stochastic Heun.
  std::printf("base_dw_heun %.6e\n", rate(n, steps, [&] {
                std::mt19937_64 gen(1);
                std::normal_distribution<double> nd;
                std::vector<double> x(static_cast<std::size_t>(n), 0.5);
                for (std::int64_t k = 0; k < steps; ++k)
                  for (auto& xi : x) {
                    const double noise = sig * nd(gen), f0 = force(xi), xp = xi + f0 * dt + noise;
                    xi += 0.5 * (f0 + force(xp)) * dt + noise;
                  }
                g_sink = g_sink + x[0];
              }));

  // Double well, local linearisation in closed form (1D: J = f'(x), mean x + expm1(J dt)/J f,
  // variance 2T expm1(2 J dt) / (2 J)).
  std::printf("base_dw_ll %.6e\n", rate(n, steps, [&] {
                std::mt19937_64 gen(1);
                std::normal_distribution<double> nd;
                std::vector<double> x(static_cast<std::size_t>(n), 0.5);
                for (std::int64_t k = 0; k < steps; ++k)
                  for (auto& xi : x) {
                    const double J = -4 * a * (3 * xi * xi - 1);
                    const double phi = std::abs(J) > 1e-12 ? std::expm1(J * dt) / J : dt;
                    const double var = std::abs(J) > 1e-12 ? 2 * T * std::expm1(2 * J * dt) / (2 * J) : 2 * T * dt;
                    xi += phi * force(xi) + std::sqrt(var) * nd(gen);
                  }
                g_sink = g_sink + x[0];
              }));

  // Active swimmer (x, v), Euler-Maruyama.
  const double sv = std::sqrt(2 * gamma_s * D * dt);
  std::printf("base_swimmer_em %.6e\n", rate(n, steps, [&] {
                std::mt19937_64 gen(1);
                std::normal_distribution<double> nd;
                std::vector<double> x(static_cast<std::size_t>(n), 0.5), v(static_cast<std::size_t>(n), 0.0);
                for (std::int64_t k = 0; k < steps; ++k)
                  for (std::size_t i = 0; i < x.size(); ++i) {
                    const double xi = x[i], vi = v[i];
                    x[i] = xi + (-xi * xi * xi + vi) * dt;
                    v[i] = vi - gamma_s * vi * dt + sv * nd(gen);
                  }
                g_sink = g_sink + x[0];
              }));

  // Underdamped Langevin in the double well, BAOAB.
  const double c1 = std::exp(-gamma_u * dt), c2 = std::sqrt(T * (1 - c1 * c1)), h = 0.5 * dt;
  std::printf("base_ud_baoab %.6e\n", rate(n, steps, [&] {
                std::mt19937_64 gen(1);
                std::normal_distribution<double> nd;
                std::vector<double> x(static_cast<std::size_t>(n), -1.0), v(static_cast<std::size_t>(n), 0.0);
                for (std::int64_t k = 0; k < steps; ++k)
                  for (std::size_t i = 0; i < x.size(); ++i) {
                    double xi = x[i], vi = v[i];
                    vi += h * force(xi);
                    xi += h * vi;
                    vi = c1 * vi + c2 * nd(gen);
                    xi += h * vi;
                    vi += h * force(xi);
                    x[i] = xi;
                    v[i] = vi;
                  }
                g_sink = g_sink + x[0];
              }));
  return 0;
}
