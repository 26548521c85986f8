#include "sdescore/reference/refinement.hpp"

#include <doctest/doctest.h>

#include <cmath>

#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/ou.hpp"
#include "sdescore/reference/analytic.hpp"
#include "sdescore/reference/fokker_planck.hpp"

using namespace sdescore;
using namespace sdescore::reference;

namespace reference_refinement_test {  // named and around the whole file: unity batches must not mix files' helpers

// A snapshot built by hand: the given density and score per cell, every cell valid.
template <int N>
DensitySnapshot<N> hand_snapshot(const GridSpec<N>& spec, const Eigen::VectorXd& p, const std::array<Eigen::VectorXd, N>& s,
                                 double t = 1.0) {
  DensitySnapshot<N> snap{t, Grid<N>(spec), p, s, std::vector<unsigned char>(p.size(), 1), 0.0};
  return snap;
}

TEST_CASE("refinement: coarser_grid halves the cells on the same box, refuses what cannot nest") {
  const GridSpec<2> g{{-1.0, -2.0}, {1.0, 2.0}, {40, 12}};
  const GridSpec<2> c = coarser_grid(g);
  CHECK(c.cells == std::array<int, 2>{20, 6});
  CHECK(c.lower == g.lower);
  CHECK(c.upper == g.upper);
  CHECK_THROWS_WITH_AS(coarser_grid(GridSpec<2>{{-1.0, -2.0}, {1.0, 2.0}, {40, 11}}),
                       doctest::Contains("cells[1] = 11 cannot be halved"), ConfigError);
  CHECK_THROWS_WITH_AS(coarser_grid(GridSpec<1>{{0.0}, {1.0}, {4}}), doctest::Contains("even count >= 6"), ConfigError);
}

TEST_CASE("refinement: hand-made snapshots (block means weighted by p, D from the model, masks)") {
  const models::OU1 ou;  // D = 1/2 everywhere: D s differs from s by a constant factor
  // Fine: p = 1, 3 in each block, score 0, 4: the block's density-weighted score is (0 + 12) / 4 = 3.
  const GridSpec<1> fs{{0.0}, {4.0}, {8}}, cs{{0.0}, {4.0}, {4}};
  Eigen::VectorXd pf(8), sf(8);
  pf << 1, 3, 1, 3, 1, 3, 1, 3;
  sf << 0, 4, 0, 4, 0, 4, 0, 4;
  const auto fine = hand_snapshot<1>(fs, pf, {sf});
  auto coarse = hand_snapshot<1>(cs, Eigen::VectorXd::Constant(4, 2.0), {Eigen::VectorXd::Constant(4, 3.0)});
  auto d = refinement_difference(ou, coarse, fine);
  CHECK(std::abs(d.full) < 1e-15);
  CHECK(std::abs(d.diffusion) < 1e-15);
  coarse.score[0](2) = 4.5;  // one block off by 1.5 against 3: sqrt(2 * 1.5^2 / (4 * 2 * 3^2)) = 0.25
  d = refinement_difference(ou, coarse, fine);
  CHECK(d.full == doctest::Approx(0.25).epsilon(1e-14));
  CHECK(d.diffusion == doctest::Approx(0.25).epsilon(1e-14));  // constant D cancels in the ratio
  auto masked = fine;
  masked.valid[5] = 0;  // a fine cell of the off block: the block no longer counts
  d = refinement_difference(ou, coarse, masked);
  CHECK(std::abs(d.full) < 1e-15);

  // 2D hypoelliptic (noise on v only): D s sees only the v component. Fine score (1, 2)
  // everywhere, coarse (1.3, 2.4): full sqrt(0.3^2 + 0.4^2) / sqrt(1 + 4), D s 0.4 / 2.
  const models::ActiveSwimmer sw;
  const GridSpec<2> f2{{-1.0, -1.0}, {1.0, 1.0}, {6, 8}}, c2{{-1.0, -1.0}, {1.0, 1.0}, {3, 4}};
  const auto fine2 = hand_snapshot<2>(f2, Eigen::VectorXd::Ones(48), {Eigen::VectorXd::Constant(48, 1.0), Eigen::VectorXd::Constant(48, 2.0)});
  const auto coarse2 = hand_snapshot<2>(c2, Eigen::VectorXd::Ones(12), {Eigen::VectorXd::Constant(12, 1.3), Eigen::VectorXd::Constant(12, 2.4)});
  d = refinement_difference(sw, coarse2, fine2);
  CHECK(d.full == doctest::Approx(0.5 / std::sqrt(5.0)).epsilon(1e-13));
  CHECK(d.diffusion == doctest::Approx(0.2).epsilon(1e-13));
}

TEST_CASE("refinement: grids that do not nest and different times are refused by value") {
  const models::OU1 ou;
  const auto fine = hand_snapshot<1>(GridSpec<1>{{0.0}, {4.0}, {8}}, Eigen::VectorXd::Ones(8), {Eigen::VectorXd::Ones(8)});
  const auto wrong_n = hand_snapshot<1>(GridSpec<1>{{0.0}, {4.0}, {3}}, Eigen::VectorXd::Ones(3), {Eigen::VectorXd::Ones(3)});
  CHECK_THROWS_WITH_AS(refinement_difference(ou, wrong_n, fine), doctest::Contains("coarse 3 cells on [0, 4], fine 8"), ConfigError);
  const auto wrong_box = hand_snapshot<1>(GridSpec<1>{{0.0}, {5.0}, {4}}, Eigen::VectorXd::Ones(4), {Eigen::VectorXd::Ones(4)});
  CHECK_THROWS_WITH_AS(refinement_difference(ou, wrong_box, fine), doctest::Contains("do not nest"), ConfigError);
  const auto later = hand_snapshot<1>(GridSpec<1>{{0.0}, {4.0}, {4}}, Eigen::VectorXd::Ones(4), {Eigen::VectorXd::Ones(4)}, 2.0);
  CHECK_THROWS_WITH_AS(refinement_difference(ou, later, fine), doctest::Contains("different times (2 and 1)"), ConfigError);
}

TEST_CASE("refinement: OU 1D, the difference brackets the finer grid's true error as second order predicts") {
  // SG fluxes and TR-BDF2 are second order, so the coarse - fine difference should be about
  // (2^2 - 1) = 3 times the fine grid's own error (file comment of refinement.hpp), which the
  // exact Gaussian score measures independently.
  const models::OU1 m;  // D = 1/2
  const GaussianLaw<1> p0{Vec<double, 1>(1.0), Mat<double, 1, 1>(0.09)};
  const GaussianLaw<1> exact = ou_marginal(m, p0, 1.0);
  auto solve = [&](int n) {
    FokkerPlanckSolver<models::OU1> fp(m, GridSpec<1>{{-5.0}, {5.0}, {n}});
    fp.set_initial_gaussian(p0.mean, p0.cov);
    return fp.solve({1.0}, 1e-3).front();
  };
  for (int n : {100, 200}) {
    const auto coarse = solve(n / 2), fine = solve(n);
    const double diff = refinement_difference(m, coarse, fine).full;
    const double own = relative_score_error(fine, [&](const Vec<double, 1>& y) { return exact.score(y); }).relative;
    CAPTURE(n);
    CAPTURE(diff);
    CAPTURE(own);
    CHECK(diff > own);      // an upper estimate of the finer grid's error ...
    CHECK(diff < 6 * own);  // ... near the size the order predicts (3x; measured 4.2x at 100 and 200 cells)
  }
}

TEST_CASE("refinement: active swimmer (hypoelliptic), upwind3: the difference falls at second order") {
  models::ActiveSwimmer m;
  m.gamma = 1.0;  // smooth density (no under-resolved ridge), as in fokker_planck.test.cpp's order test
  FokkerPlanckOptions o;
  o.advection = Advection::upwind3;
  auto solve = [&](int n) {
    FokkerPlanckSolver<models::ActiveSwimmer> fp(m, GridSpec<2>{{-3.0, -5.0}, {3.0, 5.0}, {n, n}}, o);
    fp.set_initial_gaussian(Vec<double, 2>(0.5, 1.0), Vec<double, 2>(0.1, 0.25).asDiagonal().toDenseMatrix());
    return fp.solve({1.0}, 0.02).front();
  };
  const auto s24 = solve(24), s48 = solve(48), s96 = solve(96);
  const auto d1 = refinement_difference(m, s24, s48), d2 = refinement_difference(m, s48, s96);
  CAPTURE(d1.full);
  CAPTURE(d2.full);
  CAPTURE(d1.diffusion);
  CAPTURE(d2.diffusion);
  // Observed order of the difference itself, measured 1.54 (s) and 1.98 (D s): above first order
  // (upwind1's 0.9 in fokker_planck.test.cpp), so the difference shrinks as the error it estimates.
  CHECK(std::log2(d1.full / d2.full) > 1.3);
  CHECK(std::log2(d1.diffusion / d2.diffusion) > 1.7);
}

}  // namespace reference_refinement_test
