#pragma once
/// \file
/// Regular cell-centred grids in 1 or 2 dimensions for the Fokker-Planck reference solver.
///
/// A grid covers the box [lower_0, upper_0] x ... with cells[d] equal cells per dimension d,
/// width h_d = (upper_d - lower_d) / cells[d]. Cell (i_0, i_1) has centre
/// lower_d + (i_d + 1/2) h_d. Values live in flat vectors with the first index fastest:
/// flat = i_0 + cells[0] * i_1.
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "sdescore/core/model.hpp"

namespace sdescore::reference {

namespace detail {
using sdescore::detail::fmt_double;
}  // namespace detail

/// User-facing description of a grid: bounds and cell counts per dimension.
template <int N>
struct GridSpec {
  static_assert(N == 1 || N == 2, "reference grids are 1D or 2D");
  std::array<double, N> lower{};
  std::array<double, N> upper{};
  std::array<int, N> cells{};
};

/// Validated regular grid (see GridSpec).
template <int N>
class Grid {
  static_assert(N == 1 || N == 2, "reference grids are 1D or 2D");

 public:
  static constexpr int dim = N;
  /// Smallest accepted cell count per dimension (central differences need 3 cells).
  static constexpr int min_cells = 3;

  /// Validates the spec: finite bounds, lower < upper, cells >= 3 in every dimension.
  /// Throws ConfigError naming the offending entry otherwise.
  explicit Grid(const GridSpec<N>& spec) : spec_(spec) {
    for (int d = 0; d < N; ++d) {
      std::string ds = "[";  // built by appends: GCC 12 warns (-Wrestrict, PR105651) on "[" + to_string
      ds += std::to_string(d);
      ds += ']';
      require_finite("GridSpec: lower" + ds, spec.lower[d]);
      require_finite("GridSpec: upper" + ds, spec.upper[d]);
      if (!(spec.lower[d] < spec.upper[d]))
        throw ConfigError("GridSpec: lower" + ds + " = " + detail::fmt_double(spec.lower[d]) + " >= upper" + ds +
                          " = " + detail::fmt_double(spec.upper[d]) + ": the bounds must satisfy lower < upper");
      if (spec.cells[d] < min_cells)
        throw ConfigError("GridSpec: cells" + ds + " = " + std::to_string(spec.cells[d]) +
                          " is invalid: it must be an integer >= " + std::to_string(min_cells));
      h_[d] = (spec.upper[d] - spec.lower[d]) / spec.cells[d];
    }
    long long total = 1;  // cell indices are int: refuse a grid they cannot count
    for (int d = 0; d < N; ++d) total *= spec.cells[d];
    if (total > std::numeric_limits<int>::max()) {
      std::string cs;
      for (int d = 0; d < N; ++d) cs += (d ? " x " : "") + std::to_string(spec.cells[d]);
      throw ConfigError("GridSpec: cells " + cs + " = " + std::to_string(total) + " cells is invalid: at most " +
                        std::to_string(std::numeric_limits<int>::max()) + " cells in all");
    }
    size_ = static_cast<int>(total);
  }

  const GridSpec<N>& spec() const { return spec_; }
  int cells(int d) const { return spec_.cells[d]; }
  double lower(int d) const { return spec_.lower[d]; }
  double upper(int d) const { return spec_.upper[d]; }
  double h(int d) const { return h_[d]; }
  /// Total number of cells.
  int size() const { return size_; }
  double cell_volume() const {
    double v = 1;
    for (int d = 0; d < N; ++d) v *= h_[d];
    return v;
  }
  /// Centre coordinate of cell index i along dimension d.
  double centre(int d, int i) const { return spec_.lower[d] + (i + 0.5) * h_[d]; }

  int flat(const std::array<int, N>& idx) const {
    if constexpr (N == 1)
      return idx[0];
    else
      return idx[0] + spec_.cells[0] * idx[1];
  }
  std::array<int, N> multi(int flat) const {
    if constexpr (N == 1)
      return {flat};
    else
      return {flat % spec_.cells[0], flat / spec_.cells[0]};
  }
  /// Centre of the cell with the given flat index.
  Vec<double, N> centre_of(int flat) const {
    const auto idx = multi(flat);
    Vec<double, N> y;
    for (int d = 0; d < N; ++d) y(d) = centre(d, idx[d]);
    return y;
  }
  /// True if y lies in the closed box covered by the grid.
  bool contains(const Vec<double, N>& y) const {
    for (int d = 0; d < N; ++d)
      if (!(y(d) >= spec_.lower[d] && y(d) <= spec_.upper[d])) return false;
    return true;
  }

 private:
  GridSpec<N> spec_;
  std::array<double, N> h_{};
  int size_ = 0;
};

}  // namespace sdescore::reference
