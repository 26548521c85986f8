#pragma once
// Test-only SDE models shared by the test suites: small models with a known solution or with the
// one property a test needs (time dependence, state-dependent noise, finite-time blow-up). None
// is registered with the app; each satisfies SdeModel. Include as "support/toy_models.hpp".
#include <cmath>
#include <string_view>

#include "sdescore/core/model.hpp"

namespace sdescore::toy {

/// What every toy model shares: its dimensions and noise kind, a generic description, and no
/// parameters (for_each_param visits nothing, validate accepts). A model derives from it and adds
/// name, equation, drift, diffusion and initial_state; one with parameters shadows
/// for_each_param and validate, one with its own description shadows description.
template <int StateDim, int NoiseDim, class NoiseKind>
struct ToyModel {
  static constexpr std::string_view description = "test model";
  static constexpr int state_dim = StateDim;
  static constexpr int noise_dim = NoiseDim;
  using noise_kind = NoiseKind;
  template <class F>
  void for_each_param(F&&) {}
  void validate() {}
};

/// Geometric Brownian motion dX = mu X dt + sigma X dW (diagonal, multiplicative noise):
/// X_t = X_0 exp((mu - sigma^2/2) t + sigma W_t). For strong orders (core steppers).
struct GeometricBrownian : ToyModel<1, 1, diagonal_noise> {
  static constexpr std::string_view name = "gbm";
  static constexpr std::string_view description = "test-only geometric Brownian motion";
  static constexpr std::string_view equation = "dX = mu X dt + sigma X dW";
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
struct TimeDependentToy : ToyModel<2, 2, general_noise> {
  static constexpr std::string_view name = "toy";
  static constexpr std::string_view description = "test-only nonautonomous model";
  static constexpr std::string_view equation = "-";
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

/// 1D multiplicative noise: dY = -Y dt + sqrt(1 + Y^2) dW, D = (1 + y^2)/2, div D = y.
/// Zero-flux stationary density p ~ (1 + y^2)^-2 with score -4y/(1+y^2):
/// v = f - D' - D s = -y - y + 2y = 0.
struct Multiplicative1D : ToyModel<1, 1, diagonal_noise> {
  static constexpr std::string_view name = "test_multiplicative";
  static constexpr std::string_view equation = "dY = -Y dt + sqrt(1 + Y^2) dW";
  template <class S>
  Vec<S, 1> drift(const Vec<S, 1>& y, const S&) const {
    return Vec<S, 1>(-y(0));
  }
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>& y, const S&) const {
    using std::sqrt;
    return Mat<S, 1, 1>(sqrt(S(1.0) + y(0) * y(0)));
  }
  Vec<double, 1> initial_state() const { return Vec<double, 1>::Zero(); }
};

/// 2D general noise (2 x 2, y-dependent in every entry used).
struct General2D : ToyModel<2, 2, general_noise> {
  static constexpr std::string_view name = "test_general";
  static constexpr std::string_view equation = "dY = -Y dt + G(Y) dW";
  template <class S>
  Vec<S, 2> drift(const Vec<S, 2>& y, const S&) const {
    return Vec<S, 2>(-y(0), -y(1));
  }
  template <class S>
  Mat<S, 2, 2> diffusion(const Vec<S, 2>& y, const S&) const {
    using std::sin;
    Mat<S, 2, 2> G;
    G(0, 0) = S(1.0) + y(1) * y(1);
    G(0, 1) = S(0.3) * y(0);
    G(1, 0) = sin(y(0));
    G(1, 1) = S(1.0) + S(0.5) * y(0) * y(1);
    return G;
  }
  Vec<double, 2> initial_state() const { return Vec<double, 2>::Zero(); }
};

/// OU with a time-dependent mean: dX = -(X - A sin t) dt + dW (D = 1/2), so that
/// m' = -(m - A sin t):  m(t) = e^{-t} m0 + A (sin t - cos t + e^{-t}) / 2, Var as for OU.
struct MovingOU : ToyModel<1, 1, additive_noise> {
  static constexpr std::string_view name = "moving_ou";
  static constexpr std::string_view equation = "dX = -(X - A sin t) dt + dW";
  double A = 1.0;
  template <class S>
  Vec<S, 1> drift(const Vec<S, 1>& y, const S& t) const {
    using std::sin;
    return Vec<S, 1>(-(y(0) - S(A) * sin(t)));
  }
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>&, const S&) const {
    return Mat<S, 1, 1>(S(1.0));
  }
  Vec<double, 1> initial_state() const { return Vec<double, 1>::Zero(); }
};

/// 1D model with y-dependent noise G = sqrt(2) (1 + y^2/4)^{1/2}, D = 1 + y^2/4, drift -2y:
/// stationary law p ~ exp(-int (y/D + D'/D) dy) solves f p = (D p)', i.e. p = C/D exp(-int f... )
/// computed numerically in the test from the zero-flux condition.
struct VarNoise : ToyModel<1, 1, general_noise> {
  static constexpr std::string_view name = "var_noise";
  static constexpr std::string_view equation = "dX = -2 X dt + sqrt(2 (1 + X^2/4)) dW";
  template <class S>
  Vec<S, 1> drift(const Vec<S, 1>& y, const S&) const {
    return Vec<S, 1>(S(-2.0) * y(0));
  }
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>& y, const S&) const {
    using std::sqrt;
    return Mat<S, 1, 1>(sqrt(S(2.0) * (S(1.0) + y(0) * y(0) / S(4.0))));
  }
  Vec<double, 1> initial_state() const { return Vec<double, 1>::Zero(); }
};

/// VarNoise with noise that vanishes at y = 0 only: the Fokker-Planck solver rejects it.
struct VanishingNoise : VarNoise {
  static constexpr std::string_view name = "vanishing_noise";
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>& y, const S&) const {
    return Mat<S, 1, 1>(y(0));
  }
};

/// A model that blows up in finite time: dY = Y^3 dt + 0.1 dW (non-finite detection).
struct Blowup : ToyModel<1, 1, additive_noise> {
  static constexpr std::string_view name = "blowup";
  static constexpr std::string_view description = "test model dY = Y^3 dt + 0.1 dW";
  static constexpr std::string_view equation = "dY = Y^3 dt + 0.1 dW";
  template <class S>
  Vec<S, 1> drift(const Vec<S, 1>& y, const S&) const { return Vec<S, 1>(y(0) * y(0) * y(0)); }
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>&, const S&) const { return Mat<S, 1, 1>(S(0.1)); }
  Vec<double, 1> initial_state() const { return Vec<double, 1>(0.0); }
};

static_assert(SdeModel<GeometricBrownian> && SdeModel<TimeDependentToy> && SdeModel<Multiplicative1D> &&
              SdeModel<General2D> && SdeModel<MovingOU> && SdeModel<VarNoise> && SdeModel<VanishingNoise> &&
              SdeModel<Blowup>);

}  // namespace sdescore::toy
