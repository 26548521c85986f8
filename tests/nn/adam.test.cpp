// Adam: first step by hand, clipping, convergence on a quadratic.
#include <doctest/doctest.h>

#include <cmath>

#include "sdescore/nn/adam.hpp"

using namespace sdescore;
using namespace sdescore::nn;

TEST_CASE("Adam: the first step moves each parameter by lr * sign(g)") {
  AdamOptions o;
  o.max_grad_norm = 0;
  Adam<double> adam(3, o);
  Eigen::VectorXd th = Eigen::VectorXd::Zero(3), g(3);
  g << 2.0, -0.5, 1e-3;
  adam.step(th, g, 0.1);
  CHECK(th[0] == doctest::Approx(-0.1).epsilon(1e-6));
  CHECK(th[1] == doctest::Approx(0.1).epsilon(1e-6));
  CHECK(th[2] == doctest::Approx(-0.1 * 1e-3 / (1e-3 + 1e-8)).epsilon(1e-9));
  CHECK(adam.steps() == 1);
}

TEST_CASE("Adam: global-norm clipping scales the whole gradient") {
  AdamOptions o;
  o.max_grad_norm = 1.0;
  Adam<double> adam(2, o);
  Eigen::VectorXd th = Eigen::VectorXd::Zero(2), g(2);
  g << 3.0, 4.0;
  CHECK(adam.step(th, g, 0.1) == doctest::Approx(5.0));
  CHECK(g[0] == doctest::Approx(0.6));
  CHECK(g[1] == doctest::Approx(0.8));
  CHECK(adam.first_moment()[1] == doctest::Approx(0.1 * 0.8));
  Eigen::VectorXd bad(2);
  bad << 1.0, std::nan("");
  CHECK_THROWS_AS(adam.step(th, bad, 0.1), NumericalError);
}

TEST_CASE("Adam: converges on an ill-conditioned quadratic") {
  // f = 1/2 sum_i a_i (x_i - c_i)^2 with a spanning three decades
  Eigen::VectorXf a(4), c(4);
  a << 1e-1f, 1.f, 10.f, 100.f;
  c << 1.f, -2.f, 0.5f, 3.f;
  Adam<float> adam(4, AdamOptions{});
  Eigen::VectorXf x = Eigen::VectorXf::Zero(4);
  for (int k = 0; k < 3000; ++k) {
    Eigen::VectorXf g = a.cwiseProduct(x - c);
    const double lr = 0.05 * (k < 2000 ? 1.0 : 0.1);
    adam.step(x, g, lr);
  }
  CHECK((x - c).cwiseAbs().maxCoeff() < 1e-2f);
  CHECK_THROWS_AS(Adam<float>(3, AdamOptions{1.0}), ConfigError);
}

TEST_CASE("Adam: state save/restore round trip continues identically") {
  Eigen::VectorXf a(3), c(3);
  a << 1.f, 4.f, 0.5f;
  c << 1.f, -1.f, 2.f;
  Adam<float> full(3), first(3);
  Eigen::VectorXf x = Eigen::VectorXf::Zero(3), y = x;
  for (int k = 0; k < 10; ++k) {
    Eigen::VectorXf g = a.cwiseProduct(x - c);
    full.step(x, g, 0.01);
    if (k < 4) {
      Eigen::VectorXf h = a.cwiseProduct(y - c);
      first.step(y, h, 0.01);
    }
  }
  Adam<float> resumed(3);
  resumed.set_state(first.first_moment(), first.second_moment(), first.steps());
  for (int k = 4; k < 10; ++k) {
    Eigen::VectorXf h = a.cwiseProduct(y - c);
    resumed.step(y, h, 0.01);
  }
  CHECK(x == y);
  CHECK(resumed.steps() == 10);
  CHECK_THROWS_AS(resumed.set_state(Eigen::VectorXf::Zero(2), Eigen::VectorXf::Zero(3), 1), ConfigError);
}
