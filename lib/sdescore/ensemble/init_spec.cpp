#include <charconv>
#include <cmath>

#include "sdescore/ensemble/init.hpp"

namespace sdescore::ensemble {

namespace {
using sdescore::detail::fmt_double;

[[noreturn]] void bad_spec(std::string_view text, const std::string& why) {
  throw ConfigError("bad init spec '" + std::string(text) + "': " + why + "; valid forms: " +
                    std::string(kInitSpecForms));
}

std::vector<double> parse_numbers(std::string_view text, std::string_view list) {
  std::vector<double> v;
  if (list.empty()) bad_spec(text, "expected a comma-separated list of numbers after ':'");
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = list.find(',', pos);
    std::string_view item = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty() && item.front() == '+') item.remove_prefix(1);
    double x = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), x);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || !std::isfinite(x))
      bad_spec(text, std::string(item).insert(0, 1, '\'').append("' is not a finite number"));
    v.push_back(x);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return v;
}
}  // namespace

InitSpec parse_init_spec(std::string_view text) {
  InitSpec s;
  s.text = std::string(text);
  const std::size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const bool has_args = colon != std::string_view::npos;
  const std::string_view args = has_args ? text.substr(colon + 1) : std::string_view{};
  if (kind == "point") {
    s.kind = InitSpec::Kind::point;
    if (has_args) s.values = parse_numbers(text, args);
  } else if (kind == "normal" || kind == "uniform") {
    s.kind = kind == "normal" ? InitSpec::Kind::normal : InitSpec::Kind::uniform;
    if (!has_args)
      bad_spec(text, std::string(kind) + (kind == "normal" ? " needs mean,std pairs" : " needs lo,hi pairs"));
    s.values = parse_numbers(text, args);
    if (s.values.size() % 2 != 0)
      bad_spec(text, std::string(kind) + " needs an even number of values (" +
                         (kind == "normal" ? "mean,std" : "lo,hi") + " per coordinate, or one pair for all); got " +
                         std::to_string(s.values.size()));
    for (std::size_t i = 0; i < s.values.size(); i += 2) {
      if (kind == "normal" && s.values[i + 1] < 0)
        bad_spec(text, "std " + fmt_double(s.values[i + 1]) + " is negative");
      if (kind == "uniform" && !(s.values[i] <= s.values[i + 1]))
        bad_spec(text, "lo " + fmt_double(s.values[i]) + " > hi " + fmt_double(s.values[i + 1]));
    }
  } else if (kind == "stationary") {
    s.kind = InitSpec::Kind::stationary;
    if (has_args) bad_spec(text, "stationary takes no arguments");
  } else if (kind == "two_moons" || kind == "checkerboard") {
    s.kind = kind == "two_moons" ? InitSpec::Kind::two_moons : InitSpec::Kind::checkerboard;
    if (has_args) {
      s.values = parse_numbers(text, args);
      if (s.values.size() != 1 || !(s.values[0] >= 0) || (kind == "checkerboard" && !(s.values[0] > 0)))
        bad_spec(text, std::string(kind) + (kind == "two_moons" ? " takes one noise level >= 0" : " takes one side length > 0"));
    }
  } else if (kind == "file") {
    s.kind = InitSpec::Kind::file;
    if (args.empty()) bad_spec(text, "file needs a path, file:PATH");
    s.path = std::string(args);
  } else {
    bad_spec(text, "unknown kind '" + std::string(kind) + "'");
  }
  return s;
}

std::vector<double> resolve_init_values(const InitSpec& spec, int dim, std::string_view model_name) {
  const auto n = spec.values.size();
  const auto D = static_cast<std::size_t>(dim);
  const std::size_t per = spec.kind == InitSpec::Kind::point ? 1 : 2;
  if (spec.kind != InitSpec::Kind::point && spec.kind != InitSpec::Kind::normal && spec.kind != InitSpec::Kind::uniform)
    throw ConfigError("init spec '" + spec.text + "' has no per-coordinate values");
  if (n == per * D) return spec.values;
  if (n == per) {
    std::vector<double> v;
    for (std::size_t d = 0; d < D; ++d) v.insert(v.end(), spec.values.begin(), spec.values.end());
    return v;
  }
  throw ConfigError("init spec '" + spec.text + "' has " + std::to_string(n) + " values but model " +
                    std::string(model_name) + " has state_dim " + std::to_string(dim) + ": give " +
                    std::to_string(per * D) + " values (" + (per == 1 ? "one per coordinate" : "one pair per coordinate") +
                    ") or " + std::to_string(per) + " (broadcast)");
}

StateMatrix states_from_rows(const Eigen::Ref<const Eigen::MatrixXd>& rows, int dim, std::uint64_t first_path,
                             std::int64_t n_paths) {
  if (rows.cols() != dim)
    throw ConfigError("given initial states have " + std::to_string(rows.cols()) + " columns but the model has state_dim " +
                      std::to_string(dim));
  const bool broadcast = rows.rows() == 1;
  if (!broadcast && static_cast<std::uint64_t>(rows.rows()) < first_path + static_cast<std::uint64_t>(n_paths))
    throw ConfigError("given initial states have " + std::to_string(rows.rows()) + " rows but paths [" +
                      std::to_string(first_path) + ", " + std::to_string(first_path + static_cast<std::uint64_t>(n_paths)) +
                      ") were requested (give one row per path, or a single row for all)");
  StateMatrix s(dim, n_paths);
  for (std::int64_t p = 0; p < n_paths; ++p) {
    const Eigen::Index r = broadcast ? 0 : static_cast<Eigen::Index>(first_path) + p;
    for (int d = 0; d < dim; ++d) {
      const double v = rows(r, d);
      if (!std::isfinite(v))
        throw ConfigError("given initial state of path " + std::to_string(r) + ", coordinate " + std::to_string(d) +
                          " = " + fmt_double(v) + " is not finite");
      s(d, p) = v;
    }
  }
  return s;
}

}  // namespace sdescore::ensemble
