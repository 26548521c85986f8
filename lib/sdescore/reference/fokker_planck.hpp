#pragma once
/// \file
/// Finite-volume Fokker-Planck solver on a regular 1D or 2D grid (docs/reference.md).
///
/// Solves   d_t p = -div(f p) + sum_ij d_i d_j (D_ij p),   D = G G^T / 2,
/// for any SdeModel with state_dim 1 or 2, in flux form d_t p = -div J,
///   J_d = f_d p - d_d (D_dd p)         (diagonal D),
/// with zero flux through the boundary of the box. Fluxes at the face between cells P and
/// P + e_d (width h = h_d):
///  - D_dd > 0 on the grid: exponential fitting (Scharfetter-Gummel / Chang-Cooper) on
///    q = D_dd p with a = f_d / D_dd frozen at the face centre, z = a h,
///        J = [ B(-z) q_P - B(z) q_{P+e_d} ] / h,    B(z) = z / (e^z - 1);
///    exact for constant-flux solutions on the face, second order, and it turns into upwinding
///    smoothly when |z| is large;
///  - D_dd == 0 on the whole grid (hypoelliptic directions, e.g. x of the active swimmer):
///    J = f p_face with p_face from the upwind side, either first-order upwind
///    (Advection::upwind1, default: p_f = p_U) or third-order upwind-biased
///    (Advection::upwind3: p_f = -p_{U-1}/6 + 5 p_U/6 + p_D/3, second order overall for
///    variable f, not positivity-preserving).
/// Every flux is conservative, so the generator L has zero column sums: mass is conserved
/// exactly (up to round-off). With SG and upwind1 fluxes (J = alpha p_P - beta p_Q,
/// alpha, beta >= 0) L also has non-negative off-diagonals and I - c dt L is an M-matrix:
/// backward Euler then preserves positivity for every dt. upwind3 gives up that guarantee
/// (tiny undershoots where p ~ 0) for second-order accuracy in the transport direction.
///
/// Supported diffusion: 1D any D(y, t) > 0 (or D == 0, pure transport); 2D diagonal D(y, t)
/// with each D_dd either > 0 on every cell and face or == 0 on all of them. Non-diagonal D in
/// 2D and directions where D_dd vanishes only in places are rejected with a ConfigError.
///
/// Time stepping (implicit, Eigen SparseLU): backward Euler (order 1, positivity-preserving),
/// BDF2 (order 2; restarts with one backward-Euler step whenever dt changes) or TR-BDF2 with
/// gamma = 2 - sqrt 2 (order 2, L-stable, one-step; both stages use the same matrix
/// I - (1 - 1/sqrt 2) dt L, so one factorisation serves the whole run). Factorisations are
/// cached by (coefficient * dt) and, for time-dependent operators, by operator time: an
/// autonomous model is factored once per distinct dt.
#include <Eigen/Sparse>
#include <Eigen/SparseLU>
#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sdescore/core/model.hpp"
#include "sdescore/reference/grid.hpp"
#include "sdescore/reference/snapshot.hpp"

namespace sdescore::reference {

enum class TimeScheme {
  backward_euler,  ///< order 1, unconditionally positivity-preserving
  bdf2,            ///< order 2, first step (and any step after a change of dt) is backward Euler
  tr_bdf2,         ///< order 2, L-stable, one-step (default)
};

/// Whether the operator depends on t (drift or diffusion explicitly time-dependent).
enum class OperatorTime {
  detect,         ///< compare the assembled generator at three times (default)
  autonomous,     ///< assemble and factor once per dt
  time_dependent  ///< reassemble and refactor at every stage time
};

/// Flux in directions without diffusion (D_dd == 0 on the whole grid).
enum class Advection {
  upwind1,  ///< first-order upwind: M-matrix, positivity-preserving, numerically diffusive (default)
  upwind3,  ///< third-order upwind-biased (kappa = 1/3) face values, linear; second order for
            ///< variable f, but it oscillates (negative p, wrecked log p) where the density
            ///< has under-resolved ridges, as the default active swimmer does at 200 cells
};

struct FokkerPlanckOptions {
  TimeScheme scheme = TimeScheme::tr_bdf2;
  Advection advection = Advection::upwind1;
  OperatorTime operator_time = OperatorTime::detect;
  /// 2D: D counts as diagonal where |D_01| <= diagonal_tolerance * (D_00 + D_11).
  double diagonal_tolerance = 1e-12;
  /// Floor for the score mask of snapshots (see snapshot.hpp).
  ScoreOptions score{};
};

namespace detail {
/// Bernoulli function B(z) = z / (e^z - 1), stable for all z (B(0) = 1, B(z) ~ -z for z << 0,
/// B(z) ~ z e^{-z} for z >> 0).
inline double bernoulli(double z) {
  if (std::abs(z) < 1e-8) return 1.0 - 0.5 * z;
  return z / std::expm1(z);
}
inline std::string fmt_point(const double* y, int n) {
  std::string s = "(";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + fmt_double(y[i]);
  return s + ")";
}
}  // namespace detail

template <SdeModel M>
class FokkerPlanckSolver {
  static_assert(M::state_dim == 1 || M::state_dim == 2,
                "FokkerPlanckSolver supports models with state_dim 1 or 2 only");

 public:
  static constexpr int dim = M::state_dim;
  using Point = Vec<double, dim>;
  using Matrix = Mat<double, dim, dim>;
  using SpMat = Eigen::SparseMatrix<double>;

  /// Builds the solver; the density is unset until one of the set_initial_* calls.
  /// Throws ConfigError for a bad grid, bad options or unsupported diffusion.
  FokkerPlanckSolver(M model, const GridSpec<dim>& spec, FokkerPlanckOptions opt = {}, double t0 = 0.0)
      : model_(std::move(model)), grid_(spec), opt_(opt), t0_(t0), t_(t0) {
    require_finite("FokkerPlanckSolver: t0", t0);
    model_.validate();
    require_non_negative("FokkerPlanckOptions::diagonal_tolerance", opt_.diagonal_tolerance);
    L_ = assemble(t0_);
    L_time_ = t0_;
    switch (opt_.operator_time) {
      case OperatorTime::autonomous: autonomous_ = true; break;
      case OperatorTime::time_dependent: autonomous_ = false; break;
      case OperatorTime::detect: {
        autonomous_ = true;
        const double scale = L_.norm();
        for (double dt : {0.7310585786300049, 7.3890560989306504}) {
          const SpMat L1 = assemble(t0_ + dt);
          if ((L1 - L_).norm() > 1e-13 * scale) autonomous_ = false;
        }
      }
    }
    p_ = Eigen::VectorXd::Zero(grid_.size());
  }

  const M& model() const { return model_; }
  /// "FokkerPlanckSolver<model>" for messages (a model seen through a view names itself by label()).
  std::string who() const {
    if constexpr (requires { model_.label(); })
      return "FokkerPlanckSolver<" + model_.label() + ">";
    else
      return "FokkerPlanckSolver<" + std::string(M::name) + ">";
  }
  const Grid<dim>& grid() const { return grid_; }
  const FokkerPlanckOptions& options() const { return opt_; }
  double time() const { return t_; }
  /// Density at cell centres (integrates to 1: sum * cell_volume).
  const Eigen::VectorXd& density() const { return p_; }
  double mass() const { return p_.sum() * grid_.cell_volume(); }
  bool autonomous() const { return autonomous_; }
  /// Number of sparse LU factorisations so far (an autonomous run does one per distinct dt).
  int factorizations() const { return n_factor_; }
  /// Generator L of dp/dt = L p at time t (L = the operator at the model's time t).
  SpMat generator(double t) const { return assemble(t); }

  /// Sets p(t0) from values p0(y) at the cell centres, normalised to unit mass. p0 must be
  /// finite and >= 0 with positive total. Resets the time to t0.
  template <class F>
  void set_initial_density(F&& p0) {
    Eigen::VectorXd p(grid_.size());
    for (int k = 0; k < grid_.size(); ++k) p(k) = p0(grid_.centre_of(k));
    set_density(p, t0_);
  }

  /// Sets p(t0) = N(mean, cov) at the cell centres, normalised on the grid.
  void set_initial_gaussian(const Point& mean, const Matrix& cov) {
    for (int i = 0; i < dim; ++i) {
      require_finite("set_initial_gaussian: mean[" + std::to_string(i) + "]", mean(i));
      for (int j = 0; j < dim; ++j)
        require_finite("set_initial_gaussian: cov(" + std::to_string(i) + "," + std::to_string(j) + ")", cov(i, j));
    }
    const Eigen::LLT<Matrix> llt(0.5 * (cov + cov.transpose()));
    if (llt.info() != Eigen::Success || (cov - cov.transpose()).norm() > 1e-12 * cov.norm())
      throw ConfigError("set_initial_gaussian: cov is not symmetric positive definite (got det = " +
                        detail::fmt_double(cov.determinant()) + ")");
    set_initial_density([&](const Point& y) {
      const Point u = llt.matrixL().solve(y - mean);
      return std::exp(-0.5 * u.squaredNorm());
    });
  }

  /// Replaces the density by p (one value per cell, finite, >= 0, positive total), normalised
  /// to unit mass, at time t. Clears the multistep history.
  void set_density(const Eigen::VectorXd& p, double t) {
    require_finite("set_density: t", t);
    if (p.size() != grid_.size())
      throw ConfigError("set_density: got " + std::to_string(p.size()) + " values, the grid has " +
                        std::to_string(grid_.size()) + " cells");
    for (int k = 0; k < p.size(); ++k)
      if (!std::isfinite(p(k)) || p(k) < 0)
        throw ConfigError("set_density: value " + detail::fmt_double(p(k)) + " at y = " +
                          detail::fmt_point(grid_.centre_of(k).data(), dim) + " is invalid: densities must be finite and >= 0");
    const double m = p.sum() * grid_.cell_volume();
    if (!(m > 0)) throw ConfigError("set_density: the density is zero on the whole grid (check the grid bounds)");
    p_ = p / m;
    t_ = t;
    have_prev_ = false;
  }

  /// Advances one step of size dt with the configured scheme.
  void do_step(double dt) {
    require_positive("FokkerPlanckSolver::do_step: dt", dt);
    Eigen::VectorXd pn;
    switch (opt_.scheme) {
      case TimeScheme::backward_euler:
        pn = solve(dt, t_ + dt, p_);
        break;
      case TimeScheme::bdf2:
        if (have_prev_ && std::abs(dt - prev_dt_) <= 1e-12 * dt) {
          pn = solve(2.0 * dt / 3.0, t_ + dt, ((4.0 * p_ - p_prev_) / 3.0).eval());
        } else {
          pn = solve(dt, t_ + dt, p_);
        }
        p_prev_ = p_;
        prev_dt_ = dt;
        have_prev_ = true;
        break;
      case TimeScheme::tr_bdf2: {
        const double g = 2.0 - std::sqrt(2.0);
        const double c = 0.5 * g * dt;  // == (1 - g) / (2 - g) * dt
        const Eigen::VectorXd rhs1 = p_ + c * (op_at(t_) * p_);
        const Eigen::VectorXd ps = solve(c, t_ + g * dt, rhs1);
        const Eigen::VectorXd rhs2 = (ps / g - (1 - g) * (1 - g) / g * p_) / (2 - g);
        pn = solve(c, t_ + dt, rhs2);
        break;
      }
    }
    if (!pn.allFinite())
      throw NumericalError(who() + ": non-finite density after the step t = " +
                           detail::fmt_double(t_) + " -> " + detail::fmt_double(t_ + dt) + " (dt = " +
                           detail::fmt_double(dt) + ")");
    p_ = std::move(pn);
    t_ += dt;
  }

  /// Advances to t_end in equal steps no longer than dt_max (the step is dt_max shortened to
  /// divide the interval evenly; equal intervals reuse the same factorisation).
  void advance_to(double t_end, double dt_max) {
    require_finite("FokkerPlanckSolver::advance_to: t_end", t_end);
    require_positive("FokkerPlanckSolver::advance_to: dt_max", dt_max);
    const double span = t_end - t_;
    if (span < -1e-12 * std::max(1.0, std::abs(t_end)))
      throw ConfigError("FokkerPlanckSolver::advance_to: t_end = " + detail::fmt_double(t_end) +
                        " is before the current time " + detail::fmt_double(t_) + ": times must not decrease");
    if (span <= 1e-12 * std::max(1.0, std::abs(t_end))) return;
    const long n = std::max(1L, static_cast<long>(std::ceil(span / dt_max * (1 - 1e-12))));
    const double dt = snap_dt(span / n);
    for (long i = 0; i < n; ++i) do_step(dt);
    t_ = t_end;
  }

  /// Density, score and mask at the current time.
  DensitySnapshot<dim> snapshot() const { return make_snapshot(grid_, p_, t_, opt_.score); }

  /// Calls observer(const DensitySnapshot&) at each of the non-decreasing times (>= time()).
  template <class Obs>
  void integrate_times(const std::vector<double>& times, double dt_max, Obs&& observer) {
    for (double t : times) {
      advance_to(t, dt_max);
      observer(snapshot());
    }
  }
  /// Snapshots at the requested non-decreasing times (>= time()).
  std::vector<DensitySnapshot<dim>> solve(const std::vector<double>& times, double dt_max) {
    std::vector<DensitySnapshot<dim>> out;
    out.reserve(times.size());
    integrate_times(times, dt_max, [&](const DensitySnapshot<dim>& s) { out.push_back(s); });
    return out;
  }

 private:
  using LU = Eigen::SparseLU<SpMat, Eigen::COLAMDOrdering<int>>;
  struct Factor {
    double coef;
    double t_op;
    std::unique_ptr<LU> lu;
  };

  // D = G G^T / 2 at y, checked: finite, diagonal in 2D.
  Matrix diffusion_at(const Point& y, double t) const {
    const Mat<double, dim, M::noise_dim> G = model_.diffusion(y, t);
    const Matrix D = 0.5 * G * G.transpose();
    if (!D.allFinite())
      throw NumericalError(who() + ": non-finite diffusion at y = " +
                           detail::fmt_point(y.data(), dim) + ", t = " + detail::fmt_double(t));
    if constexpr (dim == 2) {
      const double off = std::max(std::abs(D(0, 1)), std::abs(D(1, 0)));
      if (off > opt_.diagonal_tolerance * (D(0, 0) + D(1, 1)) && off > 0)
        throw ConfigError(who() + ": D = G G^T/2 has the off-diagonal entry D_01 = " +
                          detail::fmt_double(D(0, 1)) + " at y = " + detail::fmt_point(y.data(), dim) +
                          "; the 2D solver supports diagonal diffusion matrices only");
    }
    return D;
  }

  SpMat assemble(double t) const {
    const int n = grid_.size();
    std::vector<Eigen::Triplet<double>> trip;
    trip.reserve(static_cast<size_t>(n) * (1 + 4 * dim));
    for (int k = 0; k < n; ++k) trip.emplace_back(k, k, 0.0);  // structural diagonal
    std::vector<double> Dc(n);
    for (int d = 0; d < dim; ++d) {
      int n_zero = 0, k_zero = -1, k_pos = -1;
      for (int k = 0; k < n; ++k) {
        Dc[k] = diffusion_at(grid_.centre_of(k), t)(d, d);
        if (Dc[k] > 0)
          k_pos = k;
        else
          ++n_zero, k_zero = k;
      }
      const bool diffusive = n_zero == 0;
      if (n_zero > 0 && k_pos >= 0)
        throw ConfigError(who() + ": D_" + std::to_string(d) + std::to_string(d) +
                          " vanishes at y = " + detail::fmt_point(grid_.centre_of(k_zero).data(), dim) +
                          " but is positive at y = " + detail::fmt_point(grid_.centre_of(k_pos).data(), dim) +
                          "; supported: per direction, D_dd > 0 everywhere on the grid or D_dd = 0 everywhere");
      const double h = grid_.h(d);
      for (int k = 0; k < n; ++k) {
        auto idx = grid_.multi(k);
        if (idx[d] == grid_.cells(d) - 1) continue;  // zero-flux boundary face
        ++idx[d];
        const int q = grid_.flat(idx);
        Point yf = grid_.centre_of(k);
        yf(d) += 0.5 * h;
        const double f = model_.drift(yf, t)(d);
        if (!std::isfinite(f))
          throw NumericalError(who() + ": non-finite drift at y = " +
                               detail::fmt_point(yf.data(), dim) + ", t = " + detail::fmt_double(t));
        double alpha, beta;
        if (!diffusive && opt_.advection == Advection::upwind3) {
          // Face value p_f = -1/6 p_{up-1} + 5/6 p_up + 1/3 p_down (kappa = 1/3), taken from
          // the upwind side; first-order upwind where the far upwind cell is missing.
          const int i = idx[d] - 1;  // index of cell k along d (idx was advanced to q)
          auto cell = [&](int j) {
            auto id = idx;
            id[d] = j;
            return grid_.flat(id);
          };
          int c3[3] = {-1, -1, -1};
          if (f >= 0 && i >= 1)
            c3[0] = cell(i - 1), c3[1] = k, c3[2] = q;
          else if (f < 0 && i + 2 < grid_.cells(d))
            c3[0] = cell(i + 2), c3[1] = q, c3[2] = k;
          if (c3[0] >= 0) {
            const double w3[3] = {-1.0 / 6.0, 5.0 / 6.0, 1.0 / 3.0};
            for (int j = 0; j < 3; ++j) {
              trip.emplace_back(k, c3[j], -f * w3[j] / h);
              trip.emplace_back(q, c3[j], f * w3[j] / h);
            }
            continue;
          }
        }
        if (diffusive) {
          const double Df = diffusion_at(yf, t)(d, d);
          if (!(Df > 0))
            throw ConfigError(who() + ": D_" + std::to_string(d) +
                              std::to_string(d) + " vanishes at the face y = " + detail::fmt_point(yf.data(), dim) +
                              " but is positive at the cell centres");
          const double z = f / Df * h;
          alpha = detail::bernoulli(-z) * Dc[k] / h;
          beta = detail::bernoulli(z) * Dc[q] / h;
        } else {
          alpha = std::max(f, 0.0);
          beta = std::max(-f, 0.0);
        }
        // J = alpha p_k - beta p_q leaves cell k and enters cell q.
        trip.emplace_back(k, k, -alpha / h);
        trip.emplace_back(q, k, alpha / h);
        trip.emplace_back(k, q, beta / h);
        trip.emplace_back(q, q, -beta / h);
      }
    }
    SpMat L(n, n);
    L.setFromTriplets(trip.begin(), trip.end());
    L.makeCompressed();
    return L;
  }

  const SpMat& op_at(double t) {
    if (!autonomous_ && t != L_time_) {
      L_ = assemble(t);
      L_time_ = t;
    }
    return L_;
  }

  // Reuses a cached dt when the new one agrees to round-off (equal intervals between output times).
  double snap_dt(double dt) const {
    for (const auto& f : cache_)
      for (double c : {1.0, 2.0 / 3.0, 0.5 * (2.0 - std::sqrt(2.0))})
        if (std::abs(f.coef / c - dt) <= 1e-12 * dt) return f.coef / c;
    return dt;
  }

  // Solves (I - coef L(t_op)) x = rhs with a cached factorisation.
  Eigen::VectorXd solve(double coef, double t_op, const Eigen::VectorXd& rhs) {
    Factor* hit = nullptr;
    for (auto& f : cache_)
      if (std::abs(f.coef - coef) <= 1e-14 * coef && (autonomous_ || f.t_op == t_op)) hit = &f;
    if (!hit) {
      const SpMat& L = op_at(t_op);
      SpMat I(L.rows(), L.cols());
      I.setIdentity();
      const SpMat A = I - coef * L;
      auto lu = std::make_unique<LU>();
      lu->compute(A);
      if (lu->info() != Eigen::Success)
        throw NumericalError(who() + ": sparse LU factorisation failed for dt-coefficient " +
                             detail::fmt_double(coef) + " at t = " + detail::fmt_double(t_op) + ": " + lu->lastErrorMessage());
      ++n_factor_;
      if (cache_.size() >= 3) cache_.pop_front();
      cache_.push_back(Factor{coef, t_op, std::move(lu)});
      hit = &cache_.back();
    }
    return hit->lu->solve(rhs);
  }

  M model_;
  Grid<dim> grid_;
  FokkerPlanckOptions opt_;
  double t0_;
  double t_;
  Eigen::VectorXd p_;
  Eigen::VectorXd p_prev_;
  double prev_dt_ = 0;
  bool have_prev_ = false;
  bool autonomous_ = true;
  SpMat L_;
  double L_time_ = 0;
  std::deque<Factor> cache_;
  int n_factor_ = 0;
};

}  // namespace sdescore::reference
