#include "sdescore/reference/grid.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

using namespace sdescore;
using namespace sdescore::reference;

namespace reference_grid_test {  // named and around the whole file: unity batches must not mix files' helpers
template <int N>
std::string error_of(const GridSpec<N>& s) {
  try {
    Grid<N> g(s);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("grid: centres, widths and flat indexing (first index fastest)") {
  const Grid<2> g(GridSpec<2>{{-1.0, 0.0}, {1.0, 3.0}, {4, 3}});
  CHECK(g.size() == 12);
  CHECK(g.h(0) == doctest::Approx(0.5));
  CHECK(g.h(1) == doctest::Approx(1.0));
  CHECK(g.cell_volume() == doctest::Approx(0.5));
  CHECK(g.centre(0, 0) == doctest::Approx(-0.75));
  CHECK(g.centre(1, 2) == doctest::Approx(2.5));
  CHECK(g.flat({1, 2}) == 9);
  CHECK(g.multi(9) == std::array<int, 2>{1, 2});
  const Vec<double, 2> c = g.centre_of(9);
  CHECK(c(0) == doctest::Approx(-0.25));
  CHECK(c(1) == doctest::Approx(2.5));
  CHECK(g.contains(Vec<double, 2>(1.0, 0.0)));
  CHECK_FALSE(g.contains(Vec<double, 2>(1.01, 0.0)));
}

TEST_CASE("grid: bad input is rejected with a message naming the value") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::string m = error_of(GridSpec<1>{{0.0}, {1.0}, {0}});
  CHECK(m.find("cells[0] = 0") != std::string::npos);
  CHECK(m.find(">= 3") != std::string::npos);
  m = error_of(GridSpec<2>{{0.0, 0.0}, {1.0, 1.0}, {10, -5}});
  CHECK(m.find("cells[1] = -5") != std::string::npos);
  m = error_of(GridSpec<2>{{0.0, 2.0}, {1.0, 1.0}, {10, 10}});
  CHECK(m.find("lower[1] = 2 >= upper[1] = 1") != std::string::npos);
  m = error_of(GridSpec<1>{{1.0}, {1.0}, {10}});
  CHECK(m.find("lower[0] = 1 >= upper[0] = 1") != std::string::npos);
  m = error_of(GridSpec<1>{{nan}, {1.0}, {10}});
  CHECK(m.find("lower[0] = nan") != std::string::npos);
  m = error_of(GridSpec<2>{{0.0, 0.0}, {1.0, std::numeric_limits<double>::infinity()}, {10, 10}});
  CHECK(m.find("upper[1] = inf") != std::string::npos);
  // 10^12 cells: the int cell index would overflow (it used to, and the solver died in reserve())
  m = error_of(GridSpec<2>{{0.0, 0.0}, {1.0, 1.0}, {1000000, 1000000}});
  CHECK(m.find("cells 1000000 x 1000000 = 1000000000000 cells is invalid: at most 2147483647 cells") != std::string::npos);
}

}  // namespace reference_grid_test
