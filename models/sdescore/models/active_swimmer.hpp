#pragma once
/// \file
/// Active swimmer in a confining quartic potential, driven by an Ornstein-Uhlenbeck
/// self-propulsion velocity (hypoelliptic: noise acts on v only).
///
/// \f[ dx = (-x^3 + v)\,dt, \qquad dv = -\gamma v\,dt + \sqrt{2\gamma D}\,dW \f]
///
/// Parameters: gamma > 0, inverse persistence time of the propulsion, default 0.1;
///             D > 0, propulsion strength (stationary <v^2> = D), default 1.
/// Facts used by the tests: v is an OU process, so from v_0,
///   E v_t = v_0 e^{-gamma t},  Var v_t = D (1 - e^{-2 gamma t}).
/// The process is out of equilibrium (non-zero stationary probability current).
/// Reference: Singhal, Goldstein, Ranganath, ICML 2024 (local-DSM), section 6; active
/// Ornstein-Uhlenbeck particles: Fodor et al., PRL 117, 038103 (2016).
#include "sdescore/core/model.hpp"

namespace sdescore::models {

struct ActiveSwimmer {
  static constexpr std::string_view name = "active_swimmer";
  static constexpr std::string_view description =
      "2D (x, v) active swimmer: quartic confinement, OU propulsion, noise on v only";
  static constexpr std::string_view equation = "dx = (-x^3 + v) dt;  dv = -gamma v dt + sqrt(2 gamma D) dW";
  static constexpr int state_dim = 2;
  static constexpr int noise_dim = 1;
  using noise_kind = additive_noise;
  /// drift/diffusion are generic in the scalar: the engine steps it lane-wise (ensemble/lane.hpp).
  static constexpr bool generic_scalar = true;

  double gamma = 0.1;
  double D = 1.0;

  template <class F>
  void for_each_param(F&& f) {
    f(ParamInfo{"gamma", "inverse persistence time of the propulsion velocity", 0.0, inf, true, true}, gamma);
    f(ParamInfo{"D", "propulsion strength, stationary <v^2> = D", 0.0, inf, true, true}, D);
  }
  void validate() { validate_params(*this); }

  template <class S>
  Vec<S, 2> drift(const Vec<S, 2>& y, const S& /*t*/) const {
    const S& x = y(0);
    const S& v = y(1);
    return Vec<S, 2>(-x * x * x + v, S(-gamma) * v);
  }
  template <class S>
  Mat<S, 2, 1> diffusion(const Vec<S, 2>& /*y*/, const S& /*t*/) const {
    return Mat<S, 2, 1>(S(0.0), S(std::sqrt(2.0 * gamma * D)));
  }
  Vec<double, 2> initial_state() const { return Vec<double, 2>::Zero(); }
};

}  // namespace sdescore::models
