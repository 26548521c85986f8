// Runs a short OU simulation through the installed sdescore::sim and checks its mean against
// the exact one: E[Y_t] = y0 e^{-t} for OU with B = 1, mu = 0.
#include <cmath>
#include <cstdio>

#include <sdescore/sim/simulation.hpp>

int main(int argc, char** argv) {
  sdescore::sim::Config c;
  c.model = "ou";
  c.init = "point:2";
  c.paths = 4000;
  c.dt = 0.01;
  c.t_end = 1.0;
  c.seed = 3;
  c.threads = 1;
  c.keep_positions = true;
  if (argc > 1) c.output = argv[1];
  const auto r = sdescore::sim::simulate(c);
  double mean = 0;
  const std::size_t last = (r.times.size() - 1) * static_cast<std::size_t>(r.n_paths);
  for (std::int64_t p = 0; p < r.n_paths; ++p) mean += r.positions[last + static_cast<std::size_t>(p)];
  mean /= static_cast<double>(r.n_paths);
  // Var Y_1 = (1 - e^{-2}) / 2 = 0.43; 5 sigma / sqrt(N) = 0.052 (Euler bias at dt = 0.01: ~0.004).
  const double exact = 2.0 * std::exp(-1.0);
  std::printf("consumer: %s with %s, %lld paths, mean at t = %g: %.4f (exact %.4f)\n", r.info.model.c_str(),
              r.info.stepper.c_str(), static_cast<long long>(r.n_paths), r.times.back(), mean, exact);
  return std::abs(mean - exact) < 0.06 ? 0 : 1;
}
