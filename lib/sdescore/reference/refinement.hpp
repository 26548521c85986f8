#pragma once
/// \file
/// A grid reference's own error, measured by refinement (docs/reference.md, "Its own error").
///
/// The same problem is solved on a grid and on the grid with half the cells per coordinate
/// (the same box, so each coarse cell is a block of 2 (1D) or 2 x 2 (2D) fine cells). The fine
/// solution is block-averaged onto the coarse grid (density: the block mean; score: the
/// density-weighted block mean, i.e. the gradient of log of the block-averaged density to first
/// order) and the coarse solution is compared with it by the score errors' own measure: the
/// relative L2 difference of s and of D s weighted by the block-averaged density, over cells
/// valid in both (every fine cell of the block and the coarse cell).
///
/// What the number means: with errors C h^p, the coarse - fine difference is (2^p - 1) times the
/// fine grid's own error, so for any scheme of order p >= 1 in its asymptotic regime the
/// difference is an upper estimate of the fine reference's error (equal for p = 1, three times
/// it for p = 2). A model error below it is not resolved by the reference. It is an estimate,
/// not a bound: an under-resolved solution can change little from one level to the next.
/// scripts/swimmer_frontier/refine.py computes the same difference from files.
#include <array>
#include <cmath>
#include <string>

#include "sdescore/core/error.hpp"
#include "sdescore/core/model.hpp"
#include "sdescore/reference/snapshot.hpp"

namespace sdescore::reference {

/// Relative differences of the full score and of D s (see the file comment).
struct RefinementDifference {
  double full = 0;       ///< |s_coarse - <s_fine>| / |<s_fine>| in L2(p)
  double diffusion = 0;  ///< the same for D s
};

/// The coarse grid that nests in `fine`: the same box, half the cells per coordinate. Throws
/// ConfigError when a cell count is odd or would fall below Grid::min_cells.
template <int N>
GridSpec<N> coarser_grid(const GridSpec<N>& fine) {
  GridSpec<N> c = fine;
  for (int d = 0; d < N; ++d) {
    if (fine.cells[d] % 2 != 0 || fine.cells[d] / 2 < Grid<N>::min_cells)
      throw ConfigError("reference refinement: cells[" + std::to_string(d) + "] = " + std::to_string(fine.cells[d]) +
                        " cannot be halved into a nested grid: give an even count >= " + std::to_string(2 * Grid<N>::min_cells));
    c.cells[d] = fine.cells[d] / 2;
  }
  return c;
}

/// |coarse - fine| / |fine| for s and D s with fine block-averaged onto coarse's grid; `model`
/// gives D = G G^T / 2 at the coarse cell centres. Throws ConfigError if the grids do not nest
/// (fine cells != 2 x coarse cells, or different boxes) or the times differ.
template <SdeModel M, int N>
RefinementDifference refinement_difference(const M& model, const DensitySnapshot<N>& coarse, const DensitySnapshot<N>& fine) {
  const Grid<N>& cg = coarse.grid;
  const Grid<N>& fg = fine.grid;
  for (int d = 0; d < N; ++d) {
    const double tol = 1e-9 * (fg.upper(d) - fg.lower(d));
    if (fg.cells(d) != 2 * cg.cells(d) || std::abs(fg.lower(d) - cg.lower(d)) > tol || std::abs(fg.upper(d) - cg.upper(d)) > tol)
      throw ConfigError("reference refinement: the grids do not nest in dimension " + std::to_string(d) + " (coarse " +
                        std::to_string(cg.cells(d)) + " cells on [" + detail::fmt_double(cg.lower(d)) + ", " +
                        detail::fmt_double(cg.upper(d)) + "], fine " + std::to_string(fg.cells(d)) + " on [" +
                        detail::fmt_double(fg.lower(d)) + ", " + detail::fmt_double(fg.upper(d)) +
                        "]): the fine grid must have twice the cells on the same box");
  }
  if (!(std::abs(coarse.t - fine.t) <= 1e-9 * (1 + std::abs(fine.t))))
    throw ConfigError("reference refinement: the snapshots are at different times (" + detail::fmt_double(coarse.t) + " and " +
                      detail::fmt_double(fine.t) + ")");
  // The fine solution block-averaged onto the coarse grid, as a snapshot there; a cell counts
  // where every fine cell of its block and the coarse cell are valid.
  constexpr int B = N == 1 ? 2 : 4;  // fine cells per coarse cell
  DensitySnapshot<N> avg{coarse.t, cg, Eigen::VectorXd::Zero(cg.size()), {}, std::vector<unsigned char>(cg.size(), 0), 0.0};
  for (int d = 0; d < N; ++d) avg.score[d] = Eigen::VectorXd::Zero(cg.size());
  bool any = false;
  for (int k = 0; k < cg.size(); ++k) {
    const auto ci = cg.multi(k);
    bool ok = coarse.valid[k] != 0;
    Vec<double, N> ps = Vec<double, N>::Zero();
    for (int b = 0; b < B; ++b) {
      std::array<int, N> fi;
      for (int d = 0; d < N; ++d) fi[d] = 2 * ci[d] + ((b >> d) & 1);
      const int f = fg.flat(fi);
      ok = ok && fine.valid[f] != 0;
      avg.density(k) += fine.density(f) / B;
      ps += fine.density(f) / B * fine.score_at_cell(f);
    }
    if (avg.density(k) > 0)
      for (int d = 0; d < N; ++d) avg.score[d](k) = ps(d) / avg.density(k);
    avg.valid[k] = ok && avg.density(k) > 0;
    any = any || avg.valid[k];
  }
  if (!any)
    throw NumericalError("reference refinement: no cell is valid in both grids at t = " + detail::fmt_double(fine.t) +
                         ": the grids are too coarse for the density");
  // the coarse score at a coarse cell centre (interpolation there returns the cell's value)
  const auto coarse_score = [&](const Vec<double, N>& y) { return coarse.score_at(y); };
  return {relative_score_error(avg, coarse_score).relative,
          relative_diffusion_score_error(avg, coarse_score, diffusion_matrix(model, coarse.t)).relative};
}

}  // namespace sdescore::reference
