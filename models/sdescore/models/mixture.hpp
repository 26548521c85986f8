#pragma once
/// \file
/// Isotropic Gaussian mixture in D dimensions, written once for any scalar type so that the
/// same code gives log-densities, scores (-grad U) and, through autodiff, their Jacobians.
///   p(x) = sum_k w_k N(x; c_k, s_k^2 I)
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "sdescore/core/model.hpp"

namespace sdescore::models {

template <int D>
struct GaussianMixture {
  std::vector<Vec<double, D>> centres;
  std::vector<double> widths;   ///< standard deviations s_k > 0
  std::vector<double> weights;  ///< w_k > 0 (normalised on use)

  int size() const { return static_cast<int>(centres.size()); }

  void validate(std::string_view owner) const {
    if (centres.empty() || widths.size() != centres.size() || weights.size() != centres.size())
      throw ConfigError(std::string(owner) + ": mixture needs K >= 1 centres, widths and weights of equal length (got " +
                        std::to_string(centres.size()) + ", " + std::to_string(widths.size()) + ", " +
                        std::to_string(weights.size()) + ")");
  }

  /// Responsibilities-weighted score: grad log p(x) = sum_k r_k(x) (c_k - x) / s_k^2.
  template <class S>
  Vec<S, D> score(const Vec<S, D>& x) const {
    const int K = size();
    double wsum = 0;
    for (double w : weights) wsum += w;
    std::vector<S> logit(K);
    S mx = S(-std::numeric_limits<double>::infinity());
    for (int k = 0; k < K; ++k) {
      S sq = S(0.0);
      for (int i = 0; i < D; ++i) {
        const S d = x(i) - S(centres[k](i));
        sq += d * d;
      }
      logit[k] = S(std::log(weights[k] / wsum) - D * std::log(widths[k])) - sq / S(2.0 * widths[k] * widths[k]);
      if (logit[k] > mx) mx = logit[k];
    }
    S z = S(0.0);
    std::vector<S> r(K);
    using std::exp;
    for (int k = 0; k < K; ++k) {
      r[k] = exp(logit[k] - mx);
      z += r[k];
    }
    Vec<S, D> g;
    for (int i = 0; i < D; ++i) g(i) = S(0.0);
    for (int k = 0; k < K; ++k) {
      const S rk = r[k] / z;
      for (int i = 0; i < D; ++i) g(i) += rk * (S(centres[k](i)) - x(i)) / S(widths[k] * widths[k]);
    }
    return g;
  }

  /// Normalised log density.
  double log_density(const Vec<double, D>& x) const {
    double wsum = 0;
    for (double w : weights) wsum += w;
    double mx = -std::numeric_limits<double>::infinity();
    std::vector<double> l(size());
    for (int k = 0; k < size(); ++k) {
      l[k] = std::log(weights[k] / wsum) - D * std::log(widths[k]) - 0.5 * D * std::log(2 * M_PI) -
             (x - centres[k]).squaredNorm() / (2 * widths[k] * widths[k]);
      mx = std::max(mx, l[k]);
    }
    double z = 0;
    for (double v : l) z += std::exp(v - mx);
    return mx + std::log(z);
  }

  /// Calls f(info, value&) for c{k}_{i}, s{k}, w{k}.
  template <class F>
  void for_each_param(F&& f) {
    for (int k = 0; k < size(); ++k) {
      for (int i = 0; i < D; ++i)
        f(ParamInfo{"c" + std::to_string(k) + "_" + std::to_string(i), "component centre coordinate", -inf, inf},
          centres[k](i));
      f(ParamInfo{"s" + std::to_string(k), "component standard deviation", 0.0, inf, true, true}, widths[k]);
      f(ParamInfo{"w" + std::to_string(k), "component weight (normalised on use)", 0.0, inf, true, true}, weights[k]);
    }
  }
};

}  // namespace sdescore::models
