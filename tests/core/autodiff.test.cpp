// Autodiff derivatives of every model's drift against central finite differences.
#include <doctest/doctest.h>

#include "sdescore/sdescore.hpp"
#include "support/toy_models.hpp"
#include "test_support.hpp"

using namespace sdescore;

namespace core_autodiff_test {  // named and around the whole file: unity batches must not mix files' helpers

template <class M>
void check_jacobian(const M& m, const Vec<double, M::state_dim>& y, double t) {
  constexpr int D = M::state_dim;
  const auto J = drift_jacobian(m, y, t);
  const double h = 1e-6;
  for (int j = 0; j < D; ++j) {
    Vec<double, D> yp = y, ym = y;
    yp(j) += h;
    ym(j) -= h;
    const Vec<double, D> col = (m.drift(yp, t) - m.drift(ym, t)) / (2 * h);
    for (int i = 0; i < D; ++i) {
      // central differences: truncation O(h^2 f''') plus rounding O(eps |f| / h) ~ 1e-9 here
      CHECK_MESSAGE(J(i, j) == doctest::Approx(col(i)).epsilon(1e-6).scale(std::max(1.0, std::abs(col(i)))),
                    M::name, " J(", i, ",", j, ")");
    }
  }
}

template <class M>
void check_second_directional(const M& m, const Vec<double, M::state_dim>& y, double t,
                              const Vec<double, M::state_dim>& u) {
  const auto d2 = drift_second_directional(m, y, t, u);
  const double h = 1e-4;
  const Vec<double, M::state_dim> fd = (m.drift(Vec<double, M::state_dim>(y + h * u), t) - 2 * m.drift(y, t) +
                                        m.drift(Vec<double, M::state_dim>(y - h * u), t)) /
                                       (h * h);
  for (int i = 0; i < M::state_dim; ++i)
    CHECK_MESSAGE(d2(i) == doctest::Approx(fd(i)).epsilon(1e-5).scale(std::max(1.0, std::abs(fd(i)))), M::name);
}

template <class M>
void check_model(const M& m, const Vec<double, M::state_dim>& y, double t = 0.3) {
  check_jacobian(m, y, t);
  Vec<double, M::state_dim> u = Vec<double, M::state_dim>::LinSpaced(0.7, -0.4);
  if constexpr (M::state_dim == 1) u(0) = 0.9;
  check_second_directional(m, y, t, u);
}


TEST_CASE("autodiff Jacobian and second directional derivative of every model equal finite differences") {
  using namespace models;
  check_model(DoubleWell{}, Vec<double, 1>(0.37));
  check_model(OU1{}, Vec<double, 1>(-1.2));
  check_model(OU2{}, Vec<double, 2>(0.4, -0.9));
  check_model(ActiveSwimmer{}, Vec<double, 2>(0.8, -0.5));
  check_model(ActiveBrownian2D{.v0 = 1.3, .k = 0.4}, Vec<double, 3>(0.2, -0.4, 0.77));
  check_model(UnderdampedLangevin{}, Vec<double, 2>(0.6, 1.1));
  check_model(OverdampedLangevin1D{}, Vec<double, 1>(0.4));
  check_model(OverdampedLangevin2D{}, Vec<double, 2>(0.5, -1.3));
  check_model(toy::TimeDependentToy{}, Vec<double, 2>(0.5, -1.3), 0.8);
}

TEST_CASE("df/dt by autodiff equals finite differences for a non-autonomous drift") {
  toy::TimeDependentToy m;
  const Vec<double, 2> y(0.5, -1.3);
  const double t = 0.8, h = 1e-6;
  const Vec<double, 2> fd = (m.drift(y, t + h) - m.drift(y, t - h)) / (2 * h);
  const Vec<double, 2> ad = drift_time_derivative(m, y, t);
  CHECK(ad(0) == doctest::Approx(fd(0)).epsilon(1e-7));
  CHECK(ad(1) == doctest::Approx(fd(1)).epsilon(1e-7));
  CHECK(drift_time_derivative(models::DoubleWell{}, Vec<double, 1>(0.3), 0.0)(0) == 0.0);
}

TEST_CASE("known values: double-well Jacobian and Ito curvature by hand") {
  models::DoubleWell m{.a = 1.5, .T = 0.7};
  const double x = 0.6;
  // f = -4a x (x^2 - 1): f' = -4a (3x^2 - 1), f'' = -24 a x
  CHECK(drift_jacobian(m, Vec<double, 1>(x), 0.0)(0, 0) == doctest::Approx(-4 * 1.5 * (3 * x * x - 1)));
  const auto G = m.diffusion(Vec<double, 1>(x), 0.0);
  // 1/2 (G G^T) f'' = 1/2 (2T) (-24 a x)
  CHECK(drift_ito_curvature(m, Vec<double, 1>(x), 0.0, G)(0) == doctest::Approx(0.5 * 2 * 0.7 * (-24 * 1.5 * x)));
}

/// A 1D generic-scalar model whose drift uses time, division and the jet's maths.
struct JetToy : toy::ToyModel<1, 1, additive_noise> {
  static constexpr std::string_view name = "jet_toy";
  static constexpr std::string_view equation = "dX = (sin(t) X - X^3 / (1 + X^2) + exp(-X/2) + sqrt(2 + cos(t) X^2) + log(3 + X^2)) dt + dW";
  static constexpr bool generic_scalar = true;
  template <class S>
  Vec<S, 1> drift(const Vec<S, 1>& y, const S& t) const {
    using std::cos;
    using std::exp;
    using std::log;
    using std::sin;
    using std::sqrt;
    const S& x = y(0);
    return Vec<S, 1>(sin(t) * x - x * x * x / (S(1.0) + x * x) + exp(S(-0.5) * x) + sqrt(S(2.0) + cos(t) * x * x) +
                     log(S(3.0) + x * x));
  }
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>&, const S&) const {
    return Mat<S, 1, 1>(S(0.8));
  }
  Vec<double, 1> initial_state() const { return Vec<double, 1>::Zero(); }
};

template <class M>
void check_jet(const M& m, double x, double t) {
  const Vec<double, 1> y(x);
  const auto j = drift_jet_1d(m, x, t);
  CHECK(j.v == m.drift(y, t)(0));                            // the value: the same operations
  CHECK(j.d == drift_jacobian(m, y, t)(0, 0));              // Eigen's first-order rules, bit for bit
  CHECK(j.dt == drift_time_derivative(m, y, t)(0));
  const double d2 = drift_second_directional(m, y, t, Vec<double, 1>(1.0))(0);  // nested AutoDiff
  CHECK(j.dd == doctest::Approx(d2).epsilon(1e-13).scale(1.0));
}

TEST_CASE("drift_jet_1d: value, df/dy and df/dt bit for bit as drift, drift_jacobian and drift_time_derivative; f'' as nested AutoDiff") {
  for (double x : {-1.7, -0.3, 0.0, 0.45, 2.2})
    for (double t : {0.0, 0.8}) {
      check_jet(models::DoubleWell{.a = 1.3, .T = 0.4}, x, t);
      check_jet(JetToy{}, x, t);
    }
}

}  // namespace core_autodiff_test
