#pragma once
// The SDE model concept (docs/concepts.md):
//   dY = f(Y, t) dt + G(Y, t) dW,   Y in R^state_dim, W in R^noise_dim.
#include <Eigen/Dense>
#include <concepts>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "sdescore/core/error.hpp"

namespace sdescore {

template <class S, int N>
using Vec = Eigen::Matrix<S, N, 1>;
template <class S, int R, int C>
using Mat = Eigen::Matrix<S, R, C>;

/// Noise-kind tags, so steppers can specialise.
struct additive_noise {};   ///< G independent of y (may depend on t)
struct diagonal_noise {};   ///< state_dim == noise_dim and G diagonal, G_ii = g_i(y_i, t)
struct general_noise {};    ///< anything else

/// Description of one scalar model parameter, for the registry and `sdesim --describe`.
struct ParamInfo {
  std::string name;
  std::string meaning;
  double lower;        ///< valid range [lower, upper] (or open at an end, see flags)
  double upper;
  bool lower_open = false;
  bool upper_open = false;
};

/// Checks a parameter against its ParamInfo; throws ConfigError naming it and the valid range.
inline void check_param(const ParamInfo& p, double value);

template <class M>
concept SdeModel = requires(const M& m, M& mm, const Vec<double, M::state_dim>& y, double t) {
  { M::name } -> std::convertible_to<std::string_view>;
  { M::description } -> std::convertible_to<std::string_view>;
  { M::equation } -> std::convertible_to<std::string_view>;
  requires M::state_dim >= 1;
  requires M::noise_dim >= 1;
  typename M::noise_kind;
  { m.drift(y, t) } -> std::same_as<Vec<double, M::state_dim>>;
  { m.diffusion(y, t) } -> std::same_as<Mat<double, M::state_dim, M::noise_dim>>;
  { m.initial_state() } -> std::same_as<Vec<double, M::state_dim>>;
  mm.validate();
  mm.for_each_param([](const ParamInfo&, double&) {});
};

template <class M>
inline constexpr bool is_additive_v = std::is_same_v<typename M::noise_kind, additive_noise>;
template <class M>
inline constexpr bool is_diagonal_v = std::is_same_v<typename M::noise_kind, diagonal_noise>;

/// Calls f(info, value_ref) for each scalar parameter of the model (models implement
/// `template <class F> void for_each_param(F&& f)`), checking every value.
template <class M>
void validate_params(M& m) {
  m.for_each_param([](const ParamInfo& p, double& v) { check_param(p, v); });
}

inline void check_param(const ParamInfo& p, double value) {
  const std::string& name = p.name;
  require_finite("parameter " + name, value);
  const bool lo_bad = p.lower_open ? !(value > p.lower) : !(value >= p.lower);
  const bool hi_bad = p.upper_open ? !(value < p.upper) : !(value <= p.upper);
  if (lo_bad || hi_bad) {
    std::string range = std::string(p.lower_open ? "(" : "[") + detail::fmt_double(p.lower) + ", " +
                        detail::fmt_double(p.upper) + (p.upper_open ? ")" : "]");
    throw ConfigError("parameter " + name + " = " + detail::fmt_double(value) +
                      " is out of range: valid values are in " + range + " (" + std::string(p.meaning) + ")");
  }
}

inline constexpr double inf = std::numeric_limits<double>::infinity();

}  // namespace sdescore
