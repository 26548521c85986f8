#include <doctest/doctest.h>
#include <sdescore/core/error.hpp>
#include <sdescore/io/atomic.hpp>
#include <sdescore/io/ensemble_reader.hpp>
#include <sdescore/io/ensemble_writer.hpp>
#include "io/io_test_support.hpp"

using namespace sdescore::io;

TEST_CASE("ensemble_reader: provenance and sizes come back from the file") {
  TempDir dir;
  auto path = dir.path / "e.h5";
  {
    OutputFile f(path, sample_run_info());
    EnsembleWriter w(f, 4, 2);
    w.append(Eigen::MatrixXd::Constant(4, 2, 1.5), 0.25, 250);
    f.commit();
  }
  EnsembleReader r(path);
  CHECK(r.info().model == "double_well");
  CHECK(r.info().model_parameters.at("sigma") == 0.7);
  CHECK(r.info().stepper == "euler_maruyama");
  CHECK(r.info().dt == 1e-3);
  CHECK(r.info().seed == 12345678901234567890ull);
  CHECK(r.info().command_line.find("sdesim") == 0);
  CHECK(r.info().save_every == 10);
  CHECK(r.info().path_first == 100);
  CHECK(r.info().path_count == 4);
  CHECK(std::get<double>(r.info().extra.at("t_end")) == 2.5);
  CHECK(r.n_snapshots() == 1);
  CHECK(r.snapshot(0)(3, 1) == 1.5);
  CHECK(ensemble_names(path) == std::vector<std::string>{"ensemble"});
  CHECK(r.coordinate_names().empty());
}

TEST_CASE("ensemble_reader: several ensembles need a name") {
  TempDir dir;
  auto path = dir.path / "two.h5";
  {
    OutputFile f(path, sample_run_info());
    EnsembleOptions a, b;
    a.name = "a";
    b.name = "b";
    EnsembleWriter wa(f, 2, 1, a);
    // a second ensemble with the same path count
    EnsembleWriter wb(f, 2, 1, b);
    wa.append(Eigen::MatrixXd::Zero(2, 1), 0.0, 0);
    wb.append(Eigen::MatrixXd::Ones(2, 1), 0.0, 0);
    f.commit();
  }
  CHECK_THROWS_WITH_AS(EnsembleReader{path}, doctest::Contains("several ensembles (a, b)"), sdescore::IoError);
  CHECK(EnsembleReader(path, "b").snapshot(0)(1, 0) == 1.0);
  CHECK_THROWS_WITH_AS(EnsembleReader(path, "c"), doctest::Contains("particles/c/position"), sdescore::IoError);
}

TEST_CASE("ensemble_reader: a foreign HDF5 file is rejected with a clear message") {
  TempDir dir;
  auto path = dir.path / "foreign.h5";
  {
    AtomicFile f(path, false);
    f.root().write_array("data", std::vector<double>{1, 2, 3}, {3});
    f.commit();
  }
  CHECK_THROWS_WITH_AS(EnsembleReader{path}, doctest::Contains("not an sdescore ensemble file"), sdescore::IoError);
  const std::string p = path.string();
  CHECK_THROWS_WITH_AS(EnsembleReader{path}, doctest::Contains(p.c_str()), sdescore::IoError);
  CHECK_THROWS_WITH_AS(EnsembleReader{dir.path / "absent.h5"}, doctest::Contains("no such file"), sdescore::IoError);

  // Right groups but no value dataset.
  auto broken = dir.path / "broken.h5";
  {
    AtomicFile f(broken, false);
    f.root().require_group("particles/x/position");
    f.commit();
  }
  CHECK_THROWS_WITH_AS(EnsembleReader{broken}, doctest::Contains("/h5md"), sdescore::IoError);
}
