#include "sdescore/modelfile/expression.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sdescore::modelfile {
namespace {

const double kPi = 3.14159265358979323846;

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

class Parser {
 public:
  Parser(const std::string& text, const Symbols& s) : text_(text), sym_(s) {}

  std::unique_ptr<Expr> parse() {
    skip();
    if (pos_ >= text_.size()) throw ExprError(0, "the expression is empty");
    auto e = expr();
    skip();
    if (pos_ < text_.size()) {
      if (text_[pos_] == ')') throw ExprError(int(pos_), "unmatched ')'");
      throw ExprError(int(pos_), "unexpected " + found() + " after a complete expression; expected an operator + - * / ^");
    }
    return e;
  }

 private:
  const std::string& text_;
  const Symbols& sym_;
  std::size_t pos_ = 0;
  int depth_ = 0;

  void skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  std::string found() const {
    if (pos_ >= text_.size()) return "the end of the expression";
    std::size_t e = pos_ + 1;
    if (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')
      while (e < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[e])) || text_[e] == '_' || text_[e] == '.')) ++e;
    return "'" + text_.substr(pos_, e - pos_) + "'";
  }
  static std::unique_ptr<Expr> node(Expr::Op op, int col) {
    auto e = std::make_unique<Expr>();
    e->op = op;
    e->column = col;
    return e;
  }
  static std::unique_ptr<Expr> binary(Expr::Op op, int col, std::unique_ptr<Expr> a, std::unique_ptr<Expr> b) {
    auto e = node(op, col);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  std::unique_ptr<Expr> expr() {
    if (++depth_ > 200) throw ExprError(int(pos_), "the expression is nested too deeply (more than 200 levels)");
    auto a = term();
    for (;;) {
      skip();
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        const int col = int(pos_);
        const auto op = text_[pos_++] == '+' ? Expr::Op::add : Expr::Op::sub;
        a = binary(op, col, std::move(a), term());
      } else {
        break;
      }
    }
    --depth_;
    return a;
  }
  std::unique_ptr<Expr> term() {
    auto a = unary();
    for (;;) {
      skip();
      if (pos_ < text_.size() && (text_[pos_] == '*' || text_[pos_] == '/')) {
        const int col = int(pos_);
        if (text_[pos_] == '*' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*')
          throw ExprError(col, "'**' is not an operator here: write powers as a^b");
        const auto op = text_[pos_++] == '*' ? Expr::Op::mul : Expr::Op::div;
        a = binary(op, col, std::move(a), unary());
      } else {
        break;
      }
    }
    return a;
  }
  std::unique_ptr<Expr> unary() {
    skip();
    if (pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+')) {
      const int col = int(pos_);
      const bool neg = text_[pos_++] == '-';
      if (++depth_ > 200) throw ExprError(col, "the expression is nested too deeply (more than 200 levels)");
      auto a = unary();
      --depth_;
      if (!neg) return a;
      if (a->op == Expr::Op::number) {  // a literal: fold the sign (exact)
        a->value = -a->value;
        a->column = col;
        return a;
      }
      auto e = node(Expr::Op::neg, col);
      e->args.push_back(std::move(a));
      return e;
    }
    return power();
  }
  std::unique_ptr<Expr> power() {
    auto a = primary();
    skip();
    if (pos_ < text_.size() && text_[pos_] == '^') {
      const int col = int(pos_++);
      if (++depth_ > 200) throw ExprError(col, "the expression is nested too deeply (more than 200 levels)");
      auto b = unary();
      --depth_;
      return binary(Expr::Op::pow, col, std::move(a), std::move(b));
    }
    return a;
  }
  std::unique_ptr<Expr> primary() {
    skip();
    if (pos_ >= text_.size())
      throw ExprError(int(pos_), "expected a number, a name or '(' but found the end of the expression");
    const char c = text_[pos_];
    const int col = int(pos_);
    if (c == '(') {
      ++pos_;
      auto e = expr();
      skip();
      if (pos_ >= text_.size() || text_[pos_] != ')')
        throw ExprError(int(pos_), "expected ')' to close the '(' at column " + std::to_string(col + 1) + " but found " +
                                       found());
      ++pos_;
      return e;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return name();
    throw ExprError(col, "unexpected " + found() + "; expected a number, a name or '('");
  }
  std::unique_ptr<Expr> number() {
    const int col = int(pos_);
    std::size_t e = pos_;
    while (e < text_.size() && std::isdigit(static_cast<unsigned char>(text_[e]))) ++e;
    if (e < text_.size() && text_[e] == '.') {
      ++e;
      while (e < text_.size() && std::isdigit(static_cast<unsigned char>(text_[e]))) ++e;
    }
    if (e < text_.size() && (text_[e] == 'e' || text_[e] == 'E')) {
      std::size_t f = e + 1;
      if (f < text_.size() && (text_[f] == '+' || text_[f] == '-')) ++f;
      if (f >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[f])))
        throw ExprError(int(e), "malformed number '" + text_.substr(pos_, f - pos_) + "': the exponent needs digits (e.g. 1e-3)");
      while (f < text_.size() && std::isdigit(static_cast<unsigned char>(text_[f]))) ++f;
      e = f;
    }
    const std::string s = text_.substr(pos_, e - pos_);
    if (s == ".") throw ExprError(col, "malformed number '.'");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v))
      throw ExprError(col, "malformed number '" + s + "' (valid: 2, 0.5, 1e-3)");
    if (e < text_.size() && (std::isalpha(static_cast<unsigned char>(text_[e])) || text_[e] == '_'))
      throw ExprError(int(e), "a name follows the number '" + s + "' directly: write the product with '*' (e.g. 2*x)");
    pos_ = e;
    auto n = node(Expr::Op::number, col);
    n->value = v;
    return n;
  }
  std::string valid_names() const {
    std::string s;
    if (!sym_.parameters.empty()) s += "the parameters " + join(sym_.parameters) + ", ";
    s += "the variables " + join(sym_.variables) + ", the time t and the constant pi";
    return s;
  }
  std::unique_ptr<Expr> name() {
    const int col = int(pos_);
    std::size_t e = pos_;
    while (e < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[e])) || text_[e] == '_')) ++e;
    const std::string id = text_.substr(pos_, e - pos_);
    pos_ = e;
    skip();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      int arity = -1;
      for (const auto& [f, n] : function_names())
        if (f == id) arity = n;
      if (arity < 0) {
        std::vector<std::string> fs;
        for (const auto& f : function_names()) fs.push_back(f.first);
        throw ExprError(col, "unknown function '" + id + "': valid functions are " + join(fs));
      }
      const int open = int(pos_++);
      auto call = node(Expr::Op::call, col);
      call->name = id;
      skip();
      if (pos_ < text_.size() && text_[pos_] == ')')
        throw ExprError(int(pos_), "function '" + id + "' takes " + std::to_string(arity) + " argument" +
                                       (arity == 1 ? "" : "s") + ", got none");
      for (;;) {
        call->args.push_back(expr());
        skip();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ')') {
          ++pos_;
          break;
        }
        throw ExprError(int(pos_), "expected ',' or ')' in the call of '" + id + "' opened at column " +
                                       std::to_string(open + 1) + " but found " + found());
      }
      if (int(call->args.size()) != arity)
        throw ExprError(col, "function '" + id + "' takes " + std::to_string(arity) + " argument" +
                                 (arity == 1 ? "" : "s") + ", got " + std::to_string(call->args.size()));
      return call;
    }
    auto n = node(Expr::Op::name, col);
    n->name = id;
    for (std::size_t i = 0; i < sym_.variables.size(); ++i)
      if (sym_.variables[i] == id) {
        n->kind = NameKind::variable;
        n->index = int(i);
        return n;
      }
    for (std::size_t i = 0; i < sym_.parameters.size(); ++i)
      if (sym_.parameters[i] == id) {
        n->kind = NameKind::parameter;
        n->index = int(i);
        return n;
      }
    if (id == "t") {
      n->kind = NameKind::time;
      return n;
    }
    if (id == "pi") {
      n->kind = NameKind::constant;
      n->value = kPi;
      return n;
    }
    for (const auto& [f, k] : function_names())
      if (f == id) throw ExprError(col, "'" + id + "' is a function: call it as " + id + "(...)");
    throw ExprError(col, "unknown name '" + id + "': valid names are " + valid_names());
  }
};

std::string hex(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

}  // namespace

const std::vector<std::pair<std::string, int>>& function_names() {
  static const std::vector<std::pair<std::string, int>> f = {
      {"exp", 1},  {"log", 1},  {"log1p", 1}, {"expm1", 1}, {"sqrt", 1}, {"sin", 1},   {"cos", 1},
      {"tan", 1},  {"sinh", 1}, {"cosh", 1},  {"tanh", 1},  {"asin", 1}, {"acos", 1},  {"atan", 1},
      {"atan2", 2}, {"pow", 2}, {"abs", 1},   {"erf", 1}};
  return f;
}

bool is_reserved_name(const std::string& name) {
  if (name == "t" || name == "pi") return true;
  for (const auto& f : function_names())
    if (f.first == name) return true;
  return false;
}

std::unique_ptr<Expr> parse_expression(const std::string& text, const Symbols& symbols) {
  return Parser(text, symbols).parse();
}

std::set<int> variables_used(const Expr& e) {
  std::set<int> out;
  if (e.op == Expr::Op::name && e.kind == NameKind::variable) out.insert(e.index);
  for (const auto& a : e.args) {
    const auto s = variables_used(*a);
    out.insert(s.begin(), s.end());
  }
  return out;
}

bool uses_time(const Expr& e) {
  if (e.op == Expr::Op::name && e.kind == NameKind::time) return true;
  for (const auto& a : e.args)
    if (uses_time(*a)) return true;
  return false;
}

namespace {
int small_integer_power(const Expr& b) {
  if (b.op != Expr::Op::number) return 0;
  const double v = b.value;
  if (v >= 2 && v <= 8 && v == std::floor(v)) return int(v);
  return 0;
}
}  // namespace

double evaluate(const Expr& e, const double* y, double t, const double* p) {
  auto a = [&](int i) { return evaluate(*e.args[static_cast<std::size_t>(i)], y, t, p); };
  switch (e.op) {
    case Expr::Op::number:
      return e.value;
    case Expr::Op::name:
      switch (e.kind) {
        case NameKind::variable:
          return y[e.index];
        case NameKind::parameter:
          return p[e.index];
        case NameKind::time:
          return t;
        case NameKind::constant:
          return e.value;
      }
      return 0;
    case Expr::Op::neg:
      return -a(0);
    case Expr::Op::add:
      return a(0) + a(1);
    case Expr::Op::sub:
      return a(0) - a(1);
    case Expr::Op::mul:
      return a(0) * a(1);
    case Expr::Op::div:
      return a(0) / a(1);
    case Expr::Op::pow: {
      const int n = small_integer_power(*e.args[1]);
      const double x = a(0);
      if (n) {
        double r = x;
        for (int k = 1; k < n; ++k) r = r * x;
        return r;
      }
      return std::pow(x, a(1));
    }
    case Expr::Op::call: {
      const std::string& f = e.name;
      if (f == "exp") return std::exp(a(0));
      if (f == "log") return std::log(a(0));
      if (f == "log1p") return std::log1p(a(0));
      if (f == "expm1") return std::expm1(a(0));
      if (f == "sqrt") return std::sqrt(a(0));
      if (f == "sin") return std::sin(a(0));
      if (f == "cos") return std::cos(a(0));
      if (f == "tan") return std::tan(a(0));
      if (f == "sinh") return std::sinh(a(0));
      if (f == "cosh") return std::cosh(a(0));
      if (f == "tanh") return std::tanh(a(0));
      if (f == "asin") return std::asin(a(0));
      if (f == "acos") return std::acos(a(0));
      if (f == "atan") return std::atan(a(0));
      if (f == "atan2") return std::atan2(a(0), a(1));
      if (f == "pow") return std::pow(a(0), a(1));
      if (f == "abs") return std::abs(a(0));
      if (f == "erf") return std::erf(a(0));
      return NAN;
    }
  }
  return NAN;
}

std::string to_cpp(const Expr& e) {
  auto a = [&](int i) { return to_cpp(*e.args[static_cast<std::size_t>(i)]); };
  switch (e.op) {
    case Expr::Op::number:
      return "double(" + hex(e.value) + ")";
    case Expr::Op::name:
      switch (e.kind) {
        case NameKind::variable:
          return "v" + std::to_string(e.index);
        case NameKind::parameter:
          return "p" + std::to_string(e.index);
        case NameKind::time:
          return "t";
        case NameKind::constant:
          return "double(" + hex(e.value) + ")";
      }
      return "";
    case Expr::Op::neg:
      return "(-" + a(0) + ")";
    case Expr::Op::add:
      return "(" + a(0) + " + " + a(1) + ")";
    case Expr::Op::sub:
      return "(" + a(0) + " - " + a(1) + ")";
    case Expr::Op::mul:
      return "(" + a(0) + " * " + a(1) + ")";
    case Expr::Op::div:
      return "(" + a(0) + " / " + a(1) + ")";
    case Expr::Op::pow: {
      const int n = small_integer_power(*e.args[1]);
      if (n) return "ipow" + std::to_string(n) + "(" + a(0) + ")";
      return "f_pow(" + a(0) + ", " + a(1) + ")";
    }
    case Expr::Op::call: {
      std::string s = "f_" + e.name + "(";
      for (std::size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + to_cpp(*e.args[i]);
      return s + ")";
    }
  }
  return "";
}

std::string to_text(const Expr& e, const Symbols& s) {
  auto a = [&](int i) { return to_text(*e.args[static_cast<std::size_t>(i)], s); };
  switch (e.op) {
    case Expr::Op::number: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", e.value);
      for (int prec = 1; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, e.value);
        if (std::strtod(buf, nullptr) == e.value) break;
      }
      return e.value < 0 ? "(" + std::string(buf) + ")" : std::string(buf);
    }
    case Expr::Op::name:
      return e.name;
    case Expr::Op::neg:
      return "(-" + a(0) + ")";
    case Expr::Op::add:
      return "(" + a(0) + " + " + a(1) + ")";
    case Expr::Op::sub:
      return "(" + a(0) + " - " + a(1) + ")";
    case Expr::Op::mul:
      return "(" + a(0) + " * " + a(1) + ")";
    case Expr::Op::div:
      return "(" + a(0) + " / " + a(1) + ")";
    case Expr::Op::pow:
      return "(" + a(0) + "^" + a(1) + ")";
    case Expr::Op::call: {
      std::string r = e.name + "(";
      for (std::size_t i = 0; i < e.args.size(); ++i) r += (i ? ", " : "") + to_text(*e.args[i], s);
      return r + ")";
    }
  }
  return "";
}

}  // namespace sdescore::modelfile
