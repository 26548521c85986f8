// sdesim --model FILE.toml: the run equals the built-in's, the output records the model file's
// text and hash, bad model files are exit-code-2 errors naming file:line:column with nothing
// written, and --describe reads the file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "sdescore/io/io.hpp"
#include "sdescore/modelfile/visit.hpp"
#include "sdesim.hpp"

namespace fs = std::filesystem;
using sdescore::sdesim::Options;

namespace sdesim_model_file_test {  // named and around the whole file: unity batches must not mix files' helpers

std::string example(const std::string& f) { return std::string(SDESCORE_TEST_MODELS_DIR) + "/" + f; }

fs::path scratch() {
  ::setenv("SDESCORE_CACHE_DIR", SDESCORE_TEST_CACHE_DIR, 1);
  const fs::path d = fs::temp_directory_path() / ("sdescore-sdesim-mf-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

Options small(const std::string& model, const std::string& out) {
  Options o;
  o.model = model;
  o.params = {"T=0.4"};
  o.init = "normal:0,0.3";
  o.paths = 300;
  o.dt = 0.01;
  o.t_end = 1.0;
  o.seed = 5;
  o.threads = 1;
  o.quiet = true;
  o.output = out;
  return o;
}

int call(std::vector<std::string> args) {
  args.insert(args.begin(), "sdesim");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return sdescore::sdesim::main_program(static_cast<int>(argv.size()), argv.data());
}


TEST_CASE("sdesim --model FILE.toml: paths equal the built-in's; the file's text and hash are stored") {
  const fs::path dir = scratch();
  const std::string a = (dir / "file.h5").string(), b = (dir / "builtin.h5").string();
  REQUIRE(sdescore::sdesim::run(small(example("double_well.toml"), a)) == 0);
  REQUIRE(sdescore::sdesim::run(small("double_well", b)) == 0);
  sdescore::io::EnsembleReader ra(a), rb(b);
  REQUIRE(ra.n_snapshots() == rb.n_snapshots());
  for (std::int64_t s = 0; s < ra.n_snapshots(); ++s) CHECK(ra.snapshot(s) == rb.snapshot(s));
  const auto info = ra.info();
  CHECK(info.model.rfind("file:double_well_file#", 0) == 0);
  CHECK(info.model_parameters.at("T") == 0.4);
  std::ifstream in(example("double_well.toml"));
  std::stringstream text;
  text << in.rdbuf();
  CHECK(std::get<std::string>(info.extra.at("model_file_text")) == text.str());
  CHECK(std::get<std::string>(info.extra.at("model_file_hash")) == sdescore::modelfile::content_hash(text.str()));
  fs::remove_all(dir);
}

TEST_CASE("sdesim --model FILE.toml: bad model files exit 2 naming file:line:column, and write nothing") {
  const fs::path dir = scratch();
  const std::string bad = (dir / "bad.toml").string(), out = (dir / "out.h5").string();
  std::ofstream(bad) << "name = \"bad\"\nvariables = [\"x\"]\ndrift = [\"-gama*x\"]\ndiffusion = 1\n[parameters]\ngamma = 1.0\n";
  Options o = small(bad, out);
  o.params.clear();
  const std::string msg = [&] {
    try {
      sdescore::sdesim::run(o);
    } catch (const sdescore::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  CHECK(msg.find(bad + ":3:12: in drift[0] (dx) = \"-gama*x\": unknown name 'gama'") != std::string::npos);
  CHECK(call({"--model", bad, "-q", "-o", out}) == 2);
  CHECK(call({"--model", (dir / "missing.toml").string(), "-q", "-o", out}) == 3);
  CHECK(!fs::exists(out));
  // A file with another shape than the adapter offers, and a failing compiler: exit 2 too.
  ::setenv("CXX", "/bin/false", 1);
  std::ofstream(dir / "fresh.toml") << "name = \"fresh\"\nvariables = [\"x\"]\ndrift = [\"-x + " << ::getpid() << "e-300\"]\ndiffusion = 1\n";
  CHECK(call({"--model", (dir / "fresh.toml").string(), "-q", "-o", out}) == 2);
  ::unsetenv("CXX");
  CHECK(!fs::exists(out));
  fs::remove_all(dir);
}

TEST_CASE("sdesim --model FILE.toml --init stationary: samples log_density; without one, exit 2 and nothing written") {
  const fs::path dir = scratch();
  const std::string out = (dir / "st.h5").string(), out2 = (dir / "st2.h5").string();
  // With log_density (double_well.toml): the run starts from the tabulated Boltzmann law, stored
  // as the first snapshot and recorded as the initial law.
  REQUIRE(call({"--model", example("double_well.toml"), "--init", "stationary", "--paths", "2000", "--t-end", "0.01",
                "--dt", "0.01", "--seed", "4", "-q", "-o", out}) == 0);
  sdescore::io::EnsembleReader r(out);
  CHECK(r.info().initial_law == "stationary");
  const Eigen::MatrixXd x0 = r.snapshot(0);
  double m2 = 0;
  for (Eigen::Index p = 0; p < x0.rows(); ++p) m2 += x0(p, 0) * x0(p, 0);
  m2 /= double(x0.rows());
  // E[x^2] = 0.85214 and Var(x^2) = 0.2510 for exp(-2 (x^2-1)^2) (scipy quad, by hand; the law
  // itself is checked by KS in tests/modelfile/stationary.test.cpp): 5 sigma / sqrt(N).
  CHECK(std::abs(m2 - 0.85214) < 5 * std::sqrt(0.2510 / 2000.0));
  // Without log_density: ConfigError naming the file, exit 2, nothing written.
  const std::string nold = (dir / "nold.toml").string();
  std::ofstream(nold) << "name = \"nold\"\nvariables = [\"x\"]\ndrift = [\"-x\"]\ndiffusion = 1\n";
  CHECK(call({"--model", nold, "--init", "stationary", "-q", "-o", out2}) == 2);
  CHECK(!fs::exists(out2));
  Options o = small(nold, out2);
  o.params.clear();
  o.init = "stationary";
  const std::string msg = [&] {
    try {
      sdescore::sdesim::run(o);
    } catch (const sdescore::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  CHECK(msg.find(nold + ": --init stationary needs the stationary law, but the model file 'nold' gives no log_density") !=
        std::string::npos);
  CHECK(!fs::exists(out2));
  fs::remove_all(dir);
}

TEST_CASE("sdesim --describe FILE.toml") {
  scratch();
  std::ostringstream d;
  Options o;
  o.out = &d;
  o.describe = example("active_swimmer.toml");
  REQUIRE(sdescore::sdesim::run(o) == 0);
  CHECK(d.str().find("file:active_swimmer_file#") != std::string::npos);
  CHECK(d.str().find("noise on v only") != std::string::npos);
  CHECK(d.str().find("dv = (-gamma*v) dt + (sqrt(2*gamma*D)) dW") != std::string::npos);
  CHECK(d.str().find("heun") != std::string::npos);
}

}  // namespace sdesim_model_file_test
