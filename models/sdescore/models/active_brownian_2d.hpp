#pragma once
/// \file
/// Active Brownian particle in 2D with position r = (x, y), heading theta, optionally in a
/// harmonic trap of stiffness k.
///
/// \f[ d\mathbf r = (v_0\,\mathbf e(\theta) - k\,\mathbf r)\,dt + \sqrt{2D_t}\,d\mathbf W_r,\qquad
///     d\theta = \sqrt{2D_r}\,dW_\theta,\qquad \mathbf e(\theta) = (\cos\theta, \sin\theta) \f]
///
/// Parameters: v0 >= 0 self-propulsion speed (default 1); k >= 0 trap stiffness (default 0,
/// free ABP); Dt >= 0 translational diffusivity (default 0.1); Dr > 0 rotational diffusivity
/// (default 1).
/// Facts used by the tests: for k = 0 the mean-squared displacement from any start is
///   <|r_t - r_0|^2> = 4 D_t t + (2 v0^2 / D_r^2) (D_r t - 1 + e^{-D_r t}).
/// Reference: Howse et al., PRL 99, 048102 (2007); Bechinger et al., RMP 88, 045006 (2016).
#include <cmath>

#include "sdescore/core/model.hpp"

namespace sdescore::models {

struct ActiveBrownian2D {
  static constexpr std::string_view name = "active_brownian_2d";
  static constexpr std::string_view description =
      "active Brownian particle (x, y, theta) with optional harmonic trap";
  static constexpr std::string_view equation =
      "dr = (v0 e(theta) - k r) dt + sqrt(2 Dt) dW_r;  dtheta = sqrt(2 Dr) dW_theta";
  static constexpr int state_dim = 3;
  static constexpr int noise_dim = 3;
  using noise_kind = additive_noise;
  /// drift/diffusion are generic in the scalar: the engine steps it lane-wise (ensemble/lane.hpp).
  static constexpr bool generic_scalar = true;

  double v0 = 1.0;
  double k = 0.0;
  double Dt = 0.1;
  double Dr = 1.0;

  template <class F>
  void for_each_param(F&& f) {
    f(ParamInfo{"v0", "self-propulsion speed", 0.0, inf, false, true}, v0);
    f(ParamInfo{"k", "harmonic trap stiffness (0: free particle)", 0.0, inf, false, true}, k);
    f(ParamInfo{"Dt", "translational diffusivity", 0.0, inf, false, true}, Dt);
    f(ParamInfo{"Dr", "rotational diffusivity", 0.0, inf, true, true}, Dr);
  }
  void validate() { validate_params(*this); }

  template <class S>
  Vec<S, 3> drift(const Vec<S, 3>& y, const S& /*t*/) const {
    using std::cos;
    using std::sin;
    return Vec<S, 3>(S(v0) * cos(y(2)) - S(k) * y(0), S(v0) * sin(y(2)) - S(k) * y(1), S(0.0));
  }
  template <class S>
  Mat<S, 3, 3> diffusion(const Vec<S, 3>& /*y*/, const S& /*t*/) const {
    Mat<S, 3, 3> G = Mat<S, 3, 3>::Zero();
    G(0, 0) = G(1, 1) = S(std::sqrt(2.0 * Dt));
    G(2, 2) = S(std::sqrt(2.0 * Dr));
    return G;
  }
  Vec<double, 3> initial_state() const { return Vec<double, 3>::Zero(); }

  /// Free-ABP (k = 0) mean-squared displacement at time t.
  double free_msd(double t) const {
    return 4.0 * Dt * t + 2.0 * v0 * v0 / (Dr * Dr) * (Dr * t - 1.0 + std::exp(-Dr * t));
  }
};

}  // namespace sdescore::models
