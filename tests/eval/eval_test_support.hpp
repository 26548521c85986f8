#pragma once
// Shared helpers of the eval tests: Gaussian samplers and exact OU scores as batched callables.
#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "sdescore/reference/analytic.hpp"

namespace eval_test {

/// n samples of N(mean, cov) as an n x d matrix (fixed seed).
inline Eigen::MatrixXd gaussian_samples(Eigen::Index n, const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov,
                                        std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const Eigen::MatrixXd L = cov.llt().matrixL();
  Eigen::MatrixXd z(n, mean.size());
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index k = 0; k < mean.size(); ++k) z(i, k) = normal(gen);
  return (z * L.transpose()).rowwise() + mean.transpose();
}

template <int N>
Eigen::MatrixXd gaussian_samples(Eigen::Index n, const sdescore::reference::GaussianLaw<N>& g, std::uint64_t seed) {
  return gaussian_samples(n, Eigen::VectorXd(g.mean), Eigen::MatrixXd(g.cov), seed);
}

/// Exact time-dependent score of an OU process started from the Gaussian p0, batched.
/// All rows of one call share t (the flow and the reverse SDE call it that way); the marginal
/// is recomputed only when t changes.
template <int N>
struct OuExactScore {
  sdescore::models::OrnsteinUhlenbeck<N> model;
  sdescore::reference::GaussianLaw<N> p0;
  double cached_t = std::numeric_limits<double>::quiet_NaN();
  Eigen::Matrix<double, N, N> prec = Eigen::Matrix<double, N, N>::Zero();
  Eigen::Matrix<double, N, 1> mean = Eigen::Matrix<double, N, 1>::Zero();

  Eigen::MatrixXd operator()(const Eigen::MatrixXd& y, const Eigen::VectorXd& t) {
    Eigen::MatrixXd s(y.rows(), N);
    for (Eigen::Index i = 0; i < y.rows(); ++i) {
      if (!(t(i) == cached_t)) {
        const auto law = sdescore::reference::ou_marginal(model, p0, t(i));
        prec = law.cov.inverse();
        mean = law.mean;
        cached_t = t(i);
      }
      s.row(i) = (-prec * (y.row(i).transpose() - mean)).transpose();
    }
    return s;
  }
};

/// Standard normal CDF.
inline double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace eval_test

namespace eval_test {
/// Checks sample mean and covariance of y against N(mean, cov) entry by entry, within
/// k standard errors: sd(mean_i) = sqrt(C_ii / n), sd(C_ij) = sqrt((C_ii C_jj + C_ij^2) / n)
/// for Gaussian data, plus an absolute allowance `bias` (e.g. a time-discretisation bias).
template <int N>
void check_gaussian_moments(const Eigen::MatrixXd& y, const sdescore::reference::GaussianLaw<N>& law, double k,
                            double bias = 0.0) {
  const double n = double(y.rows());
  const Eigen::VectorXd m = y.colwise().mean().transpose();
  const Eigen::MatrixXd c0 = y.rowwise() - y.colwise().mean();
  const Eigen::MatrixXd C = c0.transpose() * c0 / (n - 1);
  for (int i = 0; i < N; ++i) {
    CHECK(std::abs(m(i) - law.mean(i)) < k * std::sqrt(law.cov(i, i) / n) + bias);
    for (int j = 0; j < N; ++j)
      CHECK(std::abs(C(i, j) - law.cov(i, j)) <
            k * std::sqrt((law.cov(i, i) * law.cov(j, j) + law.cov(i, j) * law.cov(i, j)) / n) + bias);
  }
}
}  // namespace eval_test
