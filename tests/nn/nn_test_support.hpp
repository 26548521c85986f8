#pragma once
// Shared helpers for the sdescore::nn tests: deterministic random inputs and finite differences.
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>

#include <Eigen/Core>

#include "sdescore/nn/nn.hpp"

namespace nn_test {

inline Eigen::MatrixXd random_matrix(Eigen::Index r, Eigen::Index c, std::uint64_t seed, double scale = 1.0) {
  std::mt19937_64 g(seed);
  Eigen::MatrixXd m(r, c);
  for (Eigen::Index j = 0; j < c; ++j)
    for (Eigen::Index i = 0; i < r; ++i) m(i, j) = scale * (2.0 * (double(g() >> 11) * 0x1.0p-53) - 1.0);
  return m;
}
inline Eigen::VectorXd random_vector(Eigen::Index n, std::uint64_t seed, double lo, double hi) {
  Eigen::VectorXd v = random_matrix(n, 1, seed);
  return (lo + (hi - lo) * 0.5 * (v.array() + 1.0)).matrix();
}

/// Central finite-difference gradient of f at theta.
inline Eigen::VectorXd fd_gradient(const std::function<double(const Eigen::VectorXd&)>& f, Eigen::VectorXd theta,
                                   double h = 1e-6) {
  Eigen::VectorXd g(theta.size());
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    const double t0 = theta[i];
    theta[i] = t0 + h;
    const double fp = f(theta);
    theta[i] = t0 - h;
    const double fm = f(theta);
    theta[i] = t0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/// Max |a - b| / (|b|_inf + floor): a relative error robust to tiny entries.
inline double rel_err(const Eigen::VectorXd& a, const Eigen::VectorXd& b, double floor = 1e-8) {
  return (a - b).cwiseAbs().maxCoeff() / (b.cwiseAbs().maxCoeff() + floor);
}

/// A small double-precision architecture for gradient checks.
inline sdescore::nn::Architecture small_arch(int d, sdescore::nn::Activation act, int K = 2) {
  sdescore::nn::Architecture a;
  a.input_dim = d;
  a.output_dim = d;
  a.hidden = {7, 5};
  a.activation = act;
  a.time.n_frequencies = K;
  a.time.t_max = 2.0;
  return a;
}

}  // namespace nn_test
