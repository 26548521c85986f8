#pragma once
// scorefit: learn time-dependent scores from an sdesim ensemble, evaluate them, export grids.
//   scorefit train --data dw.h5 --objective local-dsm -o score.h5
//   scorefit score --model score.h5 --input pts.h5 -o out.h5
//   scorefit grid  --model score.h5 --times 0.5,1,2 -o grid.h5
//   scorefit physics --model score.h5 -o phys.h5
//   scorefit compare --data dw.h5 -o study.h5
#include <CLI/CLI.hpp>
#include "sdescore/eval/physics_report.hpp"
#include "sdescore/eval/study.hpp"
#include "sdescore/nn/process_group.hpp"
#include "sdescore/score/training_config.hpp"
#include <string>
#include <vector>

namespace sdescore::scorefit {

/// scorefit train: the training configuration (one struct with the library and the file, whose
/// defaults it shows) plus what only the command line has.
struct TrainOptions : score::TrainingConfig {
  std::string data, ensemble, output;
  bool force = false, quiet = false;
  std::string resume;                   ///< score model file to continue from ("" : a new run)
  long checkpoint_every = 0;            ///< write the output file every this many steps (0: only at the end)
  long stop_at = 0;                     ///< stop (resumably) at this step, rounded up to a multiple of 50
  double time_limit = 0;                ///< stop (resumably) after this many seconds of training
  bool steps_given = false;             ///< --steps was given (on --resume, else the saved plan is kept)
  std::vector<std::string> given_flags; ///< flags given on the command line (to refuse changes on --resume)
  std::string command_line;
  /// Data parallel over processes (`mpirun -np N scorefit train`, docs/distributed.md): every
  /// process trains alike, process 0 alone writes the file. nullptr: one process.
  nn::ProcessGroup* group = nullptr;
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

/// scorefit compare: the local-DSM vs ISM (vs DSM) study on one ensemble (eval/study.hpp; the
/// study's settings and defaults are the library's).
struct CompareOptions : eval::StudyOptions {
  std::string data, ensemble, output;
  bool force = false, quiet = false;
  std::string command_line;
};

/// scorefit physics: probability current, entropy and entropy production of a learned score
/// (eval/physics_report.hpp).
struct PhysicsOptions : eval::PhysicsOptions {
  std::string model, data, ensemble, output;
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
/// After parsing: --delta given without --schedule selects the fixed schedule.
void finish_training_flags(Options& opt);
int run_train(const TrainOptions& opt);
int run_score(const ScoreOptions& opt);
int run_grid(const GridOptions& opt);
int run_compare(const CompareOptions& opt);
int run_physics(const PhysicsOptions& opt);

/// The program: parse, run, one exit code (docs/cli.md).
int main_program(int argc, char** argv);
/// The program under MPI (SDESCORE_MPI builds, scorefit_mpi.cpp, docs/distributed.md): `train`
/// with several processes is one data-parallel run; otherwise main_program.
int main_mpi(int argc, char** argv);

// shared by the subcommands
void add_training_flags(CLI::App* app, score::TrainingConfig& t);
/// Dispatches to the subcommand that was parsed.
int run(const Options& opt);

}  // namespace sdescore::scorefit
