#pragma once
/// \file
/// Underdamped (inertial) Langevin dynamics of a unit-mass particle in the 1D double well.
///
/// \f[ dX = V\,dt, \qquad dV = (-U'(X) - \gamma V)\,dt + \sqrt{2\gamma T}\,dW, \qquad U(x) = a\,(x^2-1)^2 \f]
///
/// Parameters: a > 0 barrier height (default 1); gamma > 0 friction (default 1); T > 0
/// temperature (default 0.5).
/// Facts used by the tests: the stationary law is exp(-(U(x) + v^2/2)/T) (equipartition
/// <v^2> = T). Noise acts on V only (hypoelliptic). BAOAB applies (see solvers/baoab.hpp).
/// Reference: B. Leimkuhler and C. Matthews, Molecular Dynamics, Springer (2015), ch. 7.
#include "sdescore/core/model.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/solvers/baoab.hpp"

namespace sdescore::models {

struct UnderdampedLangevin {
  static constexpr std::string_view name = "underdamped_langevin";
  static constexpr std::string_view description = "1D inertial Langevin particle (x, v) in the double well a (x^2-1)^2";
  static constexpr std::string_view equation = "dX = V dt;  dV = (-U'(X) - gamma V) dt + sqrt(2 gamma T) dW";
  static constexpr int state_dim = 2;
  static constexpr int noise_dim = 1;
  static constexpr int position_dim = 1;  ///< state = [position; velocity]
  using noise_kind = additive_noise;
  /// drift/diffusion are generic in the scalar: the engine steps it lane-wise (ensemble/lane.hpp).
  static constexpr bool generic_scalar = true;
  using default_stepper = BAOAB;  ///< splitting with O(dt^2) configurational error (solvers/default_stepper.hpp)

  double a = 1.0;
  double gamma = 1.0;
  double T = 0.5;

  template <class F>
  void for_each_param(F&& f) {
    f(ParamInfo{"a", "barrier height, U = a (x^2-1)^2", 0.0, inf, true, true}, a);
    f(ParamInfo{"gamma", "friction coefficient", 0.0, inf, true, true}, gamma);
    f(ParamInfo{"T", "temperature (k_B = 1, unit mass)", 0.0, inf, true, true}, T);
  }
  void validate() { validate_params(*this); }

  /// Force -U'(x) on the position block (used by BAOAB).
  template <class S>
  Vec<S, 1> force(const Vec<S, 1>& x) const {
    return Vec<S, 1>(S(-4.0 * a) * x(0) * (x(0) * x(0) - S(1.0)));
  }
  template <class S>
  Vec<S, 2> drift(const Vec<S, 2>& y, const S& /*t*/) const {
    const Vec<S, 1> F = force(Vec<S, 1>(y(0)));
    return Vec<S, 2>(y(1), F(0) - S(gamma) * y(1));
  }
  template <class S>
  Mat<S, 2, 1> diffusion(const Vec<S, 2>& /*y*/, const S& /*t*/) const {
    return Mat<S, 2, 1>(S(0.0), S(std::sqrt(2.0 * gamma * T)));
  }
  Vec<double, 2> initial_state() const { return Vec<double, 2>(-1.0, 0.0); }

  /// Sampler of the stationary law exp(-(U(x) + v^2/2)/T): x as the double well (rejection on
  /// the uniforms), v = sqrt(T) z_0 (the first initial normal).
  auto stationary_law() const {
    return [a = a, T = T](const auto& src) {
      return Vec<double, 2>(detail::sample_double_well_boltzmann(a, T, src), std::sqrt(T) * src.normal(0));
    };
  }
};

}  // namespace sdescore::models
