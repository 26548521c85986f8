#pragma once
/// \file
/// Overdamped Langevin dynamics towards a Gaussian-mixture target in D dimensions.
///
/// \f[ dX = -\nabla U(X)\,dt + \sqrt{2T}\,dW, \qquad U(x) = -\log \sum_k w_k\,\mathcal N(x; c_k, s_k^2 I) \f]
///
/// Parameters: T > 0 temperature (default 1); per component k: centre c{k}_{i}, width s{k} > 0,
/// weight w{k} > 0. Defaults: D = 2 ("overdamped_langevin"): four equal components at (+-2, +-2)
/// with s = 0.5; D = 1 ("overdamped_langevin_1d"): two components at -1.5 and +1.5 with
/// s = 0.5 and weights 0.3, 0.7. The number of components is fixed by the defaults.
/// Facts used by the tests: the stationary law is proportional to p_mix^{1/T}; at T = 1 it is the
/// mixture itself, with score grad log p_mix.
/// Reference: G. O. Roberts and R. L. Tweedie, Bernoulli 2, 341 (1996).
#include "sdescore/models/mixture.hpp"

namespace sdescore::models {

template <int D>
struct OverdampedLangevin {
  static_assert(D == 1 || D == 2, "the registry offers 1D and 2D mixture targets");
  static constexpr std::string_view name = D == 1 ? "overdamped_langevin_1d" : "overdamped_langevin";
  static constexpr std::string_view description =
      D == 1 ? "1D overdamped Langevin towards a two-component Gaussian mixture"
             : "2D overdamped Langevin towards a four-component Gaussian mixture";
  static constexpr std::string_view equation = "dX = grad log p_mix(X) dt + sqrt(2 T) dW";
  static constexpr int state_dim = D;
  static constexpr int noise_dim = D;
  using noise_kind = additive_noise;

  double T = 1.0;
  GaussianMixture<D> target = default_mixture();

  static GaussianMixture<D> default_mixture() {
    GaussianMixture<D> m;
    if constexpr (D == 1) {
      m.centres = {Vec<double, 1>(-1.5), Vec<double, 1>(1.5)};
      m.widths = {0.5, 0.5};
      m.weights = {0.3, 0.7};
    } else {
      m.centres = {Vec<double, 2>(2, 2), Vec<double, 2>(-2, 2), Vec<double, 2>(-2, -2), Vec<double, 2>(2, -2)};
      m.widths = {0.5, 0.5, 0.5, 0.5};
      m.weights = {1, 1, 1, 1};
    }
    return m;
  }

  template <class F>
  void for_each_param(F&& f) {
    f(ParamInfo{"T", "temperature; the stationary law is p_mix^(1/T)", 0.0, inf, true, true}, T);
    target.for_each_param(f);
  }
  void validate() {
    target.validate(name);
    validate_params(*this);
  }

  template <class S>
  Vec<S, D> drift(const Vec<S, D>& y, const S& /*t*/) const {
    return target.score(y);
  }
  template <class S>
  Mat<S, D, D> diffusion(const Vec<S, D>& /*y*/, const S& /*t*/) const {
    return (Mat<double, D, D>::Identity() * std::sqrt(2.0 * T)).template cast<S>();
  }
  Vec<double, D> initial_state() const { return Vec<double, D>::Zero(); }

  /// Unnormalised log stationary density, log p_mix / T.
  double log_stationary_density(const Vec<double, D>& y) const { return target.log_density(y) / T; }

  /// Sampler of the stationary law, known in closed form at T = 1 only (the mixture itself):
  /// component k by src.uniform(0, 0) against the weights, then centre_k + width_k z.
  auto stationary_law() const {
    if (T != 1.0)
      throw ConfigError(std::string(name) +
                        ": the stationary law p_mix^(1/T) is known in closed form only at T = 1 (got T = " +
                        sdescore::detail::fmt_double(T) + ")");
    target.validate(name);
    double wsum = 0;
    for (double w : target.weights) wsum += w;
    return [mix = target, wsum](const auto& src) {
      const double u = src.uniform(0, 0) * wsum;
      int k = 0;
      double c = mix.weights[0];
      while (k + 1 < mix.size() && u >= c) c += mix.weights[static_cast<std::size_t>(++k)];
      Vec<double, D> y;
      for (int d = 0; d < D; ++d)
        y(d) = mix.centres[static_cast<std::size_t>(k)](d) + mix.widths[static_cast<std::size_t>(k)] * src.normal(d);
      return y;
    };
  }
};

using OverdampedLangevin1D = OverdampedLangevin<1>;
using OverdampedLangevin2D = OverdampedLangevin<2>;

}  // namespace sdescore::models
