#pragma once
/// \file
/// Sampling the stationary law of a model file from its `log_density` (docs/model-files.md,
/// "--init stationary"): an inverse-CDF sampler on a tabulated grid.
///
/// The density p = exp(log_density) is tabulated on a uniform grid over an interval (1D) or a
/// rectangle (2D) found automatically: grown from the initial point until log p on the boundary
/// is kDrop (40) below its maximum, then trimmed to where it is not. The sampled law is the
/// normalised piecewise-linear (1D) or bilinear (2D) interpolant of p on the grid, drawn
/// exactly by inverting its CDF (1D: one uniform; 2D: the cell from one uniform, then the
/// linear marginal and the linear conditional inside the cell). Its total-variation distance to
/// the exact law is estimated by the interpolation defects at cell midpoints (the interpolant's
/// L1 error is 2/3 of their sum) plus the mass of the cut tails (from the decay rate at the
/// boundary); the grid is refined until the estimate is <= tolerance(dim) (1e-6 in 1D, 1e-4 in
/// 2D: a difference a sample of fewer than ~1e8 paths cannot resolve), else a ConfigError.
#include <functional>
#include <string>
#include <vector>

namespace sdescore::modelfile {

struct TabulatedLaw {
  static constexpr double kDrop = 40.0;        ///< tails where log p < max - kDrop are cut
  /// The bound on the total-variation estimate: 1e-6 in 1D, 1e-4 in 2D.
  static constexpr double tolerance(int dim) { return dim == 1 ? 1e-6 : 1e-4; }

  int dim = 0;
  double lo[2] = {0, 0}, hi[2] = {0, 0};  ///< the box
  long cells[2] = {0, 0};                 ///< per axis (cells[1] = 1 in 1D)
  double max_log = 0;                     ///< maximum of log p on the grid
  double tv_estimate = 0;                 ///< estimated total-variation distance to the exact law
  std::vector<double> p;                  ///< exp(log p - max_log) at the nodes, axis 0 fastest
  std::vector<double> cdf;                ///< cumulative cell masses (cells[0] cells[1] + 1 entries)

  /// One state x[0..dim) from the uniforms u[0] (1D), or u[0], u[1], u[2] (2D), in [0, 1).
  void sample(const double* u, double* x) const;
};

/// Tabulates exp(logp) for dim 1 or 2 around `center` (dim values). `what` names the model in
/// messages. ConfigError if dim > 2, if logp is NaN or +inf somewhere on the grid (naming the
/// point), if it does not fall kDrop below its maximum within a box of half-width 1e12, or if
/// the finest grid (2^22 cells in 1D, 2048^2 in 2D) leaves the estimate above tolerance(dim).
TabulatedLaw tabulate_log_density(const std::function<double(const double*)>& logp, int dim, const double* center,
                                  const std::string& what);

}  // namespace sdescore::modelfile
