// EMA of the weights: update values by hand, with and without decay warm-up.
#include <doctest/doctest.h>

#include "sdescore/nn/ema.hpp"

using namespace sdescore;
using namespace sdescore::nn;

TEST_CASE("Ema: values without warm-up") {
  Ema<double> e({0.9, false});
  Eigen::VectorXd th(2);
  th << 1, 2;
  e.update(th);  // first update copies
  CHECK(e.average() == th);
  th << 3, 0;
  e.update(th);
  CHECK(e.average()[0] == doctest::Approx(0.9 * 1 + 0.1 * 3));
  CHECK(e.average()[1] == doctest::Approx(0.9 * 2));
  e.update(th);
  CHECK(e.average()[0] == doctest::Approx(0.9 * 1.2 + 0.1 * 3));
  CHECK(e.updates() == 3);
}

TEST_CASE("Ema: decay warm-up min(decay, (1+k)/(10+k))") {
  Ema<double> e({0.999, true});
  CHECK(e.decay_at(2) == doctest::Approx(3.0 / 12.0));
  CHECK(e.decay_at(100000) == doctest::Approx(0.999));
  Eigen::VectorXd a(1), b(1);
  a << 0;
  b << 1;
  e.update(a);
  e.update(b);
  CHECK(e.average()[0] == doctest::Approx(1 - 3.0 / 12.0));
  // a constant sequence is a fixed point
  Ema<float> f;
  Eigen::VectorXf c = Eigen::VectorXf::Constant(3, 0.7f);
  for (int k = 0; k < 50; ++k) f.update(c);
  CHECK((f.average().array() - 0.7f).abs().maxCoeff() < 1e-6f);
}

TEST_CASE("Ema: save/restore round trip and validation") {
  Ema<float> e;
  Eigen::VectorXf th = Eigen::VectorXf::LinSpaced(4, 0, 1);
  e.update(th);
  e.update(2 * th);
  Ema<float> r;
  r.set_average(e.average(), e.updates());
  e.update(th);
  r.update(th);
  CHECK(r.average() == e.average());
  CHECK_THROWS_AS(Ema<float>({1.0, true}), ConfigError);
}
