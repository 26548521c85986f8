#pragma once
/// \file
/// The simulation run: one home for everything between "these settings" and "this ensemble"
/// (docs/simulation.md, "The simulation run"). The sdesim CLI, the Python module and C++
/// users all call `simulate(Config)`:
///   - the time grid (t_end a whole number of steps of dt; save_every and its default);
///   - the initial law (init specs, `file:`, the model's stationary law);
///   - output written atomically with its provenance (resolved command line, parameters, seed,
///     version), paths or statistics and histograms (stats_only), a path range;
///   - checkpointed segments, resume and the checks that a resume matches the checkpoint;
///   - progress and cancellation at sync points (nothing is left at the output on a stop);
///   - the positions kept in memory (keep_positions) for callers that want them.
///
///   sdescore::sim::Config c;
///   c.model = "double_well"; c.params = {{"T", 0.5}}; c.init = "normal:0,0.2";
///   c.paths = 1000; c.dt = 1e-3; c.t_end = 1; c.output = "dw.h5";
///   const auto r = sdescore::sim::simulate(c);   // ConfigError / IoError / NumericalError
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sdescore/io/run_info.hpp"

namespace sdescore::ensemble {
struct EnsembleStats;
struct StatsOptions;
struct StatsPartials;
}  // namespace sdescore::ensemble
namespace sdescore::io {
struct SharedFile;
}

namespace sdescore::sim {

struct Config {
  // The model.
  std::string model;                                   ///< registry name, e.g. "double_well"
  std::vector<std::pair<std::string, double>> params;  ///< parameter overrides, in order
  std::string stepper;                                 ///< "" -> the model's default_stepper trait

  // The ensemble and its time grid (the run starts at t = 0).
  std::string init = "point";   ///< init spec (ensemble/init.hpp), or file:PATH
  std::int64_t paths = 1000;    ///< number of paths
  std::int64_t first_path = 0;  ///< global index of the first path (path-range replay)
  double dt = 1e-3;
  double t_end = 1.0;           ///< must be a whole number of steps of dt
  std::int64_t save_every = 0;  ///< steps between snapshots; 0: n_steps/10 if 10 divides n_steps, else n_steps
  std::uint64_t seed = 0;
  int threads = 0;              ///< 0: OpenMP default

  // Output.
  std::string output;             ///< target file, written atomically ("" -> none; needs keep_positions)
  bool force = false;             ///< replace an existing output / checkpoint
  bool stats_only = false;        ///< store mean, covariance (and histograms) per snapshot, not the paths
  std::vector<std::string> hist;  ///< "COORD:LO:HI:BINS" (stats_only; all with the same BINS)
  int compress = 0;               ///< gzip level 0..9 of the path data
  bool keep_positions = false;    ///< also return the snapshots in Result::positions

  // Parameter sweep (docs/simulation.md, "Parameter sweeps"): "NAME=A:B:N" (N values from A to
  // B, numpy.linspace) or "NAME=V1,V2,..."; several specs form the grid of all combinations
  // (the first outermost). Every point is the run of these settings with those parameter values
  // (the same seed and paths), all in one file with one leading axis per swept parameter.
  std::vector<std::string> sweep;

  // Checkpoints.
  std::int64_t checkpoint_every = 0;  ///< write checkpoint_path_for(output) at every multiple (0: never)
  bool keep_checkpoint = false;       ///< keep the last checkpoint after a successful run
  std::string resume;                 ///< continue from this checkpoint (repeat the original settings)

  // Provenance and messages.
  std::string command_line;  ///< stored in the file; "" -> the equivalent sdesim command line
  /// Messages name settings as sdesim options ("--t-end") or, false, as keywords ("t_end").
  bool cli_names = true;
  /// Test hook: after writing the checkpoint at an absolute step >= this value, stop as if
  /// cancelled (throws Cancelled; the output is discarded). -1: never.
  std::int64_t stop_after_checkpoint_step = -1;
};

/// Where a run is, reported on the calling thread at sync points (about 1000 per run).
struct Progress {
  double done = 0;             ///< path-steps done in this run (a resumed run starts at 0)
  double total = 0;            ///< path-steps of this run
  std::int64_t step = 0;       ///< absolute step reached by every path
  std::int64_t n_steps = 0;    ///< absolute step at the end
};

struct Hooks {
  /// Called at each sync point; may throw (the run stops, nothing is written at the output).
  std::function<void(const Progress&)> progress;
  /// Polled at the same points; true stops the run with Cancelled.
  std::function<bool()> stop_requested;
};

/// A run stopped by Hooks::stop_requested (or the stop_after_checkpoint_step test hook). The
/// output is not written; checkpoints already written stay (resume from them).
struct Cancelled : std::exception {
  const char* what() const noexcept override { return "simulation stopped before its end"; }
};

/// An ensemble in memory: what a run produced (or read_ensemble read).
struct Result {
  io::RunInfo info;               ///< provenance, as stored in the file
  int dim = 0;
  std::int64_t n_paths = 0, first_path = 0;
  std::int64_t n_steps = 0, save_every = 0;
  double t_end = 0;
  std::string output;             ///< the file written ("" if none)
  bool resumed = false;
  std::int64_t snapshots = 0;     ///< snapshots in the output (incl. those of a resumed run)
  std::vector<double> times;      ///< keep_positions: time of each kept snapshot
  std::vector<std::int64_t> steps;
  std::vector<double> positions;  ///< keep_positions: (snapshot, path, dim), row-major
  double seconds = 0;             ///< wall time of the run
  double path_steps = 0;          ///< path-steps taken by this run (all its processes, see Partition)
  std::int64_t sweep_points = 0;  ///< a sweep: the number of parameter points (0: not a sweep)
};

/// One process of a run shared by several (sdescore::mpi implements it over MPI,
/// docs/distributed.md). The processes split the paths into consecutive parts that start on
/// ensemble::kStatsChunk boundaries, write one file together and reduce the statistics in path
/// order, so the output is that of one process. The calls are collective: every process makes
/// them in the same order.
class Partition {
 public:
  virtual ~Partition() = default;
  /// This process's part {first, count} of `paths` paths (first relative to the run's first
  /// path; a multiple of ensemble::kStatsChunk; count >= 1). ConfigError if there are too few.
  virtual std::pair<std::int64_t, std::int64_t> part(std::int64_t paths) const = 0;
  /// The shared temporary of the output `target` (the same on every process).
  virtual io::SharedFile shared_file(const std::string& target) = 0;
  /// Returns if no process has failed; otherwise throws PartnerFailed (another process's error
  /// ends this one too). Called before each collective step of the run.
  virtual void sync() = 0;
  /// Tells the others this process failed (their sync() throws); once per run, later calls do
  /// nothing. A process that learned of a failure at sync() has nothing to tell.
  virtual void fail() = 0;
  /// The statistics of all the paths from every process's partials of its own paths.
  virtual ensemble::EnsembleStats reduce(int dim, const ensemble::StatsOptions& options,
                                         const ensemble::StatsPartials& mine) = 0;
};

/// Thrown by Partition::sync when another process of the run failed (that one reports why).
struct PartnerFailed : std::exception {
  const char* what() const noexcept override { return "another process of the run failed"; }
};

/// Runs a simulation. Throws ConfigError (bad settings, naming the value and what is valid),
/// IoError (files), NumericalError (a path diverged; nothing is written) or Cancelled.
/// Everything is checked before any file is touched; existing files are never modified unless
/// force, and the output appears only when complete. With config.sweep, every point of the
/// sweep in turn, into one file (Result: the file's provenance and sizes per point).
Result simulate(const Config& config, const Hooks& hooks = {});
/// This process's share of a run over several processes (see Partition): the same file as
/// simulate(config) writes (sweeps too). Checkpoints are written together and resume on any
/// number of processes; keep_positions is not available here.
Result simulate(const Config& config, const Hooks& hooks, Partition& partition);

/// One axis of a parameter sweep: a model parameter and its values, in order.
struct SweepAxis {
  std::string name;
  std::vector<double> values;
};

/// Parses Config::sweep specs ("NAME=A:B:N", "NAME=V1,V2,..."): ConfigError naming the spec and
/// what is valid for a malformed spec, N < 1, a non-finite or repeated value, or a parameter
/// swept twice. Whether NAME is a parameter of the model, and the values its valid range, is
/// checked by simulate (which knows the model).
std::vector<SweepAxis> parse_sweep(const std::vector<std::string>& specs, bool cli_names = true);

/// Reads the path snapshots of an sdescore ensemble file (IoError if it is none, e.g. a
/// statistics-only file) into a Result with keep_positions layout.
Result read_ensemble(const std::string& path);

/// The path of the periodic checkpoint of an output file: "<output>.ckpt.h5".
std::string checkpoint_path_for(const std::string& output);

/// The default stepper of the model called `name` (its default_stepper trait).
std::string default_stepper(const std::string& model);

/// The time grid: n_steps = t_end / dt (ConfigError unless whole) and the resolved save_every.
struct Grid {
  std::int64_t n_steps = 0;
  std::int64_t save_every = 0;
};
Grid resolve_grid(const Config& config);

}  // namespace sdescore::sim
