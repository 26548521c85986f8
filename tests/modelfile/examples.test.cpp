// The example model files of new systems, each against a known law (fixed seeds, tolerances of
// k sigma / sqrt(N) from the sample's own spread). Closed forms are written out here by hand,
// independently of the library code.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/eval/physics.hpp"
#include "sdescore/sdescore.hpp"
#include "sdescore/app/registry.hpp"
#include "sdescore/modelfile/visit.hpp"
#include "support.hpp"

using namespace sdescore;

namespace modelfile_examples_test {  // named and around the whole file: unity batches must not mix files' helpers

template <class M>
M load(const std::string& file) {
  mftest::use_test_cache();
  return M(modelfile::load_model_file(mftest::example(file)));
}

template <class St, class M>
ensemble::StateMatrix run(const St& st, const M& m, std::int64_t n, std::int64_t steps, double dt, std::uint64_t seed,
                          const Vec<double, M::state_dim>& y0) {
  ensemble::StateMatrix s(M::state_dim, n, 0.0);
  for (int d = 0; d < M::state_dim; ++d)
    for (std::int64_t p = 0; p < n; ++p) s(d, p) = y0(d);
  ensemble::EnsembleOptions o;
  o.seed = seed;
  o.dt = dt;
  o.n_steps = steps;
  ensemble::simulate(st, m, s, o);
  return s;
}


TEST_CASE("brownian gyrator: stationary covariance of the two-temperature NESS (closed form)") {
  using FG = modelfile::FileModel<2, 2, additive_noise>;
  const FG g = load<FG>("brownian_gyrator.toml");
  CHECK(g.spec().linear);  // claimed and verified on loading
  const double k1 = 1.0, k2 = 2.0, u = 0.5, T1 = 1.0, T2 = 0.2;
  const double c = -u * (k2 * T1 + k1 * T2) / ((k1 + k2) * (k1 * k2 - u * u));
  const double a = (T1 - u * c) / k1, b = (T2 - u * c) / k2;
  // Local linearisation is exact in law for a linear SDE: no step-size bias at dt = 0.1.
  const std::int64_t n = 6000;
  const auto s = run(LocalLinearization{}, g, n, 150, 0.1, 7, Vec<double, 2>::Zero());  // t = 15: e^{-15 lambda_min} ~ 1e-5
  double sxx = 0, syy = 0, sxy = 0;
  for (std::int64_t p = 0; p < n; ++p) {
    sxx += s(0, p) * s(0, p);
    syy += s(1, p) * s(1, p);
    sxy += s(0, p) * s(1, p);
  }
  sxx /= n;
  syy /= n;
  sxy /= n;
  // Var of a sample second moment of a Gaussian: (C_ii C_jj + C_ij^2) / N.
  CHECK(std::abs(sxx - a) < 4 * std::sqrt(2 * a * a / n));
  CHECK(std::abs(syy - b) < 4 * std::sqrt(2 * b * b / n));
  CHECK(std::abs(sxy - c) < 4 * std::sqrt((a * b + c * c) / n));
  CHECK(c < 0);  // the coupling correlates x and y negatively
  // The Gaussian NESS is not Boltzmann at T1 != T2: C differs from T B^{-1} for any single T.
  CHECK(std::abs(c / std::sqrt(a * b) - (-u / std::sqrt(k1 * k2))) > 0.05);
}

TEST_CASE("brownian gyrator: entropy production of the NESS through eval (exact score), against the closed form") {
  using FG = modelfile::FileModel<2, 2, additive_noise>;
  FG g = load<FG>("brownian_gyrator.toml");
  const double k1 = 1.0, k2 = 2.0, u = 0.5, T1 = 1.0, T2 = 0.2;
  const double c = -u * (k2 * T1 + k1 * T2) / ((k1 + k2) * (k1 * k2 - u * u));
  Eigen::Matrix2d C, B, D;
  C << (T1 - u * c) / k1, c, c, (T2 - u * c) / k2;
  B << k1, u, u, k2;
  D << T1, 0, 0, T2;
  // By hand: v(y) = f - D grad log p = (D C^{-1} - B) y =: A y, Pi = E[v^T D^{-1} v] = tr(A^T D^{-1} A C).
  const Eigen::Matrix2d A = D * C.inverse() - B;
  const double pi_exact = (A.transpose() * D.inverse() * A * C).trace();
  CHECK(pi_exact > 0.1);
  // Exact stationary samples and the exact score -C^{-1} y; the library's velocity and Pi.
  const int n = 20000;
  std::mt19937_64 rng(9);
  std::normal_distribution<double> nd;
  const Eigen::Matrix2d L = C.llt().matrixL();
  Eigen::MatrixXd y(n, 2);
  for (int i = 0; i < n; ++i) y.row(i) = (L * Eigen::Vector2d(nd(rng), nd(rng))).transpose();
  const Eigen::Matrix2d Ci = C.inverse();
  auto score = [&](const Eigen::MatrixXd& yy, const Eigen::VectorXd&) { return Eigen::MatrixXd(-(yy * Ci.transpose())); };
  const auto ep = eval::entropy_production_rate(g, score, y, 0.0);
  CHECK(std::abs(ep.rate - pi_exact) < 4 * ep.rate_stderr);
  // At equal temperatures the gyrator is in equilibrium: C = T B^{-1}, no current, Pi = 0.
  app::apply_params(g, {{"T2", 1.0}});
  const Eigen::Matrix2d Ceq = B.inverse();
  const Eigen::Matrix2d Cieq = Ceq.inverse();
  auto score_eq = [&](const Eigen::MatrixXd& yy, const Eigen::VectorXd&) { return Eigen::MatrixXd(-(yy * Cieq.transpose())); };
  CHECK(eval::entropy_production_rate(g, score_eq, y, 0.0).rate < 1e-20);
}

TEST_CASE("tilted periodic potential: the stationary drift velocity is Stratonovich's") {
  using FT = modelfile::FileModel<1, 1, additive_noise>;
  const FT m = load<FT>("tilted_periodic.toml");
  const double V0 = 1.0, F = 0.8, T = 0.5, L = 2 * M_PI;
  // Closed form by quadrature: v = L T (1 - e^{-F L / T}) / int_0^L int_0^L e^{(Phi(x+z) - Phi(x))/T} dz dx.
  auto Phi = [&](double x) { return -V0 * std::cos(x) - F * x; };
  const int K = 800;
  double I = 0;
  for (int i = 0; i < K; ++i)
    for (int j = 0; j < K; ++j) {
      const double x = (i + 0.5) * L / K, z = (j + 0.5) * L / K;
      I += std::exp((Phi(x + z) - Phi(x)) / T);
    }
  I *= (L / K) * (L / K);
  const double v = L * T * (1 - std::exp(-F * L / T)) / I;
  CHECK(v > 0.05);   // far from the free drift F and from 0: the barrier matters
  CHECK(v < 0.6 * F);
  // Simulation: relax to t = 10, then the mean displacement over [10, 40].
  const std::int64_t n = 2000;
  const double dt = 2e-3;
  auto s1 = run(EulerMaruyama{}, m, n, 5000, dt, 3, Vec<double, 1>::Zero());
  ensemble::StateMatrix s2 = s1;
  ensemble::EnsembleOptions o;
  o.seed = 3;
  o.dt = dt;
  o.step0 = 5000;
  o.n_steps = 15000;
  ensemble::simulate(EulerMaruyama{}, m, s2, o);
  const double span = 15000 * dt;
  double mean = 0, m2 = 0;
  for (std::int64_t p = 0; p < n; ++p) {
    const double vel = (s2(0, p) - s1(0, p)) / span;
    mean += vel;
    m2 += vel * vel;
  }
  mean /= n;
  const double sd = std::sqrt(m2 / n - mean * mean);
  MESSAGE("tilted periodic: simulated v = " << mean << " +- " << sd / std::sqrt(double(n)) << ", Stratonovich v = " << v);
  CHECK(std::abs(mean - v) < 4 * sd / std::sqrt(double(n)) + 0.01 * v);  // + Euler bias at dt = 2e-3 (~dt)
}

TEST_CASE("geometric Brownian motion (multiplicative noise): the log-normal law at t = 1") {
  using FB = modelfile::FileModel<1, 1, diagonal_noise>;
  const FB m = load<FB>("geometric_brownian.toml");
  const double mu = 0.5, sigma = 0.8, t = 1.0;
  const std::int64_t n = 10000;
  const auto s = run(Milstein{}, m, n, 1000, 1e-3, 11, m.initial_state());
  double ml = 0, vl = 0;
  for (std::int64_t p = 0; p < n; ++p) ml += std::log(s(0, p));
  ml /= n;
  for (std::int64_t p = 0; p < n; ++p) vl += (std::log(s(0, p)) - ml) * (std::log(s(0, p)) - ml);
  vl /= n - 1;
  const double m_exact = (mu - 0.5 * sigma * sigma) * t, v_exact = sigma * sigma * t;
  CHECK(std::abs(ml - m_exact) < 4 * std::sqrt(v_exact / n));
  CHECK(std::abs(vl - v_exact) < 4 * v_exact * std::sqrt(2.0 / n));
}

// <r^2> of the active Brownian particle in a harmonic trap, stationary, by hand: the thermal part
// 2 Dt / k, and the active part v^2 int int e^{-k(a+b)} <e(a).e(b)> da db with <e(a).e(b)> =
// e^{-Dr |a - b|}, which is v^2 / (k (k + Dr)).
double abp_r2(double v, double k, double Dt, double Dr) { return 2 * Dt / k + v * v / (k * (k + Dr)); }

/// Mean of x^2 + y^2 over the paths and the k-sigma/sqrt(N) tolerance from the sample's own spread.
std::pair<double, double> mean_r2(const ensemble::StateMatrix& s, double k_sigma) {
  const std::int64_t n = s.n_paths();
  double m = 0, m2 = 0;
  for (std::int64_t p = 0; p < n; ++p) {
    const double r2 = s(0, p) * s(0, p) + s(1, p) * s(1, p);
    m += r2;
    m2 += r2 * r2;
  }
  m /= double(n);
  return {m, k_sigma * std::sqrt((m2 / double(n) - m * m) / double(n))};
}

TEST_CASE("3 variables: the active Brownian particle in a trap rides its stationary ring (<r^2> by hand); theta diffuses") {
  using F3 = modelfile::FileModel<3, 3, additive_noise>;
  const F3 m = load<F3>("active_brownian_trap.toml");
  CHECK(m.spec().dim == 3);
  CHECK(m.spec().declared_noise_dim == 3);
  const double v = 2.0, k = 1.0, Dt = 0.1, Dr = 0.5;
  // t = 10 (e^{-2 k t} ~ 2e-9 of the start is left); Euler's bias on the OU part is ~ k dt / 2.
  const std::int64_t n = 20000, steps = 5000;
  const double dt = 2e-3, t = steps * dt;
  const auto s = run(EulerMaruyama{}, m, n, steps, dt, 13, Vec<double, 3>::Zero());
  const auto [r2, tol] = mean_r2(s, 4);
  const double exact = abp_r2(v, k, Dt, Dr);
  MESSAGE("active Brownian particle in a trap: <r^2> = " << r2 << " +- " << tol / 4 << ", by hand " << exact);
  CHECK(std::abs(r2 - exact) < tol + k * dt * exact);
  CHECK(exact > 10 * 2 * Dt / k);  // the ring: activity, not temperature, sets the size
  // theta has no drift: N(0, 2 Dr t) exactly (Euler is exact for it)
  double vt = 0;
  for (std::int64_t p = 0; p < n; ++p) vt += s(2, p) * s(2, p);
  vt /= double(n);
  CHECK(std::abs(vt - 2 * Dr * t) < 4 * 2 * Dr * t * std::sqrt(2.0 / double(n)));
}

TEST_CASE("3 variables, 1 noise: G is padded to 3 x 3 with zero columns; the law is the file's") {
  using F3 = modelfile::FileModel<3, 3, additive_noise>;
  mftest::use_test_cache();
  // the particle above without translational noise: noise on theta only (hypoelliptic in x, y)
  const F3 m(modelfile::load_model_text(
      "name = \"abp_rot\"\nvariables = [\"x\", \"y\", \"theta\"]\n"
      "drift = [\"v*cos(theta) - k*x\", \"v*sin(theta) - k*y\", \"0\"]\n"
      "diffusion = [[\"0\"], [\"0\"], [\"sqrt(2*Dr)\"]]\n"
      "[parameters]\nv = 2.0\nk = 1.0\nDr = 0.5\n",
      "abp_rot.toml"));
  CHECK(m.spec().declared_noise_dim == 1);
  CHECK(m.spec().noise_dim == 3);
  CHECK(m.spec().noise_kind == modelfile::NoiseKind::additive);
  const Mat<double, 3, 3> G = m.diffusion(Vec<double, 3>(0.3, -0.2, 1.0), 0.0);
  CHECK(G(2, 0) == doctest::Approx(1.0));  // sqrt(2 Dr)
  CHECK(G.col(1).isZero(0.0));
  CHECK(G.col(2).isZero(0.0));
  CHECK(G.row(0).isZero(0.0));
  const auto s = run(EulerMaruyama{}, m, 20000, 5000, 2e-3, 14, Vec<double, 3>::Zero());
  const auto [r2, tol] = mean_r2(s, 4);
  const double exact = abp_r2(2.0, 1.0, 0.0, 0.5);
  MESSAGE("active particle, rotational noise only: <r^2> = " << r2 << ", by hand " << exact);
  CHECK(std::abs(r2 - exact) < tol + 2e-3 * exact);
}

TEST_CASE("3 variables, general noise: independent geometric Brownian motions through a 3 x 3 G") {
  using F3 = modelfile::FileModel<3, 3, general_noise>;
  mftest::use_test_cache();
  // G mixes the noises (rotation Q with orthonormal rows): each row's norm is sigma_i x_i, so each
  // coordinate is a GBM in law: log x_i(t) ~ N((mu - sigma_i^2 / 2) t, sigma_i^2 t)
  const F3 m(modelfile::load_model_text(
      "name = \"gbm3\"\nvariables = [\"a\", \"b\", \"c\"]\n"
      "drift = [\"mu*a\", \"mu*b\", \"mu*c\"]\n"
      "diffusion = [[\"0.6*s1*a\", \"0.8*s1*a\", \"0\"], [\"-0.8*s2*b\", \"0.6*s2*b\", \"0\"], [\"0\", \"0\", \"s3*c\"]]\n"
      "initial = [1, 1, 1]\n"
      "[parameters]\nmu = 0.3\ns1 = 0.5\ns2 = 0.8\ns3 = 0.2\n",
      "gbm3.toml"));
  CHECK(m.spec().noise_kind == modelfile::NoiseKind::general);
  const std::int64_t n = 10000;
  const auto s = run(EulerMaruyama{}, m, n, 2000, 5e-4, 15, m.initial_state());
  const double mu = 0.3, sig[3] = {0.5, 0.8, 0.2};
  // sample mean and covariance of the log-coordinates
  Eigen::MatrixXd L(3, n);
  for (int i = 0; i < 3; ++i)
    for (std::int64_t p = 0; p < n; ++p) L(i, p) = std::log(s(i, p));
  const Eigen::Vector3d ml = L.rowwise().mean();
  const Eigen::MatrixXd Lc = L.colwise() - ml;
  const Eigen::Matrix3d C = Lc * Lc.transpose() / double(n - 1);
  for (int i = 0; i < 3; ++i) {
    const double me = (mu - 0.5 * sig[i] * sig[i]), ve = sig[i] * sig[i];  // t = 1
    // Euler's weak bias at dt = 5e-4 is ~ sigma^2 dt, far below the tolerance
    CHECK(std::abs(ml(i) - me) < 4 * std::sqrt(ve / double(n)));
    CHECK(std::abs(C(i, i) - ve) < 4 * ve * std::sqrt(2.0 / double(n)));
  }
  // the first two coordinates share their noises but are uncorrelated (orthogonal rows)
  const double cab = C(0, 1);
  CHECK(std::abs(cab) < 4 * 0.5 * 0.8 / std::sqrt(double(n)));
}

}  // namespace modelfile_examples_test
