// local-DSM targets: correctness against exact OU scores, variance reductions (measured), the
// y_s-independent weight rule, hypoelliptic kernels.
#include <doctest/doctest.h>

#include <cstring>

#include "score_test_support.hpp"
#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/score/local_dsm.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"

using namespace sdescore;
using namespace sdescore::score;

namespace local_dsm_test {  // the whole file: its helpers must not meet another file's in a unity batch
// OU 1D with p_0 = N(0.8, 0.3^2): the marginal at t is N(mu_t, v_t) in closed form.
models::OU1 ou;
const double m0 = 0.8, v0 = 0.09;
double ou_score(double y, double t) {
  const double e = std::exp(-t);
  const double mt = e * m0, vt = e * e * v0 + ou.exact_covariance(t)(0, 0);
  return -(y - mt) / vt;
}

// Training source: n exact samples of that p_0 at t = 0, under the OU model.
test::GaussianSource<models::OU1> ou_source(int n, unsigned long seed) {
  return {ou, n, Vec<double, 1>(m0), Mat<double, 1, 1>(v0), 0.0, seed};
}

// Hypoelliptic training source: the active swimmer (noise on v only) from n exact samples of a
// correlated 2D Gaussian at t = 0.
test::GaussianSource<models::ActiveSwimmer> swimmer_source(int n, unsigned long seed) {
  Mat<double, 2, 2> C;
  C << 0.5, 0.1, 0.1, 0.8;
  return {models::ActiveSwimmer{}, n, Vec<double, 2>(0.2, -0.1), C, 0.0, seed};
}

TEST_CASE("R = 1 multi-sample target equals the plain target -Sigma^{-1}(y - m) = -L^{-T} eps") {
  const auto ens = ou_source(2000, 1);
  random::KeyedDraws rng(3, 0);
  auto pool = make_dsm_pool(ens.src, 0.05, 64, WeightKind::none, rng);
  for (int j = 0; j < 5; ++j) {
    const Vec<double, 1> y = pool.mean[j] + Vec<double, 1>(0.01 * j);
    const double plain = -(y(0) - pool.mean[j](0)) / (pool.chol[j](0, 0) * pool.chol[j](0, 0));
    CHECK(multi_sample_target<1>(pool, y, j, 1)(0) == doctest::Approx(plain).epsilon(1e-12));
  }
  Batch b = make_batch<1>({&pool}, 32, {.reference_size = 1}, rng);
  for (int i = 0; i < b.size(); ++i) CHECK(std::isfinite(b.target(i, 0)));
}

TEST_CASE("multi-sample target is unbiased on OU: with a large reference set it recovers the exact marginal score") {
  const auto ens = ou_source(20000, 2);
  random::KeyedDraws rng(4, 0);
  const double t = 0.3;
  auto pool = make_dsm_pool(ens.src, t, 20000, WeightKind::none, rng);
  const double sd = std::sqrt(std::exp(-2 * t) * v0 + ou.exact_covariance(t)(0, 0));
  const double mt = std::exp(-t) * m0;
  for (double z : {-1.5, -0.5, 0.0, 0.7, 1.5}) {
    const Vec<double, 1> y(mt + z * sd);
    const double got = multi_sample_target<1>(pool, y, 0, 20000)(0);
    // self-normalised estimate from 20000 exact samples of p_0: relative MC error ~ 1e-2 at
    // |z| <= 1.5 (effective sample size ~ 20000 * Sigma/Var(p_t) ~ 4e3); tolerance 5 sigma
    CHECK_MESSAGE(std::abs(got - ou_score(y(0), t)) < 0.05 * (std::abs(ou_score(y(0), t)) + 1 / sd), "z = ", z);
  }
}

TEST_CASE("multi-sample targets reduce the target variance by a measured factor; antithetic pairs too") {
  // local-DSM on OU with Delta = 0.01: the plain target's variance ~ 1/Sigma dominates.
  const auto ens = ou_source(50000, 5);
  // s = t - Delta = 0 exactly: the pool's samples are exact p_0 samples
  const StepSchedule sch = build_schedule(ens.src, 0.01, 0.02, test::fixed_schedule(0.01, 4), 6);
  random::KeyedDraws rng(7, 0);
  auto pool = make_local_dsm_pool(ens.src, sch, 0.01, 1024, WeightKind::none, {}, rng);
  std::vector<double> mse;
  for (int R : {1, 16, 256, 1024}) {
    Batch b = make_batch<1>({&pool}, 4096, {.reference_size = R}, rng);
    double e = 0;
    for (int i = 0; i < b.size(); ++i) e += std::pow(b.target(i, 0) - ou_score(b.y(i, 0), 0.01), 2) / b.size();
    mse.push_back(e);
  }
  MESSAGE("mean squared target deviation from the exact score, R = 1, 16, 256, 1024: ", mse[0], " ", mse[1], " ", mse[2],
          " ", mse[3]);
  CHECK(mse[1] < mse[0]);
  CHECK(mse[2] < mse[1]);
  CHECK(mse[3] < mse[2] * 1.1);  // saturates near the reference set's own finite-sample error
  CHECK(mse[0] / mse[3] > 20);

}

TEST_CASE("antithetic pairs cancel the O(1/sqrt(Delta)) target noise of the gradient (measured factor)") {
  // The noise that antithetic pairs remove is the part driven by eps given y_s, so fix y_s: a
  // point ensemble at y_s = 0.8. For s = -theta y the per-sample gradient is
  // 2 theta y^2 - 2 m eps / sigma - 2 eps^2: the pair average cancels the O(1/sigma) term.
  const test::GaussianSource ens(ou, 64, Vec<double, 1>(m0), Mat<double, 1, 1>(1e-20), 0.0, 5);
  const StepSchedule sch = build_schedule(ens.src, 0.01, 0.02, test::fixed_schedule(0.01, 4), 6);
  random::KeyedDraws rng(7, 0);
  auto pool = make_local_dsm_pool(ens.src, sch, 0.01, 64, WeightKind::none, {}, rng);
  auto pair_grad_var = [&](bool anti) {
    Batch b = make_batch<1>({&pool}, 8192, {.reference_size = 1, .antithetic = anti}, rng);
    const double theta = 1.0;
    std::vector<double> g;
    for (int i = 0; i + 1 < b.size(); i += 2) {
      auto gi = [&](int k) { return 2 * (-theta * b.y(k, 0) - b.target(k, 0)) * (-b.y(k, 0)); };
      g.push_back(0.5 * (gi(i) + gi(i + 1)));
    }
    double mean = 0, var = 0;
    for (double x : g) mean += x / g.size();
    for (double x : g) var += (x - mean) * (x - mean) / (g.size() - 1);
    return var;
  };
  const double v_ind = pair_grad_var(false), v_anti = pair_grad_var(true);
  MESSAGE("gradient variance per pair: independent ", v_ind, ", antithetic ", v_anti, ", factor ", v_ind / v_anti);
  // theory: independent (2 m/sigma)^2 / 2 + O(1) = 2 m^2 / Delta ~ 128; antithetic keeps only
  // Var((2 theta sigma^2 - 2) eps^2) = 2 (2 - 2 theta sigma^2)^2 ~ 7.7: factor ~ 16. Sampling
  // error of each variance with 4096 pairs is ~3%, so > 12 leaves a margin of many sigmas.
  CHECK(v_ind / v_anti > 12);
}

TEST_CASE("weight rule: a y_s-dependent weight biases the optimum; Lambda(t) from the schedule does not") {
  // Double well, Delta = 0.2: the kernel covariance varies strongly with y_s through A(y_s).
  models::DoubleWell dw{.a = 1.0, .T = 0.5};
  const test::GaussianSource ens(dw, 4000, Vec<double, 1>(0.0), Mat<double, 1, 1>(0.36), 0.0, 8);
  const StepSchedule sch = build_schedule(ens.src, 0.2, 0.3, test::fixed_schedule(0.2, 2), 9);
  random::KeyedDraws rng(10, 0);
  auto pool = make_local_dsm_pool(ens.src, sch, 0.2, 4000, WeightKind::covariance, {}, rng);
  // The pointwise optimum of E || s(y_t) - target ||^2_Lambda is E[Lambda target | y_t] / E[Lambda | y_t]:
  // with Lambda = Sigma(y_s) that is a Sigma-weighted average of the conditional scores.
  auto log_mix = [&](double y) {
    double mx = -1e300;
    std::vector<double> l(pool.size());
    for (int j = 0; j < pool.size(); ++j) {
      const double r = y - pool.mean[j](0);
      l[j] = pool.log_norm[j] - 0.5 * pool.prec[j](0, 0) * r * r;
      mx = std::max(mx, l[j]);
    }
    double z = 0;
    for (double v : l) z += std::exp(v - mx);
    return mx + std::log(z);
  };
  double max_rel_bias = 0;
  for (double y : {-1.2, -0.7, -0.3, 0.4, 0.9}) {
    const double h = 1e-5;
    const double truth = (log_mix(y + h) - log_mix(y - h)) / (2 * h);  // score of the one-step push-forward
    const double unweighted = multi_sample_target<1>(pool, Vec<double, 1>(y), 0, pool.size())(0);
    double num = 0, den = 0, mx = -1e300;
    std::vector<double> l(pool.size());
    for (int j = 0; j < pool.size(); ++j) {
      const double r = y - pool.mean[j](0);
      l[j] = pool.log_norm[j] - 0.5 * pool.prec[j](0, 0) * r * r;
      mx = std::max(mx, l[j]);
    }
    for (int j = 0; j < pool.size(); ++j) {
      const double w = std::exp(l[j] - mx), lam = 1 / pool.prec[j](0, 0);  // Lambda = Sigma(y_s): forbidden
      num += w * lam * (-pool.prec[j](0, 0) * (y - pool.mean[j](0)));
      den += w * lam;
    }
    const double weighted = num / den;
    CHECK(unweighted == doctest::Approx(truth).epsilon(1e-6));
    max_rel_bias = std::max(max_rel_bias, std::abs(weighted - truth) / std::abs(truth));
  }
  MESSAGE("largest relative bias of the y_s-weighted optimum: ", max_rel_bias);
  CHECK(max_rel_bias > 0.05);
  // the library's weight is one matrix per pool (a function of t only), identical across its samples
  Batch b = make_batch<1>({&pool}, 64, {.reference_size = 16}, rng);
  for (int i = 1; i < b.size(); ++i) CHECK(b.lambda(i, 0) == b.lambda(0, 0));
}

TEST_CASE("hypoelliptic active swimmer: kernels keep both directions and match quadrature; targets match a direct evaluation") {
  const auto ens = swimmer_source(2000, 11);
  const StepSchedule sch = build_schedule(ens.src, 0.01, 0.02, test::fixed_schedule(0.01, 2), 12);
  random::KeyedDraws rng(13, 0);
  auto pool = make_local_dsm_pool(ens.src, sch, 0.01, 256, WeightKind::covariance, {}, rng);
  for (int j = 0; j < pool.size(); ++j) {
    const Mat<double, 2, 2> S = pool.chol[j] * pool.chol[j].transpose();
    Eigen::SelfAdjointEigenSolver<Mat<double, 2, 2>> es(S);
    CHECK(es.eigenvalues()(0) > 0);                              // no direction dropped
    CHECK(es.eigenvalues()(0) < 1e-3 * es.eigenvalues()(1));     // badly conditioned, as expected (~Delta^2 ratio)
  }
  // Each kernel covariance against an independent computation: the linearised covariance
  // int_0^Delta e^{J u} G G^T e^{J^T u} du by composite Simpson quadrature, e^{J u} from a
  // truncated Taylor series (not Van Loan's block exponential, which the library uses).
  const models::ActiveSwimmer sw;
  auto expm = [](const Mat<double, 2, 2>& A) {
    Mat<double, 2, 2> term = Mat<double, 2, 2>::Identity(), sum = term;
    for (int k = 1; k < 30; ++k) sum += (term = term * A / k);
    return sum;
  };
  for (int j = 0; j < 8; ++j) {
    const double x = pool.ys[j](0);
    Mat<double, 2, 2> J;
    J << -3 * x * x, 1, 0, -sw.gamma;
    Vec<double, 2> G(0.0, std::sqrt(2 * sw.gamma * sw.D));
    const int nq = 400;
    const double h = pool.delta / nq;
    Mat<double, 2, 2> quad = Mat<double, 2, 2>::Zero();
    for (int q = 0; q <= nq; ++q) {
      const Vec<double, 2> eg = expm(J * (q * h)) * G;
      quad += (q == 0 || q == nq ? 1.0 : (q % 2 ? 4.0 : 2.0)) * h / 3 * (eg * eg.transpose());
    }
    const Mat<double, 2, 2> S = pool.chol[j] * pool.chol[j].transpose();
    CHECK((S - quad).norm() < 1e-6 * quad.norm());
  }
  // The multi-sample target with the whole pool as reference set, against a direct evaluation:
  // weights N(y; m_k, Sigma_k) from Sigma_k's inverse and determinant, normalised in long double.
  Batch b = make_batch<2>({&pool}, 128, {.reference_size = 256}, rng);
  REQUIRE(b.target.allFinite());
  CHECK(b.lambda.allFinite());
  for (int i = 0; i < 16; ++i) {
    const Vec<double, 2> y = b.y.row(i).transpose();
    std::vector<long double> logw(pool.size());
    std::vector<Vec<double, 2>> tk(pool.size());
    long double mx = -1e300L;
    for (int k = 0; k < pool.size(); ++k) {
      const Mat<double, 2, 2> S = pool.chol[k] * pool.chol[k].transpose();
      const Mat<double, 2, 2> P = S.inverse();
      const Vec<double, 2> r = y - pool.mean[k];
      logw[k] = -0.5L * r.dot(P * r) - 0.5L * std::log(S.determinant());
      tk[k] = -P * r;
      mx = std::max(mx, logw[k]);
    }
    long double z = 0;
    Vec<double, 2> target = Vec<double, 2>::Zero();
    for (int k = 0; k < pool.size(); ++k) z += std::exp(logw[k] - mx);
    for (int k = 0; k < pool.size(); ++k) target += static_cast<double>(std::exp(logw[k] - mx) / z) * tk[k];
    CHECK((b.target.row(i).transpose() - target).norm() <= 1e-6 * (1 + target.norm()));
  }
}

TEST_CASE("schedules: fixed gives Delta; error-controlled meets its tolerance, and takes Delta_max on OU (LL exact)") {
  const auto ens = ou_source(2000, 14);
  ScheduleOptions so;
  so.kind = "error-controlled";
  so.delta_min = 1e-3;
  so.delta_max = 0.1;
  so.grid = 4;
  so.samples = 32;
  auto s1 = build_schedule(ens.src, 0.2, 1.0, so, 15);
  for (std::size_t i = 0; i < s1.t.size(); ++i) {
    CHECK(s1.delta[i] == doctest::Approx(0.1));
    CHECK(s1.local_error[i] < 1e-10);
  }
  models::DoubleWell dw;
  const test::GaussianSource ens2(dw, 2000, Vec<double, 1>(0.0), Mat<double, 1, 1>(0.5), 0.0, 16);
  so.tolerance = 0.02;
  auto s2 = build_schedule(ens2.src, 0.2, 1.0, so, 17);
  for (std::size_t i = 0; i < s2.t.size(); ++i) {
    CHECK(s2.local_error[i] <= so.tolerance);
    CHECK(s2.delta[i] < 0.1);  // the double well is too curved for Delta_max at this tolerance
  }
  so.kind = "adaptive";
  CHECK_THROWS_WITH_AS(build_schedule(ens2.src, 0.2, 1.0, so, 1), doctest::Contains("valid schedules are auto, fixed, error-controlled"),
                       ConfigError);
}

TEST_CASE("regression: stacked weights of a 2D batch are each sample's own Lambda (column-major rows are strided)") {
  const auto ens = swimmer_source(500, 31);
  const StepSchedule sch = build_schedule(ens.src, 0.05, 0.5, test::fixed_schedule(0.05, 2), 32);
  random::KeyedDraws rng(33, 0);
  auto p1 = make_local_dsm_pool(ens.src, sch, 0.06, 64, WeightKind::covariance, {}, rng);
  auto p2 = make_local_dsm_pool(ens.src, sch, 0.4, 64, WeightKind::covariance, {}, rng);
  Batch b = make_batch<2>({&p1, &p2}, 8, {.reference_size = 16}, rng);
  const Eigen::MatrixXd W = stacked_weights(b);
  REQUIRE(W.rows() == 2);
  REQUIRE(W.cols() == 2 * 16);
  for (int i = 0; i < 16; ++i) {
    const auto& lam = (i < 8 ? p1 : p2).lambda;
    CHECK((W.middleCols(2 * i, 2) - lam).norm() == doctest::Approx(0.0).epsilon(1e-14));
  }
}

TEST_CASE("1D window: the target over kernels within 6 sd equals the brute-force sum over the whole pool") {
  // double well, Delta = 0.02: the kernels are narrow against the spread of p_s, so the window
  // holds a fraction of the pool; the skipped weights are < e^-18 of the nearest one's.
  const test::GaussianSource<models::DoubleWell> ens(models::DoubleWell{}, 4000, Vec<double, 1>(0.0), Mat<double, 1, 1>(1.0), 0.0, 41);
  const StepSchedule sch = build_schedule(ens.src, 0.02, 0.04, test::fixed_schedule(0.02, 2), 42);
  random::KeyedDraws rng(43, 0);
  auto pool = make_local_dsm_pool(ens.src, sch, 0.02, 2000, WeightKind::none, {}, rng);
  REQUIRE(pool.sorted);
  REQUIRE(pool.window > 0);
  for (int i = 0; i < 40; ++i) {
    const int j = rng.uniform_int(pool.size());
    const Vec<double, 1> y = pool.mean[j] + pool.chol[j] * Vec<double, 1>(rng.normal());
    // brute force, written out here from the kernels (not through multi_sample_target)
    double mx = -1e300;
    std::vector<double> lw(pool.size());
    for (int k = 0; k < pool.size(); ++k) {
      const double r = y(0) - pool.mean[k](0);
      lw[k] = pool.log_norm[k] - 0.5 * r * pool.prec[k](0, 0) * r;
      mx = std::max(mx, lw[k]);
    }
    double num = 0, den = 0;
    for (int k = 0; k < pool.size(); ++k) {
      const double w = std::exp(lw[k] - mx);
      num += w * -pool.prec[k](0, 0) * (y(0) - pool.mean[k](0));
      den += w;
    }
    double ess = 0;
    const double got = multi_sample_target<1>(pool, y, j, pool.size(), &ess)(0);
    CHECK(got == doctest::Approx(num / den).epsilon(5e-5));  // skipped: < 2000 weights of < e^-18 each
    CHECK(ess >= 1.0);
  }
}

TEST_CASE("adaptive multi-sample target: kept where its ESS is large, dropped where the kernels are needle-thin") {
  const auto ens = ou_source(20000, 44);
  random::KeyedDraws rng(45, 0);
  // Delta = 0.3 over 4000 samples: many kernels overlap every point
  auto wide = make_dsm_pool(ens.src, 0.3, 4000, WeightKind::none, rng);
  assess_multi_sample(wide, 4000, 1.5, 32, rng);
  CHECK(wide.multi);
  CHECK(wide.ess > 50);
  // Delta = 1e-7 over 64 samples: kernel sd ~ 4e-4 against a sample spacing ~ 0.05
  auto thin = make_dsm_pool(ens.src, 1e-7, 64, WeightKind::none, rng);
  assess_multi_sample(thin, 64, 1.5, 32, rng);
  CHECK_FALSE(thin.multi);
  CHECK(thin.ess < 1.5);
  // a batch from the thin pool then carries the single-pair target -L^{-T} eps exactly
  random::KeyedDraws r2(46, 0);
  const Batch b = make_batch<1>({&thin}, 16, {.reference_size = 64}, r2);
  CHECK(b.ess == 1.0);
}

/// Whether two pools hold the same bits in every field.
template <int D>
bool same_pool(const KernelPool<D>& a, const KernelPool<D>& b) {
  auto bytes = [](const auto& x, const auto& y) {
    return x.size() == y.size() && (x.size() == 0 || std::memcmp(x.data(), y.data(), x.size() * sizeof(x[0])) == 0);
  };
  auto same_double = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  return same_double(a.t, b.t) && same_double(a.s, b.s) && same_double(a.delta, b.delta) && bytes(a.ys, b.ys) && bytes(a.mean, b.mean) &&
         bytes(a.chol, b.chol) && bytes(a.prec, b.prec) && bytes(a.log_norm, b.log_norm) &&
         std::memcmp(a.lambda.data(), b.lambda.data(), sizeof(double) * D * D) == 0 && same_double(a.max_jitter, b.max_jitter) &&
         a.sorted == b.sorted && same_double(a.window, b.window) && a.multi == b.multi && same_double(a.ess, b.ess) && bytes(a.soa, b.soa) &&
         a.soa_ld == b.soa_ld;
}

TEST_CASE("append_pool / read_pool: a pool's record gives back every field bit for bit, the target rows rebuilt") {
  std::vector<double> rec;
  // 1D, sorted with a window, multi-sample assessed; 2D hypoelliptic (jitter); a pool without kernels (ISM)
  const auto ens1 = ou_source(3000, 61);
  random::KeyedDraws rng(62, 0);
  auto p1 = make_dsm_pool(ens1.src, 0.2, 300, WeightKind::covariance, rng);
  assess_multi_sample(p1, 300, 1.5, 16, rng);
  REQUIRE(p1.sorted);
  const auto ens2 = swimmer_source(3000, 63);
  auto p2 = make_dsm_pool(ens2.src, 0.05, 200, WeightKind::scalar, rng);
  assess_multi_sample(p2, 100, 1.5, 16, rng);
  KernelPool<2> p3;
  p3.t = p3.s = 0.4;
  p3.ys = ens2.src.sample_many(0.0, 50, rng);
  p3.lambda << 2, 0.5, 0.5, 3;
  append_pool(p1, rec);
  append_pool(p2, rec);
  append_pool(p3, rec);
  std::size_t pos = 0;
  CHECK(same_pool(read_pool<1>(rec, pos), p1));
  CHECK(same_pool(read_pool<2>(rec, pos), p2));
  CHECK(same_pool(read_pool<2>(rec, pos), p3));
  CHECK(pos == rec.size());
  // a record cut short is refused
  pos = 0;
  CHECK_THROWS_AS(read_pool<1>(std::span<const double>(rec.data(), 100), pos), NumericalError);
  // and the rebuilt pool's targets are the original's
  pos = 0;
  const auto back = read_pool<1>(rec, pos);
  random::KeyedDraws r1(64, 0), r2(64, 0);
  const Batch a = make_batch<1>({&p1}, 32, {.reference_size = 300}, r1);
  const Batch b = make_batch<1>({&back}, 32, {.reference_size = 300}, r2);
  CHECK(std::memcmp(a.target.data(), b.target.data(), sizeof(double) * a.target.size()) == 0);
}

}  // namespace local_dsm_test
