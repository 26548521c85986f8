#include "sdescore/modelfile/compile.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support.hpp"

using namespace sdescore;
using namespace sdescore::modelfile;
namespace fs = std::filesystem;

namespace modelfile_compile_test {  // named and around the whole file: unity batches must not mix files' helpers
int count_files(const fs::path& dir, const std::string& ext) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) ++n;
  return n;
}
bool any_temporaries(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}
/// A model text unique to this test run (so the first load really compiles).
std::string unique_model(const std::string& tag, const std::string& extra = "") {
  return "name = \"" + tag + "\"\nvariables = [\"x\"]\ndrift = [\"-x + " +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000) +
         "e-12\"]\ndiffusion = \"0.5*x\"\n" + extra;
}
struct EnvGuard {
  std::string name;
  explicit EnvGuard(const char* n, const std::string& v) : name(n) { ::setenv(n, v.c_str(), 1); }
  ~EnvGuard() {
    if (name == "CXX")
      ::unsetenv("CXX");
    else
      ::setenv("SDESCORE_CACHE_DIR", SDESCORE_TEST_CACHE_DIR, 1);
  }
};

TEST_CASE("compile: the double well compiles, loads, and its exported derivatives match by hand") {
  mftest::use_test_cache();
  const auto lm = compile_and_load(read_model_file(mftest::example("double_well.toml")));
  const double y = 0.7, p[2] = {1.0, 0.5};
  double f = 0, J[2], H[4], G = 0;
  lm->code.drift(&y, 0.0, p, &f);
  CHECK(f == -4.0 * 1.0 * y * (y * y - 1.0));
  lm->code.drift_jet2(&y, 0.3, p, &f, J, H);
  CHECK(J[0] == doctest::Approx(-4.0 * (3 * y * y - 1)).epsilon(1e-14));  // df/dx = -4a(3x^2-1)
  CHECK(J[1] == 0.0);                                                   // df/dt
  CHECK(H[0] == doctest::Approx(-24.0 * y).epsilon(1e-14));             // d2f/dx2 = -24 a x
  lm->code.diffusion(&y, 0.0, p, &G);
  CHECK(G == std::sqrt(2.0 * 0.5));
  REQUIRE(static_cast<bool>(lm->code.log_density));
  const double ld = lm->code.log_density(&y, p);
  CHECK(ld == doctest::Approx(-(y * y - 1) * (y * y - 1) / 0.5));
  // Second use: from the cache, no compiler run.
  const auto again = compile_and_load(read_model_file(mftest::example("double_well.toml")));
  CHECK(again->code.from_cache);
  CHECK(again->code.object_path == lm->code.object_path);
}

TEST_CASE("compile: a false linear = true is refused, naming the line and a second derivative") {
  mftest::use_test_cache();
  const std::string text = "name = \"notlinear\"\nvariables = [\"x\"]\nlinear = true\ndrift = [\"-x - 0.1*x^3\"]\ndiffusion = 1\n";
  const std::string msg = mftest::config_error([&] { compile_and_load(parse_model_text(text, "nl.toml")); });
  mftest::check_contains(msg, {"nl.toml:3:", "linear = true is claimed but the drift is not affine", "d^2 drift[0] (dx) / dx dx"});
  // An affine drift passes.
  const std::string ok = "name = \"islinear\"\nvariables = [\"x\"]\nlinear = true\ndrift = [\"-2*x + sin(t)\"]\ndiffusion = 1\n";
  CHECK_NOTHROW(compile_and_load(parse_model_text(ok, "l.toml")));
}

TEST_CASE("compile: a drift that is not finite at the initial point is refused") {
  mftest::use_test_cache();
  const std::string text = "name = \"badinit\"\nvariables = [\"x\"]\ndrift = [\"log(x)\"]\ndiffusion = 1\n";
  mftest::check_contains(mftest::config_error([&] { compile_and_load(parse_model_text(text, "b.toml")); }),
                         {"b.toml:3:11:", "drift[0] (dx) = \"log(x)\" is -inf at the initial point (x = 0"});
}

TEST_CASE("compile: a failing or missing compiler is a clear error and leaves nothing in the cache") {
  mftest::use_test_cache();
  const fs::path dir = mftest::fresh_dir("badcxx");
  EnvGuard cache("SDESCORE_CACHE_DIR", dir.string());
  {
    EnvGuard cxx("CXX", "/bin/false");
    mftest::check_contains(mftest::config_error([&] { compile_and_load(parse_model_text(unique_model("f1"), "f1.toml")); }),
                           {"the C++ compiler '/bin/false' failed", "exited with status 1", "$CXX"});
  }
  {
    EnvGuard cxx("CXX", "/nonexistent/c++");
    mftest::check_contains(mftest::config_error([&] { compile_and_load(parse_model_text(unique_model("f2"), "f2.toml")); }),
                           {"cannot run the C++ compiler '/nonexistent/c++'"});
  }
  {
    // A compiler that runs but fails on the unit (e.g. a C compiler given C++): reported with its output.
    EnvGuard cxx("CXX", "c++ -x c");
    mftest::check_contains(mftest::config_error([&] { compile_and_load(parse_model_text(unique_model("f3"), "f3.toml")); }),
                           {"compiling the model file 'f3.toml' failed", "exited with status"});
  }
  CHECK(count_files(dir, ".so") == 0);
  CHECK(!any_temporaries(dir));
  // The same file then compiles with a working compiler.
  const auto lm = compile_and_load(parse_model_text(unique_model("f1"), "f1.toml"));
  CHECK(!lm->code.from_cache);
  CHECK(count_files(dir, ".so") == 1);
}

TEST_CASE("compile: a corrupt cache entry is rebuilt, and concurrent first uses agree") {
  mftest::use_test_cache();
  const fs::path dir = mftest::fresh_dir("concurrent");
  EnvGuard cache("SDESCORE_CACHE_DIR", dir.string());
  const std::string text = unique_model("conc");
  std::shared_ptr<const LoadedModel> a, b;
  std::thread t1([&] { a = compile_and_load(parse_model_text(text, "c.toml")); });
  std::thread t2([&] { b = compile_and_load(parse_model_text(text, "c.toml")); });
  t1.join();
  t2.join();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->code.object_path == b->code.object_path);
  CHECK(count_files(dir, ".so") == 1);
  CHECK(!any_temporaries(dir));
  // Truncate the entry (as a crash of a non-atomic writer would): the next use rebuilds it.
  const std::string so = a->code.object_path;
  a.reset();
  b.reset();  // unloaded: the object is not mapped any more
  std::ofstream(so, std::ios::trunc) << "garbage";
  const auto c = compile_and_load(parse_model_text(text, "c.toml"));
  CHECK(!c->code.from_cache);
  const double y = 2.0;
  double f = 0;
  c->code.drift(&y, 0.0, nullptr, &f);
  CHECK(f == doctest::Approx(-2.0));
}

}  // namespace modelfile_compile_test
