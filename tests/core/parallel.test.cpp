// ParallelErrors: exceptions recorded per item inside a parallel loop, the lowest index raised
// after it with its context, the error type kept.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "sdescore/core/parallel.hpp"

using namespace sdescore;

TEST_CASE("parallel errors: nothing recorded, nothing thrown") {
  ParallelErrors e;
  for (int i = 0; i < 10; ++i) CHECK(e.run(i, [] {}));
  CHECK_FALSE(e.any());
  CHECK_NOTHROW(e.rethrow([](std::int64_t) { return std::string("never"); }));
}

TEST_CASE("parallel errors: the lowest index is raised with its context and type, whatever the order") {
  ParallelErrors e;
  for (int i : {7, 3, 9})
    CHECK_FALSE(e.run(i, [i] { throw NumericalError("item " + std::to_string(i) + " failed"); }));
  CHECK(e.any());
  CHECK(e.count() == 3);
  CHECK(e.first_index() == 3);
  CHECK_THROWS_WITH_AS(e.rethrow([](std::int64_t j) { return "file x.h5, path " + std::to_string(j); }),
                       "file x.h5, path 3: item 3 failed (3 items failed; the first is reported)", NumericalError);
  ParallelErrors c;
  c.run(0, [] { throw ConfigError("bad"); });
  CHECK_THROWS_AS(c.rethrow(), ConfigError);
  ParallelErrors io;
  io.run(0, [] { throw IoError("gone"); });
  CHECK_THROWS_AS(io.rethrow(), IoError);
  ParallelErrors other;
  other.run(0, [] { throw std::runtime_error("eigen"); });
  CHECK_THROWS_WITH_AS(other.rethrow(), "eigen", NumericalError);
}

TEST_CASE("parallel errors: concurrent captures from many threads keep the lowest index") {
  ParallelErrors e;
  std::vector<std::thread> ts;
  for (int w = 0; w < 4; ++w)
    ts.emplace_back([&e, w] {
      for (int i = w; i < 4000; i += 4) e.run(i, [i] {
          if (i % 97 == 13) throw NumericalError("at " + std::to_string(i));
        });
    });
  for (auto& t : ts) t.join();
  CHECK(e.first_index() == 13);
  CHECK(e.count() == 42);  // i = 13, 110, ..., 3990: 13 + 97 k < 4000 for k = 0..41
  CHECK_THROWS_WITH_AS(e.rethrow(), doctest::Contains("at 13"), NumericalError);
}
