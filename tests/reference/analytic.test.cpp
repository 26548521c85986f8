#include "sdescore/reference/analytic.hpp"

#include <doctest/doctest.h>

using namespace sdescore;
using namespace sdescore::reference;

namespace reference_analytic_test {  // named and around the whole file: unity batches must not mix files' helpers
// Central finite-difference gradient of a log-density (step 1e-5: truncation ~1e-10 relative,
// round-off ~1e-16/1e-5 = 1e-11, so 1e-7 tolerances are safe).
template <int N, class F>
Vec<double, N> fd_grad(F&& logp, const Vec<double, N>& y) {
  Vec<double, N> g;
  for (int i = 0; i < N; ++i) {
    Vec<double, N> a = y, b = y;
    a(i) += 1e-5;
    b(i) -= 1e-5;
    g(i) = (logp(a) - logp(b)) / 2e-5;
  }
  return g;
}

TEST_CASE("analytic: Gaussian and mixture scores are the gradients of their log-densities") {
  GaussianLaw<2> g{Vec<double, 2>(0.3, -1.0), (Mat<double, 2, 2>() << 0.5, 0.2, 0.2, 0.4).finished()};
  GaussianMixtureLaw<2> mix{{g, GaussianLaw<2>{Vec<double, 2>(-1, 1), Mat<double, 2, 2>::Identity() * 0.3}}, {0.3, 0.7}};
  for (const Vec<double, 2>& y : {Vec<double, 2>(0.1, 0.2), Vec<double, 2>(-2, 1.5), Vec<double, 2>(1, -1)}) {
    const auto fg = fd_grad<2>([&](const Vec<double, 2>& x) { return g.log_density(x); }, y);
    CHECK((g.score(y) - fg).norm() < 1e-7);
    const auto fm = fd_grad<2>([&](const Vec<double, 2>& x) { return mix.log_density(x); }, y);
    CHECK((mix.score(y) - fm).norm() < 1e-7);
  }
  // Normalisation of the Gaussian: log density at the mean = -log(2 pi sqrt(det C)).
  CHECK(g.log_density(g.mean) == doctest::Approx(-std::log(2 * M_PI * std::sqrt(g.cov.determinant()))).epsilon(1e-13));
}

TEST_CASE("analytic: OU marginal (Van Loan) agrees with the model's Lyapunov closed form") {
  const models::OU2 m;  // non-symmetric B
  const GaussianLaw<2> p0{Vec<double, 2>(1.0, -0.5), (Mat<double, 2, 2>() << 0.2, 0.05, 0.05, 0.3).finished()};
  for (double t : {0.0, 0.1, 1.0, 5.0}) {
    const GaussianLaw<2> pt = ou_marginal(m, p0, t);
    // Two independent computations of Sigma_t: both are exact, so only round-off separates them.
    CHECK((ou_noise_covariance(m, t) - m.exact_covariance(t)).norm() < 1e-12);
    CHECK((pt.mean - m.exact_mean(p0.mean, t)).norm() < 1e-13);
    if (t == 0.0) CHECK((pt.cov - p0.cov).norm() < 1e-14);
  }
  // Long times: the stationary law, whatever the start (e^{-B t} ~ e^{-50} at t = 50).
  const GaussianLaw<2> pinf = ou_marginal(m, p0, 50.0);
  CHECK((pinf.cov - ou_stationary(m).cov).norm() < 1e-12);
  CHECK(pinf.mean.norm() < 1e-12);
  // 1D: Var_t = e^{-2t} C0 + (1 - e^{-2t}) / 2 for B = 1, S = 1.
  const models::OU1 m1;
  const GaussianLaw<1> q = ou_marginal(m1, GaussianLaw<1>{Vec<double, 1>(2.0), Mat<double, 1, 1>(0.1)}, 0.7);
  CHECK(q.cov(0, 0) == doctest::Approx(std::exp(-1.4) * 0.1 + 0.5 * (1 - std::exp(-1.4))).epsilon(1e-13));
  CHECK(q.mean(0) == doctest::Approx(2.0 * std::exp(-0.7)).epsilon(1e-13));
}

TEST_CASE("analytic: a Gaussian mixture under OU noising propagates component-wise") {
  const models::OU1 m;
  const GaussianMixtureLaw<1> p0{{GaussianLaw<1>{Vec<double, 1>(-1.5), Mat<double, 1, 1>(0.25)},
                                  GaussianLaw<1>{Vec<double, 1>(1.5), Mat<double, 1, 1>(0.25)}},
                                 {0.3, 0.7}};
  const GaussianMixtureLaw<1> pt = ou_marginal(m, p0, 0.4);
  CHECK(pt.weights == p0.weights);
  for (int k = 0; k < 2; ++k) {
    const GaussianLaw<1> c = ou_marginal(m, p0.components[k], 0.4);
    CHECK(pt.components[k].mean(0) == doctest::Approx(c.mean(0)));
    CHECK(pt.components[k].cov(0, 0) == doctest::Approx(c.cov(0, 0)));
  }
  // The mixture law's density integrates to 1 (trapezoid on [-10, 10], error << 1e-9).
  double z = 0;
  for (int i = 0; i <= 20000; ++i) z += pt.density(Vec<double, 1>(-10 + i * 1e-3)) * 1e-3 * (i == 0 || i == 20000 ? 0.5 : 1);
  CHECK(z == doctest::Approx(1.0).epsilon(1e-9));
  // The isotropic model mixture converts exactly.
  const auto fromm = GaussianMixtureLaw<1>::from(models::OverdampedLangevin1D::default_mixture());
  const auto target = models::OverdampedLangevin1D::default_mixture();
  for (double x : {-2.0, 0.0, 0.7}) CHECK(fromm.score(Vec<double, 1>(x))(0) == doctest::Approx(target.score(Vec<double, 1>(x))(0)));
}

TEST_CASE("analytic: Boltzmann stationary scores") {
  models::DoubleWell dw;
  dw.T = 0.5;
  const auto s = stationary_score(dw);
  for (double x : {-1.3, 0.0, 0.4, 2.0}) {
    const Vec<double, 1> y(x);
    CHECK(s(y)(0) == doctest::Approx(-4 * dw.a * x * (x * x - 1) / dw.T));
    CHECK(s(y)(0) == doctest::Approx(fd_grad<1>([&](const Vec<double, 1>& z) { return dw.log_stationary_density(z); }, y)(0)).epsilon(1e-7));
  }
  models::OverdampedLangevin2D ol;
  ol.T = 2.0;
  const auto s2 = stationary_score(ol);
  const Vec<double, 2> y(0.3, -1.2);
  CHECK((s2(y) - fd_grad<2>([&](const Vec<double, 2>& z) { return ol.log_stationary_density(z); }, y)).norm() < 1e-7);
  // Stationary density on a grid is normalised.
  const Grid<1> g(GridSpec<1>{{-3.0}, {3.0}, {300}});
  const Eigen::VectorXd p = stationary_density_on_grid(dw, g);
  CHECK(p.sum() * g.cell_volume() == doctest::Approx(1.0).epsilon(1e-14));
}

}  // namespace reference_analytic_test
