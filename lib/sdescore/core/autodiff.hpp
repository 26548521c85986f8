#pragma once
// Derivatives of a model's drift from its scalar-templated `drift`, by Eigen's forward-mode
// AutoDiff: the Jacobian is never typed by hand (method.md 2.3).
// Generic in the scalar S (double, or the engine's ensemble::Lane for generic-scalar models, whose
// drift then runs lane-wise: solvers/local_linearization.hpp); the same operations for any S.
#include <Eigen/Dense>
#include <cmath>
#include <type_traits>
#include <unsupported/Eigen/AutoDiff>

#include "sdescore/core/inline.hpp"
#include "sdescore/core/model.hpp"

namespace sdescore {

/// A = df/dy (y, t), state_dim x state_dim.
template <SdeModel M, class S>
Mat<S, M::state_dim, M::state_dim> drift_jacobian(const M& m, const Vec<S, M::state_dim>& y, std::type_identity_t<S> t) {
  constexpr int D = M::state_dim;
  using AD = Eigen::AutoDiffScalar<Vec<S, D>>;
  Vec<AD, D> ya;
  for (int i = 0; i < D; ++i) ya(i) = AD(y(i), D, i);
  const Vec<AD, D> fa = m.drift(ya, AD(t));
  Mat<S, D, D> J;
  for (int i = 0; i < D; ++i) {
    if (fa(i).derivatives().size() == 0)
      J.row(i).setZero();  // component independent of y
    else
      J.row(i) = fa(i).derivatives().transpose();
  }
  return J;
}

/// df/dt (y, t).
template <SdeModel M, class S>
Vec<S, M::state_dim> drift_time_derivative(const M& m, const Vec<S, M::state_dim>& y, std::type_identity_t<S> t) {
  constexpr int D = M::state_dim;
  using AD = Eigen::AutoDiffScalar<Vec<S, 1>>;
  Vec<AD, D> ya;
  for (int i = 0; i < D; ++i) ya(i) = AD(y(i), Vec<S, 1>::Zero());
  const Vec<AD, D> fa = m.drift(ya, AD(t, Vec<S, 1>::Ones()));
  Vec<S, D> c;
  for (int i = 0; i < D; ++i) c(i) = fa(i).derivatives().size() ? S(fa(i).derivatives()(0)) : S(0.0);
  return c;
}

/// Second directional derivative d^2/de^2 f(y + e u, t) at e = 0, i.e. u^T (Hess f_k) u for
/// each component k, by nested forward mode.
template <SdeModel M, class S>
Vec<S, M::state_dim> drift_second_directional(const M& m, const Vec<S, M::state_dim>& y, std::type_identity_t<S> t,
                                              const Vec<S, M::state_dim>& u) {
  constexpr int D = M::state_dim;
  using Inner = Eigen::AutoDiffScalar<Vec<S, 1>>;
  using Outer = Eigen::AutoDiffScalar<Vec<Inner, 1>>;
  Vec<Outer, D> ya;
  for (int i = 0; i < D; ++i) {
    Inner xi(y(i), Vec<S, 1>::Constant(u(i)));
    Vec<Inner, 1> d;
    d(0) = Inner(u(i), Vec<S, 1>::Zero());
    ya(i) = Outer(xi, d);
  }
  Inner ti(t, Vec<S, 1>::Zero());
  Vec<Inner, 1> dt0;
  dt0(0) = Inner(S(0.0), Vec<S, 1>::Zero());
  const Vec<Outer, D> fa = m.drift(ya, Outer(ti, dt0));
  Vec<S, D> r;
  for (int i = 0; i < D; ++i) {
    const auto& der = fa(i).derivatives();
    r(i) = (der.size() && der(0).derivatives().size()) ? S(der(0).derivatives()(0)) : S(0.0);
  }
  return r;
}

/// Itô curvature term  1/2 sum_ij (G G^T)_ij d_i d_j f = 1/2 sum_l g_l^T (Hess f) g_l
/// over the columns g_l of G (method.md 2.3, Itô-corrected mean).
/// A column g_l = 0 adds nothing (acc is kept as it is, also where the Hessian is not finite);
/// written as a select rather than a branch, so the engine's loop over paths vectorises.
template <SdeModel M, class S>
Vec<S, M::state_dim> drift_ito_curvature(const M& m, const Vec<S, M::state_dim>& y, std::type_identity_t<S> t,
                                         const Mat<S, M::state_dim, M::noise_dim>& G) {
  constexpr int D = M::state_dim;
  Vec<S, D> acc = Vec<S, D>::Zero();
  for (int l = 0; l < M::noise_dim; ++l) {
    const Vec<S, D> g = G.col(l);
    const bool zero = g.squaredNorm() == S(0.0);
    const Vec<S, D> d2 = drift_second_directional(m, y, t, g);
    for (int k = 0; k < D; ++k) acc(k) = zero ? acc(k) : S(acc(k) + d2(k));
  }
  return S(0.5) * acc;
}

/// A model whose drift and diffusion compile for any scalar with the usual operators, `S(double)`
/// and ADL maths (docs/concepts.md, `M::generic_scalar`).
template <class M>
inline constexpr bool model_is_generic_scalar_v = requires { requires M::generic_scalar; };

namespace detail {

/// Forward mode for the 1D LL step: value v, first and second derivative in y (d, dd) and the
/// first derivative in t (dt) of an expression, in one pass. First derivatives follow Eigen's
/// AutoDiffScalar rules operation for operation (product a' b + b' a, quotient, ...), so `d` and
/// `dt` have the bits of drift_jacobian and drift_time_derivative in 1D. Works for any S (double,
/// ensemble::Lane) and converts from double, which Eigen's nested AutoDiffScalar over a wrapper
/// scalar cannot (`S(-4.0 * a)` in model code needs two conversions there).
template <class S>
struct Jet2 {
  S v, d, dd, dt;
  Jet2() = default;
  Jet2(double x) : v(S(x)), d(S(0.0)), dd(S(0.0)), dt(S(0.0)) {}  // NOLINT: constants in model code
  template <class T>
    requires(!std::is_same_v<T, double> && std::is_constructible_v<S, T> && !std::is_same_v<T, Jet2>)
  explicit Jet2(const T& x) : v(S(x)), d(S(0.0)), dd(S(0.0)), dt(S(0.0)) {}
  Jet2(const S& v_, const S& d_, const S& dd_, const S& dt_) : v(v_), d(d_), dd(dd_), dt(dt_) {}

  SDESCORE_FORCE_INLINE friend Jet2 operator+(const Jet2& a, const Jet2& b) {
    return {a.v + b.v, a.d + b.d, a.dd + b.dd, a.dt + b.dt};
  }
  SDESCORE_FORCE_INLINE friend Jet2 operator-(const Jet2& a, const Jet2& b) {
    return {a.v - b.v, a.d - b.d, a.dd - b.dd, a.dt - b.dt};
  }
  SDESCORE_FORCE_INLINE friend Jet2 operator-(const Jet2& a) { return {-a.v, -a.d, -a.dd, -a.dt}; }
  SDESCORE_FORCE_INLINE friend Jet2 operator+(const Jet2& a) { return a; }
  SDESCORE_FORCE_INLINE friend Jet2 operator*(const Jet2& a, const Jet2& b) {
    return {a.v * b.v, a.d * b.v + b.d * a.v, a.dd * b.v + S(2.0) * (a.d * b.d) + a.v * b.dd, a.dt * b.v + b.dt * a.v};
  }
  SDESCORE_FORCE_INLINE friend Jet2 operator/(const Jet2& a, const Jet2& b) {
    const S q = a.v / b.v;
    const S r2 = S(1.0) / (b.v * b.v);
    const S qd = (a.d * b.v - b.d * a.v) * r2;  // as Eigen's AutoDiffScalar
    return {q, qd, (a.dd - S(2.0) * (qd * b.d) - q * b.dd) / b.v, (a.dt * b.v - b.dt * a.v) * r2};
  }
  Jet2& operator+=(const Jet2& o) { return *this = *this + o; }
  Jet2& operator-=(const Jet2& o) { return *this = *this - o; }
  Jet2& operator*=(const Jet2& o) { return *this = *this * o; }
  Jet2& operator/=(const Jet2& o) { return *this = *this / o; }
  SDESCORE_FORCE_INLINE friend bool operator<(const Jet2& a, const Jet2& b) { return a.v < b.v; }
  SDESCORE_FORCE_INLINE friend bool operator>(const Jet2& a, const Jet2& b) { return a.v > b.v; }
  SDESCORE_FORCE_INLINE friend bool operator<=(const Jet2& a, const Jet2& b) { return a.v <= b.v; }
  SDESCORE_FORCE_INLINE friend bool operator>=(const Jet2& a, const Jet2& b) { return a.v >= b.v; }
  SDESCORE_FORCE_INLINE friend bool operator==(const Jet2& a, const Jet2& b) { return a.v == b.v; }
  SDESCORE_FORCE_INLINE friend bool operator!=(const Jet2& a, const Jet2& b) { return a.v != b.v; }

  // g(a): value g, first g' a', second g'' a'^2 + g' a''.
  SDESCORE_FORCE_INLINE static Jet2 chain(const Jet2& a, const S& g, const S& g1, const S& g2) {
    return {g, g1 * a.d, g2 * (a.d * a.d) + g1 * a.dd, g1 * a.dt};
  }
  SDESCORE_FORCE_INLINE friend Jet2 exp(const Jet2& a) {
    using std::exp;
    const S e = exp(a.v);
    return chain(a, e, e, e);
  }
  SDESCORE_FORCE_INLINE friend Jet2 log(const Jet2& a) {
    using std::log;
    const S r = S(1.0) / a.v;
    return chain(a, log(a.v), r, -(r * r));
  }
  SDESCORE_FORCE_INLINE friend Jet2 sqrt(const Jet2& a) {
    using std::sqrt;
    const S r = sqrt(a.v), g1 = S(0.5) / r;
    return chain(a, r, g1, -(g1 / (S(2.0) * a.v)));
  }
  SDESCORE_FORCE_INLINE friend Jet2 sin(const Jet2& a) {
    using std::cos;
    using std::sin;
    const S sn = sin(a.v);
    return chain(a, sn, cos(a.v), -sn);
  }
  SDESCORE_FORCE_INLINE friend Jet2 cos(const Jet2& a) {
    using std::cos;
    using std::sin;
    const S cs = cos(a.v);
    return chain(a, cs, -sin(a.v), -cs);
  }
  SDESCORE_FORCE_INLINE friend Jet2 tanh(const Jet2& a) {  // Eigen's tanh' = 1 / cosh^2
    using std::cosh;
    using std::tanh;
    const S th = tanh(a.v), ch = cosh(a.v), g1 = S(1.0) / (ch * ch);
    return chain(a, th, g1, S(-2.0) * th * g1);
  }
};

}  // namespace detail

/// 1D drift of a generic-scalar model with its derivatives, in one evaluation over
/// detail::Jet2<S>: f = v, A = df/dy = d (the bits of drift_jacobian), f'' = dd (the Ito
/// curvature), df/dt = dt (the bits of drift_time_derivative). Generic in S like the model
/// (double, or the engine's ensemble::Lane).
template <SdeModel M, class S>
  requires(M::state_dim == 1 && model_is_generic_scalar_v<M>)
SDESCORE_FORCE_INLINE detail::Jet2<S> drift_jet_1d(const M& m, const S& y, std::type_identity_t<S> t) {
  using J = detail::Jet2<S>;
  const Vec<J, 1> ya(J(y, S(1.0), S(0.0), S(0.0)));
  return m.drift(ya, J(t, S(0.0), S(0.0), S(1.0)))(0);
}

}  // namespace sdescore

namespace Eigen {
template <class S>
struct NumTraits<sdescore::detail::Jet2<S>> : GenericNumTraits<double> {
  using Real = sdescore::detail::Jet2<S>;
  using NonInteger = Real;
  using Nested = Real;
  using Literal = Real;
  enum { IsComplex = 0, IsInteger = 0, IsSigned = 1, RequireInitialization = 1, ReadCost = 4, AddCost = 4, MulCost = 12 };
};
}  // namespace Eigen
