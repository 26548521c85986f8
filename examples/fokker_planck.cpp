// The reference Fokker-Planck solver (lib/sdescore/reference, docs/reference.md) on the double
// well: p_0 = N(-1, 0.2^2) on a 400-cell grid over [-3, 3], TR-BDF2 with dt = 1e-3 to t = 1.
// Prints mass, mean and variance at a few times, and compares the density's mean and variance
// at t = 1 with an Euler-Maruyama ensemble from the same initial law.
// Checks (exit code 1 if one fails):
//   1. mass is conserved to 1e-10 (the finite-volume fluxes are conservative);
//   2. the density is non-negative;
//   3. mean and variance at t = 1 agree with the ensemble within 5 SE plus a small allowance
//      for discretisation errors of both (0.005; grid dx = 0.015, EM dt = 1e-3).
#include <cmath>
#include <cstdio>
#include <vector>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/random/normal.hpp"
#include "sdescore/reference/reference.hpp"
#include "sdescore/sdescore.hpp"

namespace {
int failures = 0;
void check(bool ok, const char* what) {
  std::printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
  if (!ok) ++failures;
}
}  // namespace

int main() {
  using namespace sdescore;
  using namespace sdescore::reference;
  const models::DoubleWell m;  // a = 1, T = 0.5
  const double m0 = -1.0, s0 = 0.2;

  FokkerPlanckSolver<models::DoubleWell> fp(m, GridSpec<1>{{-3.0}, {3.0}, {400}});
  fp.set_initial_gaussian(Vec<double, 1>(m0), Mat<double, 1, 1>(s0 * s0));
  const std::vector<double> times{0.0, 0.25, 0.5, 1.0};
  const auto snaps = fp.solve(times, /*dt_max=*/1e-3);

  std::printf("double well (a = %g, T = %g), Fokker-Planck on 400 cells over [-3, 3], TR-BDF2, dt = 1e-3\n", m.a,
              m.T);
  std::printf("  %6s %16s %10s %10s %14s\n", "t", "mass - 1", "mean", "variance", "P(x > 0)");
  double worst_mass = 0, min_p = 0;
  for (const auto& sn : snaps) {
    const Vec<double, 1> mean = sn.mean();
    const Mat<double, 1, 1> cov = sn.covariance();
    double right = 0;
    for (int k = 0; k < sn.density.size(); ++k)
      if (sn.grid.centre(0, k) > 0) right += sn.density(k) * sn.grid.cell_volume();
    std::printf("  %6.2f %16.3e %10.5f %10.5f %14.5f\n", sn.t, sn.mass() - 1, mean(0), cov(0, 0), right);
    worst_mass = std::max(worst_mass, std::abs(sn.mass() - 1));
    min_p = std::min(min_p, sn.density.minCoeff());
  }
  check(worst_mass < 1e-10, "mass is conserved (|mass - 1| < 1e-10)");
  check(min_p >= 0, "the density is non-negative");

  // Ensemble from the same initial law: x_0 = m0 + s0 z(seed, path, counter 2^62).
  const std::int64_t n = 100000;
  const std::uint64_t seed = 3;
  ensemble::StateMatrix st(1, n);
  for (std::int64_t p = 0; p < n; ++p)
    st(0, p) = m0 + s0 * random::normal(seed, static_cast<std::uint64_t>(p), std::uint64_t(1) << 62, 0);
  ensemble::EnsembleOptions o;
  o.seed = seed;
  o.dt = 1e-3;
  o.n_steps = 1000;
  ensemble::simulate(EulerMaruyama{}, m, st, o);
  double mean = 0, var = 0, m4 = 0;
  for (std::int64_t p = 0; p < n; ++p) mean += st(0, p) / n;
  for (std::int64_t p = 0; p < n; ++p) {
    const double d = st(0, p) - mean;
    var += d * d / (n - 1);
    m4 += d * d * d * d / n;
  }
  const double se_mean = std::sqrt(var / n), se_var = std::sqrt((m4 - var * var) / n);
  const Vec<double, 1> fp_mean = snaps.back().mean();
  const Mat<double, 1, 1> fp_cov = snaps.back().covariance();
  std::printf("ensemble (Euler-Maruyama, 1e5 paths, dt = 1e-3) at t = 1: mean %.5f (SE %.5f), variance %.5f (SE %.5f)\n",
              mean, se_mean, var, se_var);
  std::printf("  |difference| to Fokker-Planck: mean %.5f, variance %.5f\n", std::abs(mean - fp_mean(0)),
              std::abs(var - fp_cov(0, 0)));
  check(std::abs(mean - fp_mean(0)) < 5 * se_mean + 0.005, "mean at t = 1 agrees with the ensemble");
  check(std::abs(var - fp_cov(0, 0)) < 5 * se_var + 0.005, "variance at t = 1 agrees with the ensemble");

  std::printf("%s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
