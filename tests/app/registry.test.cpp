#include <doctest/doctest.h>

#include "sdescore/app/registry.hpp"

using namespace sdescore;
using namespace sdescore::app;

TEST_CASE("registry lists every model with its dimension, parameters and steppers") {
  const auto all = list_models();
  CHECK(all.size() == 8);
  const auto dw = describe_model("double_well");
  CHECK(dw.state_dim == 1);
  CHECK(dw.params.size() == 2);
  CHECK(dw.params[1].info.name == "T");
  CHECK(dw.params[1].default_value == 0.5);
  const auto ul = describe_model("underdamped_langevin");
  CHECK(std::find(ul.steppers.begin(), ul.steppers.end(), "baoab") != ul.steppers.end());
  CHECK(std::find(dw.steppers.begin(), dw.steppers.end(), "baoab") == dw.steppers.end());
}

TEST_CASE("default steppers and stationary laws are traits of the models") {
  CHECK(describe_model("underdamped_langevin").default_stepper == "baoab");
  CHECK(default_stepper("double_well") == "euler_maruyama");
  CHECK(default_stepper("active_swimmer") == "euler_maruyama");
  CHECK(describe_model("ou").stationary_law);
  CHECK_FALSE(describe_model("active_swimmer").stationary_law);
  CHECK(models_with_stationary_law() ==
        "double_well, ou, ou2d, underdamped_langevin, overdamped_langevin_1d, overdamped_langevin");
  CHECK_THROWS_AS(default_stepper("nope"), ConfigError);
}

TEST_CASE("visit_model applies overrides and validates") {
  double T = visit_model("double_well", {{"T", 0.25}}, [](auto& m) {
    if constexpr (requires { m.T; }) return m.T;
    return -1.0;
  });
  CHECK(T == 0.25);
  CHECK_THROWS_WITH_AS(visit_model("double_wel", {}, [](auto&) {}),
                       doctest::Contains("unknown model 'double_wel': valid models are double_well, ou, ou2d"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(visit_model("double_well", {{"b", 1.0}}, [](auto&) {}),
                       doctest::Contains("has no parameter 'b': valid parameters are a, T"), ConfigError);
  CHECK_THROWS_WITH_AS(visit_model("double_well", {{"T", -1.0}}, [](auto&) {}),
                       doctest::Contains("T = -1 is out of range"), ConfigError);
}

TEST_CASE("visit_stepper refuses steppers that do not fit the model") {
  std::string got;
  visit_stepper<models::UnderdampedLangevin>("baoab", [&](auto st) { got = decltype(st)::name; });
  CHECK(got == "baoab");
  CHECK_THROWS_WITH_AS(visit_stepper<models::DoubleWell>("baoab", [](auto) {}),
                       doctest::Contains("valid steppers for it are euler_maruyama, milstein, heun, local_linearization"),
                       ConfigError);
  CHECK_THROWS_AS(visit_stepper<models::DoubleWell>("rk4", [](auto) {}), ConfigError);
}

TEST_CASE("parse_param accepts name=value and rejects anything else") {
  const auto p = parse_param("gamma=0.25");
  CHECK(p.name == "gamma");
  CHECK(p.value == 0.25);
  CHECK_THROWS_WITH_AS(parse_param("gamma"), doctest::Contains("not of the form name=value"), ConfigError);
  CHECK_THROWS_WITH_AS(parse_param("gamma=abc"), doctest::Contains("value 'abc' is not a number"), ConfigError);
  CHECK_THROWS_AS(parse_param("gamma=1.5x"), ConfigError);
  CHECK_THROWS_AS(parse_param("=1"), ConfigError);
}
