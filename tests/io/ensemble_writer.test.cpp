#include <doctest/doctest.h>
#include <sdescore/core/error.hpp>
#include <sdescore/io/ensemble_reader.hpp>
#include <sdescore/io/ensemble_writer.hpp>
#include "io/io_test_support.hpp"

#include <cstring>

using namespace sdescore::io;
namespace fs = std::filesystem;

namespace io_ensemble_writer_test {  // named and around the whole file: unity batches must not mix files' helpers
// Deterministic, non-trivial values (not exactly representable sums) for bit-exact checks.
double value_at(std::int64_t s, std::int64_t p, std::int64_t d) {
  return std::sin(0.1 * double(s) + 1.3 * double(p)) * (1.0 + double(d)) + 1e-7 * double(p);
}
Eigen::MatrixXd snapshot_at(std::int64_t s, std::int64_t n, std::int64_t dim) {
  Eigen::MatrixXd x(n, dim);
  for (std::int64_t p = 0; p < n; ++p)
    for (std::int64_t d = 0; d < dim; ++d) x(p, d) = value_at(s, p, d);
  return x;
}
bool bit_equal(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * std::size_t(a.size())) == 0;
}

TEST_CASE("ensemble_writer: every append flavour round trips bit for bit") {
  TempDir dir;
  auto path = dir.path / "ens.h5";
  const std::int64_t n = 5, dim = 3;
  {
    OutputFile f(path, sample_run_info());
    EnsembleOptions o;
    o.coordinate_names = {"x", "y", "z"};
    EnsembleWriter w(f, n, dim, o);
    w.append(snapshot_at(0, n, dim), 0.0, 0);  // Eigen, column-major
    Eigen::Matrix<double, -1, -1, Eigen::RowMajor> rm = snapshot_at(1, n, dim);
    w.append_row_major(rm.data(), 0.01, 10);
    Eigen::MatrixXd soa = snapshot_at(2, n, dim).transpose();  // (dim x n) column-major: x[d + dim*p]... make dim-major
    std::vector<double> dm(std::size_t(n * dim));
    for (std::int64_t d = 0; d < dim; ++d)
      for (std::int64_t p = 0; p < n; ++p) dm[std::size_t(d * n + p)] = value_at(2, p, d);
    w.append_dim_major(dm.data(), 0.02, 20);
    std::vector<double> strided(std::size_t(8 * dim), -1.0);
    for (std::int64_t d = 0; d < dim; ++d)
      for (std::int64_t p = 0; p < n; ++p) strided[std::size_t(d * 8 + p)] = value_at(3, p, d);
    w.append_dim_major(strided.data(), 0.03, 30, 8);
    w.begin_snapshot(0.04, 40);
    Eigen::MatrixXd full = snapshot_at(4, n, dim);
    w.write_paths(3, full.bottomRows(2));
    w.write_paths(0, full.topRows(3));
    w.end_snapshot();
    CHECK(w.snapshots() == 5);
    f.commit();
  }
  EnsembleReader r(path);
  CHECK(r.name() == "ensemble");
  CHECK(r.n_snapshots() == 5);
  CHECK(r.n_paths() == n);
  CHECK(r.dim() == dim);
  CHECK(r.times() == std::vector<double>{0.0, 0.01, 0.02, 0.03, 0.04});
  CHECK(r.steps() == std::vector<std::int64_t>{0, 10, 20, 30, 40});
  CHECK(r.path_indices() == std::vector<std::int64_t>{100, 101, 102, 103, 104});
  CHECK(r.coordinate_names() == std::vector<std::string>{"x", "y", "z"});
  for (std::int64_t s = 0; s < 5; ++s) CHECK(bit_equal(r.snapshot(s), snapshot_at(s, n, dim)));
  CHECK(bit_equal(r.snapshot(-1), snapshot_at(4, n, dim)));
  CHECK(r.info().path_count == n);
  CHECK(r.position_group().dim_names("value") == std::vector<std::string>{"snapshot", "path", "dim"});
  CHECK(r.position_group().dim_names("time") == std::vector<std::string>{"snapshot"});
}

TEST_CASE("ensemble_writer: chunked append across many snapshots with small chunks") {
  TempDir dir;
  auto path = dir.path / "many.h5";
  const std::int64_t n = 37, dim = 2, S = 300;
  {
    OutputFile f(path, sample_run_info());
    EnsembleOptions o;
    o.chunk_bytes = 10 * 2 * sizeof(double);  // 10 paths per chunk: 4 chunks per snapshot, last one partial
    EnsembleWriter w(f, n, dim, o);
    for (std::int64_t s = 0; s < S; ++s) w.append(snapshot_at(s, n, dim), 0.5 * double(s), s * 2);
    f.commit();
  }
  EnsembleReader r(path);
  REQUIRE(r.n_snapshots() == S);
  auto t = r.times();
  CHECK(t[299] == 149.5);
  CHECK(r.steps()[17] == 34);
  for (std::int64_t s : {0, 1, 150, 299}) CHECK(bit_equal(r.snapshot(s), snapshot_at(s, n, dim)));
  CHECK(bit_equal(r.snapshot(123, 9, 13), snapshot_at(123, n, dim).middleRows(9, 13)));
  CHECK_THROWS_AS(r.snapshot(S), sdescore::IoError);
  CHECK_THROWS_AS(r.snapshot(0, 30, 8), sdescore::IoError);
}

TEST_CASE("ensemble_writer: gzip on and off store identical values; compression shrinks smooth data") {
  TempDir dir;
  const std::int64_t n = 2000, dim = 2, S = 4;
  auto write = [&](const fs::path& p, int level) {
    OutputFile f(p, sample_run_info());
    EnsembleOptions o;
    o.compression = level;
    EnsembleWriter w(f, n, dim, o);
    for (std::int64_t s = 0; s < S; ++s) {
      Eigen::MatrixXd x = Eigen::MatrixXd::Constant(n, dim, double(s));
      x.col(1).setLinSpaced(0.0, 1.0);
      w.append(x, double(s), s);
    }
    f.commit();
  };
  write(dir.path / "raw.h5", 0);
  write(dir.path / "gz.h5", 6);
  EnsembleReader a(dir.path / "raw.h5"), b(dir.path / "gz.h5");
  for (std::int64_t s = 0; s < S; ++s) CHECK(bit_equal(a.snapshot(s), b.snapshot(s)));
  CHECK(fs::file_size(dir.path / "gz.h5") < fs::file_size(dir.path / "raw.h5"));
}

TEST_CASE("ensemble_writer: bad shapes and options are ConfigErrors") {
  TempDir dir;
  OutputFile f(dir.path / "bad.h5", sample_run_info());
  CHECK_THROWS_AS(EnsembleWriter(f, 0, 2), sdescore::ConfigError);
  EnsembleOptions bad_level;
  bad_level.compression = 12;
  CHECK_THROWS_AS(EnsembleWriter(f, 3, 2, bad_level), sdescore::ConfigError);
  EnsembleWriter w(f, 3, 2);
  CHECK_THROWS_AS(w.append(Eigen::MatrixXd::Zero(2, 3), 0.0, 0), sdescore::ConfigError);
  w.begin_snapshot(0.0, 0);
  w.write_paths(0, Eigen::MatrixXd::Zero(2, 2));
  CHECK_THROWS_AS(w.write_paths(1, Eigen::MatrixXd::Zero(1, 2)), sdescore::ConfigError);  // twice
  CHECK_THROWS_AS(w.end_snapshot(), sdescore::ConfigError);                              // path 2 missing
  EnsembleOptions dup;
  CHECK_THROWS_AS(EnsembleWriter(f, 3, 2, dup), sdescore::IoError);  // particles/ensemble exists
  RunInfo info = sample_run_info();
  info.path_count = 4;
  OutputFile g(dir.path / "mismatch.h5", info);
  CHECK_THROWS_AS(EnsembleWriter(g, 3, 2), sdescore::ConfigError);
}

TEST_CASE("ensemble_writer: appending after commit is an IoError, not a crash") {
  TempDir dir;
  OutputFile f(dir.path / "c.h5", sample_run_info());
  EnsembleWriter w(f, 2, 1);
  w.append(Eigen::MatrixXd::Ones(2, 1), 0.0, 0);
  f.commit();
  CHECK_THROWS_AS(w.append(Eigen::MatrixXd::Ones(2, 1), 1.0, 1), sdescore::IoError);
  EnsembleReader r(dir.path / "c.h5");
  CHECK(r.n_snapshots() == 1);
}

TEST_CASE("ensemble_writer: background writes keep every snapshot, in order, as appended") {
  // The caller reuses its buffer right after each append (as the engine does with its state)
  // and commits without flushing: the writer must have copied each snapshot, and commit() must
  // wait for the writer thread. Background and synchronous files hold the same values.
  TempDir dir;
  const std::int64_t n = 1000, dim = 2, snaps = 25;
  for (bool background : {true, false}) {
    const auto path = dir.path / (background ? "bg.h5" : "sync.h5");
    OutputFile f(path, sample_run_info());
    EnsembleOptions o;
    o.background_writes = background;
    o.chunk_bytes = 64 * 8 * dim;  // 64 paths per chunk: 15 whole chunks and a partial last one
    EnsembleWriter w(f, n, dim, o);
    std::vector<double> state(static_cast<std::size_t>(n * dim));
    for (std::int64_t s = 0; s < snaps; ++s) {
      for (std::int64_t d = 0; d < dim; ++d)
        for (std::int64_t p = 0; p < n; ++p) state[static_cast<std::size_t>(d * n + p)] = value_at(s, p, d);
      w.append_dim_major(state.data(), 0.1 * double(s), 10 * s);
      std::fill(state.begin(), state.end(), -1.0);  // the next steps overwrite the state
    }
    f.commit();
  }
  EnsembleReader bg(dir.path / "bg.h5"), sync(dir.path / "sync.h5");
  REQUIRE(bg.n_snapshots() == snaps);
  REQUIRE(sync.n_snapshots() == snaps);
  CHECK(bg.steps() == sync.steps());
  CHECK(bg.times() == sync.times());
  for (std::int64_t s = 0; s < snaps; ++s) {
    CHECK(bit_equal(bg.snapshot(s), snapshot_at(s, n, dim)));
    CHECK(bit_equal(bg.snapshot(s), sync.snapshot(s)));
  }
}

TEST_CASE("ensemble_writer: snapshots of many megabytes (disk sync as the run goes) commit whole; discard leaves no file") {
  // More than EnsembleDiskSync::kMinBytes (4 MiB) is written, so its fdatasync thread runs while
  // the writer thread appends; commit (and a discarded file's close) must wait for it.
  TempDir dir;
  const std::int64_t n = 50000, dim = 2, snaps = 12;  // 0.8 MB per snapshot, 9.6 MB in all
  std::vector<double> state(static_cast<std::size_t>(n * dim));
  for (bool commit : {true, false}) {
    const auto path = dir.path / (commit ? "big.h5" : "dropped.h5");
    {
      OutputFile f(path, sample_run_info());
      EnsembleWriter w(f, n, dim);
      for (std::int64_t s = 0; s < snaps; ++s) {
        for (std::int64_t d = 0; d < dim; ++d)
          for (std::int64_t p = 0; p < n; ++p) state[static_cast<std::size_t>(d * n + p)] = value_at(s, p, d);
        w.append_dim_major(state.data(), 0.1 * double(s), s);
      }
      if (commit) f.commit();
    }
    CHECK(fs::exists(path) == commit);
  }
  EnsembleReader r(dir.path / "big.h5");
  REQUIRE(r.n_snapshots() == snaps);
  for (std::int64_t s = 0; s < snaps; s += 5) CHECK(bit_equal(r.snapshot(s), snapshot_at(s, n, dim)));
  CHECK(bit_equal(r.snapshot(snaps - 1), snapshot_at(snaps - 1, n, dim)));
}

}  // namespace io_ensemble_writer_test
