// Fokker-Planck reference at the sizes evaluation uses (docs/reference.md): wall time, mass
// conservation and LU count per solve, and the self-convergence of the active-swimmer score
// (100^2 and 200^2 against 400^2). Run on demand: build/bench/fokker_planck/bench_fokker_planck
// (a minute or two); the numbers depend on the machine and its load.
#include <chrono>
#include <iostream>

#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/models/double_well.hpp"
#include "sdescore/reference/fokker_planck.hpp"
#include "sdescore/reference/snapshot.hpp"

using namespace sdescore;
using namespace sdescore::reference;

namespace {

void timings() {
  using clock = std::chrono::steady_clock;
  auto secs = [](clock::time_point a) { return std::chrono::duration<double>(clock::now() - a).count(); };
  {
    models::DoubleWell m;  // T = 0.5
    for (double dt : {1e-3, 1e-2}) {
      auto t0 = clock::now();
      FokkerPlanckSolver<models::DoubleWell> fp(m, GridSpec<1>{{-3.0}, {3.0}, {2000}});
      fp.set_initial_gaussian(Vec<double, 1>(-1.0), Mat<double, 1, 1>(0.04));
      std::vector<double> times;
      for (int i = 0; i <= 20; ++i) times.push_back(0.1 * i);
      const auto snaps = fp.solve(times, dt);
      std::cout << "double well 2000 cells, t in [0, 2], dt " << dt << ", 21 snapshots: " << secs(t0) << " s, mass-1 "
                                                         << fp.mass() - 1 << ", LUs " << fp.factorizations() << "\n";
    }
  }
  {
    models::ActiveSwimmer m;  // gamma = 0.1, D = 1
    for (auto [n, dt] : {std::pair{100, 0.02}, std::pair{200, 0.02}, std::pair{200, 0.01}, std::pair{400, 0.02}}) {
      auto t0 = clock::now();
      FokkerPlanckSolver<models::ActiveSwimmer> fp(m, GridSpec<2>{{-3.0, -5.0}, {3.0, 5.0}, {n, n}});
      fp.set_initial_gaussian(Vec<double, 2>(0.0, 0.0), Vec<double, 2>(0.25, 1.0).asDiagonal().toDenseMatrix());
      const double t_setup = secs(t0);
      std::vector<double> times;
      for (int i = 0; i <= 50; ++i) times.push_back(0.1 * i);
      const auto snaps = fp.solve(times, dt);
      std::cout << "active swimmer " << n << "x" << n << ", t in [0, 5], dt " << dt << ", 51 snapshots: " << secs(t0)
                                << " s (setup " << t_setup << " s), mass-1 " << fp.mass() - 1 << ", min/max "
                                << fp.density().minCoeff() / fp.density().maxCoeff() << ", LUs " << fp.factorizations() << "\n";
    }
  }
}

void swimmer_self_convergence() {
  models::ActiveSwimmer m;
  auto run = [&](int n) {
    FokkerPlanckSolver<models::ActiveSwimmer> fp(m, GridSpec<2>{{-3.0, -5.0}, {3.0, 5.0}, {n, n}});
    fp.set_initial_gaussian(Vec<double, 2>(0.0, 0.0), Vec<double, 2>(0.25, 1.0).asDiagonal().toDenseMatrix());
    return fp.solve({1.0, 5.0}, 0.01);
  };
  const auto fine = run(400);
  for (int n : {100, 200}) {
    const auto c = run(n);
    for (int j = 0; j < 2; ++j) {
      auto s = [&](const Vec<double, 2>& y) { return c[j].score_at(y); };
      std::cout << "swimmer " << n << "^2 vs 400^2 at t = " << fine[j].t << ": rel score diff "
                         << relative_score_error(fine[j], s).relative << ", D s diff "
                         << relative_diffusion_score_error(fine[j], s, diffusion_matrix(m, 0.0)).relative << "\n";
    }
  }
}

}  // namespace

int main() {
  timings();
  swimmer_self_convergence();
  return 0;
}
