#include "sdescore/eval/model_view.hpp"

#include <doctest/doctest.h>

#include "sdescore/eval/probability_flow.hpp"
#include "sdescore/eval/reverse_sde.hpp"
#include "sdescore/reference/fokker_planck.hpp"
#include "sdescore/sdescore.hpp"

using namespace sdescore;
using namespace sdescore::eval;

// The study and physics are compiled once per shape over AdditiveModel<D, N> (eval/model_view.hpp)
// on the promise that a model seen through its fields gives the bits of the model itself. These
// tests hold that promise for every piece the study uses: fields, the drift's Jacobian, the
// Fokker-Planck reference, the probability flow (with its density) and the reverse SDE, whose
// normals depend on the noise count N the view keeps.
namespace eval_model_view_test {

/// A smooth stand-in for a learned score, the same for both runs.
struct ToyScore {
  Eigen::MatrixXd operator()(const Eigen::MatrixXd& y, const Eigen::VectorXd& t) const {
    Eigen::MatrixXd s = -y;
    for (Eigen::Index i = 0; i < y.rows(); ++i) s.row(i) *= 1.0 + 0.1 * std::sin(t(i)) + 0.05 * y.row(i).squaredNorm();
    return s;
  }
};
/// A linear one for the reverse SDE (which the toy score's cubic growth would blow up).
struct LinearScore {
  Eigen::MatrixXd operator()(const Eigen::MatrixXd& y, const Eigen::VectorXd&) const { return -y; }
};

Eigen::MatrixXd points(int n, int d, unsigned seed) {
  std::srand(seed);
  return Eigen::MatrixXd::Random(n, d) * 1.5;
}

template <class M>
void check_fields(const M& model) {
  constexpr int D = M::state_dim;
  const AdditiveFieldsOf<M> fields(model);
  const auto view = fields.model();
  static_assert(decltype(view)::noise_dim == M::noise_dim, "the view keeps the noise count");
  CHECK(view.label() == std::string(M::name));
  CHECK(fields.training().name() == std::string(M::name));
  const Eigen::MatrixXd ys = points(16, D, 3);
  for (int i = 0; i < ys.rows(); ++i) {
    const Vec<double, D> y = ys.row(i).transpose();
    const double t = 0.1 * i;
    CHECK(view.drift(y, t) == model.drift(y, t));
    CHECK(view.diffusion(y, t) == model.diffusion(y, t));
    CHECK(model_drift_jacobian(view, y, t) == drift_jacobian(model, y, t));
  }
}

}  // namespace eval_model_view_test

TEST_CASE("eval::AdditiveModel: a model seen through its fields has the model's fields and Jacobian, bit for bit") {
  eval_model_view_test::check_fields(models::DoubleWell{});
  eval_model_view_test::check_fields(models::ActiveSwimmer{});
  eval_model_view_test::check_fields(models::OU2{});
}

TEST_CASE("eval::AdditiveModel: Fokker-Planck reference, flow and reverse SDE give the model's bits") {
  using eval_model_view_test::ToyScore;
  SUBCASE("double well (1, 1): Fokker-Planck density") {
    models::DoubleWell m;
    const AdditiveFieldsOf<models::DoubleWell> fields(m);
    const reference::GridSpec<1> gs{{-2.5}, {2.5}, {200}};
    reference::FokkerPlanckSolver<models::DoubleWell> a(m, gs);
    reference::FokkerPlanckSolver<AdditiveModel<1, 1>> b(fields.model(), gs);
    a.set_initial_gaussian(Vec<double, 1>(0.3), Mat<double, 1, 1>(0.05));
    b.set_initial_gaussian(Vec<double, 1>(0.3), Mat<double, 1, 1>(0.05));
    a.advance_to(0.2, 0.01);
    b.advance_to(0.2, 0.01);
    CHECK(a.density() == b.density());
  }
  SUBCASE("active swimmer (2, 1): flow with density, reverse SDE") {
    models::ActiveSwimmer m;
    const AdditiveFieldsOf<models::ActiveSwimmer> fields(m);
    const auto view = fields.model();
    const Eigen::MatrixXd y0 = eval_model_view_test::points(64, 2, 5);
    const std::vector<double> times{0.5, 0.8, 1.2};
    const auto fa = integrate_probability_flow(m, ToyScore{}, y0, times);
    const auto fb = integrate_probability_flow(view, ToyScore{}, y0, times);
    REQUIRE(fa.states.size() == fb.states.size());
    for (std::size_t i = 0; i < fa.states.size(); ++i) CHECK(fa.states[i] == fb.states[i]);
    auto jac = finite_difference_score_jacobian(ToyScore{}, 1e-4);
    const Eigen::VectorXd logp = Eigen::VectorXd::Constant(y0.rows(), -1.0);
    const auto da = integrate_probability_flow_with_density(m, ToyScore{}, jac, y0, logp, times);
    const auto db = integrate_probability_flow_with_density(view, ToyScore{}, jac, y0, logp, times);
    for (std::size_t i = 0; i < da.log_density.size(); ++i) CHECK(da.log_density[i] == db.log_density[i]);
    ReverseSdeOptions ro;
    ro.steps = 10;  // a short stretch: run backwards, the swimmer's noiseless x drifts away (docs/evaluation.md)
    ro.seed = 9;
    using eval_model_view_test::LinearScore;
    CHECK(reverse_sde_sample(m, LinearScore{}, y0, 1.2, 1.1, ro) == reverse_sde_sample(view, LinearScore{}, y0, 1.2, 1.1, ro));
  }
}
