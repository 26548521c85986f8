// The mixed objective local-dsm-ism (score/mixed.hpp): unbiased on a hypoelliptic linear model
// whose score is known in closed form, the noiseless divergence from unit probes, and the
// reduction to local-DSM on a fully noisy model.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/nn/mlp.hpp"
#include "sdescore/score/fit.hpp"
#include "sdescore/score/local_dsm.hpp"
#include "sdescore/score/mixed.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"

using namespace sdescore;
using namespace sdescore::score;

namespace score_mixed_test {  // named and around the whole file: unity batches must not mix files' helpers

/// Hypoelliptic OU: dx = (-x + v) dt, dv = -v/2 dt + dW (x noiseless), i.e. OU2 with
/// B = [[1, -1], [0, 0.5]], S = diag(0, 1). Not validated (validate() refuses a singular S).
models::OrnsteinUhlenbeck<2> mixed_test_hypo_ou() {
  models::OrnsteinUhlenbeck<2> m;
  m.B << 1.0, -1.0, 0.0, 0.5;
  m.S << 0.0, 0.0, 0.0, 1.0;
  return m;
}

/// Mean and covariance of p_t from N(m, C) at s, by RK4 on dm/dt = -B m and the Lyapunov
/// equation dC/dt = -B C - C B^T + S S^T (independent of the library's matrix exponentials).
std::pair<Vec<double, 2>, Mat<double, 2, 2>> mixed_test_propagate(const models::OrnsteinUhlenbeck<2>& ou, Vec<double, 2> m,
                                                                  Mat<double, 2, 2> C, double delta) {
  const Mat<double, 2, 2> Q = ou.S * ou.S.transpose();
  auto fC = [&](const Mat<double, 2, 2>& c) -> Mat<double, 2, 2> { return -ou.B * c - c * ou.B.transpose() + Q; };
  const int n = 2000;
  const double h = delta / n;
  for (int i = 0; i < n; ++i) {
    const Vec<double, 2> a1 = -ou.B * m, a2 = -ou.B * (m + 0.5 * h * a1), a3 = -ou.B * (m + 0.5 * h * a2), a4 = -ou.B * (m + h * a3);
    m += h / 6 * (a1 + 2 * a2 + 2 * a3 + a4);
    const Mat<double, 2, 2> k1 = fC(C), k2 = fC(C + 0.5 * h * k1), k3 = fC(C + 0.5 * h * k2), k4 = fC(C + h * k3);
    C += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  return {m, C};
}

/// Per-sample gradient of the mixed loss with respect to W for the linear score s(y) = W [y; 1]
/// (W is 2 x 3, column-major in the returned 6-vector); d_0 s_0 = W(0, 0).
Eigen::Matrix<double, 6, 1> mixed_test_sample_gradient(const Mat<double, 2, 3>& W, const Batch& b, const Eigen::MatrixXd& lam, int i,
                                                       const std::vector<int>& noiseless) {
  const Eigen::Vector3d phi(b.y(i, 0), b.y(i, 1), 1.0);
  const Eigen::MatrixXd s = (W * phi).transpose();
  const Eigen::VectorXd dv = Eigen::VectorXd::Constant(1, W(0, 0));
  const auto lg = mixed_loss(s, dv, b.target.row(i), lam.middleCols(2 * i, 2), noiseless);
  Mat<double, 2, 3> g = lg.dL_ds.row(0).transpose() * phi.transpose();
  if (!noiseless.empty()) g(0, 0) += lg.dL_ddiv(0);
  return Eigen::Map<const Eigen::Matrix<double, 6, 1>>(g.data());
}


TEST_CASE("noiseless coordinates are the zero rows of G on the data") {
  const auto hypo = mixed_test_hypo_ou();
  const std::vector<Vec<double, 2>> ys{Vec<double, 2>(0.1, -0.3), Vec<double, 2>(1.2, 0.4)};
  CHECK(noiseless_coordinates(hypo, ys, {0.0, 1.0}) == std::vector<int>{0});
  CHECK(noiseless_coordinates(models::ActiveSwimmer{}, ys, {0.0, 1.0}) == std::vector<int>{0});
  CHECK(noiseless_coordinates(models::OrnsteinUhlenbeck<2>{}, ys, {0.0, 1.0}).empty());
  CHECK_THROWS_AS(noiseless_coordinates(hypo, ys, {0.0}), ConfigError);
}

TEST_CASE("unit probes make the network's divergence pass give the noiseless diagonal d_0 s_0") {
  nn::Architecture arch;
  arch.input_dim = arch.output_dim = 2;
  arch.hidden = {16, 16};
  const nn::Mlp<float> net(arch, 7);
  Eigen::MatrixXd y(3, 2);
  y << 0.3, -0.2, -1.1, 0.8, 0.5, 1.5;
  const Eigen::VectorXd t = Eigen::VectorXd::Constant(3, 0.7);
  nn::Workspace<float> ws;
  net.forward(y, t, Eigen::VectorXd(), nn::Divergence::hutchinson(noiseless_probes(3, 2, {0})), ws, 1);
  const Eigen::VectorXd div = ws.divergence();
  const double h = 1e-2;
  for (int i = 0; i < 3; ++i) {
    Eigen::MatrixXd yp = y.row(i), ym = y.row(i);
    yp(0, 0) += h;
    ym(0, 0) -= h;
    const Eigen::VectorXd ti = t.head(1);
    const double fd = (net.evaluate(yp, ti, Eigen::VectorXd(), 1)(0, 0) - net.evaluate(ym, ti, Eigen::VectorXd(), 1)(0, 0)) / (2 * h);
    CHECK(div(i) == doctest::Approx(fd).epsilon(2e-3));  // float32 network, central difference
  }
}

TEST_CASE("mixed loss is unbiased on a hypoelliptic OU: zero population gradient at the exact score, not elsewhere") {
  // p_s = N(m_s, C_s) exactly; one linearised step (exact for a linear SDE) of Delta = 0.1 gives
  // p_t = N(m_t, C_t), score -C_t^{-1}(y - m_t) = W* [y; 1]. Single-pair targets (R = 1), Lambda = Sigma.
  const auto ou = mixed_test_hypo_ou();
  const Vec<double, 2> ms(0.4, -0.3);
  Mat<double, 2, 2> Cs;
  Cs << 0.6, 0.2, 0.2, 0.9;
  const double delta = 0.1;
  const auto [mt, Ct] = mixed_test_propagate(ou, ms, Cs, delta);
  const Mat<double, 2, 2> P = Ct.inverse();
  Mat<double, 2, 3> Wstar;
  Wstar.leftCols(2) = -P;
  Wstar.col(2) = P * mt;

  const int N = 40000;
  KernelPool<2> pool;
  pool.s = 1.0;
  pool.delta = delta;
  pool.t = pool.s + delta;
  std::mt19937_64 gen(11);
  std::normal_distribution<double> nd;
  const Mat<double, 2, 2> Ls = Cs.llt().matrixL();
  for (int i = 0; i < N; ++i) pool.ys.push_back(ms + Ls * Vec<double, 2>(nd(gen), nd(gen)));
  compute_kernels(ou, pool, {});
  pool.lambda = pool.chol[0] * pool.chol[0].transpose();  // Sigma: the same for every y_s (linear SDE)
  pool.multi = false;
  random::KeyedDraws rng(12, 0);
  const Batch b = make_batch<2>({&pool}, N, {.reference_size = 1}, rng);
  const Eigen::MatrixXd lam = stacked_weights(b);
  const std::vector<int> noiseless{0};

  auto mean_and_se = [&](const Mat<double, 2, 3>& W) {
    Eigen::Matrix<double, 6, 1> sum = Eigen::Matrix<double, 6, 1>::Zero(), sq = sum;
    for (int i = 0; i < N; ++i) {
      const auto g = mixed_test_sample_gradient(W, b, lam, i, noiseless);
      sum += g;
      sq += g.cwiseProduct(g);
    }
    const Eigen::Matrix<double, 6, 1> mean = sum / N;
    const Eigen::Matrix<double, 6, 1> se = ((sq / N - mean.cwiseProduct(mean)) / (N - 1)).cwiseSqrt();
    return std::make_pair(mean, se);
  };
  const auto [g0, se0] = mean_and_se(Wstar);
  for (int k = 0; k < 6; ++k) {
    INFO("gradient entry ", k, " at the exact score: ", g0(k), " +- ", se0(k));
    CHECK(std::abs(g0(k)) < 4 * se0(k));
    CHECK(se0(k) > 0);
  }
  // Power: moving the x-row of W (the noiseless component) away from the truth must give a
  // gradient far outside the noise. Dropping the ISM term on x makes these gradients exactly 0.
  for (int k : {0, 2, 4}) {  // W(0,0), W(0,1), W(0,2) in column-major order
    Mat<double, 2, 3> W = Wstar;
    W.data()[k] += 0.2 * (1 + std::abs(Wstar.data()[k]));
    const auto [g, se] = mean_and_se(W);
    INFO("gradient entry ", k, " with W(0, ", k / 2, ") moved: ", g(k), " +- ", se(k));
    CHECK(std::abs(g(k)) > 10 * se(k));
    CHECK(g(k) > 0);  // a convex loss pushes back towards the truth
  }
}

TEST_CASE("local-dsm, local-dsm-ism and local-dsm-plain coincide bit for bit on a fully noisy model; on the swimmer local-dsm learns x by ISM") {
  FitOptions opt;
  opt.steps = 60;
  opt.batch = 64;
  opt.groups = 4;
  opt.pool_size = 64;
  opt.n_pools = 8;
  opt.target.reference_size = 16;
  opt.schedule.kind = "fixed";
  opt.schedule.delta = 0.05;
  opt.schedule.grid = 8;
  opt.schedule.samples = 16;
  opt.arch.hidden = {16, 16};
  opt.log_every = 10;
  opt.trainer.threads = 1;
  EnsembleData data;
  data.dt = 1e-3;
  std::mt19937_64 gen(3);
  std::normal_distribution<double> nd;
  for (int k = 0; k < 3; ++k) {
    data.times.push_back(0.5 * k);
    Eigen::MatrixXd S(400, 2);
    for (int i = 0; i < S.size(); ++i) S.data()[i] = nd(gen);
    data.states.push_back(S);
  }
  opt.holdout_every = 0;
  const models::OrnsteinUhlenbeck<2> ou;
  opt.objective = Objective::local_dsm;
  const auto a = fit_score(ou, EulerMaruyama{}, data, opt);
  opt.objective = Objective::local_dsm_ism;
  const auto b = fit_score(ou, EulerMaruyama{}, data, opt);
  CHECK(a.trainer.model().flat_parameters() == b.trainer.model().flat_parameters());

  CHECK(a.ism_coordinates.empty());
  CHECK(b.ism_coordinates.empty());
  opt.objective = Objective::local_dsm_plain;
  CHECK(fit_score(ou, EulerMaruyama{}, data, opt).trainer.model().flat_parameters() == a.trainer.model().flat_parameters());

  opt.objective = Objective::local_dsm_ism;
  const auto c = fit_score(models::ActiveSwimmer{}, EulerMaruyama{}, data, opt);
  for (const auto& p : c.curve) CHECK(std::isfinite(p.loss));
  CHECK(c.ism_coordinates == std::vector<int>{0});
  // local-dsm (the default) is the per-component objective on the swimmer: ISM on x, no noise there
  opt.objective = Objective::local_dsm;
  const auto d = fit_score(models::ActiveSwimmer{}, EulerMaruyama{}, data, opt);
  CHECK(d.ism_coordinates == std::vector<int>{0});
  CHECK(d.trainer.model().flat_parameters() == c.trainer.model().flat_parameters());
  // local-dsm-plain keeps local-DSM in x as well: another objective, other weights
  opt.objective = Objective::local_dsm_plain;
  const auto e = fit_score(models::ActiveSwimmer{}, EulerMaruyama{}, data, opt);
  CHECK(e.ism_coordinates.empty());
  CHECK(e.trainer.model().flat_parameters() != c.trainer.model().flat_parameters());
  CHECK(parse_objective("local-dsm-plain") == Objective::local_dsm_plain);
  CHECK(objective_name(Objective::local_dsm_plain) == "local-dsm-plain");
  CHECK(parse_objective("local-dsm-ism") == Objective::local_dsm_ism);
  CHECK(objective_name(Objective::local_dsm_ism) == "local-dsm-ism");
}

}  // namespace score_mixed_test
