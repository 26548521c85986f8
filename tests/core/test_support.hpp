#pragma once
// Helpers shared by the core tests: a plain seeded noise source (tests need no counter-based
// streams) and log-log slope fitting. Test-only models live in support/toy_models.hpp.
#include <cmath>
#include <random>
#include <vector>

#include "sdescore/core/model.hpp"

namespace sdescore::test {

/// N(0, dt) increments from a seeded std::mt19937_64.
struct GaussianIncrements {
  std::mt19937_64 gen;
  std::normal_distribution<double> nd{0.0, 1.0};
  explicit GaussianIncrements(unsigned long seed) : gen(seed) {}
  template <int N>
  void fill(Vec<double, N>& dW, double dt) {
    const double s = std::sqrt(dt);
    for (int i = 0; i < N; ++i) dW(i) = s * nd(gen);
  }
  double normal() { return nd(gen); }
};

/// Least-squares slope of log(err) against log(h).
inline double loglog_slope(const std::vector<double>& h, const std::vector<double>& err) {
  const int n = static_cast<int>(h.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int i = 0; i < n; ++i) {
    const double x = std::log(h[i]), y = std::log(err[i]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

}  // namespace sdescore::test
