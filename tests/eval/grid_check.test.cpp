// Up-front checks of evaluation grids (scorefit grid / physics --lo --hi --n).
#include <doctest/doctest.h>

#include <limits>

#include "sdescore/eval/grid_check.hpp"

using namespace sdescore;
using sdescore::eval::check_grid_options;

TEST_CASE("grid options: counts, finite corners, lo < hi, points per axis, total cap") {
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_NOTHROW(check_grid_options("grid", {}, {}, {}, 2, 3));
  CHECK_NOTHROW(check_grid_options("grid", {-1}, {1, 2}, {11}, 2, 3));
  CHECK_THROWS_WITH_AS(check_grid_options("grid", {-1, 0, 1}, {}, {}, 2, 1), doctest::Contains("--lo has 3 values: give 1 or 2"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(check_grid_options("grid", {}, {inf}, {}, 1, 1), doctest::Contains("--hi inf is invalid"), ConfigError);
  CHECK_THROWS_WITH_AS(check_grid_options("grid", {1}, {0}, {}, 1, 1), doctest::Contains("must exceed --lo"), ConfigError);
  CHECK_THROWS_WITH_AS(check_grid_options("physics", {}, {}, {0}, 2, 1), doctest::Contains("physics: --n 0 is invalid"), ConfigError);
  CHECK_THROWS_AS(check_grid_options("grid", {}, {}, {1000000000}, 1, 1), ConfigError);
  CHECK_NOTHROW(check_grid_options("grid", {}, {}, {4000}, 2, 1));  // 16e6 points
  CHECK_THROWS_WITH_AS(check_grid_options("grid", {}, {}, {4000}, 2, 2), doctest::Contains("limit of 20000000"), ConfigError);
}
