#pragma once
// sdesim: simulate an ensemble of paths of one registered SDE model and write them (or their
// statistics) to an HDF5 file. Usage, options, exit codes and the checkpoint design:
// docs/cli.md.
//
// The app is option parsing, progress and exit codes over sdescore::sim::simulate (the
// simulation run of lib/sdescore/sim), a plain function over an options struct, so tests call run() directly:
//   sdescore::sdesim::Options o;
//   o.model = "double_well"; o.output = dir / "dw.h5"; o.paths = 1000;
//   int rc = sdescore::sdesim::run(o);       // throws ConfigError / IoError / NumericalError
#include <cstdint>
#include <exception>
#include <ostream>
#include <string>
#include <vector>

#include "sdescore/sim/simulation.hpp"

namespace CLI {
class App;
}

namespace sdescore::sdesim {

struct Options {
  // What to do besides simulating.
  bool list_models = false;  ///< print name, dimension and description of every model
  std::string describe;      ///< print the equation, parameters and steppers of this model

  // The model.
  std::string model;                ///< registry name, e.g. "double_well"
  std::vector<std::string> params;  ///< "name=value" overrides
  std::string stepper;              ///< "" -> the model's default_stepper trait

  // The ensemble and its time grid.
  std::string init = "point";  ///< init spec (point, point:..., normal:..., uniform:..., stationary, file:PATH)
  std::int64_t paths = 1000;   ///< number of paths (global indices 0 .. paths-1)
  std::string path_range;      ///< "FIRST:COUNT": only paths FIRST .. FIRST+COUNT-1 (overrides paths)
  double dt = 1e-3;
  double t_end = 1.0;          ///< must be a whole number of steps of dt
  std::int64_t save_every = 0; ///< steps between snapshots; 0: n_steps/10 if 10 divides n_steps, else n_steps
  std::uint64_t seed = 0;
  int threads = 0;             ///< 0: OpenMP default (OMP_NUM_THREADS or all cores)

  // Output.
  std::string output;              ///< target file (written atomically)
  bool force = false;              ///< replace an existing output / checkpoint
  bool stats_only = false;         ///< store mean, covariance (and histograms) per snapshot, not the paths
  std::vector<std::string> hist;   ///< "COORD:LO:HI:BINS" (stats-only; all with the same BINS)
  int compress = 0;                ///< gzip level 0..9 of the path data
  bool quiet = false;              ///< no progress line and no final summary
  /// Parameter sweep, repeatable: "NAME=A:B:N" or "NAME=V1,V2,..."; several form a grid, one file
  /// with one leading axis per parameter (sim::Config::sweep, docs/simulation.md).
  std::vector<std::string> sweep;

  // Checkpoints.
  std::int64_t checkpoint_every = 0;  ///< write <output>.ckpt.h5 at every multiple of this many steps (0: never)
  bool keep_checkpoint = false;       ///< keep the last checkpoint after a successful run (default: removed)
  std::string resume;                 ///< continue from this checkpoint (repeat the original options)

  // Provenance and plumbing.
  std::string command_line;        ///< stored in the file; "" -> the equivalent command line of these options
  std::ostream* out = nullptr;     ///< where listings and the summary go (nullptr: std::cout)
  /// This process's share of a run over several (the MPI main, sdesim_mpi.cpp); nullptr: all of it.
  sim::Partition* partition = nullptr;
  /// Test hook (not a command-line option): after writing the checkpoint at an absolute step
  /// >= this value, stop as if the process had been killed (throws Interrupted, the partial
  /// output is discarded). -1: never.
  std::int64_t stop_after_checkpoint_step = -1;
};

/// Thrown by the stop_after_checkpoint_step test hook (the simulation run's Cancelled).
using Interrupted = sim::Cancelled;

/// Registers every option of sdesim on `app`, bound to `o`.
void setup(CLI::App& app, Options& o);

/// Runs sdesim with the given options. Returns 0 on success; throws ConfigError (bad input),
/// IoError (files) or NumericalError (a path diverged). Existing files are never modified
/// unless o.force, and the output appears only when complete.
int run(const Options& o);

/// The whole program: parses argv (CLI11 errors -> exit code 2, --help -> 0), installs the
/// SIGINT/SIGTERM cleanup of temporaries and maps errors to exit codes (apps/common/cli.hpp).
int main_program(int argc, char** argv);

/// The program built with SDESCORE_MPI (sdesim_mpi.cpp, docs/distributed.md): under mpirun
/// with several processes, one run shared by all of them; otherwise main_program.
int main_mpi(int argc, char** argv);

/// The default stepper of a model (its default_stepper trait).
std::string default_stepper(const std::string& model);

/// The path of the periodic checkpoint of an output file: "<output>.ckpt.h5".
std::string checkpoint_path_for(const std::string& output);

}  // namespace sdescore::sdesim
