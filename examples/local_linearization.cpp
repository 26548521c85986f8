// The Gaussian transition N(m, Sigma) of the double well linearised at a point
// (lib/sdescore/linearize/gaussian_transition.hpp, used by the local_linearization stepper and
// by local-DSM), with and without the Ito-corrected mean, against a fine Euler-Maruyama
// ensemble started at the same point.
//
//   dX = -4 a X (X^2 - 1) dt + sqrt(2 T) dW,  a = 1, T = 0.5,  from y_s = 0.5 over Delta = 0.1.
//
// The Ito correction adds 1/2 sum_ij (G G^T)_ij d_i d_j f = T f''(y_s) = -24 a T y_s to the
// time-derivative term c of the linearised drift, so it moves the mean by Delta^2 phi2(A Delta) c.
// Checks (exit code 1 if one fails):
//   1. the printed mean shift equals Delta^2 phi2(A Delta) T f''(y_s);
//   2. the Ito-corrected mean is closer to the Monte Carlo mean than the first-order one;
//   3. for the Ornstein-Uhlenbeck model the linearised transition is exact (mean and covariance).
#include <cmath>
#include <cstdio>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/sdescore.hpp"

namespace {
int failures = 0;
void check(bool ok, const char* what) {
  std::printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
  if (!ok) ++failures;
}
}  // namespace

int main() {
  using namespace sdescore;
  const models::DoubleWell m;  // a = 1, T = 0.5
  const Vec<double, 1> ys(0.5);
  const double s = 0.0, delta = 0.1;

  LinearizationOptions first_order;
  first_order.ito_corrected_mean = false;
  const LinearizationOptions ito;  // the default: Ito-corrected mean
  const auto tr1 = local_linear_transition(m, ys, s, delta, first_order);
  const auto tr2 = local_linear_transition(m, ys, s, delta, ito);

  const double f = m.drift(ys, s)(0);
  const double A = drift_jacobian(m, ys, s)(0, 0);
  const double fpp = -24.0 * m.a * ys(0);  // f''(x) = -24 a x
  const double shift_expected = delta * delta * phi2(A * delta) * m.T * fpp;

  std::printf("double well (a = %g, T = %g) linearised at y_s = %g, s = %g, over Delta = %g\n", m.a, m.T, ys(0), s,
              delta);
  std::printf("  f(y_s) = %.6f, A = df/dy = %.6f, T f''(y_s) = %.6f\n", f, A, m.T * fpp);
  std::printf("  %-28s %12s %12s\n", "", "mean", "variance");
  std::printf("  %-28s %12.6f %12.6f\n", "Euler step (y + f dt, 2T dt)", ys(0) + f * delta, 2 * m.T * delta);
  std::printf("  %-28s %12.6f %12.6f\n", "local linear, first order", tr1.mean(0), tr1.cov(0, 0));
  std::printf("  %-28s %12.6f %12.6f\n", "local linear, Ito-corrected", tr2.mean(0), tr2.cov(0, 0));

  // Reference: Euler-Maruyama with dt = Delta / 500 (bias O(dt)), 1e5 paths.
  const std::int64_t n = 100000;
  ensemble::EnsembleOptions o;
  o.seed = 7;
  o.dt = delta / 500;
  o.n_steps = 500;
  ensemble::StateMatrix st(1, n, ys(0));
  ensemble::simulate(EulerMaruyama{}, m, st, o);
  double mc_mean = 0, mc_var = 0;
  for (std::int64_t p = 0; p < n; ++p) mc_mean += st(0, p) / n;
  for (std::int64_t p = 0; p < n; ++p) mc_var += (st(0, p) - mc_mean) * (st(0, p) - mc_mean) / (n - 1);
  const double se = std::sqrt(mc_var / n);
  std::printf("  %-28s %12.6f %12.6f   (SE of the mean %.6f)\n", "Monte Carlo (EM, 1e5 paths)", mc_mean, mc_var, se);

  const double shift = tr2.mean(0) - tr1.mean(0);
  std::printf("  Ito correction of the mean: %.6f (formula Delta^2 phi2(A Delta) T f'' = %.6f)\n", shift,
              shift_expected);
  check(std::abs(shift - shift_expected) < 1e-12, "mean shift equals Delta^2 phi2(A Delta) T f''(y_s)");
  check(tr1.cov(0, 0) == tr2.cov(0, 0), "the Ito correction changes the mean only");
  std::printf("  |mean error| vs Monte Carlo: first order %.5f, Ito-corrected %.5f\n", std::abs(tr1.mean(0) - mc_mean),
              std::abs(tr2.mean(0) - mc_mean));
  check(std::abs(tr2.mean(0) - mc_mean) < std::abs(tr1.mean(0) - mc_mean),
        "the Ito-corrected mean is closer to the Monte Carlo mean");

  // Linear SDE: the linearisation is the SDE itself, so the transition is exact.
  const models::OU2 ou;
  const Vec<double, 2> y0(1.0, -0.5);
  const auto tou = local_linear_transition(ou, y0, 0.0, 0.7);
  const double em = (tou.mean - ou.exact_mean(y0, 0.7)).cwiseAbs().maxCoeff();
  const double ec = (tou.cov - ou.exact_covariance(0.7)).cwiseAbs().maxCoeff();
  std::printf("ou2d from (1, -0.5) over 0.7: max |mean - exact| = %.2e, max |cov - exact| = %.2e\n", em, ec);
  check(em < 1e-12 && ec < 1e-12, "local linearisation is exact for the OU process");

  std::printf("%s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
