#pragma once
// scorefit: learn time-dependent scores from an sdesim ensemble, evaluate them, export grids.
//   scorefit train --data dw.h5 --objective local-dsm -o score.h5
//   scorefit score --model score.h5 --input pts.h5 -o out.h5
//   scorefit grid  --model score.h5 --times 0.5,1,2 -o grid.h5
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace sdescore::scorefit {

struct TrainOptions {
  std::string data, ensemble, output;
  std::string objective = "local-dsm";
  long steps = 5000;
  int batch = 512, groups = 8, pool_size = 1024, n_pools = 64, reference_size = 1024;
  bool antithetic = false;
  std::string weight = "covariance";
  std::string schedule = "error-controlled";
  double delta = 0.01, delta_min = 1e-3, delta_max = 0.05, tolerance = 0.05;
  bool no_ito = false;
  double t_min = -1, t_max = -1;
  int holdout_every = 10;
  std::vector<int> hidden{128, 128};
  std::string activation = "silu";
  int time_frequencies = 4;
  double lr = 2e-3, lr_final = 1e-5, clip = 1.0, ema = 0.999;
  long warmup = 200;
  int probes = 1;
  std::string probe_kind = "rademacher";
  unsigned long seed = 1;
  int threads = 0;
  bool force = false, quiet = false;
  std::string command_line;
};

struct ScoreOptions {
  std::string model, input, output;
  bool force = false;
  int threads = 0;
  std::string command_line;
};

struct GridOptions {
  std::string model, output;
  std::vector<double> times, lo, hi;
  std::vector<int> n;
  bool force = false;
  int threads = 0;
  std::string command_line;
};

struct Options {
  TrainOptions train;
  ScoreOptions score;
  GridOptions grid;
  CLI::App* train_cmd = nullptr;
  CLI::App* score_cmd = nullptr;
  CLI::App* grid_cmd = nullptr;
};

void setup(CLI::App& app, Options& opt);
int run_train(const TrainOptions& opt);
int run_score(const ScoreOptions& opt);
int run_grid(const GridOptions& opt);
/// Dispatches to the subcommand that was parsed.
int run(const Options& opt);

}  // namespace sdescore::scorefit
