// lib/sdescore/core/parse.hpp: the option-text helpers sdesim and the simulation run share.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "sdescore/core/parse.hpp"

using namespace sdescore::parse;

TEST_CASE("parse: split keeps empty fields") {
  CHECK(split("0:-1:1:10", ':') == std::vector<std::string>{"0", "-1", "1", "10"});
  CHECK(split("a::b:", ':') == std::vector<std::string>{"a", "", "b", ""});
  CHECK(split("", ':') == std::vector<std::string>{""});
}

TEST_CASE("parse: to_int and to_double accept only a whole number text") {
  CHECK(to_int("12") == 12);
  CHECK(to_int("-3") == -3);
  CHECK_FALSE(to_int("12x").has_value());
  CHECK_FALSE(to_int("1.5").has_value());
  CHECK_FALSE(to_int("").has_value());
  CHECK_FALSE(to_int("99999999999999999999999").has_value());  // overflow: refused, not clamped
  CHECK(to_double("1e-3") == 1e-3);
  CHECK(to_double("-2.5") == -2.5);
  CHECK(std::isinf(*to_double("inf")));
  CHECK_FALSE(to_double("1.5.2").has_value());
  CHECK_FALSE(to_double(" ").has_value());
}

TEST_CASE("parse: shortest_decimal reads back exactly") {
  CHECK(shortest_decimal(0.1) == "0.1");
  CHECK(shortest_decimal(100) == "100");
  CHECK(shortest_decimal(1.0 / 3) == "0.3333333333333333");
  CHECK(shortest_decimal(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(shortest_decimal(std::nan("")) == "nan");
  for (double v : {1e-300, 123456.789, 2.0 / 7, 6.02214076e23})
    CHECK(std::strtod(shortest_decimal(v).c_str(), nullptr) == v);
}
