#pragma once
// scorefit: learn time-dependent scores from an sdesim ensemble, evaluate them, export grids.
//   scorefit train --data dw.h5 --objective local-dsm -o score.h5
//   scorefit score --model score.h5 --input pts.h5 -o out.h5
//   scorefit grid  --model score.h5 --times 0.5,1,2 -o grid.h5
//   scorefit physics --model score.h5 -o phys.h5
//   scorefit compare --data dw.h5 -o study.h5
#include <CLI/CLI.hpp>
#include <map>

#include "sdescore/app/registry.hpp"
#include "sdescore/io/ensemble_reader.hpp"
#include "sdescore/score/fit.hpp"
#include "sdescore/score/score_file.hpp"
#include <string>
#include <vector>

namespace sdescore::scorefit {

struct TrainOptions {
  std::string data, ensemble, output;
  std::string objective = "local-dsm";
  long steps = score::FitOptions{}.steps;  // default values live in the library (FitOptions)
  int batch = 512, groups = 8, pool_size = 1024, n_pools = 64, reference_size = score::TargetOptions{}.reference_size;
  bool antithetic = false;
  std::string weight = "covariance";
  std::string schedule = score::ScheduleOptions{}.kind;
  double delta = score::ScheduleOptions{}.delta, delta_min = 1e-3, delta_max = 0.05, tolerance = 0.05;
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
  std::string resume;                   ///< score model file to continue from ("" : a new run)
  long checkpoint_every = 0;            ///< write the output file every this many steps (0: only at the end)
  long stop_at = 0;                     ///< stop (resumably) at this step, rounded up to a multiple of 50
  double time_limit = 0;                ///< stop (resumably) after this many seconds of training
  bool steps_given = false;             ///< --steps was given (on --resume, else the saved plan is kept)
  std::vector<std::string> given_flags; ///< flags given on the command line (to refuse changes on --resume)
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

/// scorefit compare: the local-DSM vs ISM (vs DSM) study on one ensemble (docs/results.md).
struct CompareOptions {
  std::string data, ensemble, output;
  std::vector<std::string> objectives;  ///< empty: local-dsm, ism, ism-hutchinson (+ dsm for linear models)
  std::vector<unsigned long> seeds{1, 2, 3};
  TrainOptions train;                   ///< the shared training settings (data/output unused)
  std::vector<double> eval_times;       ///< empty: 5 snapshot times spread over [t_min, t_max]
  double threshold = 0.05;              ///< time-to-accuracy: relative score error to reach
  long eval_every = 500;                ///< steps between accuracy checks (not counted as training time)
  std::vector<int> fp_cells;            ///< Fokker-Planck grid cells per coordinate (default 1000 / 200 x 200)
  double fp_dt = 0;                     ///< Fokker-Planck time step (default 1e-3 in 1D, 5e-3 in 2D)
  int flow_samples = 2000;              ///< samples pushed along the learned probability flow
  bool reverse_from_prior = false;      ///< start the reverse SDE from the stationary law instead of p_T samples
  int reverse_steps = 1000;             ///< Euler-Maruyama steps of the reverse SDE (0: skip generation)
  bool force = false, quiet = false;
  std::string command_line;
};

/// scorefit physics: probability current, entropy and entropy production of a learned score.
struct PhysicsOptions {
  std::string model, data, ensemble, output;
  std::vector<double> times;        ///< empty: the snapshot times in the trained range (at most ~21)
  int flow_samples = 2000;          ///< held-out samples pushed along the probability flow
  std::string density = "ensemble"; ///< grid density for j = p v: ensemble (histogram) | score (learned)
  std::vector<double> lo, hi;       ///< grid corners (default: the data's range, padded 5%)
  std::vector<int> n;               ///< grid points per coordinate (default 201 in 1D, 81 in 2D)
  double fd_step = 1e-2;            ///< finite-difference step of the score Jacobian (div v)
  int threads = 0;
  bool force = false, quiet = false;
  std::string command_line;
};

struct Options {
  TrainOptions train;
  PhysicsOptions physics;
  CLI::App* physics_cmd = nullptr;
  CompareOptions compare;
  CLI::App* compare_cmd = nullptr;
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
int run_compare(const CompareOptions& opt);
int run_physics(const PhysicsOptions& opt);

/// The stepper that advances stored snapshots to a training time s (within one snapshot
/// interval, at the simulation dt): stochastic Heun (weak order 2) for additive noise, else
/// Euler-Maruyama. One stepper per model keeps the number of template instantiations - and the
/// build time - small; the simulation's own stepper is recorded in the file but not needed here.
template <class M, class F>
void with_sampler_stepper(F&& f) {
  if constexpr (Heun::supports<M>)
    f(Heun{});
  else
    f(EulerMaruyama{});
}

// shared by the subcommands
void add_training_flags(CLI::App* app, TrainOptions& t);
score::FitOptions make_fit_options(const TrainOptions& o);
std::vector<app::ParamValue> to_params(const std::map<std::string, double>& m);
/// The network of a score model file with its EMA weights (what evaluation uses).
nn::Mlp<float> load_network(const score::ScoreModelFile& f);
/// Loads every snapshot of an ensemble into memory.
score::EnsembleData load_ensemble(const io::EnsembleReader& r);
/// Dispatches to the subcommand that was parsed.
int run(const Options& opt);

}  // namespace sdescore::scorefit
