#include <doctest/doctest.h>
#include <sdescore/core/error.hpp>
#include <sdescore/io/atomic.hpp>
#include <sdescore/io/run_info.hpp>
#include <sdescore/version.hpp>
#include "io/io_test_support.hpp"

using namespace sdescore::io;

TEST_CASE("run_info: provenance round trips and the H5MD header is written") {
  TempDir dir;
  auto path = dir.path / "info.h5";
  const RunInfo info = sample_run_info();
  {
    AtomicFile f(path, false);
    write_run_info(f.root(), info);
    f.commit();
  }
  Group root = open_file(path);
  RunInfo r = read_run_info(root);
  CHECK(r.model == info.model);
  CHECK(r.model_parameters == info.model_parameters);
  CHECK(r.stepper == info.stepper);
  CHECK(r.dt == info.dt);
  CHECK(r.seed == info.seed);
  CHECK(r.initial_law == info.initial_law);
  CHECK(r.save_every == info.save_every);
  CHECK(r.path_first == info.path_first);
  CHECK(r.path_count == info.path_count);
  CHECK(r.command_line == info.command_line);
  CHECK(r.sdescore_version == std::string(sdescore::version));
  CHECK(r.author == "tester");
  CHECK(r.extra == info.extra);

  Group h5md = root.group("h5md");
  CHECK(std::get<std::vector<std::int64_t>>(h5md.attr("version")) == std::vector<std::int64_t>{1, 1});
  CHECK(h5md.group("creator").attr_string("name") == "sdescore");
  CHECK(h5md.group("creator").attr_string("version") == std::string(sdescore::version));
  CHECK(h5md.group("author").attr_string("name") == "tester");
}

TEST_CASE("run_info: extras may not shadow standard attributes; foreign files are rejected") {
  TempDir dir;
  RunInfo info = sample_run_info();
  info.extra["dt"] = 1.0;
  {
    AtomicFile f(dir.path / "a.h5", false);
    CHECK_THROWS_AS(write_run_info(f.root(), info), sdescore::IoError);
  }
  {
    AtomicFile f(dir.path / "foreign.h5", false);
    f.root().require_group("data").set_attr("x", 1.0);
    f.commit();
  }
  CHECK_THROWS_WITH_AS(read_run_info(open_file(dir.path / "foreign.h5")), doctest::Contains("not an sdescore file"),
                       sdescore::IoError);
}
