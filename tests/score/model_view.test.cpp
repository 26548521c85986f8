// score::ModelView (score/model_view.hpp): training is compiled once per dimension over it, on
// the promise that a model seen through its view gives the bits of the model itself.
#include "sdescore/score/model_view.hpp"

#include <doctest/doctest.h>

#include <limits>

#include "score_test_support.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/score/local_dsm.hpp"

using namespace sdescore;
using namespace sdescore::score;

namespace score_model_view_test {

/// The view's linearisation, Jacobian and single-path advance against the model's own calls.
template <class M>
void check_view(const M& m, const Vec<double, M::state_dim>& y0) {
  constexpr int D = M::state_dim;
  using St = sampler_stepper_t<M>;
  const ModelViewOf<M> view(m);
  const ModelView<D>& v = view;  // through the interface, as training calls it
  CHECK(v.name() == std::string(M::name));
  for (int i = 0; i < 5; ++i) {
    const Vec<double, D> y = y0 * (1.0 - 0.3 * i);
    const double s = 0.1 * i, delta = 0.02 * (i + 1);
    const auto a = v.transition(y, s, delta, {});
    const auto b = local_linear_transition(m, y, s, delta, {});
    CHECK(a.mean == b.mean);
    CHECK(a.cov == b.cov);
    CHECK(v.drift_jacobian(y, s) == drift_jacobian(m, y, s));
    CHECK(v.drift(y, s) == m.drift(y, s));
    CHECK(v.diffusion(y, s) == Eigen::Matrix<double, D, Eigen::Dynamic>(m.diffusion(y, s)));
  }
  // advance_path: n steps of h with the normals drawn in order, as a hand-written loop does
  Vec<double, D> ya = y0, yb = y0;
  random::KeyedDraws ra(5, 7), rb(5, 7);
  const int n = 13;
  const double h = 0.01, t0 = 0.25;
  v.advance_path(ya, t0, n, h, ra);
  Vec<double, St::template noise_dim<M>> dW;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < dW.size(); ++j) dW(j) = std::sqrt(h) * rb.normal();
    St{}.do_step(m, yb, t0 + i * h, h, dW);
  }
  CHECK(ya == yb);
}

}  // namespace score_model_view_test

TEST_CASE("score::ModelView: transition, Jacobian, fields and path advance are the model's bits") {
  score_model_view_test::check_view(models::DoubleWell{}, Vec<double, 1>(0.7));
  score_model_view_test::check_view(models::ActiveSwimmer{}, Vec<double, 2>(0.4, -1.1));
}

TEST_CASE("score::ModelView: a pool's kernels through the view are the model's local-linear transitions") {
  models::ActiveSwimmer m;
  const test::GaussianSource<models::ActiveSwimmer> ens(m, 2000, Vec<double, 2>(0.0, 0.0), Mat<double, 2, 2>::Identity(), 0.0, 3);
  KernelPool<2> pool;
  pool.t = 0.3;
  pool.s = 0.2;
  pool.delta = 0.1;
  random::KeyedDraws rng(11, 0);
  pool.ys = ens.src.sample_many(pool.s, 64, rng);
  compute_kernels(ens.src.model(), pool, {});
  for (int j = 0; j < pool.size(); ++j) CHECK(pool.mean[j] == local_linear_transition(m, pool.ys[j], pool.s, pool.delta, {}).mean);
  // the source's samples: snapshots advanced by the engine with the view's stepper
  random::KeyedDraws r1(12, 0), r2(12, 0);
  const EnsembleSource<models::ActiveSwimmer, EulerMaruyama> own(m, EulerMaruyama{}, ens.data, 0, false);
  CHECK(own.sample_many(0.05, 100, r1) == ens.src.sample_many(0.05, 100, r2));
}

namespace score_model_view_test {
/// A 1D model whose drift has overflowed to +inf (its Jacobian is zero), so the linearised
/// kernel's mean is infinite while its covariance is fine.
struct OverflowingDrift {
  static constexpr std::string_view name = "overflowing_drift", description = "test model", equation = "dX = f dt + dW";
  static constexpr int state_dim = 1;
  static constexpr int noise_dim = 1;
  using noise_kind = additive_noise;
  template <class F>
  void for_each_param(F&&) {}
  void validate() {}
  template <class S>
  Vec<S, 1> drift(const Vec<S, 1>&, const S&) const {
    return Vec<S, 1>(S(std::numeric_limits<double>::infinity()));
  }
  template <class S>
  Mat<S, 1, 1> diffusion(const Vec<S, 1>&, const S&) const { return Mat<S, 1, 1>(S(1.0)); }
  Vec<double, 1> initial_state() const { return Vec<double, 1>(0.0); }
};
}  // namespace score_model_view_test

TEST_CASE("score kernels: a non-finite kernel mean is refused with the sample named, not sorted") {
  score_model_view_test::OverflowingDrift m;
  KernelPool<1> pool;
  pool.t = 0.3;
  pool.s = 0.2;
  pool.delta = 0.1;
  pool.ys = {Vec<double, 1>(0.5), Vec<double, 1>(2.0)};
  CHECK_THROWS_WITH_AS(compute_kernels(m, pool, {}), doctest::Contains("kernel mean is not finite"), NumericalError);
  CHECK_THROWS_WITH_AS(compute_kernels(m, pool, {}), doctest::Contains("y_s = (0.5)"), NumericalError);  // the first failing sample
}
