#include <doctest/doctest.h>
#include <sdescore/io/atomic.hpp>
#include <sdescore/io/h5.hpp>
#include <sdescore/core/error.hpp>
#include "io/io_test_support.hpp"

using namespace sdescore::io;

TEST_CASE("h5: attributes of every supported type round trip") {
  TempDir dir;
  auto path = dir.path / "attrs.h5";
  {
    AtomicFile f(path, false);
    Group g = f.root().require_group("a/b");
    g.set_attr("s", std::string("hello wörld"));
    g.set_attr("d", 0.1);
    g.set_attr("i", std::int64_t{-7});
    g.set_attr("u", std::uint64_t{18446744073709551615ull});
    g.set_attr("v", std::vector<double>{1.5, -2.5, 1e-300});
    g.set_attr("iv", std::vector<std::int64_t>{1, 1});
    g.set_attr("sv", std::vector<std::string>{"x", "", "long string value"});
    g.set_attr("d", 0.25);  // replacing works
    g.write_named_doubles("params", {{"alpha", 1.0 / 3.0}, {"beta", -2.0}});
    f.commit();
  }
  Group root = open_file(path);
  Group g = root.group("a/b");
  CHECK(g.attr_string("s") == "hello wörld");
  CHECK(g.attr_double("d") == 0.25);
  CHECK(g.attr_int64("i") == -7);
  CHECK(g.attr_uint64("u") == 18446744073709551615ull);
  CHECK(g.attr_doubles("v") == std::vector<double>{1.5, -2.5, 1e-300});
  CHECK(std::get<std::vector<std::int64_t>>(g.attr("iv")) == std::vector<std::int64_t>{1, 1});
  CHECK(g.attr_strings("sv") == std::vector<std::string>{"x", "", "long string value"});
  auto p = g.read_named_doubles("params");
  CHECK(p.size() == 2);
  CHECK(p.at("alpha") == 1.0 / 3.0);
  CHECK(p.at("beta") == -2.0);
  CHECK(g.attrs().size() == 7);
  CHECK_THROWS_AS(g.attr_double("s"), sdescore::IoError);
  CHECK_THROWS_WITH_AS(g.attr("missing"), doctest::Contains("missing"), sdescore::IoError);
  CHECK_THROWS_WITH_AS(root.group("nope"), doctest::Contains("nope"), sdescore::IoError);
}

TEST_CASE("h5: arrays of rank 0..3 with dimension names round trip") {
  TempDir dir;
  auto path = dir.path / "arrays.h5";
  std::vector<double> w(2 * 3 * 4);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.5 * double(i) - 3.0;
  std::vector<float> loss{3.f, 2.f, 1.5f};
  std::vector<std::int64_t> epoch{0, 10, 20};
  {
    AtomicFile f(path, false);
    Group g = f.root().require_group("score");
    g.write_array("weights/layer0", w, {2, 3, 4}, {"out", "in", "k"});
    g.write_array("epoch", epoch, {3}, {"epoch"});
    g.write_array("loss", loss, {3}, {"epoch"});
    g.write_array("scalar", std::vector<double>{42.0}, {});
    CHECK_THROWS_AS(g.write_array("loss", loss, {3}), sdescore::IoError);        // exists
    CHECK_THROWS_AS(g.write_array("bad", loss, {4}), sdescore::IoError);         // size mismatch
    CHECK_THROWS_AS(g.write_array("weights/bad2", loss, {3}, {"out"}), sdescore::IoError);  // 'out' has length 2
    f.commit();
  }
  Group g = open_file(path).group("score");
  auto rw = g.read_array<double>("weights/layer0");
  CHECK(rw.shape == std::vector<std::size_t>{2, 3, 4});
  CHECK(rw.data == w);
  CHECK(g.dim_names("weights/layer0") == std::vector<std::string>{"out", "in", "k"});
  CHECK(g.read_array<float>("loss").data == loss);
  CHECK(g.read_array<double>("loss").data == std::vector<double>{3, 2, 1.5});
  CHECK(g.dim_names("loss") == std::vector<std::string>{"epoch"});
  CHECK(g.read_array<std::int64_t>("epoch").data == epoch);
  auto s = g.read_array<double>("scalar");
  CHECK(s.shape.empty());
  CHECK(s.data == std::vector<double>{42.0});
  CHECK(g.has_group("weights"));
  CHECK(g.has_dataset("weights/layer0"));
  CHECK_FALSE(g.has("weights/bad2"));  // rejected before anything was created
  CHECK_FALSE(g.has("weights/layer1"));
  CHECK(g.group("weights").children() == std::vector<std::string>{"in", "k", "layer0", "out"});
}

TEST_CASE("h5: opening a missing or non-HDF5 file names the path") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(open_file(dir.path / "none.h5"), doctest::Contains("none.h5"), sdescore::IoError);
  write_text(dir.path / "text.h5", "not hdf5");
  CHECK_THROWS_WITH_AS(open_file(dir.path / "text.h5"), doctest::Contains("not an HDF5 file"), sdescore::IoError);
}
