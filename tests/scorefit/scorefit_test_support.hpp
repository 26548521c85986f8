#pragma once
// Shared fixtures of the scorefit tests: temporary folders, small ensemble files, quick training.
#include <unistd.h>

#include <filesystem>
#include <random>

#include "scorefit.hpp"
#include "sdescore/ensemble/init.hpp"
#include "sdescore/io/ensemble_writer.hpp"
#include "sdescore/io/output_file.hpp"
#include "sdescore/models/double_well.hpp"

namespace sdescore::scorefit_test {
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("scorefit-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static inline int counter = 0;
};

/// A small OU ensemble file, sampled exactly (p_0 = N(1, 0.2^2)), snapshots every 0.1 up to 1.
inline fs::path write_ou_file(const fs::path& dir, const std::string& model = "ou") {
  io::RunInfo info;
  info.model = model;
  if (model == "ou")
    info.model_parameters = {{"B", 1.0}, {"mu", 0.0}, {"S", 1.0}};
  else
    info.model_parameters = {{"a", 1.0}, {"T", 0.5}};
  info.stepper = "euler_maruyama";
  info.dt = 1e-3;
  info.seed = 1;
  info.save_every = 100;
  info.path_count = 4000;
  const fs::path p = dir / "ou.h5";
  io::OutputFile out(p, info);
  io::EnsembleWriter w(out, 4000, 1);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd y(4000, 1);
  for (int i = 0; i < 4000; ++i) y(i, 0) = 1.0 + 0.2 * nd(rng);
  const double a = std::exp(-0.1), sd = std::sqrt((1 - std::exp(-0.2)) / 2);
  for (int k = 0; k <= 10; ++k) {
    if (k > 0)
      for (int i = 0; i < 4000; ++i) y(i, 0) = a * y(i, 0) + sd * nd(rng);
    w.append(y, 0.1 * k, 100 * k);
  }
  out.commit();
  return p;
}

inline scorefit::TrainOptions quick_train(const fs::path& data, const fs::path& out) {
  scorefit::TrainOptions o;
  o.data = data.string();
  o.output = out.string();
  o.steps = 300;
  o.batch = 128;
  o.groups = 4;
  o.pool_size = 128;
  o.n_pools = 8;
  o.reference_size = 64;
  o.hidden = {32, 32};
  o.schedule = "fixed";
  o.delta = 0.02;
  o.quiet = true;
  o.warmup = 20;
  o.threads = 1;
  return o;
}

}  // namespace sdescore::scorefit_test

namespace sdescore::scorefit_test {

/// A double-well ensemble in its stationary (Boltzmann) law: every snapshot (every 0.1 up to 1)
/// an exact independent draw of p_inf, so p_t = p_inf at all t: zero current, zero production.
inline fs::path write_stationary_double_well(const fs::path& dir, int paths = 4000) {
  models::DoubleWell m;
  io::RunInfo info;
  info.model = "double_well";
  info.model_parameters = {{"a", m.a}, {"T", m.T}};
  info.stepper = "euler_maruyama";
  info.dt = 1e-3;
  info.seed = 3;
  info.save_every = 100;
  info.path_count = paths;
  const fs::path p = dir / "dw_stationary.h5";
  io::OutputFile out(p, info);
  io::EnsembleWriter w(out, paths, 1);
  for (int k = 0; k <= 10; ++k)
    w.append(ensemble::sample_initial(m, ensemble::parse_init_spec("stationary"), 100 + k, 0, paths).to_rows(), 0.1 * k, 100 * k);
  out.commit();
  return p;
}

}  // namespace sdescore::scorefit_test
