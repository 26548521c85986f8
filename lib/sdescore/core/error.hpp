#pragma once
// One base error type with a few domain subclasses. Messages say what was attempted,
// which value was wrong and what would be valid.
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sdescore {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Bad user input: parameters, options, incompatible choices.
struct ConfigError : Error {
  using Error::Error;
};
/// Files: missing, unreadable, unwritable, wrong layout.
struct IoError : Error {
  using Error::Error;
};
/// Numerical failure: non-finite state, failed factorisation.
struct NumericalError : Error {
  using Error::Error;
};

namespace detail {
inline std::string fmt_double(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}
}  // namespace detail

/// Throws ConfigError unless v is finite.
inline void require_finite(std::string_view what, double v) {
  if (!std::isfinite(v))
    throw ConfigError(std::string(what) + " = " + detail::fmt_double(v) + " is not a finite number");
}
/// Throws ConfigError unless v is finite and v > 0.
inline void require_positive(std::string_view what, double v) {
  require_finite(what, v);
  if (!(v > 0))
    throw ConfigError(std::string(what) + " = " + detail::fmt_double(v) + " is invalid: it must be > 0");
}
/// Throws ConfigError unless v is finite and v >= 0.
inline void require_non_negative(std::string_view what, double v) {
  require_finite(what, v);
  if (!(v >= 0))
    throw ConfigError(std::string(what) + " = " + detail::fmt_double(v) + " is invalid: it must be >= 0");
}

}  // namespace sdescore
