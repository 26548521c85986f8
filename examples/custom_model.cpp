// A model defined outside the library: the 1D Landau (pitchfork) model
//
//   dX = (mu X - g X^3) dt + sqrt(2 T) dW,
//
// a cubic oscillator with the potential U(x) = -mu x^2 / 2 + g x^4 / 4 and the Boltzmann
// stationary law p_inf(x) ~ exp(-U(x) / T). The example shows what docs/concepts.md asks of
// a model, and checks three things (exit code 1 if one fails):
//   1. Landau satisfies SdeModel, and Heun (additive noise) is a valid Stepper for it;
//   2. the autodiff Jacobian of the scalar-templated drift equals central finite differences;
//   3. Heun paths run with integrate_n_steps from x = 0 reach the stationary <x^2>
//      (computed by quadrature) within 5 standard errors.
// The noise source is the library's counter-based generator: path p, step k draws
// z(seed, p, k), so every path can be replayed on its own.
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

#include "sdescore/sdescore.hpp"
#include "sdescore/random/normal.hpp"

namespace {

struct Landau {
  static constexpr std::string_view name = "landau";
  static constexpr std::string_view description = "1D Landau (pitchfork) model, a noisy cubic oscillator";
  static constexpr std::string_view equation = "dX = (mu X - g X^3) dt + sqrt(2 T) dW";
  static constexpr int state_dim = 1;
  static constexpr int noise_dim = 1;
  using noise_kind = sdescore::additive_noise;

  double mu = 1.0;  ///< linear growth rate (mu > 0: two wells at +-sqrt(mu / g))
  double g = 1.0;   ///< cubic saturation, g > 0
  double T = 0.5;   ///< temperature, T > 0

  template <class F>
  void for_each_param(F&& f) {
    using sdescore::inf;
    using sdescore::ParamInfo;
    f(ParamInfo{"mu", "linear growth rate", -inf, inf}, mu);
    f(ParamInfo{"g", "cubic saturation", 0.0, inf, true, true}, g);
    f(ParamInfo{"T", "temperature", 0.0, inf, true, true}, T);
  }
  void validate() { sdescore::validate_params(*this); }

  // Templated on the scalar: the same code gives values (S = double) and derivatives
  // (S = Eigen::AutoDiffScalar) - the Jacobian is never typed by hand.
  template <class S>
  sdescore::Vec<S, 1> drift(const sdescore::Vec<S, 1>& y, const S& /*t*/) const {
    const S& x = y(0);
    return sdescore::Vec<S, 1>(S(mu) * x - S(g) * x * x * x);
  }
  template <class S>
  sdescore::Mat<S, 1, 1> diffusion(const sdescore::Vec<S, 1>& /*y*/, const S& /*t*/) const {
    return sdescore::Mat<S, 1, 1>(S(std::sqrt(2.0 * T)));
  }
  sdescore::Vec<double, 1> initial_state() const { return sdescore::Vec<double, 1>::Zero(); }

  double potential(double x) const { return -0.5 * mu * x * x + 0.25 * g * x * x * x * x; }
};

static_assert(sdescore::SdeModel<Landau>, "Landau must satisfy the SdeModel concept (docs/concepts.md)");
static_assert(sdescore::Stepper<sdescore::Heun, Landau>, "Heun applies to additive noise");
static_assert(sdescore::Stepper<sdescore::EulerMaruyama, Landau>);
static_assert(!sdescore::LangevinModel<Landau>, "no position_dim / force: BAOAB does not apply");

int failures = 0;
void check(bool ok, const char* what) {
  std::printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
  if (!ok) ++failures;
}

}  // namespace

int main() {
  using namespace sdescore;
  Landau m;
  m.validate();
  std::printf("model %s: %s\n  %s, mu = %g, g = %g, T = %g\n", std::string(Landau::name).c_str(),
              std::string(Landau::description).c_str(), std::string(Landau::equation).c_str(), m.mu, m.g, m.T);

  // 2. Autodiff Jacobian vs central finite differences (error O(h^2 f''') ~ 1e-10 at h = 1e-5).
  std::printf("drift Jacobian df/dx: autodiff vs central differences (h = 1e-5)\n");
  double worst = 0;
  for (double x : {-2.0, -1.0, -0.3, 0.0, 0.7, 1.5}) {
    const Vec<double, 1> y(x);
    const double ad = drift_jacobian(m, y, 0.0)(0, 0);
    const double h = 1e-5;
    const double fd = (m.drift(Vec<double, 1>(x + h), 0.0)(0) - m.drift(Vec<double, 1>(x - h), 0.0)(0)) / (2 * h);
    const double exact = m.mu - 3 * m.g * x * x;
    std::printf("  x = %5.2f  autodiff %12.8f  finite diff %12.8f  exact %12.8f\n", x, ad, fd, exact);
    worst = std::max({worst, std::abs(ad - fd), std::abs(ad - exact)});
  }
  check(worst < 1e-7, "autodiff Jacobian equals finite differences and the exact derivative (|err| < 1e-7)");

  // 3. Heun paths with integrate_n_steps, the counter-based noise source and an observer.
  const int n_paths = 2000;
  const double dt = 0.01, t_end = 10.0;
  const long n_steps = static_cast<long>(std::lround(t_end / dt));
  const std::uint64_t seed = 42;
  const Heun heun;
  std::vector<double> x_end(n_paths);
  double x2_half = 0;  // <x^2> at t = 5, from the observer
  for (int p = 0; p < n_paths; ++p) {
    Vec<double, 1> y = m.initial_state();
    auto noise = [&](long k, Vec<double, 1>& dW) {
      dW(0) = std::sqrt(dt) * random::normal(seed, static_cast<std::uint64_t>(p), static_cast<std::uint64_t>(k), 0);
    };
    auto observer = [&](const Vec<double, 1>& state, double t) {
      if (std::abs(t - 0.5 * t_end) < 0.5 * dt) x2_half += state(0) * state(0) / n_paths;
    };
    integrate_n_steps(heun, m, y, 0.0, dt, n_steps, noise, observer);
    x_end[p] = y(0);
  }
  double mean = 0, x2 = 0, x4 = 0;
  for (double x : x_end) {
    mean += x / n_paths;
    x2 += x * x / n_paths;
    x4 += x * x * x * x / n_paths;
  }
  const double se_x2 = std::sqrt((x4 - x2 * x2) / n_paths);

  // Stationary <x^2> by the trapezoid rule on [-L, L] (the density is below 1e-30 beyond L = 4).
  double z = 0, z2 = 0;
  const int nq = 20000;
  const double L = 4.0, hq = 2 * L / nq;
  for (int i = 0; i <= nq; ++i) {
    const double x = -L + i * hq, w = (i == 0 || i == nq) ? 0.5 : 1.0;
    const double p = std::exp(-m.potential(x) / m.T);
    z += w * p;
    z2 += w * x * x * p;
  }
  const double x2_exact = z2 / z;

  std::printf("Heun, %d paths from x = 0, dt = %g, t = %g (seed %llu)\n", n_paths, dt, t_end,
              static_cast<unsigned long long>(seed));
  std::printf("  <x>   = %+.4f  (stationary 0, SE %.4f)\n", mean, std::sqrt(x2 / n_paths));
  std::printf("  <x^2> = %.4f at t = %g, %.4f at t = %g; stationary (quadrature) %.4f, SE %.4f\n", x2_half,
              0.5 * t_end, x2, t_end, x2_exact, se_x2);
  check(std::abs(mean) < 5 * std::sqrt(x2 / n_paths), "ensemble mean is 0 within 5 standard errors (symmetric wells)");
  check(std::abs(x2 - x2_exact) < 5 * se_x2, "ensemble <x^2> at t = 10 matches the stationary law within 5 SE");

  // Replay: one path again on its own gives the same bits (counter-based noise).
  {
    const int p = 123;
    Vec<double, 1> y = m.initial_state();
    integrate_n_steps(heun, m, y, 0.0, dt, n_steps, [&](long k, Vec<double, 1>& dW) {
      dW(0) = std::sqrt(dt) * random::normal(seed, p, static_cast<std::uint64_t>(k), 0);
    });
    check(y(0) == x_end[p], "path 123 replayed alone is bit-identical");
  }

  std::printf("%s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
