#include "sdescore/eval/model_fields.hpp"

#include <doctest/doctest.h>

#include "eval_test_support.hpp"

using namespace sdescore;
using namespace sdescore::eval;

namespace {
// 1D multiplicative noise: dY = -Y dt + sqrt(1 + Y^2) dW, D = (1 + y^2)/2, div D = y.
// Zero-flux stationary density p ~ (1 + y^2)^-2 with score -4y/(1+y^2):
// v = f - D' - D s = -y - y + 2y = 0.
struct Multiplicative1D {
  static constexpr std::string_view name = "test_multiplicative";
  static constexpr std::string_view description = "test model";
  static constexpr std::string_view equation = "dY = -Y dt + sqrt(1 + Y^2) dW";
  static constexpr int state_dim = 1;
  static constexpr int noise_dim = 1;
  using noise_kind = diagonal_noise;
  template <class F>
  void for_each_param(F&&) {}
  void validate() {}
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

// 2D general noise (2 x 2, y-dependent in every entry used).
struct General2D {
  static constexpr std::string_view name = "test_general";
  static constexpr std::string_view description = "test model";
  static constexpr std::string_view equation = "dY = -Y dt + G(Y) dW";
  static constexpr int state_dim = 2;
  static constexpr int noise_dim = 2;
  using noise_kind = general_noise;
  template <class F>
  void for_each_param(F&&) {}
  void validate() {}
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
static_assert(SdeModel<Multiplicative1D>);
static_assert(SdeModel<General2D>);
}  // namespace

TEST_CASE("model fields: div D by autodiff equals central differences of D") {
  General2D m;
  for (const Vec<double, 2>& y : {Vec<double, 2>(0.3, -0.7), Vec<double, 2>(-1.2, 0.5), Vec<double, 2>(2.0, 1.0)}) {
    Vec<double, 2> fd = Vec<double, 2>::Zero();
    const double h = 1e-5;  // truncation ~1e-10, round-off ~1e-11
    for (int j = 0; j < 2; ++j) {
      Vec<double, 2> a = y, b = y;
      a(j) += h;
      b(j) -= h;
      const Mat<double, 2, 2> dD = (diffusion_matrix(m, a, 0.0) - diffusion_matrix(m, b, 0.0)) / (2 * h);
      for (int i = 0; i < 2; ++i) fd(i) += dD(i, j);
    }
    CHECK((diffusion_divergence(m, y, 0.0) - fd).norm() < 1e-8);
  }
  CHECK(diffusion_divergence(models::OU2{}, Vec<double, 2>(1, 2), 0.0).norm() == 0.0);
}

TEST_CASE("model fields: multiplicative noise, zero-flux stationary score gives v = 0") {
  Multiplicative1D m;
  auto score = pointwise_score<1>([](const Vec<double, 1>& y, double) { return Vec<double, 1>(-4 * y(0) / (1 + y(0) * y(0))); });
  const Eigen::MatrixXd y = Eigen::VectorXd::LinSpaced(41, -3.0, 3.0);
  CHECK(velocity_field(m, score, y, 0.0).cwiseAbs().maxCoeff() < 1e-13);
  CHECK((diffusion_divergence(m, Vec<double, 1>(0.8), 0.0) - Vec<double, 1>(0.8)).norm() < 1e-15);
}

TEST_CASE("model fields: batched drift and pseudo-inverse") {
  models::OU2 m;
  const Eigen::MatrixXd y = eval_test::gaussian_samples(1000, Eigen::Vector2d(1, 1), Eigen::Matrix2d::Identity(), 1);
  const Eigen::MatrixXd f = batch_drift(m, y, 0.0);
  CHECK((f + y * m.B.transpose()).norm() < 1e-12);
  Mat<double, 2, 2> A;
  A << 0, 0, 0, 4;
  const Mat<double, 2, 2> P = symmetric_pseudo_inverse<2>(A);
  CHECK(P(0, 0) == doctest::Approx(0.0));
  CHECK(P(1, 1) == doctest::Approx(0.25));
  CHECK_THROWS_AS(batch_drift(m, Eigen::MatrixXd(3, 1), 0.0), ConfigError);
}
