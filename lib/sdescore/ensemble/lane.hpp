#pragma once
/// \file
/// `ensemble::Lane`: a double that Eigen does not vectorise, so the engine's loop over paths can.
///
/// The engine advances a block of paths with one stepper call per path (the "lane"). For a
/// model with state_dim >= 2, Eigen evaluates `Vec<double, 2>` arithmetic with its own 2-wide
/// SSE packets (`__m128d`); GCC's loop vectoriser cannot widen code that already uses vector
/// types ("no vectype for stmt ... MEM[(__m128d *)...]" in -fopt-info-vec), so the whole path
/// loop stayed scalar. With `Lane` as the scalar, Eigen has no packet type and emits plain
/// scalar code per path, which GCC vectorises across paths at the clone's width (AVX-512, AVX2,
/// SSE2). Every operation is the same IEEE double operation as on `double` (one per operator,
/// no fusion: the library is built with -ffp-contract=off), so results are bit-identical to
/// stepping the model with `double`, and across the clones.
///
/// A model opts in with `static constexpr bool generic_scalar = true;` (its drift, diffusion
/// and, for BAOAB, force compile for any scalar with the usual operators, `S(double)` and
/// ADL maths: `using std::exp; exp(x)`); a stepper with `template <class M> static constexpr
/// bool generic_scalar` (its do_step is templated on the scalar). Otherwise the engine steps
/// `double` as before.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>

namespace sdescore::ensemble {

struct Lane {
  double v;
  Lane() = default;
  constexpr Lane(double x) : v(x) {}  // NOLINT: implicit, as a literal in model code
  explicit constexpr operator double() const { return v; }

  constexpr Lane& operator+=(Lane o) { v += o.v; return *this; }
  constexpr Lane& operator-=(Lane o) { v -= o.v; return *this; }
  constexpr Lane& operator*=(Lane o) { v *= o.v; return *this; }
  constexpr Lane& operator/=(Lane o) { v /= o.v; return *this; }
  friend constexpr Lane operator+(Lane a, Lane b) { return Lane(a.v + b.v); }
  friend constexpr Lane operator-(Lane a, Lane b) { return Lane(a.v - b.v); }
  friend constexpr Lane operator*(Lane a, Lane b) { return Lane(a.v * b.v); }
  friend constexpr Lane operator/(Lane a, Lane b) { return Lane(a.v / b.v); }
  friend constexpr Lane operator-(Lane a) { return Lane(-a.v); }
  friend constexpr Lane operator+(Lane a) { return a; }
  friend constexpr bool operator<(Lane a, Lane b) { return a.v < b.v; }
  friend constexpr bool operator>(Lane a, Lane b) { return a.v > b.v; }
  friend constexpr bool operator<=(Lane a, Lane b) { return a.v <= b.v; }
  friend constexpr bool operator>=(Lane a, Lane b) { return a.v >= b.v; }
  friend constexpr bool operator==(Lane a, Lane b) { return a.v == b.v; }
  friend constexpr bool operator!=(Lane a, Lane b) { return a.v != b.v; }

  // ADL maths (models write `using std::exp; exp(x)`): the same libm / builtin call as on double.
  friend Lane abs(Lane a) { return Lane(std::abs(a.v)); }
  friend Lane sqrt(Lane a) { return Lane(std::sqrt(a.v)); }
  friend Lane exp(Lane a) { return Lane(std::exp(a.v)); }
  friend Lane expm1(Lane a) { return Lane(std::expm1(a.v)); }
  friend Lane log(Lane a) { return Lane(std::log(a.v)); }
  friend Lane log1p(Lane a) { return Lane(std::log1p(a.v)); }
  friend Lane sin(Lane a) { return Lane(std::sin(a.v)); }
  friend Lane cos(Lane a) { return Lane(std::cos(a.v)); }
  friend Lane tan(Lane a) { return Lane(std::tan(a.v)); }
  friend Lane tanh(Lane a) { return Lane(std::tanh(a.v)); }
  friend Lane atan(Lane a) { return Lane(std::atan(a.v)); }
  friend Lane atan2(Lane a, Lane b) { return Lane(std::atan2(a.v, b.v)); }
  friend Lane pow(Lane a, Lane b) { return Lane(std::pow(a.v, b.v)); }
  friend Lane min(Lane a, Lane b) { return Lane(std::min(a.v, b.v)); }
  friend Lane max(Lane a, Lane b) { return Lane(std::max(a.v, b.v)); }
  friend bool isfinite(Lane a) { return std::isfinite(a.v); }
  friend bool isnan(Lane a) { return std::isnan(a.v); }
  friend bool isinf(Lane a) { return std::isinf(a.v); }
};

/// The double inside (identity for double).
constexpr double lane_value(Lane a) { return a.v; }
constexpr double lane_value(double a) { return a; }

/// Whether the engine steps model M with stepper St over `Lane` (both opted in, see above).
template <class M>
inline constexpr bool model_generic_scalar_v = requires { requires M::generic_scalar; };
template <class St, class M>
inline constexpr bool stepper_generic_scalar_v = requires { requires St::template generic_scalar<M>; };

}  // namespace sdescore::ensemble

namespace Eigen {
template <>
struct NumTraits<sdescore::ensemble::Lane> : GenericNumTraits<double> {
  using Real = sdescore::ensemble::Lane;
  using NonInteger = sdescore::ensemble::Lane;
  using Nested = sdescore::ensemble::Lane;
  using Literal = sdescore::ensemble::Lane;
  enum { IsComplex = 0, IsInteger = 0, IsSigned = 1, RequireInitialization = 0, ReadCost = 1, AddCost = 1, MulCost = 1 };
  static inline Real epsilon() { return Real(GenericNumTraits<double>::epsilon()); }
  static inline Real dummy_precision() { return Real(1e-12); }
  static inline Real highest() { return Real(GenericNumTraits<double>::highest()); }
  static inline Real lowest() { return Real(GenericNumTraits<double>::lowest()); }
  static inline Real infinity() { return Real(GenericNumTraits<double>::infinity()); }
  static inline Real quiet_NaN() { return Real(GenericNumTraits<double>::quiet_NaN()); }
  static inline int digits10() { return GenericNumTraits<double>::digits10(); }
};
}  // namespace Eigen
