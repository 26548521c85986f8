#pragma once
// Helpers shared by the core tests: a plain seeded noise source (tests need no counter-based
// streams), log-log slope fitting, and test-only models with known solutions.
#include <cmath>
#include <random>
#include <vector>

#include "sdescore/core/model.hpp"

namespace sdescore::test {

/// N(0, dt) increments from a seeded std::mt19937_64.
struct GaussianIncrements {
  std::mt19937_64 gen;
  std::normal_distribution<double> nd{0.0, 1.0};
  explicit GaussianIncrements(unsigned long seed) : gen(seed) {}
  template <int N>
  void fill(Vec<double, N>& dW, double dt) {
    const double s = std::sqrt(dt);
    for (int i = 0; i < N; ++i) dW(i) = s * nd(gen);
  }
  double normal() { return nd(gen); }
};

/// Least-squares slope of log(err) against log(h).
inline double loglog_slope(const std::vector<double>& h, const std::vector<double>& err) {
  const int n = static_cast<int>(h.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int i = 0; i < n; ++i) {
    const double x = std::log(h[i]), y = std::log(err[i]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/// Geometric Brownian motion dX = mu X dt + sigma X dW (diagonal, multiplicative noise):
/// X_t = X_0 exp((mu - sigma^2/2) t + sigma W_t). Test-only model for strong orders.
struct GeometricBrownian {
  static constexpr std::string_view name = "gbm";
  static constexpr std::string_view description = "test-only geometric Brownian motion";
  static constexpr std::string_view equation = "dX = mu X dt + sigma X dW";
  static constexpr int state_dim = 1;
  static constexpr int noise_dim = 1;
  using noise_kind = diagonal_noise;
  double mu = 0.5, sigma = 0.8;
  template <class F>
  void for_each_param(F&& f) {
    f(ParamInfo{"mu", "growth rate", -inf, inf}, mu);
    f(ParamInfo{"sigma", "volatility", 0.0, inf}, sigma);
  }
  void validate() { validate_params(*this); }
  template <class S>
  Vec<S, 1> drift(const Vec<S, 1>& y, const S&) const { return Vec<S, 1>(S(mu) * y(0)); }
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>& y, const S&) const { return Mat<S, 1, 1>(S(sigma) * y(0)); }
  Vec<double, 1> initial_state() const { return Vec<double, 1>(1.0); }
};

/// Time-dependent nonlinear drift, to check df/dt by autodiff: f = (sin(t) x0 x1, exp(-t) x0^2 + cos(x1)).
struct TimeDependentToy {
  static constexpr std::string_view name = "toy";
  static constexpr std::string_view description = "test-only nonautonomous model";
  static constexpr std::string_view equation = "-";
  static constexpr int state_dim = 2;
  static constexpr int noise_dim = 2;
  using noise_kind = general_noise;
  template <class F>
  void for_each_param(F&&) {}
  void validate() {}
  template <class S>
  Vec<S, 2> drift(const Vec<S, 2>& y, const S& t) const {
    using std::cos;
    using std::exp;
    using std::sin;
    return Vec<S, 2>(sin(t) * y(0) * y(1), exp(-t) * y(0) * y(0) + cos(y(1)));
  }
  template <class S>
  Mat<S, 2, 2> diffusion(const Vec<S, 2>& y, const S&) const {
    Mat<S, 2, 2> G;
    G << S(1.0), S(0.3) * y(0), S(0.0), S(0.5);
    return G;
  }
  Vec<double, 2> initial_state() const { return Vec<double, 2>(0.3, -0.2); }
};

}  // namespace sdescore::test
