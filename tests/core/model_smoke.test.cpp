#include <doctest/doctest.h>
#include "sdescore/sdescore.hpp"
TEST_CASE("placeholder: core headers compile") { CHECK(sdescore::models::DoubleWell::state_dim == 1); }
