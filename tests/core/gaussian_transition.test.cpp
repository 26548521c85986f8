// The local-linearisation transition: mean by the augmented exponential, covariance by Van Loan.
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "sdescore/sdescore.hpp"
#include "test_support.hpp"

using namespace sdescore;

namespace {

/// Sigma = int_0^Delta e^{A tau} Q e^{A^T tau} dtau by composite Simpson (independent of Van Loan).
template <int D>
Mat<double, D, D> covariance_by_quadrature(const Mat<double, D, D>& A, const Mat<double, D, D>& Q, double delta,
                                           int n = 2000) {
  Mat<double, D, D> S = Mat<double, D, D>::Zero();
  const double h = delta / n;
  for (int i = 0; i <= n; ++i) {
    const double w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    const Mat<double, D, D> E = (A * (i * h)).exp();
    S += w * E * Q * E.transpose();
  }
  return S * h / 3;
}

/// u' = A u + c tau + f, u(0) = 0, by classical RK4 with small steps.
template <int D>
Vec<double, D> displacement_by_rk4(const Mat<double, D, D>& A, const Vec<double, D>& f, const Vec<double, D>& c,
                                   double delta, int n = 4000) {
  Vec<double, D> u = Vec<double, D>::Zero();
  const double h = delta / n;
  auto rhs = [&](const Vec<double, D>& v, double tau) -> Vec<double, D> { return A * v + c * tau + f; };
  for (int i = 0; i < n; ++i) {
    const double t = i * h;
    const Vec<double, D> k1 = rhs(u, t), k2 = rhs(u + 0.5 * h * k1, t + 0.5 * h), k3 = rhs(u + 0.5 * h * k2, t + 0.5 * h),
                         k4 = rhs(u + h * k3, t + h);
    u += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  return u;
}

}  // namespace

TEST_CASE("Van Loan covariance equals numerical quadrature, elliptic and hypoelliptic") {
  Mat<double, 3, 3> A;
  A << -1.0, 0.4, 0.0, -0.3, -0.5, 0.8, 0.1, 0.0, -2.0;
  Mat<double, 3, 3> G;
  G << 1.0, 0.0, 0.0, 0.3, 0.7, 0.0, 0.0, 0.2, 0.5;
  const Mat<double, 3, 3> Q = G * G.transpose();
  for (double delta : {0.01, 0.3, 2.0}) {
    const auto S = van_loan_covariance<3>(A, Q, delta);
    const auto R = covariance_by_quadrature<3>(A, Q, delta);
    CHECK((S - R).norm() <= 1e-10 * R.norm());
  }
  // Active swimmer linearised at (x, v): A = [[-3x^2, 1], [0, -gamma]], noise on v only.
  models::ActiveSwimmer sw;
  const Vec<double, 2> y(0.7, 0.2);
  const auto As = drift_jacobian(sw, y, 0.0);
  const auto Gs = sw.diffusion(y, 0.0);
  const Mat<double, 2, 2> Qs = Gs * Gs.transpose();
  for (double delta : {1e-3, 0.05, 1.0}) {
    const auto S = van_loan_covariance<2>(As, Qs, delta);
    const auto R = covariance_by_quadrature<2>(As, Qs, delta);
    CHECK((S - R).norm() <= 1e-9 * R.norm());
    // positive definite through the coupling although Q is singular
    Eigen::SelfAdjointEigenSolver<Mat<double, 2, 2>> es(S);
    CHECK(es.eigenvalues()(0) > 0);
  }
  // Hypoelliptic scaling: the x-variance is O(Delta^3) (2 gamma D Delta^3 / 3), the v-variance O(Delta).
  const double d = 1e-3;
  const auto S = van_loan_covariance<2>(As, Qs, d);
  const double q = 2 * sw.gamma * sw.D;
  CHECK(std::abs(S(0, 0) / (q * d * d * d / 3) - 1) < 1e-2);
  CHECK(std::abs(S(1, 1) / (q * d) - 1) < 1e-2);
}

TEST_CASE("LL mean: the augmented exponential equals the ODE solution, also for singular A") {
  Mat<double, 2, 2> A;
  A << 0.0, 1.0, 0.0, 0.0;  // free particle: singular, nilpotent
  const Vec<double, 2> f(0.3, -1.0), c(0.5, 2.0);
  for (double delta : {0.01, 0.5, 3.0}) {
    const auto u = affine_flow_displacement<2>(A, f, c, delta);
    const auto r = displacement_by_rk4<2>(A, f, c, delta);
    CHECK((u - r).norm() <= 1e-10 * (1 + r.norm()));
  }
  Mat<double, 2, 2> B;
  B << -1.0, 2.0, -0.5, 0.3;
  const auto u = affine_flow_displacement<2>(B, f, c, 0.7);
  CHECK((u - displacement_by_rk4<2>(B, f, c, 0.7)).norm() <= 1e-10);
}

namespace {

// Polynomials for an independent Ito-Taylor reference of E[X_Delta | X_0 = x] on the double well.
using Poly = std::vector<double>;  // coefficients, p[k] x^k
Poly mul(const Poly& a, const Poly& b) {
  Poly r(a.size() + b.size() - 1, 0.0);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) r[i + j] += a[i] * b[j];
  return r;
}
Poly deriv(const Poly& a) {
  Poly r(std::max<std::size_t>(1, a.size() - 1), 0.0);
  for (std::size_t k = 1; k < a.size(); ++k) r[k - 1] = k * a[k];
  return r;
}
Poly add(Poly a, const Poly& b, double s) {
  if (a.size() < b.size()) a.resize(b.size(), 0.0);
  for (std::size_t k = 0; k < b.size(); ++k) a[k] += s * b[k];
  return a;
}
double eval(const Poly& p, double x) {
  double r = 0;
  for (std::size_t k = p.size(); k-- > 0;) r = r * x + p[k];
  return r;
}

/// E[X_Delta] = sum_k Delta^k / k! L^k x with the generator L p = f p' + T p'' (g^2/2 = T).
double ito_taylor_mean(const models::DoubleWell& m, double x, double delta, int order) {
  const Poly f{0.0, 4 * m.a, 0.0, -4 * m.a};
  Poly p{0.0, 1.0};
  double result = x, fact = 1;
  for (int k = 1; k <= order; ++k) {
    p = add(mul(f, deriv(p)), deriv(deriv(p)), m.T);
    fact *= k;
    result += std::pow(delta, k) / fact * eval(p, x);
  }
  return result;
}

}  // namespace

TEST_CASE("Ito-corrected LL mean: one-step mean error O(Delta^3) against O(Delta^2) without it") {
  models::DoubleWell m{.a = 1.0, .T = 0.5};
  const Vec<double, 1> x(0.6);
  std::vector<double> deltas{0.02, 0.01, 0.005, 0.0025}, e_plain, e_ito;
  for (double d : deltas) {
    const double ref = ito_taylor_mean(m, x(0), d, 8);  // truncation O(d^9): negligible
    e_plain.push_back(std::abs(local_linear_transition(m, x, 0.0, d, {.ito_corrected_mean = false}).mean(0) - ref));
    e_ito.push_back(std::abs(local_linear_transition(m, x, 0.0, d, {.ito_corrected_mean = true}).mean(0) - ref));
  }
  const double s_plain = test::loglog_slope(deltas, e_plain), s_ito = test::loglog_slope(deltas, e_ito);
  MESSAGE("one-step mean error slopes: plain ", s_plain, ", Ito-corrected ", s_ito);
  CHECK(std::abs(s_plain - 2.0) < 0.1);  // deterministic: tight windows
  CHECK(std::abs(s_ito - 3.0) < 0.1);
  CHECK(e_ito.back() < 0.05 * e_plain.back());
}

TEST_CASE("LL transition of OU is the exact transition") {
  models::OU2 m;
  const Vec<double, 2> y(0.8, -1.1);
  for (double d : {0.01, 0.7, 5.0}) {
    const auto tr = local_linear_transition(m, y, 0.0, d);
    CHECK((tr.mean - m.exact_mean(y, d)).norm() < 1e-12);
    CHECK((tr.cov - m.exact_covariance(d)).norm() < 1e-12);
  }
}

TEST_CASE("robust Cholesky: plain, jittered and refused") {
  Mat<double, 2, 2> S;
  S << 4.0, 2.0, 2.0, 3.0;
  double jitter = -1;
  Mat<double, 2, 2> L = robust_cholesky<2>(S, &jitter);
  CHECK(jitter == 0.0);
  CHECK((L * L.transpose() - S).norm() < 1e-14);
  S << 1.0, 1.0, 1.0, 1.0;  // singular: needs jitter, and says how much
  L = robust_cholesky<2>(S, &jitter);
  CHECK(jitter > 0.0);
  CHECK(jitter < 1e-6);
  S << 1.0, 0.0, 0.0, -1.0;
  CHECK_THROWS_AS(robust_cholesky<2>(S), NumericalError);
  S(0, 0) = std::nan("");
  CHECK_THROWS_WITH_AS(robust_cholesky<2>(S), doctest::Contains("non-finite"), NumericalError);
}

TEST_CASE("1D closed-form transition equals the matrix-exponential path, including near a = 0") {
  for (double a : {-3.0, -1e-7, 0.0, 2e-6, 0.4}) {
    for (double delta : {1e-4, 0.01, 0.5}) {
      const Mat<double, 1, 1> A(a), Q(0.7);
      const Vec<double, 1> f(0.3), c(-1.2);
      const double z = a * delta;
      const double m_closed = delta * phi1(z) * f(0) + delta * delta * phi2(z) * c(0);
      const double v_closed = Q(0, 0) * delta * phi1(2 * z);
      CHECK(m_closed == doctest::Approx(affine_flow_displacement<1>(A, f, c, delta)(0)).epsilon(1e-12));
      CHECK(v_closed == doctest::Approx(van_loan_covariance<1>(A, Q, delta)(0, 0)).epsilon(1e-12));
    }
  }
}
