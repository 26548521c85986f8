#include "sdescore/modelfile/model_file.hpp"

#include <doctest/doctest.h>

#include "support.hpp"

using namespace sdescore::modelfile;
using mftest::check_contains;

namespace modelfile_model_file_test {  // named and around the whole file: unity batches must not mix files' helpers
// A valid 2D model; each bad-input test changes one line of it.
const std::string kGood = R"TOML(name = "swimmer"
description = "test"
variables = ["x", "v"]
drift = ["-x^3 + v", "-gamma*v"]
diffusion = [[0], ["sqrt(2*gamma*D)"]]

[parameters]
gamma = { default = 0.1, range = "(0, inf)", meaning = "rate" }
D = { default = 1.0, range = "(0, inf)", meaning = "strength" }
)TOML";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto i = s.find(from);
  REQUIRE(i != std::string::npos);
  return s.replace(i, from.size(), to);
}
std::string error_of(const std::string& text) {
  return mftest::config_error([&] { parse_model_text(text, "m.toml"); });
}

TEST_CASE("model files: a valid file gives the spec") {
  const ModelSpec s = parse_model_text(kGood, "m.toml");
  CHECK(s.name == "swimmer");
  CHECK(s.dim == 2);
  CHECK(s.noise_dim == 1);
  CHECK(s.noise_kind == NoiseKind::additive);
  CHECK(s.diffusion_constant);
  REQUIRE(s.params.size() == 2);
  CHECK(s.params[0].info.name == "gamma");  // file order, not alphabetical
  CHECK(s.params[0].info.lower_open);
  CHECK(s.params[1].default_value == 1.0);
  CHECK(s.key() == "file:swimmer#" + content_hash(kGood).substr(0, 16));
  CHECK(s.initial == std::vector<double>{0.0, 0.0});
}

TEST_CASE("model files: noise kinds are inferred from what G depends on") {
  auto kind = [](const std::string& vars, const std::string& g) {
    return parse_model_text("name = \"k\"\nvariables = " + vars + "\ndrift = [" + (vars.find(',') != std::string::npos ? "\"0\", \"0\"" : "\"0\"") +
                                "]\ndiffusion = " + g + "\n",
                            "k.toml")
        .noise_kind;
  };
  CHECK(kind("[\"x\"]", "\"sqrt(2)\"") == NoiseKind::additive);
  CHECK(kind("[\"x\"]", "\"0.3*x\"") == NoiseKind::diagonal);
  CHECK(kind("[\"x\", \"y\"]", "[\"x\", \"2*y\"]") == NoiseKind::diagonal);
  CHECK(kind("[\"x\", \"y\"]", "[\"y\", \"1\"]") == NoiseKind::general);
  CHECK(kind("[\"x\", \"y\"]", "[[\"1\", \"x\"], [0, 1]]") == NoiseKind::general);
  CHECK(kind("[\"x\", \"y\"]", "[[\"1\", \"sin(t)\"], [0, 1]]") == NoiseKind::additive);
}

TEST_CASE("model files: bad input names the file, line, column and the valid choices") {
  SUBCASE("not TOML") {
    check_contains(error_of(replace(kGood, "variables = [", "variables = [[")), {"m.toml:4:1:", "not valid TOML"});
  }
  SUBCASE("unknown name in an expression, at its column in the file") {
    // line 4 is: drift = ["-x^3 + v", "-gama*v"]; 'gama' starts at column 24
    check_contains(error_of(replace(kGood, "-gamma*v", "-gama*v")),
                   {"m.toml:4:24:", "drift[1] (dv)", "unknown name 'gama'", "the parameters gamma, D", "the variables x, v"});
  }
  SUBCASE("syntax error in an expression") {
    check_contains(error_of(replace(kGood, "-x^3 + v", "-x^3 + (v")), {"m.toml:4:", "expected ')'"});
  }
  SUBCASE("wrong number of drift entries") {
    check_contains(error_of(replace(kGood, "\"-x^3 + v\", ", "")),
                   {"m.toml:4:9:", "drift has 1 entry but there are 2 variables (x, v)"});
  }
  SUBCASE("diffusion of the wrong shape") {
    check_contains(error_of(replace(kGood, "[[0], [\"sqrt(2*gamma*D)\"]]", "[[0], [\"sqrt(2*gamma*D)\", 1, 2], [1]]")),
                   {"m.toml:5:", "diffusion has 3 rows but the model has 2 variables"});
    check_contains(error_of(replace(kGood, "[[0], [\"sqrt(2*gamma*D)\"]]", "[[0], [\"sqrt(2*gamma*D)\", 1]]")),
                   {"m.toml:5:", "diffusion row 1 has 2 entries but row 0 has 1"});
  }
  SUBCASE("a NaN default") {
    check_contains(error_of(replace(kGood, "default = 1.0", "default = nan")),
                   {"m.toml:9:", "parameter 'D'", "default = nan is not a finite number"});
  }
  SUBCASE("a default outside its range") {
    check_contains(error_of(replace(kGood, "default = 0.1", "default = -0.1")),
                   {"m.toml:8:", "parameter gamma = -0.10000000000000001 is out of range", "(0, inf)"});
  }
  SUBCASE("a declared noise kind that the diffusion contradicts") {
    const std::string t = replace(replace(kGood, "[[0], [\"sqrt(2*gamma*D)\"]]", "[[0], [\"sqrt(2*gamma*D)*x\"]]"),
                                  "description = \"test\"", "description = \"test\"\nnoise = \"additive\"");
    check_contains(error_of(t), {"m.toml:3:", "noise = \"additive\" is declared", "depends on the state variable x"});
  }
  SUBCASE("linear = true with state-dependent noise") {
    const std::string t = replace(replace(kGood, "[[0], [\"sqrt(2*gamma*D)\"]]", "[[0], [\"x\"]]"), "description = \"test\"",
                                  "description = \"test\"\nlinear = true");
    check_contains(error_of(t), {"m.toml:3:", "linear = true needs additive noise"});
  }
  SUBCASE("unknown keys and misplaced keys") {
    check_contains(error_of(replace(kGood, "diffusion =", "difusion = 1\ndiffusion =")), {"m.toml:5:", "unknown key 'difusion'", "valid keys are"});
    check_contains(error_of(replace(kGood, "D = { default", "drift = 1\nD = { default")),
                   {"'drift' stands inside [parameters]", "before the [parameters] line"});
  }
  SUBCASE("names that clash") {
    check_contains(error_of(replace(kGood, "D = {", "x = {")), {"parameter 'x' has the name of a state variable"});
    check_contains(error_of(replace(kGood, "[\"x\", \"v\"]", "[\"x\", \"exp\"]")), {"variable name 'exp' is reserved"});
  }
}

}  // namespace modelfile_model_file_test
