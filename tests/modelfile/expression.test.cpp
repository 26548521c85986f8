#include "sdescore/modelfile/expression.hpp"

#include <doctest/doctest.h>

#include <cmath>

#include "support.hpp"

using namespace sdescore::modelfile;

namespace modelfile_expression_test {  // named and around the whole file: unity batches must not mix files' helpers
const Symbols kSym{{"x", "v"}, {"gamma", "D"}};
double eval_expr(const std::string& s, double x, double v, double t = 0.0) {
  const double y[2] = {x, v}, p[2] = {0.1, 2.0};
  return evaluate(*parse_expression(s, kSym), y, t, p);
}
int error_offset(const std::string& s) {
  try {
    parse_expression(s, kSym);
  } catch (const ExprError& e) {
    return e.offset;
  }
  return -1;
}

TEST_CASE("expressions: precedence, associativity and functions, by hand") {
  CHECK(eval_expr("1 + 2*3", 0, 0) == 7);
  CHECK(eval_expr("2^3^2", 0, 0) == 512);          // right-associative
  CHECK(eval_expr("-x^2", 3, 0) == -9);            // unary minus below ^
  CHECK(eval_expr("(-x)^2", 3, 0) == 9);
  CHECK(eval_expr("8/2/2", 0, 0) == 2);            // left-associative
  CHECK(eval_expr("-gamma*v", 0, 4) == doctest::Approx(-0.4));
  CHECK(eval_expr("sqrt(2*gamma*D)", 0, 0) == doctest::Approx(std::sqrt(0.4)));
  CHECK(eval_expr("atan2(x, v) + pow(v, 0.5) + abs(-x) + exp(0) + log(1) + t", 1, 4, 2) ==
        doctest::Approx(std::atan2(1, 4) + 2 + 1 + 1 + 0 + 2));
  CHECK(eval_expr("pi", 0, 0) == doctest::Approx(M_PI));
  CHECK(eval_expr("1e-3 * 2.5E2 + .5", 0, 0) == doctest::Approx(0.75));
}

TEST_CASE("expressions: integer powers are products written left to right, as the built-ins write them") {
  CHECK(to_cpp(*parse_expression("x^3", kSym)) == "ipow3(v0)");
  CHECK(to_cpp(*parse_expression("x^2.5", kSym)) == "f_pow(v0, double(0x1.4p+1))");
  CHECK(to_cpp(*parse_expression("-4*gamma", kSym)) == "(double(-0x1p+2) * p0)");
}

TEST_CASE("expressions: dependency analysis (noise kinds are inferred from it)") {
  CHECK(variables_used(*parse_expression("gamma*t + D", kSym)).empty());
  CHECK(variables_used(*parse_expression("v*x + exp(v)", kSym)) == std::set<int>{0, 1});
  CHECK(uses_time(*parse_expression("sin(t)", kSym)));
  CHECK(!uses_time(*parse_expression("sin(x)", kSym)));
}

TEST_CASE("expressions: errors name what was found, what is valid and where") {
  using mftest::check_contains;
  auto msg = [](const std::string& s) { return mftest::config_error([&] { parse_expression(s, kSym); }); };
  check_contains(msg("-gama*v"), {"unknown name 'gama'", "the parameters gamma, D", "the variables x, v", "t"});
  CHECK(error_offset("-gama*v") == 1);
  check_contains(msg("foo(x)"), {"unknown function 'foo'", "exp", "atan2"});
  check_contains(msg("atan2(x)"), {"'atan2' takes 2 arguments, got 1"});
  check_contains(msg("(x + 1"), {"expected ')'", "column 1"});
  CHECK(error_offset("(x + 1") == 6);
  check_contains(msg("x + * 2"), {"unexpected '*'"});
  check_contains(msg("x)"), {"unmatched ')'"});
  check_contains(msg("2x"), {"write the product with '*'"});
  check_contains(msg("x ** 2"), {"'**'", "a^b"});
  check_contains(msg(""), {"empty"});
  check_contains(msg("x y"), {"unexpected 'y'"});
  check_contains(msg("exp"), {"'exp' is a function"});
  check_contains(msg("1e+"), {"malformed number"});
  // No code passes through: C++ text is rejected like any other unknown input.
  check_contains(msg("x; system(\"rm -rf /\")"), {"unexpected ';'"});
  check_contains(msg("std::exit(1)"), {"unknown name 'std'"});
}

}  // namespace modelfile_expression_test
