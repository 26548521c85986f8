#pragma once
/// \file
/// Analytic reference laws and scores (method.md, section 4.1):
///  - Gaussians and Gaussian mixtures (general covariances) with log-density and score;
///  - Ornstein-Uhlenbeck marginals from a Gaussian (or Gaussian-mixture) initial law:
///        p_t = N(mu + E_t (m0 - mu), E_t C0 E_t^T + Sigma_t),   E_t = e^{-B t},
///        Sigma_t = int_0^t e^{-B s} S S^T e^{-B^T s} ds   (Van Loan, independent of the
///    model's Lyapunov-based exact_covariance); a mixture propagates component-wise with
///    unchanged weights;
///  - Boltzmann stationary scores: double well -U'(x)/T, overdamped Langevin towards a
///    mixture (1/T) grad log p_mix, and the normalised stationary densities on a grid.
#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <unsupported/Eigen/MatrixFunctions>
#include <vector>

#include "sdescore/models/double_well.hpp"
#include "sdescore/models/mixture.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/models/overdamped_langevin.hpp"
#include "sdescore/reference/grid.hpp"

namespace sdescore::reference {

/// N(mean, cov) in N dimensions.
template <int N>
struct GaussianLaw {
  Vec<double, N> mean = Vec<double, N>::Zero();
  Mat<double, N, N> cov = Mat<double, N, N>::Identity();

  /// Throws ConfigError unless cov is symmetric positive definite and everything is finite.
  void validate() const {
    if (!mean.allFinite() || !cov.allFinite()) throw ConfigError("GaussianLaw: mean or cov is not finite");
    if ((cov - cov.transpose()).norm() > 1e-12 * cov.norm() || Eigen::LLT<Mat<double, N, N>>(cov).info() != Eigen::Success)
      throw ConfigError("GaussianLaw: cov is not symmetric positive definite (det = " + detail::fmt_double(cov.determinant()) + ")");
  }
  double log_density(const Vec<double, N>& y) const {
    const Eigen::LLT<Mat<double, N, N>> llt(cov);
    const Vec<double, N> u = llt.matrixL().solve(y - mean);
    double logdet = 0;
    for (int i = 0; i < N; ++i) logdet += 2 * std::log(llt.matrixL()(i, i));
    return -0.5 * u.squaredNorm() - 0.5 * logdet - 0.5 * N * std::log(2 * M_PI);
  }
  double density(const Vec<double, N>& y) const { return std::exp(log_density(y)); }
  /// grad log N(y; mean, cov) = -cov^{-1} (y - mean).
  Vec<double, N> score(const Vec<double, N>& y) const { return -cov.ldlt().solve(y - mean); }
};

/// sum_k w_k N(m_k, C_k), weights normalised on use.
template <int N>
struct GaussianMixtureLaw {
  std::vector<GaussianLaw<N>> components;
  std::vector<double> weights;

  /// From the isotropic mixture of the models (overdamped_langevin targets).
  static GaussianMixtureLaw from(const models::GaussianMixture<N>& m) {
    m.validate("GaussianMixtureLaw");
    GaussianMixtureLaw g;
    for (int k = 0; k < m.size(); ++k) {
      g.components.push_back(
          GaussianLaw<N>{m.centres[k], Mat<double, N, N>::Identity() * (m.widths[k] * m.widths[k])});
      g.weights.push_back(m.weights[k]);
    }
    return g;
  }
  void validate() const {
    if (components.empty() || components.size() != weights.size())
      throw ConfigError("GaussianMixtureLaw: needs K >= 1 components and as many weights (got " +
                        std::to_string(components.size()) + " and " + std::to_string(weights.size()) + ")");
    for (size_t k = 0; k < weights.size(); ++k) {
      require_positive("GaussianMixtureLaw: weight " + std::to_string(k), weights[k]);
      components[k].validate();
    }
  }
  /// Log-responsibilities plus log-weights (unnormalised), and their log-sum-exp.
  std::vector<double> logits(const Vec<double, N>& y, double& lse) const {
    double ws = 0;
    for (double w : weights) ws += w;
    std::vector<double> l(components.size());
    double mx = -std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < l.size(); ++k) {
      l[k] = std::log(weights[k] / ws) + components[k].log_density(y);
      mx = std::max(mx, l[k]);
    }
    double z = 0;
    for (double v : l) z += std::exp(v - mx);
    lse = mx + std::log(z);
    return l;
  }
  double log_density(const Vec<double, N>& y) const {
    double lse;
    logits(y, lse);
    return lse;
  }
  double density(const Vec<double, N>& y) const { return std::exp(log_density(y)); }
  /// sum_k r_k(y) (-C_k^{-1}(y - m_k)), r_k the posterior responsibilities.
  Vec<double, N> score(const Vec<double, N>& y) const {
    double lse;
    const std::vector<double> l = logits(y, lse);
    Vec<double, N> s = Vec<double, N>::Zero();
    for (size_t k = 0; k < l.size(); ++k) s += std::exp(l[k] - lse) * components[k].score(y);
    return s;
  }
};

/// Sigma_t = int_0^t e^{-B s} S S^T e^{-B^T s} ds by Van Loan's block exponential
/// (valid for any B, including non-stable ones; t >= 0).
template <int N>
Mat<double, N, N> ou_noise_covariance(const models::OrnsteinUhlenbeck<N>& m, double t) {
  require_non_negative("ou_noise_covariance: t", t);
  Eigen::Matrix<double, 2 * N, 2 * N> H = Eigen::Matrix<double, 2 * N, 2 * N>::Zero();
  H.template topLeftCorner<N, N>() = m.B;  // -A with A = -B
  H.template topRightCorner<N, N>() = m.S * m.S.transpose();
  H.template bottomRightCorner<N, N>() = -m.B.transpose();  // A^T
  const Eigen::Matrix<double, 2 * N, 2 * N> E = (H * t).exp();
  const Mat<double, N, N> C = E.template bottomRightCorner<N, N>().transpose() * E.template topRightCorner<N, N>();
  return 0.5 * (C + C.transpose());
}

/// Marginal at time t of the OU process started from p0 = N(m0, C0) at time 0.
/// For C0 = 0 (a point) the result is the transition density, cov Sigma_t (t > 0 needed for a
/// proper density).
template <int N>
GaussianLaw<N> ou_marginal(const models::OrnsteinUhlenbeck<N>& m, const GaussianLaw<N>& p0, double t) {
  require_non_negative("ou_marginal: t", t);
  const Mat<double, N, N> E = (-m.B * t).exp();
  GaussianLaw<N> g;
  g.mean = m.mu + E * (p0.mean - m.mu);
  const Mat<double, N, N> C = E * p0.cov * E.transpose() + ou_noise_covariance(m, t);
  g.cov = 0.5 * (C + C.transpose());
  return g;
}

/// Gaussian mixture under OU noising: each component propagates as above, weights unchanged.
template <int N>
GaussianMixtureLaw<N> ou_marginal(const models::OrnsteinUhlenbeck<N>& m, const GaussianMixtureLaw<N>& p0, double t) {
  GaussianMixtureLaw<N> g;
  g.weights = p0.weights;
  for (const auto& c : p0.components) g.components.push_back(ou_marginal(m, c, t));
  return g;
}

/// Stationary law N(mu, Sigma_inf) of a stable OU process.
template <int N>
GaussianLaw<N> ou_stationary(const models::OrnsteinUhlenbeck<N>& m) {
  return GaussianLaw<N>{m.mu, m.stationary_covariance()};
}

/// Boltzmann stationary score of the double well: -U'(x)/T.
inline auto stationary_score(const models::DoubleWell& m) {
  return [m](const Vec<double, 1>& y) {
    const double x = y(0);
    return Vec<double, 1>(-4.0 * m.a * x * (x * x - 1.0) / m.T);
  };
}

/// Stationary score of overdamped Langevin towards p_mix at temperature T: (1/T) grad log p_mix.
template <int N>
auto stationary_score(const models::OverdampedLangevin<N>& m) {
  return [m](const Vec<double, N>& y) { return Vec<double, N>(m.target.score(y) / m.T); };
}

/// Stationary density exp(log_stationary_density(y)) at the cell centres, normalised on the
/// grid (sum * cell_volume = 1). For models offering log_stationary_density (double well,
/// overdamped Langevin).
template <class M, int N>
Eigen::VectorXd stationary_density_on_grid(const M& m, const Grid<N>& g) {
  Eigen::VectorXd l(g.size());
  for (int k = 0; k < g.size(); ++k) l(k) = m.log_stationary_density(g.centre_of(k));
  const double mx = l.maxCoeff();
  Eigen::VectorXd p = (l.array() - mx).exp().matrix();
  return p / (p.sum() * g.cell_volume());
}

}  // namespace sdescore::reference
