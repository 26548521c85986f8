// Strong and weak convergence orders of the steppers, measured by refinement with fixed seeds.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "sdescore/sdescore.hpp"
#include "support/toy_models.hpp"
#include "test_support.hpp"

using namespace sdescore;

namespace {

/// Strong error E|X_T^dt - X_T^ref| for a range of dt, with all schemes driven by the same
/// Brownian path sampled at dt_fine = dt_min / ref_factor. `ref` maps the fine increments to
/// the reference solution.
template <class M, class St, class Ref>
std::vector<double> strong_errors(const M& m, const St& st, const std::vector<int>& coarsening, int n_fine, double T,
                                  int n_paths, Ref&& ref, unsigned long seed) {
  constexpr int D = M::state_dim;
  constexpr int K = St::template noise_dim<M>;
  const double h = T / n_fine;
  test::GaussianIncrements rng(seed);
  std::vector<double> err(coarsening.size(), 0.0);
  std::vector<Vec<double, K>> dW(n_fine);
  for (int p = 0; p < n_paths; ++p) {
    for (auto& w : dW) rng.fill(w, h);
    const Vec<double, D> yref = ref(dW, h);
    for (std::size_t c = 0; c < coarsening.size(); ++c) {
      const int r = coarsening[c];
      Vec<double, D> y = m.initial_state();
      for (int k = 0; k < n_fine / r; ++k) {
        Vec<double, K> w = Vec<double, K>::Zero();
        for (int j = 0; j < r; ++j) w += dW[k * r + j];
        st.do_step(m, y, k * r * h, r * h, w);
      }
      err[c] += (y - yref).norm() / n_paths;
    }
  }
  return err;
}

std::vector<double> step_sizes(const std::vector<int>& coarsening, double h) {
  std::vector<double> out;
  for (int r : coarsening) out.push_back(r * h);
  return out;
}

}  // namespace

TEST_CASE("strong order: EM 1/2 and Milstein 1 on geometric Brownian motion (exact solution)") {
  toy::GeometricBrownian m;
  const int n_fine = 1 << 10;
  const double T = 1.0;
  const std::vector<int> coarse{128, 64, 32, 16, 8};
  auto exact = [&](const std::vector<Vec<double, 1>>& dW, double) {
    double W = 0;
    for (const auto& w : dW) W += w(0);
    return Vec<double, 1>(std::exp((m.mu - 0.5 * m.sigma * m.sigma) * T + m.sigma * W));
  };
  // 2000 paths: the fitted slope's Monte-Carlo spread is ~0.03 (checked across seeds), so a
  // +-0.15 window tests the theoretical order while tolerating the pre-asymptotic regime.
  const auto e_em = strong_errors(m, EulerMaruyama{}, coarse, n_fine, T, 2000, exact, 11);
  const auto e_mil = strong_errors(m, Milstein{}, coarse, n_fine, T, 2000, exact, 11);
  const double s_em = test::loglog_slope(step_sizes(coarse, T / n_fine), e_em);
  const double s_mil = test::loglog_slope(step_sizes(coarse, T / n_fine), e_mil);
  MESSAGE("strong slopes on GBM: EM ", s_em, ", Milstein ", s_mil);
  CHECK(std::abs(s_em - 0.5) < 0.15);
  CHECK(std::abs(s_mil - 1.0) < 0.15);
}

TEST_CASE("strong order 1 for additive noise on nonlinear models: EM, Heun, LL against a fine Heun path") {
  const int n_fine = 1 << 11;
  const std::vector<int> coarse{128, 64, 32, 16};
  auto run = [&](auto model, double T, auto stepper, std::string what) {
    using M = decltype(model);
    auto ref = [&](const std::vector<Vec<double, M::noise_dim>>& dW, double h) {
      Vec<double, M::state_dim> y = model.initial_state();
      for (int k = 0; k < n_fine; ++k) Heun{}.do_step(model, y, k * h, h, dW[k]);
      return y;
    };
    const auto e = strong_errors(model, stepper, coarse, n_fine, T, 400, ref, 5);
    const double s = test::loglog_slope(step_sizes(coarse, T / n_fine), e);
    MESSAGE(what, ": strong slope ", s);
    // 400 coupled paths: slope spread ~0.05 across seeds; window 0.15
    CHECK(std::abs(s - 1.0) < 0.15);
  };
  models::DoubleWell dw{.a = 0.5, .T = 0.5};
  run(dw, 1.0, EulerMaruyama{}, "double well EM");
  run(dw, 1.0, Heun{}, "double well Heun");
  models::ActiveSwimmer sw{.gamma = 1.0, .D = 1.0};
  run(sw, 1.0, EulerMaruyama{}, "active swimmer EM");
  run(sw, 1.0, Heun{}, "active swimmer Heun");
}

TEST_CASE("LL converges strongly on the double well (its noise is the Cholesky factor of the local covariance)") {
  // LL needs state_dim increments; for D = 1 they are the Brownian increments themselves.
  models::DoubleWell dw{.a = 0.5, .T = 0.5};
  const int n_fine = 1 << 11;
  const std::vector<int> coarse{128, 64, 32, 16};
  auto ref = [&](const std::vector<Vec<double, 1>>& dW, double h) {
    Vec<double, 1> y = dw.initial_state();
    for (int k = 0; k < n_fine; ++k) Heun{}.do_step(dw, y, k * h, h, dW[k]);
    return y;
  };
  const auto e = strong_errors(dw, LocalLinearization{}, coarse, n_fine, 1.0, 400, ref, 9);
  const double s = test::loglog_slope(step_sizes(coarse, 1.0 / n_fine), e);
  MESSAGE("double well LL: strong slope ", s);
  CHECK(std::abs(s - 1.0) < 0.15);
}

namespace {

/// For a linear SDE every stepper here is an affine map y+ = P y + Q dW + r; this propagates the
/// scheme's exact mean and covariance (no sampling) through the real do_step.
template <class M, class St>
std::pair<Vec<double, M::state_dim>, Mat<double, M::state_dim, M::state_dim>> scheme_moments(
    const M& m, const St& st, Vec<double, M::state_dim> mean, double T, int n) {
  constexpr int D = M::state_dim;
  constexpr int K = St::template noise_dim<M>;
  const double dt = T / n;
  Mat<double, D, D> C = Mat<double, D, D>::Zero();
  for (int k = 0; k < n; ++k) {
    const double t = k * dt;
    auto step = [&](Vec<double, D> y, const Vec<double, K>& w) {
      st.do_step(m, y, t, dt, w);
      return y;
    };
    const Vec<double, K> zero = Vec<double, K>::Zero();
    const Vec<double, D> base = step(Vec<double, D>::Zero(), zero);
    Mat<double, D, D> P;
    Mat<double, D, K> Q;
    for (int j = 0; j < D; ++j) P.col(j) = step(Vec<double, D>::Unit(j), zero) - base;
    for (int j = 0; j < K; ++j) Q.col(j) = step(Vec<double, D>::Zero(), Vec<double, K>::Unit(j)) - base;
    mean = step(mean, zero);
    C = P * C * P.transpose() + dt * Q * Q.transpose();
  }
  return {mean, C};
}

template <class St>
std::vector<double> ou_weak_errors(const St& st, const std::vector<int>& ns, double T) {
  models::OU2 m;
  const Vec<double, 2> y0(1.0, -0.5);
  const Vec<double, 2> em = m.exact_mean(y0, T);
  const Mat<double, 2, 2> eC = m.exact_covariance(T);
  std::vector<double> err;
  for (int n : ns) {
    auto [mean, C] = scheme_moments(m, st, y0, T, n);
    // weak error of the test functions y and y y^T
    err.push_back((mean - em).norm() + (C + mean * mean.transpose() - eC - em * em.transpose()).norm());
  }
  return err;
}

}  // namespace

TEST_CASE("weak order on 2D OU from the scheme's exact moments: EM 1, Heun 2, LL exact in law") {
  const double T = 2.0;
  const std::vector<int> ns{20, 40, 80, 160};
  std::vector<double> h;
  for (int n : ns) h.push_back(T / n);
  const double s_em = test::loglog_slope(h, ou_weak_errors(EulerMaruyama{}, ns, T));
  const double s_heun = test::loglog_slope(h, ou_weak_errors(Heun{}, ns, T));
  MESSAGE("weak slopes on OU: EM ", s_em, ", Heun ", s_heun);
  // no sampling noise here: the slopes are deterministic, so tight windows
  CHECK(std::abs(s_em - 1.0) < 0.05);
  CHECK(std::abs(s_heun - 2.0) < 0.05);
  // LL samples the exact transition of a linear SDE: exact at any step size, even dt = T
  for (int n : {1, 3, 40}) {
    const auto e = ou_weak_errors(LocalLinearization{}, {n}, T);
    CHECK(e[0] < 1e-12);
  }
}

namespace {

/// Weak errors |E phi(X_T^dt) - E phi(X_T^ref)| of a stepper on the double well, each coarse
/// path coupled to a fine Heun reference through the same Brownian path: the differences have
/// the spread of the strong error, so their mean is resolved far below the weak error itself.
template <class St>
std::vector<double> double_well_weak_errors(const St& st, int n_fine, const std::vector<int>& coarse, int n_paths,
                                            unsigned long seed) {
  models::DoubleWell m{.a = 0.5, .T = 0.5};
  const double T = 1.0, h = T / n_fine;
  test::GaussianIncrements rng(seed);
  std::vector<double> e(coarse.size(), 0.0);
  std::vector<Vec<double, 1>> dW(n_fine);
  auto phi = [](double x) { return x * x; };
  for (int p = 0; p < n_paths; ++p) {
    for (auto& w : dW) rng.fill(w, h);
    Vec<double, 1> yref(0.3);
    for (int k = 0; k < n_fine; ++k) Heun{}.do_step(m, yref, k * h, h, dW[k]);
    for (std::size_t c = 0; c < coarse.size(); ++c) {
      Vec<double, 1> y(0.3);
      const int r = coarse[c];
      for (int k = 0; k < n_fine / r; ++k) {
        Vec<double, 1> w = Vec<double, 1>::Zero();
        for (int j = 0; j < r; ++j) w += dW[k * r + j];
        st.do_step(m, y, k * r * h, r * h, w);
      }
      e[c] += (phi(y(0)) - phi(yref(0))) / n_paths;
    }
  }
  for (auto& v : e) v = std::abs(v);
  return e;
}

}  // namespace

TEST_CASE("weak order on the nonlinear double well: EM 1 and Heun 2 (coupled to a fine reference)") {
  const std::vector<int> coarse{32, 16, 8, 4};
  std::vector<double> h_em, h_heun;
  for (int r : coarse) h_em.push_back(r / 2560.0);   // dt = 0.0125 ... 0.0016
  for (int r : coarse) h_heun.push_back(r / 320.0);  // dt = 0.1 ... 0.0125
  const double s_em = test::loglog_slope(h_em, double_well_weak_errors(EulerMaruyama{}, 2560, coarse, 4000, 21));
  const double s_heun = test::loglog_slope(h_heun, double_well_weak_errors(Heun{}, 320, coarse, 40000, 21));
  MESSAGE("weak slopes on double well: EM ", s_em, ", Heun ", s_heun);
  CHECK(std::abs(s_em - 1.0) < 0.2);
  CHECK(std::abs(s_heun - 2.0) < 0.3);
}

TEST_CASE("bad step sizes are rejected with a message naming the value") {
  models::DoubleWell m;
  Vec<double, 1> y(0.0);
  test::GaussianIncrements rng(1);
  auto noise = [&](long, Vec<double, 1>& w) { rng.fill(w, 0.1); };
  CHECK_THROWS_WITH_AS(integrate_n_steps(EulerMaruyama{}, m, y, 0.0, 0.0, 10, noise),
                       doctest::Contains("dt = 0"), ConfigError);
  CHECK_THROWS_WITH_AS(integrate_n_steps(EulerMaruyama{}, m, y, 0.0, -1e-3, 10, noise),
                       doctest::Contains("dt = -0.001"), ConfigError);
  CHECK_THROWS_AS(integrate_n_steps(EulerMaruyama{}, m, y, 0.0, std::nan(""), 10, noise), ConfigError);
}

TEST_CASE("BAOAB samples the Boltzmann law of underdamped Langevin: <v^2> = T and <U'(x) x> = T") {
  models::UnderdampedLangevin m{.a = 1.0, .gamma = 1.0, .T = 0.5};
  test::GaussianIncrements rng(3);
  const double dt = 0.05;
  const int n_paths = 2000, burn = 400, n_steps = 2400;
  double v2 = 0, virial = 0;
  long count = 0;
  for (int p = 0; p < n_paths; ++p) {
    Vec<double, 2> y = m.initial_state();
    Vec<double, 1> w;
    for (int k = 0; k < n_steps; ++k) {
      rng.fill(w, dt);
      BAOAB{}.do_step(m, y, k * dt, dt, w);
      if (k >= burn && k % 40 == 0) {
        v2 += y(1) * y(1);
        virial += -m.force(Vec<double, 1>(y(0)))(0) * y(0);  // equipartition: <x U'(x)> = T
        ++count;
      }
    }
  }
  v2 /= count;
  virial /= count;
  // 100,000 samples, mildly correlated (decorrelation time ~1/gamma = 20 steps < 40 spacing):
  // sd(v^2) = sqrt(2) T / sqrt(N) ~ 2.2e-3; 5 sigma ~ 0.011
  MESSAGE("<v^2> = ", v2, ", <x U'> = ", virial);
  CHECK(std::abs(v2 - m.T) < 0.011);
  // x U'(x) has sd ~1 at T = 0.5: 5 sigma / sqrt(1e5) ~ 0.016, plus an O(dt^2) BAOAB bias
  CHECK(std::abs(virial - m.T) < 0.02);
}

TEST_CASE("LL in 1D: the written-out 1x1 Cholesky factor is robust_cholesky's, bit for bit; NaN where it throws") {
  const double tiny = std::numeric_limits<double>::denorm_min();
  for (double v : {0.0, tiny, 1e-310, 1e-300, 2.5e-7, 0.5, 1.0, 3.0, 1e300, std::numeric_limits<double>::max()}) {
    const Mat<double, 1, 1> L = robust_cholesky<1>(Mat<double, 1, 1>(v));
    CHECK(LocalLinearization::cholesky_1x1(v) == L(0, 0));
  }
  CHECK(LocalLinearization::cholesky_1x1(0.0) > 0.0);  // the jitter: never a zero factor
  for (double v : {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(), -1.0}) {
    CHECK_THROWS_AS(robust_cholesky<1>(Mat<double, 1, 1>(v)), NumericalError);
    CHECK(std::isnan(LocalLinearization::cholesky_1x1(v)));
  }
  static_assert(LocalLinearization::nothrow_step<models::DoubleWell>);
  static_assert(!LocalLinearization::nothrow_step<models::OU2>);
}
