// Activations: known values, first and second derivatives against finite differences.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "sdescore/nn/activation.hpp"

using namespace sdescore::nn;

TEST_CASE("activate: known values at 0") {
  double z = 0, h, d1, d2;
  activate<double>(Activation::silu, 1, &z, &h, &d1, &d2);
  CHECK(h == 0.0);
  CHECK(d1 == doctest::Approx(0.5));
  CHECK(d2 == doctest::Approx(0.5));
  activate<double>(Activation::tanh, 1, &z, &h, &d1, &d2);
  CHECK(h == 0.0);
  CHECK(d1 == doctest::Approx(1.0));
  CHECK(d2 == doctest::Approx(0.0));
  activate<double>(Activation::softplus, 1, &z, &h, &d1, &d2);
  CHECK(h == doctest::Approx(std::log(2.0)));
  CHECK(d1 == doctest::Approx(0.5));
  CHECK(d2 == doctest::Approx(0.25));
}

TEST_CASE("activate: derivatives match finite differences; value-only path agrees") {
  std::vector<double> z;
  for (double x = -6; x <= 6; x += 0.37) z.push_back(x);
  const Eigen::Index n = Eigen::Index(z.size());
  for (Activation a : {Activation::silu, Activation::tanh, Activation::softplus}) {
    std::vector<double> h(n), d1(n), d2(n), h_only(n), zp(n), zm(n), hp(n), hm(n), d1p(n), d1m(n);
    activate<double>(a, n, z.data(), h.data(), d1.data(), d2.data());
    activate<double>(a, n, z.data(), h_only.data());
    const double eps = 1e-5;
    for (Eigen::Index i = 0; i < n; ++i) {
      zp[i] = z[i] + eps;
      zm[i] = z[i] - eps;
    }
    activate<double>(a, n, zp.data(), hp.data(), d1p.data());
    activate<double>(a, n, zm.data(), hm.data(), d1m.data());
    for (Eigen::Index i = 0; i < n; ++i) {
      CAPTURE(z[i]);
      CHECK(h_only[i] == doctest::Approx(h[i]).epsilon(1e-14));
      CHECK(d1[i] == doctest::Approx((hp[i] - hm[i]) / (2 * eps)).epsilon(1e-8));
      CHECK(d2[i] == doctest::Approx((d1p[i] - d1m[i]) / (2 * eps)).epsilon(1e-7).scale(1e-3));
    }
  }
}

TEST_CASE("activate: float is stable for large |z|") {
  float z[4] = {-100.f, -30.f, 30.f, 100.f}, h[4], d1[4], d2[4];
  for (Activation a : {Activation::silu, Activation::tanh, Activation::softplus}) {
    activate<float>(a, 4, z, h, d1, d2);
    for (int i = 0; i < 4; ++i) {
      CHECK(std::isfinite(h[i]));
      CHECK(std::isfinite(d1[i]));
      CHECK(std::isfinite(d2[i]));
    }
  }
  activate<float>(Activation::softplus, 4, z, h);
  CHECK(h[3] == doctest::Approx(100.0));
  CHECK(h[0] >= 0.0f);
}
