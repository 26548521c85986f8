#pragma once
// Derivatives of a model's drift from its scalar-templated `drift`, by Eigen's forward-mode
// AutoDiff: the Jacobian is never typed by hand (method.md 2.3).
#include <Eigen/Dense>
#include <unsupported/Eigen/AutoDiff>

#include "sdescore/core/model.hpp"

namespace sdescore {

/// A = df/dy (y, t), state_dim x state_dim.
template <SdeModel M>
Mat<double, M::state_dim, M::state_dim> drift_jacobian(const M& m, const Vec<double, M::state_dim>& y, double t) {
  constexpr int D = M::state_dim;
  using AD = Eigen::AutoDiffScalar<Vec<double, D>>;
  Vec<AD, D> ya;
  for (int i = 0; i < D; ++i) ya(i) = AD(y(i), D, i);
  const Vec<AD, D> fa = m.drift(ya, AD(t));
  Mat<double, D, D> J;
  for (int i = 0; i < D; ++i) {
    if (fa(i).derivatives().size() == 0)
      J.row(i).setZero();  // component independent of y
    else
      J.row(i) = fa(i).derivatives().transpose();
  }
  return J;
}

/// df/dt (y, t).
template <SdeModel M>
Vec<double, M::state_dim> drift_time_derivative(const M& m, const Vec<double, M::state_dim>& y, double t) {
  constexpr int D = M::state_dim;
  using AD = Eigen::AutoDiffScalar<Vec<double, 1>>;
  Vec<AD, D> ya;
  for (int i = 0; i < D; ++i) ya(i) = AD(y(i), Vec<double, 1>::Zero());
  const Vec<AD, D> fa = m.drift(ya, AD(t, Vec<double, 1>::Ones()));
  Vec<double, D> c;
  for (int i = 0; i < D; ++i) c(i) = fa(i).derivatives().size() ? fa(i).derivatives()(0) : 0.0;
  return c;
}

/// Second directional derivative d^2/de^2 f(y + e u, t) at e = 0, i.e. u^T (Hess f_k) u for
/// each component k, by nested forward mode.
template <SdeModel M>
Vec<double, M::state_dim> drift_second_directional(const M& m, const Vec<double, M::state_dim>& y, double t,
                                                   const Vec<double, M::state_dim>& u) {
  constexpr int D = M::state_dim;
  using Inner = Eigen::AutoDiffScalar<Vec<double, 1>>;
  using Outer = Eigen::AutoDiffScalar<Vec<Inner, 1>>;
  Vec<Outer, D> ya;
  for (int i = 0; i < D; ++i) {
    Inner xi(y(i), Vec<double, 1>::Constant(u(i)));
    Vec<Inner, 1> d;
    d(0) = Inner(u(i), Vec<double, 1>::Zero());
    ya(i) = Outer(xi, d);
  }
  Inner ti(t, Vec<double, 1>::Zero());
  Vec<Inner, 1> dt0;
  dt0(0) = Inner(0.0, Vec<double, 1>::Zero());
  const Vec<Outer, D> fa = m.drift(ya, Outer(ti, dt0));
  Vec<double, D> r;
  for (int i = 0; i < D; ++i) {
    const auto& der = fa(i).derivatives();
    r(i) = (der.size() && der(0).derivatives().size()) ? der(0).derivatives()(0) : 0.0;
  }
  return r;
}

/// Itô curvature term  1/2 sum_ij (G G^T)_ij d_i d_j f = 1/2 sum_l g_l^T (Hess f) g_l
/// over the columns g_l of G (method.md 2.3, Itô-corrected mean).
template <SdeModel M>
Vec<double, M::state_dim> drift_ito_curvature(const M& m, const Vec<double, M::state_dim>& y, double t,
                                              const Mat<double, M::state_dim, M::noise_dim>& G) {
  Vec<double, M::state_dim> acc = Vec<double, M::state_dim>::Zero();
  for (int l = 0; l < M::noise_dim; ++l) {
    const Vec<double, M::state_dim> g = G.col(l);
    if (g.squaredNorm() == 0.0) continue;
    acc += drift_second_directional(m, y, t, g);
  }
  return 0.5 * acc;
}

}  // namespace sdescore
