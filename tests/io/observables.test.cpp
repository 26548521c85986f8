#include <doctest/doctest.h>
#include <sdescore/core/error.hpp>
#include <sdescore/io/observables.hpp>
#include "io/io_test_support.hpp"

using namespace sdescore::io;

TEST_CASE("observables: mean, covariance and histograms round trip per snapshot") {
  TempDir dir;
  auto path = dir.path / "stats.h5";
  HistogramSpec h;
  h.coordinates = {0, 2};
  h.bin_edges.resize(2, 5);
  h.bin_edges.row(0) << -2, -1, 0, 1, 2;
  h.bin_edges.row(1) << 0, 0.5, 1, 1.5, 2;
  auto cov_at = [](int s) {
    Eigen::MatrixXd c(3, 3);
    c << 1 + s, 0.1, 0.2, 0.1, 2 + s, 0.3, 0.2, 0.3, 3 + s;
    return c;
  };
  auto counts_at = [](int s) {
    CountMatrix c(2, 4);
    c << s, 1, 2, 3, 4, 5, 6, 7 + s;
    return c;
  };
  {
    OutputFile f(path, sample_run_info());
    ObservablesOptions o;
    o.n_paths = 1000;
    o.histogram = h;
    o.compression = 4;
    ObservablesWriter w(f, 3, o);
    for (int s = 0; s < 6; ++s)
      w.append(0.1 * s, 10 * s, Eigen::Vector3d(s, -s, 0.5 * s), cov_at(s), counts_at(s));
    CHECK_THROWS_AS(w.append(0.0, 0, Eigen::Vector3d::Zero(), cov_at(0)), sdescore::ConfigError);  // no counts
    CHECK(w.snapshots() == 6);
    f.commit();
  }
  ObservablesReader r(path);
  CHECK(r.name() == "ensemble");
  CHECK(r.n_snapshots() == 6);
  CHECK(r.dim() == 3);
  CHECK(r.n_paths() == 1000);
  CHECK(r.steps() == std::vector<std::int64_t>{0, 10, 20, 30, 40, 50});
  CHECK(r.times()[3] == 0.1 * 3);
  CHECK(r.mean(4) == Eigen::Vector3d(4, -4, 2));
  CHECK(r.covariance(5) == cov_at(5));
  REQUIRE(r.has_histogram());
  CHECK(r.histogram(2) == counts_at(2));
  auto spec = r.histogram_spec();
  CHECK(spec.coordinates == h.coordinates);
  CHECK(spec.bin_edges == h.bin_edges);
  CHECK(r.info().model == "double_well");
  CHECK(r.group().dim_names("covariance") == std::vector<std::string>{"snapshot", "dim", "dim2"});
  CHECK(r.group().dim_names("histogram") == std::vector<std::string>{"snapshot", "hist_coord", "bin"});
  CHECK(r.group().dim_names("bin_edges") == std::vector<std::string>{"hist_coord", "edge"});
}

TEST_CASE("observables: without histogram; invalid specs are ConfigErrors") {
  TempDir dir;
  OutputFile f(dir.path / "s.h5", sample_run_info());
  ObservablesOptions o;
  o.name = "plain";
  ObservablesWriter w(f, 2, o);
  w.append(0.0, 0, Eigen::Vector2d(1, 2), Eigen::Matrix2d::Identity());
  CHECK_THROWS_AS(w.append(0.0, 0, Eigen::Vector3d::Zero(), Eigen::Matrix2d::Identity()), sdescore::ConfigError);
  CountMatrix stray(1, 1);
  CHECK_THROWS_AS(w.append(0.0, 0, Eigen::Vector2d(1, 2), Eigen::Matrix2d::Identity(), stray), sdescore::ConfigError);
  ObservablesOptions bad;
  bad.name = "bad";
  bad.histogram = HistogramSpec{{5}, Eigen::MatrixXd::Zero(1, 3)};
  CHECK_THROWS_AS(ObservablesWriter(f, 2, bad), sdescore::ConfigError);  // coordinate 5 of 2
  bad.histogram = HistogramSpec{{0}, Eigen::MatrixXd::Zero(1, 3)};
  CHECK_THROWS_AS(ObservablesWriter(f, 2, bad), sdescore::ConfigError);  // edges not increasing
  f.commit();
  ObservablesReader r(dir.path / "s.h5", "plain");
  CHECK_FALSE(r.has_histogram());
  CHECK(r.covariance(0) == Eigen::Matrix2d::Identity());
}
