#pragma once
// Helpers shared by the reference tests.
#include <cmath>
#include <vector>

namespace sdescore::reference::test {

/// Least-squares slope of log(err) against log(h): the observed convergence order.
inline double fitted_order(const std::vector<double>& h, const std::vector<double>& err) {
  const int n = static_cast<int>(h.size());
  double mx = 0, my = 0;
  for (int i = 0; i < n; ++i) mx += std::log(h[i]) / n, my += std::log(err[i]) / n;
  double sxy = 0, sxx = 0;
  for (int i = 0; i < n; ++i) {
    const double dx = std::log(h[i]) - mx;
    sxy += dx * (std::log(err[i]) - my);
    sxx += dx * dx;
  }
  return sxy / sxx;
}

}  // namespace sdescore::reference::test
