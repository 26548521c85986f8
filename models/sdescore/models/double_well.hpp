#pragma once
/// \file
/// Overdamped particle in a symmetric double-well potential.
///
/// \f[ dX = -U'(X)\,dt + \sqrt{2T}\,dW, \qquad U(x) = a\,(x^2-1)^2 \f]
///
/// Parameters: a > 0, barrier height (U(0) - U(\pm1) = a), default 1;
///             T > 0, temperature (energy units, k_B = 1), default 0.5.
/// Facts used by the tests: the stationary law is the Boltzmann density
/// p_inf(x) \propto exp(-U(x)/T), with score -U'(x)/T.
/// Reference: H. A. Kramers, Physica 7, 284 (1940).
#include <cmath>
#include <cstdint>
#include <limits>

#include "sdescore/core/model.hpp"

namespace sdescore::models {

namespace detail {
/// Exact rejection sampling of exp(-a (x^2-1)^2 / T) from the box |x| <= L, U(L)/T = 40
/// (neglected tail mass < e^-40): attempt r uses src.uniform(r, 0) and src.uniform(r, 1).
/// Returns NaN if 2^20 attempts fail (a / T far too large).
template <class Draws>
double sample_double_well_boltzmann(double a, double T, const Draws& src) {
  const double L = std::sqrt(1.0 + std::sqrt(40.0 * T / a));
  for (std::uint64_t r = 0; r < (1u << 20); ++r) {
    const double x = L * (2.0 * src.uniform(r, 0) - 1.0);
    const double u = x * x - 1.0;
    if (src.uniform(r, 1) < std::exp(-a * u * u / T)) return x;
  }
  return std::numeric_limits<double>::quiet_NaN();
}
}  // namespace detail

struct DoubleWell {
  static constexpr std::string_view name = "double_well";
  static constexpr std::string_view description = "1D overdamped particle in the double well U = a (x^2-1)^2";
  static constexpr std::string_view equation = "dX = -4 a X (X^2 - 1) dt + sqrt(2 T) dW";
  static constexpr int state_dim = 1;
  static constexpr int noise_dim = 1;
  using noise_kind = additive_noise;
  /// drift/diffusion are generic in the scalar: the engine steps it lane-wise (ensemble/lane.hpp).
  static constexpr bool generic_scalar = true;

  double a = 1.0;
  double T = 0.5;

  template <class F>
  void for_each_param(F&& f) {
    f(ParamInfo{"a", "barrier height, U = a (x^2-1)^2", 0.0, inf, true, true}, a);
    f(ParamInfo{"T", "temperature (k_B = 1)", 0.0, inf, true, true}, T);
  }
  void validate() { validate_params(*this); }

  template <class S>
  S potential(const S& x) const {
    const S u = x * x - S(1.0);
    return S(a) * u * u;
  }
  template <class S>
  Vec<S, 1> drift(const Vec<S, 1>& y, const S& /*t*/) const {
    const S& x = y(0);
    return Vec<S, 1>(S(-4.0 * a) * x * (x * x - S(1.0)));
  }
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>& /*y*/, const S& /*t*/) const {
    return Mat<S, 1, 1>(S(std::sqrt(2.0 * T)));
  }
  Vec<double, 1> initial_state() const { return Vec<double, 1>::Zero(); }

  /// Unnormalised log stationary density, -U(x)/T.
  double log_stationary_density(const Vec<double, 1>& y) const { return -potential(y(0)) / T; }

  /// Sampler of the stationary law exp(-U/T) (the StationaryLaw concept, ensemble/stationary.hpp):
  /// exact rejection from a uniform box.
  auto stationary_law() const {
    return [a = a, T = T](const auto& src) { return Vec<double, 1>(detail::sample_double_well_boltzmann(a, T, src)); };
  }
};

}  // namespace sdescore::models
