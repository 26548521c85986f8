#pragma once
// Up-front checks of the evaluation grids of `scorefit grid` and `scorefit physics` (--lo, --hi,
// --n), run before any work: each list has 1 or `dim` values, corners are finite with lo < hi,
// every axis has 2 .. max_grid_axis points, and the whole grid times the number of times is at
// most max_grid_points evaluation points (docs/cli.md, "Limits").
#include <cmath>
#include <string>
#include <vector>

#include "sdescore/core/error.hpp"

namespace sdescore::eval {

inline constexpr long long max_grid_points = 20'000'000;  ///< grid points x times
inline constexpr int max_grid_axis = 1'000'000;           ///< points per axis

/// `cmd` names the subcommand ("grid", "physics"); n_times multiplies the grid's size.
/// Empty lists mean "the default" and are not checked here.
inline void check_grid_options(const std::string& cmd, const std::vector<double>& lo, const std::vector<double>& hi,
                               const std::vector<int>& n, int dim, long long n_times) {
  auto count_ok = [&](std::size_t size, const char* what) {
    if (size != 0 && size != 1 && static_cast<int>(size) != dim)
      throw ConfigError(cmd + ": --" + what + " has " + std::to_string(size) + " values: give 1 or " + std::to_string(dim) +
                        " (one per coordinate)");
  };
  count_ok(lo.size(), "lo");
  count_ok(hi.size(), "hi");
  count_ok(n.size(), "n");
  for (const auto* v : {&lo, &hi})
    for (double x : *v)
      if (!std::isfinite(x))
        throw ConfigError(cmd + ": --" + (v == &lo ? "lo" : "hi") + " " + sdescore::detail::fmt_double(x) +
                          " is invalid: grid corners must be finite numbers");
  for (int a = 0; a < dim; ++a) {
    const double l = lo.empty() ? NAN : lo.size() == 1 ? lo[0] : lo[static_cast<std::size_t>(a)];
    const double h = hi.empty() ? NAN : hi.size() == 1 ? hi[0] : hi[static_cast<std::size_t>(a)];
    if (!lo.empty() && !hi.empty() && !(h > l))
      throw ConfigError(cmd + ": --hi " + sdescore::detail::fmt_double(h) + " must exceed --lo " + sdescore::detail::fmt_double(l) +
                        " (coordinate " + std::to_string(a) + ")");
  }
  double total = static_cast<double>(n_times < 1 ? 1 : n_times);
  for (int a = 0; a < dim && !n.empty(); ++a) {
    const int k = n.size() == 1 ? n[0] : n[static_cast<std::size_t>(a)];
    if (k < 2 || k > max_grid_axis)
      throw ConfigError(cmd + ": --n " + std::to_string(k) + " is invalid: each axis needs 2.." + std::to_string(max_grid_axis) +
                        " points");
    total *= k;
  }
  if (total > static_cast<double>(max_grid_points))
    throw ConfigError(cmd + ": the grid has " + sdescore::detail::fmt_double(total) + " evaluation points (grid points x " +
                      std::to_string(n_times < 1 ? 1 : n_times) + " time(s)), more than the limit of " +
                      std::to_string(max_grid_points) + ": give a smaller --n or fewer times");
}

}  // namespace sdescore::eval
