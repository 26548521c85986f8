#pragma once
/// \file
/// Multivariate Ornstein-Uhlenbeck process, the exact reference.
///
/// \f[ dY = -B\,(Y - \mu)\,dt + S\,dW \f]
///
/// Parameters (D = 1: "ou", D = 2: "ou2d"): B (D x D, eigenvalues with positive real part
/// for a stationary law), mu (D), S (D x D). Defaults: B = I (D = 2: [[1, 0.5], [-0.5, 1]],
/// a rotating relaxation), mu = 0, S = I.
/// Facts used by the tests: the transition is Gaussian,
///   mean = mu + e^{-B t}(y - mu),  cov = Sigma_inf - e^{-B t} Sigma_inf e^{-B^T t},
/// with the stationary covariance solving the Lyapunov equation B Sigma + Sigma B^T = S S^T.
/// Reference: C. Gardiner, Stochastic Methods, 4th ed., section 4.5.6.
#include <Eigen/Dense>
#include <unsupported/Eigen/KroneckerProduct>
#include <unsupported/Eigen/MatrixFunctions>

#include "sdescore/core/model.hpp"

namespace sdescore::models {

template <int D>
struct OrnsteinUhlenbeck {
  static_assert(D == 1 || D == 2, "the registry offers OU in 1 and 2 dimensions");
  static constexpr std::string_view name = D == 1 ? "ou" : "ou2d";
  static constexpr std::string_view description =
      D == 1 ? "1D Ornstein-Uhlenbeck process (exact Gaussian transition)"
             : "2D Ornstein-Uhlenbeck process with a non-symmetric drift matrix (exact Gaussian transition)";
  static constexpr std::string_view equation = "dY = -B (Y - mu) dt + S dW";
  static constexpr int state_dim = D;
  static constexpr int noise_dim = D;
  using noise_kind = additive_noise;
  /// drift/diffusion are generic in the scalar: the engine steps it lane-wise (ensemble/lane.hpp).
  static constexpr bool generic_scalar = true;
  static constexpr bool linear = true;  ///< affine drift, additive noise: closed-form transition (DSM applies)

  Mat<double, D, D> B = default_B();
  Vec<double, D> mu = Vec<double, D>::Zero();
  Mat<double, D, D> S = Mat<double, D, D>::Identity();

  static Mat<double, D, D> default_B() {
    Mat<double, D, D> b = Mat<double, D, D>::Identity();
    if constexpr (D == 2) {
      b(0, 1) = 0.5;
      b(1, 0) = -0.5;
    }
    return b;
  }

  template <class F>
  void for_each_param(F&& f) {
    auto idx = [](const char* p, int i, int j) {
      return D == 1 ? std::string(p) : std::string(p) + std::to_string(i + 1) + std::to_string(j + 1);
    };
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) f(ParamInfo{idx("B", i, j), "drift matrix entry", -inf, inf}, B(i, j));
    for (int i = 0; i < D; ++i)
      f(ParamInfo{D == 1 ? std::string("mu") : "mu" + std::to_string(i + 1), "mean of the stationary law", -inf, inf}, mu(i));
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) f(ParamInfo{idx("S", i, j), "noise matrix entry", -inf, inf}, S(i, j));
  }
  void validate() {
    validate_params(*this);
    if ((S * S.transpose()).determinant() <= 0)
      throw ConfigError(std::string(name) + ": S S^T must be positive definite (got a singular noise matrix)");
  }

  template <class Sc>
  Vec<Sc, D> drift(const Vec<Sc, D>& y, const Sc& /*t*/) const {
    Vec<Sc, D> r;
    for (int i = 0; i < D; ++i) {
      r(i) = Sc(0.0);
      for (int j = 0; j < D; ++j) r(i) -= Sc(B(i, j)) * (y(j) - Sc(mu(j)));
    }
    return r;
  }
  template <class Sc>
  Mat<Sc, D, D> diffusion(const Vec<Sc, D>& /*y*/, const Sc& /*t*/) const {
    return S.template cast<Sc>();
  }
  Vec<double, D> initial_state() const { return Vec<double, D>::Zero(); }

  /// Sampler of the stationary law N(mu, Sigma_inf) (the StationaryLaw concept,
  /// ensemble/stationary.hpp): mu + L z with L L^T = Sigma_inf and z the initial normals.
  /// ConfigError if Sigma_inf is not positive definite (B not stable).
  auto stationary_law() const {
    Eigen::LLT<Mat<double, D, D>> llt(stationary_covariance());
    if (llt.info() != Eigen::Success)
      throw ConfigError(std::string(name) +
                        ": no stationary law (the stationary covariance is not positive definite; B must be stable)");
    return [m = mu, L = Mat<double, D, D>(llt.matrixL())](const auto& src) {
      Vec<double, D> z;
      for (int d = 0; d < D; ++d) z(d) = src.normal(d);
      return Vec<double, D>(m + L * z);
    };
  }

  // ---- closed forms, computed independently of the Van Loan code they check ----
  /// Stationary covariance: solves B X + X B^T = S S^T via the Kronecker form.
  Mat<double, D, D> stationary_covariance() const {
    const Mat<double, D, D> I = Mat<double, D, D>::Identity();
    const Eigen::MatrixXd K = Eigen::kroneckerProduct(I, B).eval() + Eigen::kroneckerProduct(B, I).eval();
    const Mat<double, D, D> Q = S * S.transpose();
    const Eigen::VectorXd q = Eigen::Map<const Eigen::VectorXd>(Q.data(), D * D);
    const Eigen::VectorXd x = K.fullPivLu().solve(q);
    Mat<double, D, D> X = Eigen::Map<const Mat<double, D, D>>(x.data());
    return 0.5 * (X + X.transpose());
  }
  Vec<double, D> exact_mean(const Vec<double, D>& y0, double t) const {
    const Mat<double, D, D> E = (-B * t).exp();
    return mu + E * (y0 - mu);
  }
  Mat<double, D, D> exact_covariance(double t) const {
    const Mat<double, D, D> E = (-B * t).exp();
    const Mat<double, D, D> Si = stationary_covariance();
    const Mat<double, D, D> C = Si - E * Si * E.transpose();
    return 0.5 * (C + C.transpose());
  }
  /// Score of N(m, C) at y: -C^{-1}(y - m).
  static Vec<double, D> gaussian_score(const Vec<double, D>& y, const Vec<double, D>& m, const Mat<double, D, D>& C) {
    return -C.ldlt().solve(y - m);
  }
};

using OU1 = OrnsteinUhlenbeck<1>;
using OU2 = OrnsteinUhlenbeck<2>;

}  // namespace sdescore::models
