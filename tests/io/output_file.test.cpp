#include <doctest/doctest.h>
#include <sdescore/core/error.hpp>
#include <sdescore/io/output_file.hpp>
#include "io/io_test_support.hpp"

using namespace sdescore::io;
namespace fs = std::filesystem;

TEST_CASE("output_file: provenance is written and the file appears only on commit") {
  TempDir dir;
  auto target = dir.path / "run.h5";
  {
    OutputFile f(target, sample_run_info());
    f.set_path_count(7);
    CHECK_FALSE(fs::exists(target));
    CHECK(fs::exists(f.temp_path()));
    f.commit();
  }
  RunInfo r = read_run_info(open_file(target));
  CHECK(r.model == "double_well");
  CHECK(r.path_count == 7);
  CHECK_THROWS_WITH_AS(OutputFile(target, sample_run_info()), doctest::Contains("--force"), sdescore::IoError);
  { OutputFile f(target, sample_run_info(), /*overwrite=*/true); }  // not committed
  CHECK(read_run_info(open_file(target)).path_count == 7);
  CHECK(dir.count() == 1);
}
