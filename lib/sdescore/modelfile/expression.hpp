#pragma once
/// \file
/// The expression language of model files (docs/model-files.md, "Expressions"):
///   expr    := term (('+' | '-') term)*
///   term    := unary (('*' | '/') unary)*
///   unary   := '-' unary | '+' unary | power
///   power   := primary ('^' unary)?            (right-associative: a^b^c = a^(b^c); -x^2 = -(x^2))
///   primary := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
/// Names are the model's state variables, its parameters, `t` and the constant `pi`; the
/// functions are a fixed list (function_names()). Nothing else is accepted, and only the parsed
/// tree is ever turned into C++ (codegen.hpp), so a model file cannot inject code.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sdescore/core/error.hpp"

namespace sdescore::modelfile {

/// What a name in an expression refers to.
enum class NameKind { variable, parameter, time, constant };

struct Expr {
  enum class Op { number, name, neg, add, sub, mul, div, pow, call };
  Op op = Op::number;
  double value = 0;          ///< number
  std::string name;          ///< name or function
  NameKind kind = NameKind::variable;
  int index = 0;             ///< variable / parameter index
  int column = 0;            ///< 0-based offset of the node in the expression text
  std::vector<std::unique_ptr<Expr>> args;
};

/// The names an expression may use, in declaration order.
struct Symbols {
  std::vector<std::string> variables;
  std::vector<std::string> parameters;
};

/// A parse error: `offset` (0-based, in the expression text) and the message without position.
struct ExprError : ConfigError {
  ExprError(int offset, const std::string& message) : ConfigError(message), offset(offset), text(message) {}
  int offset;
  std::string text;
};

/// Parses `text`; throws ExprError naming what was found and what is valid.
std::unique_ptr<Expr> parse_expression(const std::string& text, const Symbols& symbols);

/// The functions an expression may call, with their arity.
const std::vector<std::pair<std::string, int>>& function_names();

/// Reserved names (functions, t, pi): not usable as variables or parameters.
bool is_reserved_name(const std::string& name);

/// Indices of the state variables the expression refers to (dependency analysis, not calculus).
std::set<int> variables_used(const Expr& e);
/// Whether the expression refers to t.
bool uses_time(const Expr& e);

/// Evaluates in double (for checks of defaults and diffusion structure; the hot paths use the
/// compiled code).
double evaluate(const Expr& e, const double* y, double t, const double* params);

/// C++ text of the expression in the generated unit: variables are `v<i>` (of the scalar type
/// S), parameters `p<i>` (double), time `t` (S). Number literals are exact (hexadecimal); an
/// integer power 2..8 is written as repeated multiplication, left to right (x^3 -> (x*x)*x),
/// as the built-in models write it.
std::string to_cpp(const Expr& e);

/// Text of the expression again, fully parenthesised (for messages and --describe).
std::string to_text(const Expr& e, const Symbols& symbols);

}  // namespace sdescore::modelfile
