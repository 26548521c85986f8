#include "sdescore/modelfile/model_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace sdescore::modelfile {
namespace {

std::string join_list(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

const std::vector<std::string> kTopKeys = {"name",     "description", "reference", "variables", "parameters", "drift",
                                           "diffusion", "noise",      "linear",    "initial",   "log_density"};

class Reader {
 public:
  Reader(const std::string& text, const std::string& origin) : text_(text), origin_(origin) {
    std::size_t s = 0;
    for (;;) {
      const auto e = text_.find('\n', s);
      lines_.push_back(text_.substr(s, e == std::string::npos ? std::string::npos : e - s));
      if (e == std::string::npos) break;
      s = e + 1;
    }
  }

  ModelSpec read() {
    toml::table root;
    try {
      root = toml::parse(text_, origin_);
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      throw ConfigError(origin_ + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                        ": not valid TOML: " + std::string(e.description()));
    }
    ModelSpec s;
    s.origin = origin_;
    s.text = text_;
    s.hash = content_hash(text_);
    for (auto&& [k, v] : root)
      if (std::find(kTopKeys.begin(), kTopKeys.end(), std::string(k.str())) == kTopKeys.end())
        fail(v, "unknown key '" + std::string(k.str()) + "': valid keys are " + join_list(kTopKeys));

    s.name = required_string(root, "name");
    const toml::node* name_node = root.get("name");
    if (s.name.empty() || s.name.size() > 64 ||
        !std::all_of(s.name.begin(), s.name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }))
      fail(*name_node, "name = \"" + s.name + "\" is invalid: use 1 to 64 letters, digits, '_' or '-'");
    s.description = optional_string(root, "description");
    s.reference = optional_string(root, "reference");

    // Variables.
    const toml::node* vars = root.get("variables");
    if (!vars) fail_top("missing key 'variables': the state variable names, e.g. variables = [\"x\", \"v\"]");
    const toml::array* va = vars->as_array();
    if (!va || va->empty()) fail(*vars, "variables must be a non-empty array of names, e.g. [\"x\", \"v\"]");
    for (const auto& n : *va) {
      const auto* str = n.as_string();
      if (!str) fail(n, "variables must hold names (strings), e.g. [\"x\", \"v\"]");
      const std::string id = str->get();
      check_identifier(n, id, "variable");
      if (std::find(s.variables.begin(), s.variables.end(), id) != s.variables.end())
        fail(n, "variable '" + id + "' is declared twice");
      s.variables.push_back(id);
    }
    s.dim = int(s.variables.size());
    if (s.dim > 8) fail(*vars, std::to_string(s.dim) + " variables: model files support at most 8");

    // Parameters, in file order.
    if (const toml::node* pn = root.get("parameters")) {
      const toml::table* pt = pn->as_table();
      if (!pt) fail(*pn, "parameters must be a table: [parameters] then lines like T = { default = 0.5, range = \"(0, inf)\", meaning = \"temperature\" }");
      std::vector<std::pair<toml::source_position, std::pair<std::string, const toml::node*>>> items;
      for (auto&& [k, v] : *pt) items.push_back({v.source().begin, {std::string(k.str()), &v}});
      std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
        return a.first.line != b.first.line ? a.first.line < b.first.line : a.first.column < b.first.column;
      });
      for (const auto& [pos, kv] : items) s.params.push_back(read_param(kv.first, *kv.second, s));
    }

    Symbols sym = s.symbols();
    // Drift.
    const toml::node* dn = root.get("drift");
    if (!dn) fail_top("missing key 'drift': one expression per variable, e.g. drift = [\"-x\"]");
    const toml::array* da = dn->as_array();
    if (!da) fail(*dn, "drift must be an array of " + std::to_string(s.dim) + " expressions (one per variable " + join_list(s.variables) + ")");
    if (int(da->size()) != s.dim)
      fail(*dn, "drift has " + std::to_string(da->size()) + " entr" + (da->size() == 1 ? "y" : "ies") + " but there " +
                    (s.dim == 1 ? "is 1 variable (" : "are " + std::to_string(s.dim) + " variables (") + join_list(s.variables) +
                    "): give one expression per variable");
    for (int i = 0; i < s.dim; ++i)
      s.drift.push_back(formula((*da)[std::size_t(i)], "drift[" + std::to_string(i) + "] (d" + s.variables[std::size_t(i)] + ")", sym, s));

    read_diffusion(root, s, sym);

    // Optional keys.
    if (const toml::node* ln = root.get("linear")) {
      if (!ln->is_boolean()) fail(*ln, "linear must be true or false");
      s.linear = ln->as_boolean()->get();
      s.linear_line = int(ln->source().begin.line);
      s.linear_column = int(ln->source().begin.column);
      if (s.linear && s.inferred_noise_kind != NoiseKind::additive)
        fail(*ln, "linear = true needs additive noise (a closed-form Gaussian transition), but the diffusion depends on the state");
    }
    s.initial.assign(std::size_t(s.dim), 0.0);
    if (const toml::node* in = root.get("initial")) {
      const toml::array* ia = in->as_array();
      if (!ia || int(ia->size()) != s.dim)
        fail(*in, "initial must be an array of " + std::to_string(s.dim) + " numbers (a point in " + join_list(s.variables) + ")");
      for (int i = 0; i < s.dim; ++i) {
        const auto& n = (*ia)[std::size_t(i)];
        const auto v = n.value<double>();
        if (!n.is_number() || !v) fail(n, "initial[" + std::to_string(i) + "] must be a number");
        if (!std::isfinite(*v)) fail(n, "initial[" + std::to_string(i) + "] = " + num(*v) + " is not a finite number");
        s.initial[std::size_t(i)] = *v;
      }
    }
    if (const toml::node* ld = root.get("log_density"))
      s.log_density = std::make_shared<Formula>(formula(*ld, "log_density", sym, s));
    return s;
  }

 private:
  const std::string& text_;
  std::string origin_;
  std::vector<std::string> lines_;

  std::string at(const toml::node& n) const {
    const auto& b = n.source().begin;
    return origin_ + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": ";
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& msg) const { throw ConfigError(at(n) + msg); }
  [[noreturn]] void fail_top(const std::string& msg) const { throw ConfigError(origin_ + ":1:1: " + msg); }

  std::string required_string(const toml::table& t, const char* key) const {
    const toml::node* n = t.get(key);
    if (!n) fail_top(std::string("missing key '") + key + "'");
    if (!n->is_string()) fail(*n, std::string(key) + " must be a string");
    return n->as_string()->get();
  }
  std::string optional_string(const toml::table& t, const char* key) const {
    const toml::node* n = t.get(key);
    if (!n) return "";
    if (!n->is_string()) fail(*n, std::string(key) + " must be a string");
    return n->as_string()->get();
  }
  void check_identifier(const toml::node& n, const std::string& id, const std::string& what) const {
    const bool ok = !id.empty() && id.size() <= 32 && (std::isalpha(static_cast<unsigned char>(id[0])) || id[0] == '_') &&
                    std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (!ok) fail(n, what + " name '" + id + "' is invalid: use a letter or '_' then letters, digits or '_' (at most 32)");
    if (is_reserved_name(id)) fail(n, what + " name '" + id + "' is reserved (t, pi and the function names)");
  }

  ParamSpec read_param(const std::string& name, const toml::node& n, const ModelSpec& s) const {
    if (std::find(kTopKeys.begin(), kTopKeys.end(), name) != kTopKeys.end())
      fail(n, "'" + name + "' stands inside [parameters]: in TOML every key after a [table] line belongs to it, so put " +
                  name + " (and the other top-level keys) before the [parameters] line");
    check_identifier(n, name, "parameter");
    if (std::find(s.variables.begin(), s.variables.end(), name) != s.variables.end())
      fail(n, "parameter '" + name + "' has the name of a state variable");
    ParamSpec p;
    p.info.name = name;
    p.info.lower = -inf;
    p.info.upper = inf;
    p.info.lower_open = p.info.upper_open = true;
    const toml::table* t = n.as_table();
    if (!t) {
      if (!n.is_number()) fail(n, "parameter '" + name + "' must be a number or a table { default = ..., range = \"(lo, hi)\", meaning = \"...\" }");
      p.default_value = *n.value<double>();
    } else {
      for (auto&& [k, v] : *t) {
        const std::string key(k.str());
        if (key != "default" && key != "range" && key != "meaning")
          fail(v, "parameter '" + name + "': unknown key '" + key + "': valid keys are default, range, meaning");
      }
      const toml::node* d = t->get("default");
      if (!d) fail(n, "parameter '" + name + "' has no default (e.g. default = 1.0)");
      if (!d->is_number()) fail(*d, "parameter '" + name + "': default must be a number");
      p.default_value = *d->value<double>();
      if (const toml::node* m = t->get("meaning")) {
        if (!m->is_string()) fail(*m, "parameter '" + name + "': meaning must be a string");
        p.info.meaning = m->as_string()->get();
      }
      if (const toml::node* r = t->get("range")) read_range(name, *r, p.info);
    }
    const toml::node& dn = (t && t->get("default")) ? *t->get("default") : n;
    if (!std::isfinite(p.default_value))
      fail(dn, "parameter '" + name + "': default = " + num(p.default_value) + " is not a finite number");
    try {
      check_param(p.info, p.default_value);
    } catch (const ConfigError& e) {
      fail(dn, std::string("default outside its range: ") + e.what());
    }
    return p;
  }

  void read_range(const std::string& name, const toml::node& r, ParamInfo& info) const {
    const std::string usage = "parameter '" + name + "': range must be an interval like \"(0, inf)\", \"[0, 1]\" or an array [lo, hi] (closed)";
    if (const toml::array* a = r.as_array()) {
      if (a->size() != 2 || !(*a)[0].is_number() || !(*a)[1].is_number()) fail(r, usage);
      info.lower = *(*a)[0].value<double>();
      info.upper = *(*a)[1].value<double>();
      info.lower_open = std::isinf(info.lower);
      info.upper_open = std::isinf(info.upper);
    } else if (const auto* str = r.as_string()) {
      std::string s = str->get();
      s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }), s.end());
      const auto comma = s.find(',');
      if (s.size() < 5 || comma == std::string::npos || (s.front() != '(' && s.front() != '[') ||
          (s.back() != ')' && s.back() != ']'))
        fail(r, usage);
      auto bound = [&](const std::string& b) {
        if (b == "inf" || b == "+inf") return inf;
        if (b == "-inf") return -inf;
        char* end = nullptr;
        const double v = std::strtod(b.c_str(), &end);
        if (b.empty() || end != b.c_str() + b.size() || std::isnan(v)) fail(r, usage + " (bad bound '" + b + "')");
        return v;
      };
      info.lower = bound(s.substr(1, comma - 1));
      info.upper = bound(s.substr(comma + 1, s.size() - comma - 2));
      info.lower_open = s.front() == '(';
      info.upper_open = s.back() == ')';
    } else {
      fail(r, usage);
    }
    if (std::isnan(info.lower) || std::isnan(info.upper) || !(info.lower <= info.upper))
      fail(r, "parameter '" + name + "': range [" + num(info.lower) + ", " + num(info.upper) + "] is empty or invalid");
  }

  /// A formula from a string (parsed) or a number (a literal).
  Formula formula(const toml::node& n, const std::string& where, const Symbols& sym, const ModelSpec& s) const {
    Formula f;
    f.where = where;
    f.line = int(n.source().begin.line);
    f.column = int(n.source().begin.column);
    if (n.is_number()) {
      const double v = *n.value<double>();
      if (!std::isfinite(v)) fail(n, where + " = " + num(v) + " is not a finite number");
      auto e = std::make_shared<Expr>();
      e->op = Expr::Op::number;
      e->value = v;
      f.expr = e;
      f.text = num(v);
      return f;
    }
    const auto* str = n.as_string();
    if (!str) fail(n, where + " must be an expression (a string such as \"-x + 1\") or a number");
    f.text = str->get();
    // Columns inside a one-line "..." or '...' string without escapes map 1:1 to the file.
    if (f.line >= 1 && std::size_t(f.line) <= lines_.size()) {
      const std::string& L = lines_[std::size_t(f.line - 1)];
      const std::size_t c = std::size_t(f.column - 1);
      if (c < L.size() && (L[c] == '"' || L[c] == '\'') && L.compare(c, 3, std::string(3, L[c])) != 0 &&
          L.compare(c + 1, f.text.size(), f.text) == 0) {
        f.exact_columns = true;
        f.column += 1;
      }
    }
    try {
      f.expr = parse_expression(f.text, sym);
    } catch (const ExprError& e) {
      throw ConfigError(locate(s, f, e.offset) + "in " + where + " = \"" + f.text + "\": " + e.text);
    }
    return f;
  }

  void read_diffusion(const toml::table& root, ModelSpec& s, const Symbols& sym) const {
    const toml::node* gn = root.get("diffusion");
    if (!gn) fail_top("missing key 'diffusion': a scalar (\"sqrt(2*T)\"), one entry per variable (diagonal) or a matrix of " + std::to_string(s.dim) + " rows");
    const int d = s.dim;
    const std::string shapes = "a scalar (G = g I), a list of " + std::to_string(d) + " entries (diagonal G) or " +
                               std::to_string(d) + " rows of m entries each (a " + std::to_string(d) + " x m matrix, m = noise dimension)";
    auto zero = [] {
      Formula z;
      auto e = std::make_shared<Expr>();
      e->op = Expr::Op::number;
      z.expr = e;
      z.text = "0";
      return z;
    };
    if (!gn->is_array()) {
      s.diffusion_form = "scalar";
      s.noise_dim = d;
      const Formula g = formula(*gn, "diffusion", sym, s);
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) {
          Formula f = i == j ? g : zero();
          if (i == j) f.where = "diffusion (scalar g, G = g I)";
          s.diffusion.push_back(f);
        }
    } else {
      const toml::array& a = *gn->as_array();
      const bool matrix = !a.empty() && a[0].is_array();
      if (int(a.size()) != d)
        fail(*gn, "diffusion has " + std::to_string(a.size()) + " " + (matrix ? "rows" : "entries") + " but the model has " +
                      std::to_string(d) + " variable" + (d == 1 ? "" : "s") + " (" + join_list(s.variables) + "): give " + shapes);
      if (!matrix) {
        s.diffusion_form = "diagonal";
        s.noise_dim = d;
        for (int i = 0; i < d; ++i) {
          if (a[std::size_t(i)].is_array())
            fail(a[std::size_t(i)], "diffusion mixes entries and rows: give " + shapes);
          const Formula g = formula(a[std::size_t(i)], "diffusion[" + std::to_string(i) + "]", sym, s);
          for (int j = 0; j < d; ++j) s.diffusion.push_back(i == j ? g : zero());
        }
      } else {
        s.diffusion_form = "matrix";
        for (int i = 0; i < d; ++i) {
          const toml::array* row = a[std::size_t(i)].as_array();
          if (!row) fail(a[std::size_t(i)], "diffusion row " + std::to_string(i) + " is not a list: give " + shapes);
          if (i == 0) s.noise_dim = int(row->size());
          if (row->empty()) fail(*row, "diffusion row 0 is empty: the noise dimension m must be >= 1");
          if (int(row->size()) != s.noise_dim)
            fail(*row, "diffusion row " + std::to_string(i) + " has " + std::to_string(row->size()) + " entries but row 0 has " +
                           std::to_string(s.noise_dim) + ": every row of the " + std::to_string(d) + " x m matrix needs m entries");
          for (int j = 0; j < s.noise_dim; ++j)
            s.diffusion.push_back(formula((*row)[std::size_t(j)], "diffusion[" + std::to_string(i) + "][" + std::to_string(j) + "]", sym, s));
        }
        if (s.noise_dim > 8) fail(*gn, "noise dimension " + std::to_string(s.noise_dim) + ": model files support at most 8");
      }
    }
    // The noise kind, from what each entry depends on (dependency analysis, no calculus).
    const int m = s.noise_dim;
    bool any_state = false, any_time = false;
    std::string first_state_entry, first_state_var;
    for (const auto& f : s.diffusion) {
      const auto vars = variables_used(*f.expr);
      if (!vars.empty() && !any_state) {
        first_state_entry = f.where;
        first_state_var = s.variables[std::size_t(*vars.begin())];
      }
      any_state |= !vars.empty();
      any_time |= uses_time(*f.expr);
    }
    s.diffusion_constant = !any_state && !any_time;
    bool diag_ok = d == m;
    std::string why_not_diag = d == m ? "" : "G is " + std::to_string(d) + " x " + std::to_string(m) + ", not square";
    if (diag_ok)
      for (int i = 0; i < d && diag_ok; ++i)
        for (int j = 0; j < m && diag_ok; ++j) {
          const auto& f = s.diffusion[std::size_t(i * m + j)];
          if (i != j && !(f.expr->op == Expr::Op::number && f.expr->value == 0.0)) {
            diag_ok = false;
            why_not_diag = f.where + " = \"" + f.text + "\" is off the diagonal and not 0";
          }
          if (i == j)
            for (int v : variables_used(*f.expr))
              if (v != i) {
                diag_ok = false;
                why_not_diag = f.where + " depends on " + s.variables[std::size_t(v)] + ", not only on " + s.variables[std::size_t(i)];
              }
        }
    s.inferred_noise_kind = !any_state ? NoiseKind::additive : diag_ok ? NoiseKind::diagonal : NoiseKind::general;
    s.noise_kind = s.inferred_noise_kind;
    if (const toml::node* kn = root.get("noise")) {
      const auto* ks = kn->as_string();
      const std::string k = ks ? ks->get() : "";
      if (k != "additive" && k != "diagonal" && k != "general")
        fail(*kn, "noise = \"" + k + "\" is invalid: valid kinds are additive (G independent of the state), diagonal (square G, G_ii depends on the i-th variable only) and general");
      const NoiseKind declared = k == "additive" ? NoiseKind::additive : k == "diagonal" ? NoiseKind::diagonal : NoiseKind::general;
      if (declared == NoiseKind::additive && any_state)
        fail(*kn, "noise = \"additive\" is declared but " + first_state_entry + " depends on the state variable " + first_state_var +
                      ": additive noise may depend on t only (declare noise = \"" + to_string(s.inferred_noise_kind) + "\" or remove the key)");
      if (declared == NoiseKind::diagonal && !diag_ok)
        fail(*kn, "noise = \"diagonal\" is declared but " + why_not_diag + " (declare noise = \"general\" or remove the key)");
      s.noise_kind = declared;
    }
    // A 3-variable model runs in the (3, 3) shapes (visit.hpp): fewer noises are padded with zero
    // columns of G (the same law; Itô and Stratonovich agree on them).
    s.declared_noise_dim = m;
    if (d == 3 && m < kRunNoiseColumns3D) {
      std::vector<Formula> padded;
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < kRunNoiseColumns3D; ++j) padded.push_back(j < m ? s.diffusion[std::size_t(i * m + j)] : zero());
      s.diffusion = std::move(padded);
      s.noise_dim = kRunNoiseColumns3D;
    }
  }
};

}  // namespace

std::string to_string(NoiseKind k) {
  return k == NoiseKind::additive ? "additive" : k == NoiseKind::diagonal ? "diagonal" : "general";
}

Symbols ModelSpec::symbols() const {
  Symbols s;
  s.variables = variables;
  for (const auto& p : params) s.parameters.push_back(p.info.name);
  return s;
}

std::string ModelSpec::equation() const {
  std::ostringstream o;
  for (int i = 0; i < dim; ++i) {
    o << (i ? ";  " : "") << "d" << variables[std::size_t(i)] << " = (" << drift[std::size_t(i)].text << ") dt";
    for (int j = 0; j < noise_dim; ++j) {
      const auto& g = diffusion[std::size_t(i * noise_dim + j)];
      if (g.expr->op == Expr::Op::number && g.expr->value == 0.0) continue;
      o << " + (" << g.text << ") dW" << (noise_dim > 1 ? std::to_string(j + 1) : "");
    }
  }
  return o.str();
}

__extension__ typedef unsigned __int128 u128;

std::string content_hash(const std::string& text) {
  u128 h = (static_cast<u128>(0x6c62272e07bb0142ULL) << 64) | 0x62b821756295c58dULL;
  const u128 prime = (static_cast<u128>(0x0000000001000000ULL) << 64) | 0x000000000000013BULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= prime;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h >> 64),
                static_cast<unsigned long long>(h));
  return buf;
}

std::string locate(const ModelSpec& spec, const Formula& f, int offset) {
  if (f.line <= 0) return spec.origin + ": ";
  if (f.exact_columns) return spec.origin + ":" + std::to_string(f.line) + ":" + std::to_string(f.column + offset) + ": ";
  return spec.origin + ":" + std::to_string(f.line) + ":" + std::to_string(f.column) + ": (character " +
         std::to_string(offset + 1) + " of the expression) ";
}

ModelSpec parse_model_text(const std::string& text, const std::string& origin) { return Reader(text, origin).read(); }

ModelSpec read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read the model file '" + path + "' (missing or unreadable)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("error reading the model file '" + path + "'");
  return parse_model_text(ss.str(), path);
}

}  // namespace sdescore::modelfile
