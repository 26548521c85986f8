#pragma once
/// \file
/// Small text helpers for option values and messages, one home for what sdesim and the
/// simulation run carried as private copies (sdesim uses this; sim/simulation.cpp still holds
/// its own copy until its next rebuild-worthy change: replace its split/to_int/to_double/num):
///   split("0:-1:1:10", ':')   -> {"0", "-1", "1", "10"}   (empty fields kept)
///   to_int("12") / to_double("1e-3")   -> the value if the WHOLE text is a number, else nullopt
///   shortest_decimal(0.1)     -> "0.1": the shortest text (6..17 significant digits) that reads
///                                 back as exactly the value (command lines, messages)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace sdescore::parse {

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

/// An integer covering the whole text; nullopt otherwise (also on overflow).
inline std::optional<long long> to_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

/// A double covering the whole text ("inf" and "nan" included); nullopt otherwise.
inline std::optional<double> to_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

/// Shortest decimal text with 6..17 significant digits that reads back as exactly v.
inline std::string shortest_decimal(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[40];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  return buf;  // %.17g always reads back
}

}  // namespace sdescore::parse
