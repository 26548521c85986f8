// Learning-rate schedule: warm-up, cosine and step values by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "sdescore/nn/schedule.hpp"

using namespace sdescore;
using namespace sdescore::nn;

TEST_CASE("LrSchedule: warm-up then cosine") {
  const LrSchedule s = LrSchedule::warmup_cosine(1e-3, 10, 110, 1e-5);
  CHECK(s(0) == doctest::Approx(1e-4));
  CHECK(s(4) == doctest::Approx(5e-4));
  CHECK(s(9) == doctest::Approx(1e-3));
  CHECK(s(10) == doctest::Approx(1e-3));
  CHECK(s(60) == doctest::Approx(1e-5 + (1e-3 - 1e-5) * 0.5));          // halfway
  CHECK(s(35) == doctest::Approx(1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + std::cos(3.141592653589793 / 4))));
  CHECK(s(110) == doctest::Approx(1e-5));
  CHECK(s(5000) == doctest::Approx(1e-5));
  for (int k = 10; k < 120; ++k) CHECK(s(k + 1) <= s(k));
}

TEST_CASE("LrSchedule: step and constant decay, no warm-up") {
  LrSchedule s;
  s.base_lr = 0.1;
  s.decay = LrSchedule::Decay::step;
  s.step_size = 100;
  s.gamma = 0.5;
  CHECK(s(0) == doctest::Approx(0.1));
  CHECK(s(99) == doctest::Approx(0.1));
  CHECK(s(100) == doctest::Approx(0.05));
  CHECK(s(250) == doctest::Approx(0.025));
  CHECK(LrSchedule::constant(0.3)(12345) == doctest::Approx(0.3));
}

TEST_CASE("LrSchedule: validation") {
  CHECK_THROWS_AS(LrSchedule::warmup_cosine(1e-3, 100, 100).validate(), ConfigError);
  CHECK_THROWS_AS(LrSchedule::warmup_cosine(-1.0, 0, 100).validate(), ConfigError);
  CHECK_NOTHROW(LrSchedule::warmup_cosine(1e-3, 0, 100).validate());
}
