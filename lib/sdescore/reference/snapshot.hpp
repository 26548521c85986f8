#pragma once
/// \file
/// A density on a grid at one time, its score grad log p, bilinear interpolation of both, and
/// the p-weighted relative L2 score error used by evaluation (method.md, section 4):
///   err = sqrt( sum_k p_k |s(y_k) - s_ref,k|^2 / sum_k p_k |s_ref,k|^2 ),
/// the grid-quadrature form of sqrt(E_p |s - s_ref|^2 / E_p |s_ref|^2).
///
/// Score on the grid: second-order differences of log p (central inside, one-sided
/// three-point at the boundary cells). Where p is tiny log p is dominated by round-off and by
/// the boundary, so cells are marked: a cell's score is *valid* if p >= floor at the cell and
/// at every cell its stencil reads, with floor = relative_floor * max_k p_k (default 1e-8).
/// Invalid cells still get a finite score (log p is clipped at the floor first), so
/// interpolation never yields NaN; error helpers skip them by default. They carry relative
/// p-mass below ~relative_floor * (number of cells), i.e. they are negligible in p-weighted
/// errors.
#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <vector>

#include "sdescore/reference/grid.hpp"

namespace sdescore::reference {

/// Bilinear (1D: linear) interpolation of cell-centred values at y. Between the outermost
/// centres and the box edge (and beyond), the value is held constant (clamped).
template <int N>
double interpolate(const Grid<N>& g, const Eigen::VectorXd& values, const Vec<double, N>& y) {
  std::array<int, N> i0{};
  std::array<double, N> w{};
  for (int d = 0; d < N; ++d) {
    const double u = (y(d) - g.lower(d)) / g.h(d) - 0.5;
    int i = static_cast<int>(std::floor(u));
    i = std::clamp(i, 0, g.cells(d) - 2);
    i0[d] = i;
    w[d] = std::clamp(u - i, 0.0, 1.0);
  }
  if constexpr (N == 1) {
    return (1 - w[0]) * values(i0[0]) + w[0] * values(i0[0] + 1);
  } else {
    const double v00 = values(g.flat({i0[0], i0[1]}));
    const double v10 = values(g.flat({i0[0] + 1, i0[1]}));
    const double v01 = values(g.flat({i0[0], i0[1] + 1}));
    const double v11 = values(g.flat({i0[0] + 1, i0[1] + 1}));
    return (1 - w[1]) * ((1 - w[0]) * v00 + w[0] * v10) + w[1] * ((1 - w[0]) * v01 + w[0] * v11);
  }
}

/// Options for turning a density into a score.
struct ScoreOptions {
  /// Cells with p < relative_floor * max p (or whose difference stencil touches one) are
  /// marked invalid. Must be in [0, 1).
  double relative_floor = 1e-8;
};

/// Density, score and validity mask on a grid at time t.
template <int N>
struct DensitySnapshot {
  double t = 0;
  Grid<N> grid;
  Eigen::VectorXd density;                  ///< p at cell centres (integrates to 1 with cell_volume)
  std::array<Eigen::VectorXd, N> score;     ///< score[d](k) = d/dy_d log p at cell k
  std::vector<unsigned char> valid;         ///< 1 where the score is trustworthy (see file comment)
  double floor = 0;                         ///< absolute density floor used for the mask

  /// Interpolated density (0 outside the grid box).
  double density_at(const Vec<double, N>& y) const {
    if (!grid.contains(y)) return 0.0;
    return std::max(0.0, interpolate(grid, density, y));
  }
  /// Interpolated score (held constant beyond the outermost cell centres).
  Vec<double, N> score_at(const Vec<double, N>& y) const {
    Vec<double, N> s;
    for (int d = 0; d < N; ++d) s(d) = interpolate(grid, score[d], y);
    return s;
  }
  Vec<double, N> score_at_cell(int k) const {
    Vec<double, N> s;
    for (int d = 0; d < N; ++d) s(d) = score[d](k);
    return s;
  }
  double mass() const { return density.sum() * grid.cell_volume(); }
  Vec<double, N> mean() const {
    Vec<double, N> m = Vec<double, N>::Zero();
    for (int k = 0; k < grid.size(); ++k) m += density(k) * grid.centre_of(k);
    return m * grid.cell_volume() / mass();
  }
  Mat<double, N, N> covariance() const {
    const Vec<double, N> m = mean();
    Mat<double, N, N> c = Mat<double, N, N>::Zero();
    for (int k = 0; k < grid.size(); ++k) {
      const Vec<double, N> u = grid.centre_of(k) - m;
      c += density(k) * u * u.transpose();
    }
    return c * grid.cell_volume() / mass();
  }
  /// Marginal density along dimension d (length cells(d), integrates to the mass).
  Eigen::VectorXd marginal(int d) const {
    Eigen::VectorXd m = Eigen::VectorXd::Zero(grid.cells(d));
    const double w = grid.cell_volume() / grid.h(d);
    for (int k = 0; k < grid.size(); ++k) m(grid.multi(k)[d]) += density(k) * w;
    return m;
  }
};

/// Builds a snapshot from a density on the grid: computes the score and the validity mask.
/// Throws ConfigError for a wrong size, a negative/NaN relative floor, or a density that is
/// not finite or has no positive entry.
template <int N>
DensitySnapshot<N> make_snapshot(const Grid<N>& g, const Eigen::VectorXd& p, double t, const ScoreOptions& opt = {}) {
  if (p.size() != g.size())
    throw ConfigError("make_snapshot: density has " + std::to_string(p.size()) + " entries, the grid has " +
                      std::to_string(g.size()) + " cells");
  require_non_negative("ScoreOptions::relative_floor", opt.relative_floor);
  if (!(opt.relative_floor < 1))
    throw ConfigError("ScoreOptions::relative_floor = " + detail::fmt_double(opt.relative_floor) +
                      " is invalid: it must be in [0, 1)");
  if (!p.allFinite()) throw NumericalError("make_snapshot: the density at t = " + detail::fmt_double(t) + " is not finite");
  const double pmax = p.maxCoeff();
  if (!(pmax > 0))
    throw NumericalError("make_snapshot: the density at t = " + detail::fmt_double(t) + " has no positive value");
  DensitySnapshot<N> s{t, g, p, {}, std::vector<unsigned char>(g.size(), 1), opt.relative_floor * pmax};
  // log p clipped at the floor (and at the smallest normal number, so log stays finite).
  const double clip = std::max(s.floor, std::numeric_limits<double>::min());
  Eigen::VectorXd lp(g.size());
  for (int k = 0; k < g.size(); ++k) {
    lp(k) = std::log(std::max(p(k), clip));
    if (p(k) < s.floor || p(k) <= 0) s.valid[k] = 0;
  }
  std::vector<unsigned char> ok = s.valid;
  for (int d = 0; d < N; ++d) {
    s.score[d].resize(g.size());
    const int n = g.cells(d);
    const double h = g.h(d);
    for (int k = 0; k < g.size(); ++k) {
      auto idx = g.multi(k);
      const int i = idx[d];
      auto at = [&](int j) {
        idx[d] = j;
        return g.flat(idx);
      };
      int a, b, c;
      double v;
      if (i == 0) {
        a = at(0), b = at(1), c = at(2);
        v = (-3 * lp(a) + 4 * lp(b) - lp(c)) / (2 * h);
      } else if (i == n - 1) {
        a = at(n - 1), b = at(n - 2), c = at(n - 3);
        v = (3 * lp(a) - 4 * lp(b) + lp(c)) / (2 * h);
      } else {
        a = at(i - 1), b = k, c = at(i + 1);
        v = (lp(c) - lp(a)) / (2 * h);
      }
      s.score[d](k) = v;
      if (!ok[a] || !ok[b] || !ok[c]) s.valid[k] = 0;
    }
  }
  return s;
}

/// Selection of cells for the error helpers.
struct ScoreErrorOptions {
  bool only_valid = true;     ///< skip cells whose grid score is marked invalid
  double relative_floor = 0;  ///< additionally skip cells with p < relative_floor * max p
};

/// Result of a p-weighted score comparison on the grid.
struct ScoreError {
  double relative = 0;  ///< sqrt(sum p |s - s_ref|^2 / sum p |s_ref|^2)
  double mse = 0;       ///< sum p |s - s_ref|^2 / sum p  (over the cells used)
  double ref_ms = 0;    ///< sum p |s_ref|^2 / sum p
  double mass_used = 0; ///< p-mass of the cells used (1 = all)
};

namespace detail {
template <int N, class S, class Tr>
ScoreError weighted_score_error(const DensitySnapshot<N>& snap, S&& s, Tr&& transform, const ScoreErrorOptions& opt) {
  const double cut = opt.relative_floor * snap.density.maxCoeff();
  double num = 0, den = 0, mass = 0;
  for (int k = 0; k < snap.grid.size(); ++k) {
    const double p = snap.density(k);
    if (opt.only_valid && !snap.valid[k]) continue;
    if (p < cut || !(p > 0)) continue;
    const Vec<double, N> y = snap.grid.centre_of(k);
    const Vec<double, N> sr = transform(y, snap.score_at_cell(k));
    const Vec<double, N> sv = transform(y, Vec<double, N>(s(y)));
    num += p * (sv - sr).squaredNorm();
    den += p * sr.squaredNorm();
    mass += p;
  }
  ScoreError e;
  if (!(mass > 0)) throw ConfigError("score error: no grid cell passes the selection (relative_floor too high?)");
  e.mse = num / mass;
  e.ref_ms = den / mass;
  e.relative = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  e.mass_used = mass * snap.grid.cell_volume() / snap.mass();
  return e;
}
}  // namespace detail

/// p-weighted relative L2 error of a score callable s(y) -> Vec<double,N> against the grid
/// score, by quadrature over the grid cells (see ScoreErrorOptions for the selection).
template <int N, class S>
ScoreError relative_score_error(const DensitySnapshot<N>& snap, S&& s, const ScoreErrorOptions& opt = {}) {
  return detail::weighted_score_error(
      snap, s, [](const Vec<double, N>&, const Vec<double, N>& v) { return v; }, opt);
}

/// Same for D s (the component of the score in the range of the diffusion, which is all the
/// probability flow and the reverse SDE use): compares D(y) s(y) with D(y) s_ref(y), with
/// dmat(y) -> Mat<double,N,N> the diffusion matrix D = G G^T / 2 (see diffusion_matrix()).
template <int N, class S, class DM>
ScoreError relative_diffusion_score_error(const DensitySnapshot<N>& snap, S&& s, DM&& dmat,
                                          const ScoreErrorOptions& opt = {}) {
  return detail::weighted_score_error(
      snap, s, [&](const Vec<double, N>& y, const Vec<double, N>& v) { return Vec<double, N>(dmat(y) * v); }, opt);
}

/// Callable y -> D(y, t) = G(y,t) G(y,t)^T / 2 for a model (holds a copy of the model).
template <SdeModel M>
auto diffusion_matrix(const M& model, double t) {
  return [model, t](const Vec<double, M::state_dim>& y) {
    const Mat<double, M::state_dim, M::noise_dim> G = model.diffusion(y, t);
    return Mat<double, M::state_dim, M::state_dim>(0.5 * G * G.transpose());
  };
}

}  // namespace sdescore::reference
