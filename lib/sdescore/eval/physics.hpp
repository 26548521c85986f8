#pragma once
/// \file
/// Physics outputs from a score (docs/evaluation.md, section 5):
///  - probability-flow velocity v = f - div D - D s (velocity_field in model_fields.hpp) and
///    probability current j = p v given density values p;
///  - total entropy production rate Pi(t) = E_{p_t}[ v^T D^+ v ] over an ensemble, with D^+
///    the pseudo-inverse (for hypoelliptic models only the noisy directions count), and the
///    mean current magnitude E||v||;
///  - a k-nearest-neighbour (Kozachenko-Leonenko) entropy estimate from samples, which anchors
///    the entropy carried along the probability flow;
///  - densities on regular 1D/2D grids, from a score (least-squares potential of the score) or
///    from samples (histogram), to turn velocities into currents j = p v.
#include <Eigen/Dense>
#include <Eigen/SparseCholesky>
#include <algorithm>
#include <limits>
#include <cmath>
#include <numbers>
#include <vector>

#include "sdescore/eval/model_fields.hpp"

namespace sdescore::eval {

/// Ensemble estimate of the entropy production rate and mean speed at one time.
struct EntropyProduction {
  double rate = 0;         ///< Pi = mean_i v_i^T D^+(y_i) v_i
  double rate_stderr = 0;  ///< Monte-Carlo standard error of `rate` (sample sd / sqrt(n))
  double mean_speed = 0;   ///< mean_i ||v_i||
};

/// Pi and E||v|| from velocity values v (n x d) at the rows of y, time t.
template <SdeModel M>
EntropyProduction entropy_production_from_velocity(const M& m, const Eigen::MatrixXd& y, double t,
                                                   const Eigen::MatrixXd& v, double pinv_rel_tol = 1e-10) {
  constexpr int D = M::state_dim;
  detail::check_ensemble("entropy_production", y, D);
  if (v.rows() != y.rows() || v.cols() != D)
    throw ConfigError("entropy_production: velocity has shape " + std::to_string(v.rows()) + " x " +
                      std::to_string(v.cols()) + ", expected the ensemble's " + std::to_string(y.rows()) + " x " +
                      std::to_string(D));
  const Eigen::Index n = y.rows();
  Eigen::VectorXd q(n), sp(n);
  Mat<double, D, D> Dp;
  if constexpr (is_additive_v<M>) Dp = symmetric_pseudo_inverse<D>(diffusion_matrix(m, Vec<double, D>(y.row(0).transpose()), t), pinv_rel_tol);
#pragma omp parallel for schedule(static) if (n > 512)
  for (Eigen::Index i = 0; i < n; ++i) {
    const Vec<double, D> vi = v.row(i).transpose();
    if constexpr (is_additive_v<M>) {
      q(i) = vi.dot(Dp * vi);
    } else {
      const Vec<double, D> yi = y.row(i).transpose();
      q(i) = vi.dot(symmetric_pseudo_inverse<D>(diffusion_matrix(m, yi, t), pinv_rel_tol) * vi);
    }
    sp(i) = vi.norm();
  }
  EntropyProduction r;
  r.rate = q.mean();
  r.mean_speed = sp.mean();
  r.rate_stderr = n > 1 ? std::sqrt((q.array() - r.rate).square().sum() / double(n - 1) / double(n)) : 0.0;
  return r;
}

/// Pi(t) = E[v^T D^+ v] and E||v|| over the ensemble y at time t, with v = f - div D - D s.
template <SdeModel M, BatchScore F>
EntropyProduction entropy_production_rate(const M& m, F&& score, const Eigen::MatrixXd& y, double t,
                                          double pinv_rel_tol = 1e-10) {
  const Eigen::MatrixXd v = velocity_field(m, score, y, t);
  return entropy_production_from_velocity(m, y, t, v, pinv_rel_tol);
}

/// Probability current j_i = p_i v(y_i, t), with p_i the density at row i (supplied by the
/// caller: a reference density, or exp of the flow's log-density).
template <SdeModel M, BatchScore F>
Eigen::MatrixXd probability_current(const M& m, F&& score, const Eigen::MatrixXd& y, double t,
                                    const Eigen::VectorXd& density) {
  if (density.size() != y.rows())
    throw ConfigError("probability_current: " + std::to_string(density.size()) + " density values for " +
                      std::to_string(y.rows()) + " points (one per row needed)");
  const Eigen::MatrixXd v = velocity_field(m, score, y, t);
  return density.asDiagonal() * v;
}

/// Kozachenko-Leonenko estimate of the differential entropy H = -E[log p] from the rows of y:
///   H = psi(n) - psi(k) + log V_d + (d / n) sum_i log eps_i,
/// eps_i the Euclidean distance from row i to its k-th nearest neighbour, V_d the volume of the
/// unit d-ball (Kozachenko & Leonenko 1987; Kraskov, Stoegbauer & Grassberger 2004, eq. 20).
/// Brute force, O(n^2 d): meant for a few thousand samples. Consistent; the bias falls with n.
inline double knn_entropy(const Eigen::MatrixXd& y, int k = 4) {
  const Eigen::Index n = y.rows();
  const int d = static_cast<int>(y.cols());
  if (k < 1 || n <= k)
    throw ConfigError("knn_entropy: k = " + std::to_string(k) + " needs more than k samples; got " + std::to_string(n));
  auto digamma_int = [](Eigen::Index m) {  // psi(m) = -gamma + sum_{j < m} 1/j
    double s = -0.57721566490153286;
    for (Eigen::Index j = 1; j < m; ++j) s += 1.0 / double(j);
    return s;
  };
  Eigen::VectorXd log_eps(n);
  bool duplicate = false;
#pragma omp parallel for schedule(dynamic, 64) reduction(|| : duplicate)
  for (Eigen::Index i = 0; i < n; ++i) {
    std::vector<double> best(k, std::numeric_limits<double>::infinity());  // k smallest squared distances, sorted
    for (Eigen::Index j = 0; j < n; ++j) {
      if (j == i) continue;
      const double r2 = (y.row(j) - y.row(i)).squaredNorm();
      if (r2 < best.back()) {
        best.back() = r2;
        for (int a = k - 1; a > 0 && best[a] < best[a - 1]; --a) std::swap(best[a], best[a - 1]);
      }
    }
    if (!(best.back() > 0)) duplicate = true;
    log_eps(i) = 0.5 * std::log(best.back());
  }
  if (duplicate)
    throw NumericalError("knn_entropy: some sample has " + std::to_string(k) +
                         " identical neighbours (a point mass or duplicated rows): the entropy is -infinity or undefined");
  const double log_vd = 0.5 * d * std::log(std::numbers::pi) - std::lgamma(0.5 * d + 1.0);
  return digamma_int(n) - digamma_int(k) + log_vd + d * log_eps.mean();
}

/// A regular grid of nodes in 1D or 2D: node (i, j) at (lo_x + i h_x, lo_y + j h_y), stored
/// x-major (row r = i * n_y + j), the layout of `scorefit grid`.
struct NodeGrid {
  std::vector<double> lo, h;
  std::vector<int> n;
  int dim() const { return static_cast<int>(n.size()); }
  Eigen::Index size() const {
    Eigen::Index s = 1;
    for (int m : n) s *= m;
    return s;
  }
  double cell_volume() const {
    double v = 1;
    for (double x : h) v *= x;
    return v;
  }
  void validate() const {
    if (n.empty() || n.size() > 2 || lo.size() != n.size() || h.size() != n.size())
      throw ConfigError("NodeGrid: 1 or 2 dimensions with lo, h and n given per dimension");
    for (std::size_t a = 0; a < n.size(); ++a)
      if (n[a] < 2 || !(h[a] > 0))
        throw ConfigError("NodeGrid: dimension " + std::to_string(a) + " has n = " + std::to_string(n[a]) + ", h = " +
                          std::to_string(h[a]) + ": it needs n >= 2 and h > 0");
  }
};

/// The density on the grid nodes whose log-gradient best matches the score values S (one row
/// per node, d columns) in least squares over the grid edges, each edge asking
/// phi(b) - phi(a) = h (s(a) + s(b)) / 2 (trapezoid rule along the edge). In 1D this is exact
/// cumulative integration; in 2D it is the gradient part of S (a curl-free fit), so a learned
/// score that is not exactly a gradient still gives a density. Normalised to sum p h^d = 1 on
/// the grid (mass outside the grid is not seen).
inline Eigen::VectorXd density_from_score(const NodeGrid& g, const Eigen::MatrixXd& S) {
  g.validate();
  const Eigen::Index N = g.size();
  if (S.rows() != N || S.cols() != g.dim())
    throw ConfigError("density_from_score: the score has shape " + std::to_string(S.rows()) + " x " + std::to_string(S.cols()) +
                      "; the grid needs " + std::to_string(N) + " x " + std::to_string(g.dim()));
  const int nx = g.n[0], ny = g.dim() == 2 ? g.n[1] : 1;
  std::vector<Eigen::Triplet<double>> L;  // normal equations A^T A, assembled edge by edge
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(N);
  auto edge = [&](Eigen::Index a, Eigen::Index b, double target) {  // phi_b - phi_a = target
    L.emplace_back(a, a, 1.0);
    L.emplace_back(b, b, 1.0);
    L.emplace_back(a, b, -1.0);
    L.emplace_back(b, a, -1.0);
    rhs(a) -= target;
    rhs(b) += target;
  };
  for (int i = 0; i < nx; ++i)
    for (int j = 0; j < ny; ++j) {
      const Eigen::Index r = Eigen::Index(i) * ny + j;
      if (i + 1 < nx) edge(r, r + ny, 0.5 * g.h[0] * (S(r, 0) + S(r + ny, 0)));
      if (g.dim() == 2 && j + 1 < ny) edge(r, r + 1, 0.5 * g.h[1] * (S(r, 1) + S(r + 1, 1)));
    }
  L.emplace_back(0, 0, 1.0);  // phi_0 = 0 fixes the constant
  Eigen::SparseMatrix<double> A(N, N);
  A.setFromTriplets(L.begin(), L.end());
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> solver(A);
  if (solver.info() != Eigen::Success) throw NumericalError("density_from_score: the grid Laplacian could not be factorised");
  const Eigen::VectorXd phi = solver.solve(rhs);
  if (!phi.allFinite()) throw NumericalError("density_from_score: the potential is not finite (non-finite score values?)");
  Eigen::VectorXd p = (phi.array() - phi.maxCoeff()).exp();
  p /= p.sum() * g.cell_volume();
  return p;
}

/// Histogram density of the rows of y on the grid nodes: counts in the cell of side h centred
/// on each node, divided by (number of samples) h^d, so samples outside the grid count in the
/// normalisation but not in any cell.
inline Eigen::VectorXd histogram_density(const NodeGrid& g, const Eigen::MatrixXd& y) {
  g.validate();
  if (y.cols() != g.dim())
    throw ConfigError("histogram_density: samples have " + std::to_string(y.cols()) + " columns, the grid " + std::to_string(g.dim()));
  if (y.rows() == 0) throw ConfigError("histogram_density: no samples");
  const int nx = g.n[0], ny = g.dim() == 2 ? g.n[1] : 1;
  Eigen::VectorXd p = Eigen::VectorXd::Zero(g.size());
  for (Eigen::Index r = 0; r < y.rows(); ++r) {
    const long i = std::lround((y(r, 0) - g.lo[0]) / g.h[0]);
    const long j = g.dim() == 2 ? std::lround((y(r, 1) - g.lo[1]) / g.h[1]) : 0;
    if (i < 0 || i >= nx || j < 0 || j >= ny) continue;
    p(i * ny + j) += 1.0;
  }
  return p / (double(y.rows()) * g.cell_volume());
}

}  // namespace sdescore::eval
