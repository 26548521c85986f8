// Trains one score model of the active swimmer with fit_score (the library's training loop, the
// options `scorefit train` would use) and writes its EMA score on fp_reference's cell centres
// (PREFIX_t<t>.score: n x 2 float64, x fastest) for errors.py. A stand-in for
// `scorefit train` + `scorefit grid` that compiles one model instead of all (the full build took
// longer than the session had on the shared machine); same defaults, same data, same seed.
// Usage: train_eval DATA.h5 OBJECTIVE STEPS R DELTA NX NV PREFIX [THREADS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sdescore/models/active_swimmer.hpp"
#include "sdescore/score/fit.hpp"
#include "sdescore/score/train.hpp"

int main(int argc, char** argv) {
  using namespace sdescore;
  if (argc < 9) {
    std::fprintf(stderr, "usage: train_eval DATA OBJECTIVE STEPS R DELTA NX NV PREFIX [THREADS]\n");
    return 2;
  }
  const auto td = score::load_training_data(argv[1]);
  score::FitOptions fo;
  fo.objective = score::parse_objective(argv[2]);
  fo.steps = std::atol(argv[3]);
  fo.pool_size = 256;
  fo.target.reference_size = std::atoi(argv[4]);
  fo.schedule.kind = "fixed";
  fo.schedule.delta = std::atof(argv[5]);
  fo.t_min = 0.5;
  fo.seed = 1;
  fo.trainer.threads = argc > 9 ? std::atoi(argv[9]) : 1;
  const int nx = std::atoi(argv[6]), nv = std::atoi(argv[7]);
  const std::string prefix = argv[8];
  const models::ActiveSwimmer m;
  const auto res = score::fit_score(m, score::sampler_stepper_t<models::ActiveSwimmer>{}, td.data, fo);
  double ess = 0;
  for (const auto& p : res.curve) ess += p.ess;
  std::printf("%s: %ld steps in %.1f s (%.2f ms/step), mean ESS %.3f, final block loss %.4g, max jitter %.2e\n", argv[2],
              static_cast<long>(res.trainer.steps()), res.seconds, 1e3 * res.seconds / res.trainer.steps(), ess / res.curve.size(),
              res.curve.back().loss, res.max_jitter);
  Eigen::MatrixXd cells(nx * nv, 2);
  for (int iv = 0; iv < nv; ++iv)
    for (int ix = 0; ix < nx; ++ix) {
      cells(ix + nx * iv, 0) = -4.0 + 8.0 * (ix + 0.5) / nx;
      cells(ix + nx * iv, 1) = -5.5 + 11.0 * (iv + 0.5) / nv;
    }
  for (int t : {1, 3, 5}) {
    const Eigen::MatrixXd s = res.trainer.evaluate(cells, Eigen::VectorXd::Constant(nx * nv, t));
    const Eigen::Matrix<double, Eigen::Dynamic, 2, Eigen::RowMajor> r = s;
    std::FILE* f = std::fopen((prefix + "_t" + std::to_string(t) + ".score").c_str(), "wb");
    std::fwrite(r.data(), sizeof(double), static_cast<std::size_t>(r.size()), f);
    std::fclose(f);
  }
  return 0;
}
