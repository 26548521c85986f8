// The 2D Fokker-Planck reference of the swimmer frontier study (docs/results.md, "Hypoelliptic
// swimmer: the per-component mix"): the project's own solver (lib/sdescore/reference) with
// third-order upwind-biased advection in x and TR-BDF2 in time, on a chosen grid, from
// p_0 = N(0, sigma0^2 I). Writes, per time, the cell centres' density, score and validity mask as
// raw float64 arrays (prefix_t<t>.bin: n x 5 rows x, v, p, s_x, s_v; prefix_t<t>.valid: n bytes).
// Usage: fp_reference NX NV ADVECTION(upwind1|upwind3) DT SIGMA0 PREFIX
// Build: scripts/swimmer_frontier/build_fp_reference.sh
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/reference/reference.hpp"

int main(int argc, char** argv) {
  using namespace sdescore;
  if (argc != 7) {
    std::fprintf(stderr, "usage: fp_reference NX NV upwind1|upwind3 DT SIGMA0 PREFIX\n");
    return 2;
  }
  const int nx = std::atoi(argv[1]), nv = std::atoi(argv[2]);
  const std::string adv = argv[3];
  const double dt = std::atof(argv[4]), s0 = std::atof(argv[5]);
  const std::string prefix = argv[6];
  reference::FokkerPlanckOptions opt;
  opt.advection = adv == "upwind3" ? reference::Advection::upwind3 : reference::Advection::upwind1;
  reference::GridSpec<2> gs{{-4.0, -5.5}, {4.0, 5.5}, {nx, nv}};
  reference::FokkerPlanckSolver<models::ActiveSwimmer> fp(models::ActiveSwimmer{}, gs, opt, 0.0);
  fp.set_initial_gaussian(Vec<double, 2>::Zero(), Mat<double, 2, 2>::Identity() * (s0 * s0));
  const auto snaps = fp.solve({1.0, 3.0, 5.0}, dt);
  for (const auto& s : snaps) {
    const std::string base = prefix + "_t" + std::to_string(static_cast<int>(s.t + 0.5));
    std::FILE* f = std::fopen((base + ".bin").c_str(), "wb");
    std::FILE* g = std::fopen((base + ".valid").c_str(), "wb");
    for (int k = 0; k < s.grid.size(); ++k) {
      const Vec<double, 2> c = s.grid.centre_of(k);
      const double row[5] = {c(0), c(1), s.density(k), s.score[0](k), s.score[1](k)};
      std::fwrite(row, sizeof(double), 5, f);
      std::fputc(s.valid[k], g);
    }
    std::fclose(f);
    std::fclose(g);
    std::printf("t = %g: mass %.12f, min p %.3e\n", s.t, s.mass(), s.density.minCoeff());
  }
  return 0;
}
