// Thread and memory limits checked before work starts (docs/cli.md, "Input rules").
#include <doctest/doctest.h>

#include <string>
#include <thread>

#include "sdescore/core/limits.hpp"

using namespace sdescore;

TEST_CASE("limits: thread counts are 0 or 1..max_threads(), with the limit named") {
  const int mx = max_threads();
  CHECK(mx >= 8);
  CHECK(mx >= 4 * static_cast<int>(std::thread::hardware_concurrency()));
  CHECK(check_threads("--threads", 0) == 0);
  CHECK(check_threads("--threads", 1) == 1);
  CHECK(check_threads("--threads", mx) == mx);
  CHECK_THROWS_WITH_AS(check_threads("--threads", -1), doctest::Contains("--threads = -1 is invalid"), ConfigError);
  const std::string range = "1.." + std::to_string(mx);
  CHECK_THROWS_WITH_AS(check_threads("--threads", mx + 1), doctest::Contains(range.c_str()), ConfigError);
  CHECK_THROWS_AS(check_threads("--threads", 100000), ConfigError);
}

TEST_CASE("limits: an allocation larger than the machine is refused with the estimate") {
  CHECK(physical_memory_bytes() > 1e6);
  CHECK_NOTHROW(require_memory("a small thing", 1e3, "n/a"));
  CHECK_THROWS_WITH_AS(require_memory("--paths 10000000000000", 1.6e14, "use fewer --paths"),
                       doctest::Contains("needs about 160 TB of memory"), ConfigError);
  CHECK_THROWS_AS(require_memory("x", 1e30, "y"), ConfigError);
  CHECK(format_bytes(1.5e9) == "1.5 GB");
  CHECK(format_bytes(8e5) == "800 kB");
}
