#include <doctest/doctest.h>
#include <sdescore/core/error.hpp>
#include <sdescore/io/atomic.hpp>
#include <sdescore/io/checkpoint.hpp>
#include <sdescore/io/ensemble_reader.hpp>
#include "io/io_test_support.hpp"

#include <cstring>

using namespace sdescore::io;

TEST_CASE("checkpoint: full state round trips bit for bit and is also an ensemble file") {
  TempDir dir;
  auto path = dir.path / "ckpt.h5";
  Checkpoint c;
  c.run = sample_run_info();
  c.step = 1234;
  c.time = 1.234;
  c.positions = Eigen::MatrixXd::Random(6, 2) * 1e3;
  c.positions(0, 0) = std::nextafter(1.0, 2.0);
  write_checkpoint(path, c, false);
  Checkpoint r = read_checkpoint(path);
  CHECK(r.step == 1234);
  CHECK(r.time == 1.234);
  REQUIRE(r.positions.rows() == 6);
  REQUIRE(r.positions.cols() == 2);
  CHECK(std::memcmp(r.positions.data(), c.positions.data(), sizeof(double) * 12) == 0);
  CHECK(r.run.seed == c.run.seed);
  CHECK(r.run.path_first == 100);
  CHECK(r.run.path_count == 6);
  CHECK(r.run.model_parameters == c.run.model_parameters);
  CHECK_NOTHROW(require_same_run(r.run, c.run));
  EnsembleReader e(path);
  CHECK(e.steps() == std::vector<std::int64_t>{1234});

  // Periodic checkpoints replace the previous one only with overwrite.
  CHECK_THROWS_WITH_AS(write_checkpoint(path, c, false), doctest::Contains("--force"), sdescore::IoError);
  c.step = 2000;
  write_checkpoint(path, c, true);
  CHECK(read_checkpoint(path).step == 2000);
  CHECK(dir.count() == 1);
}

TEST_CASE("checkpoint: identity check names the mismatch") {
  RunInfo a = sample_run_info();
  RunInfo b = a;
  b.seed = 1;  // the seed is restored from the checkpoint, not compared
  b.command_line = "other";
  CHECK_NOTHROW(require_same_run(a, b));
  b = a;
  b.model = "ou";
  CHECK_THROWS_WITH_AS(require_same_run(a, b), doctest::Contains("model is 'double_well'"), sdescore::ConfigError);
  b = a;
  b.stepper = "heun";
  CHECK_THROWS_WITH_AS(require_same_run(a, b), doctest::Contains("stepper"), sdescore::ConfigError);
  b = a;
  b.dt = 2e-3;
  CHECK_THROWS_WITH_AS(require_same_run(a, b), doctest::Contains("dt is 0.001"), sdescore::ConfigError);
  b = a;
  b.model_parameters["sigma"] = 0.8;
  CHECK_THROWS_WITH_AS(require_same_run(a, b), doctest::Contains("model parameter 'sigma'"), sdescore::ConfigError);
  b = a;
  b.model_parameters["extra"] = 1.0;
  CHECK_THROWS_WITH_AS(require_same_run(a, b), doctest::Contains("'extra'"), sdescore::ConfigError);
  b = a;
  b.model_parameters.erase("a");
  CHECK_THROWS_WITH_AS(require_same_run(a, b), doctest::Contains("'a'"), sdescore::ConfigError);
}

TEST_CASE("checkpoint: an ensemble file without /checkpoint is not a checkpoint") {
  TempDir dir;
  CHECK_THROWS_AS(read_checkpoint(dir.path / "none.h5"), sdescore::IoError);
  auto path = dir.path / "plain.h5";
  {
    AtomicFile f(path, false);
    f.commit();
  }
  CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains("not an sdescore checkpoint"), sdescore::IoError);
}

TEST_CASE("checkpoint: the marker's format version is written, read back, and an older one is refused for resume") {
  TempDir dir;
  auto path = dir.path / "ckpt.h5";
  Checkpoint c;
  c.run = sample_run_info();
  c.positions = Eigen::MatrixXd::Zero(6, 2);
  write_checkpoint(path, c, false);
  const Checkpoint r = read_checkpoint(path);
  CHECK(r.format_version == 2);  // the version this file format documents (docs/file-format.md)
  CHECK_NOTHROW(require_resumable(r, path.string()));
  Checkpoint old = r;
  old.format_version = 1;  // written before the session-9 normal kernel
  CHECK_THROWS_WITH_AS(require_resumable(old, "old.h5"),
                       doctest::Contains("checkpoint 'old.h5' has format_version 1; this sdescore resumes format_version 2"),
                       sdescore::ConfigError);
  old.format_version = 0;  // a marker without the attribute
  CHECK_THROWS_WITH_AS(require_resumable(old, "old.h5"), doctest::Contains("checkpoint 'old.h5' has no format_version"),
                       sdescore::ConfigError);
  std::int64_t rows = -1;
  const Checkpoint head = read_checkpoint_head(path, rows);  // what each MPI process reads
  CHECK(rows == 6);
  CHECK(head.positions.rows() == 0);
  CHECK(head.positions.cols() == 2);
  CHECK(head.format_version == 2);
  CHECK(head.run.seed == r.run.seed);
}
