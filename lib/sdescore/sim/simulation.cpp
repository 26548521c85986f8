#include "sdescore/sim/simulation.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

#include "sdescore/app/registry.hpp"
#include "sdescore/core/parse.hpp"
#include "sdescore/core/limits.hpp"
#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/io/io.hpp"

namespace sdescore::sim {
namespace {

namespace fs = std::filesystem;

/// Tells the other processes (Partition::fail) when it is destroyed by an exception thrown after
/// its construction: declared after a collectively closed file, it runs before the file closes.
struct TellPartners {
  Partition* part;
  int uncaught = std::uncaught_exceptions();
  ~TellPartners() {
    if (part && std::uncaught_exceptions() > uncaught) part->fail();
  }
};

using parse::split;
using parse::to_int;
using parse::to_double;
/// Shortest decimal text that reads back as exactly v (for command lines and messages).
inline std::string num(double v) { return parse::shortest_decimal(v); }

/// 12 significant digits (for suggested values in messages).
std::string short_num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

/// A setting's name in messages: the sdesim option ("--t-end") or the keyword ("t_end").
std::string opt(const Config& c, std::string_view cli) {
  if (c.cli_names) return std::string(cli);
  std::string s(cli.substr(cli.find_first_not_of('-')));
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

struct PathRange {
  std::uint64_t first = 0;
  std::int64_t count = 0;
};

PathRange resolve_paths(const Config& c) {
  if (c.paths < 1)
    throw ConfigError(opt(c, "--paths") + " = " + std::to_string(c.paths) + " is invalid: it must be >= 1");
  if (c.first_path < 0)
    throw ConfigError(opt(c, "--first-path") + " = " + std::to_string(c.first_path) + " is invalid: it must be >= 0");
  return {static_cast<std::uint64_t>(c.first_path), c.paths};
}

/// hist COORD:LO:HI:BINS specs as engine histograms (equal bin counts: the file stores one
/// bin_edges matrix).
std::vector<ensemble::HistogramSpec> resolve_hists(const Config& c, int dim) {
  std::vector<ensemble::HistogramSpec> out;
  const std::string H = opt(c, "--hist");
  if (!c.hist.empty() && !c.stats_only)
    throw ConfigError(H + " '" + c.hist.front() + "' needs " + opt(c, "--stats-only") +
                      " (histograms are stored with the statistics)");
  for (const auto& h : c.hist) {
    const auto parts = split(h, ':');
    const auto coord = parts.size() == 4 ? to_int(parts[0]) : std::nullopt;
    const auto lo = parts.size() == 4 ? to_double(parts[1]) : std::nullopt;
    const auto hi = parts.size() == 4 ? to_double(parts[2]) : std::nullopt;
    const auto bins = parts.size() == 4 ? to_int(parts[3]) : std::nullopt;
    if (!coord || !lo || !hi || !bins)
      throw ConfigError(H + " '" + h + "' is not of the form COORD:LO:HI:BINS (e.g. 0:-2:2:80)");
    if (*coord < 0 || *coord >= dim)
      throw ConfigError(H + " '" + h + "': coordinate " + std::to_string(*coord) + " is out of range; valid are 0.." +
                        std::to_string(dim - 1) + " for model " + c.model);
    if (!std::isfinite(*lo) || !std::isfinite(*hi) || !(*lo < *hi))
      throw ConfigError(H + " '" + h + "': the range [" + num(*lo) + ", " + num(*hi) +
                        "] is invalid: LO and HI must be finite with LO < HI");
    if (*bins < 1 || *bins > 1000000)
      throw ConfigError(H + " '" + h + "': BINS = " + std::to_string(*bins) + " is invalid: it must be 1..1000000");
    if (!out.empty() && static_cast<long long>(out.front().edges.size()) != *bins + 1)
      throw ConfigError(H + " '" + h + "' has " + std::to_string(*bins) + " bins but '" + c.hist.front() + "' has " +
                        std::to_string(out.front().edges.size() - 1) + ": all histograms must have the same BINS");
    ensemble::HistogramSpec spec;
    spec.coord = static_cast<int>(*coord);
    for (long long i = 0; i <= *bins; ++i)
      spec.edges.push_back(i == *bins ? *hi : *lo + (*hi - *lo) * static_cast<double>(i) / static_cast<double>(*bins));
    out.push_back(std::move(spec));
  }
  return out;
}

io::CountMatrix counts_of(const ensemble::EnsembleStats& st) {
  if (st.histograms.empty()) return {};
  io::CountMatrix m(static_cast<Eigen::Index>(st.histograms.size()),
                    static_cast<Eigen::Index>(st.histograms.front().counts.size()));
  for (std::size_t h = 0; h < st.histograms.size(); ++h)
    for (std::size_t b = 0; b < st.histograms[h].counts.size(); ++b)
      m(static_cast<Eigen::Index>(h), static_cast<Eigen::Index>(b)) = st.histograms[h].counts[b];
  return m;
}

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

/// The one ensemble of a file: its only one, or "ensemble" (e.g. a checkpoint: the state,
/// not the saved trajectory). IoError naming what was found otherwise.
std::string pick_ensemble(const std::string& path, const std::string& what) {
  const auto names = io::ensemble_names(path);
  if (names.size() == 1) return names.front();
  if (std::find(names.begin(), names.end(), "ensemble") != names.end()) return "ensemble";
  throw IoError(what + ": the file holds no single ensemble of paths (found " + std::to_string(names.size()) +
                (names.empty() ? "" : ": " + app::detail::join(names)) + ")");
}

/// The states of the last snapshot of an ensemble file (init file:PATH), for paths
/// [first, first + count) by global index.
ensemble::StateMatrix load_init_file(const Config& c, const std::string& path, int dim, std::string_view model,
                                     PathRange pr) {
  const std::string I = opt(c, "--init") + " file:" + path;
  io::EnsembleReader r(path, pick_ensemble(path, I));
  if (r.dim() != dim)
    throw ConfigError(I + ": the ensemble has dimension " + std::to_string(r.dim()) + " but model " +
                      std::string(model) + " has state dimension " + std::to_string(dim));
  if (r.n_snapshots() < 1) throw IoError(I + ": the ensemble has no snapshots");
  const Eigen::MatrixXd rows = r.snapshot(-1);
  for (Eigen::Index p = 0; p < rows.rows(); ++p)
    if (!rows.row(p).allFinite())
      throw ConfigError(I + ": path " + std::to_string(p) +
                        " of the last snapshot is not finite; the initial states must be finite numbers");
  if (rows.rows() == 1) return ensemble::states_from_rows(rows, dim, 0, pr.count);
  const auto file_first = static_cast<std::uint64_t>(r.info().path_first);
  if (pr.first < file_first || pr.first + static_cast<std::uint64_t>(pr.count) > file_first + rows.rows())
    throw ConfigError(I + " holds paths [" + std::to_string(file_first) + ", " +
                      std::to_string(file_first + static_cast<std::uint64_t>(rows.rows())) + ") but paths [" +
                      std::to_string(pr.first) + ", " + std::to_string(pr.first + static_cast<std::uint64_t>(pr.count)) +
                      ") were requested; give " + (c.cli_names ? "--paths/--path-range" : "paths/first_path") +
                      " within that range");
  return ensemble::states_from_rows(rows, dim, pr.first - file_first, pr.count);
}

std::string resolved_command_line(const Config& c, const io::RunInfo& info, PathRange pr, const Grid& g) {
  std::ostringstream s;
  s << "sdesim --model " << info.model;
  for (const auto& [k, v] : info.model_parameters) s << " --param " << k << '=' << num(v);
  s << " --stepper " << info.stepper << " --init " << c.init << " --path-range " << pr.first << ':' << pr.count
    << " --dt " << num(c.dt) << " --t-end " << num(c.t_end) << " --save-every " << g.save_every << " --seed "
    << c.seed;
  if (c.stats_only) s << " --stats-only";
  for (const auto& h : c.hist) s << " --hist " << h;
  if (c.compress) s << " --compress " << c.compress;
  s << " -o " << c.output;
  return s.str();
}

/// The histogram layout of the file from the engine's histograms.
io::HistogramSpec histogram_spec_of(const ensemble::StatsOptions& so) {
  io::HistogramSpec hs;
  hs.bin_edges.resize(static_cast<Eigen::Index>(so.histograms.size()),
                      static_cast<Eigen::Index>(so.histograms.front().edges.size()));
  for (std::size_t h = 0; h < so.histograms.size(); ++h) {
    hs.coordinates.push_back(so.histograms[h].coord);
    for (std::size_t e = 0; e < so.histograms[h].edges.size(); ++e)
      hs.bin_edges(static_cast<Eigen::Index>(h), static_cast<Eigen::Index>(e)) = so.histograms[h].edges[e];
  }
  return hs;
}

/// Where the snapshots of one point of a sweep go instead of a file of its own: the sweep's
/// file (run_sweep). open() is called once per point, after the point's settings are checked
/// and its initial state is drawn, at the point where a run creates its file (collectively).
class SweepTarget {
 public:
  virtual ~SweepTarget() = default;
  virtual void open(const io::RunInfo& info, int dim, std::int64_t n_paths, std::int64_t part_first,
                    std::int64_t part_count, std::int64_t n_snapshots, const ensemble::StatsOptions& stats) = 0;
  /// Snapshot `index` of the point: this process's paths (dim-major).
  virtual void paths(const ensemble::StateView& s, double t, std::int64_t step, std::int64_t index) = 0;
  /// Snapshot `index` of the point: the statistics of all its paths.
  virtual void stats(const ensemble::EnsembleStats& st, double t, std::int64_t step, std::int64_t index) = 0;
};

/// A snapshot kept in memory between two checkpoints (the checkpoint carries all snapshots).
struct Saved {
  double t;
  std::int64_t step;
  std::vector<double> x;          ///< dim-major state (paths only)
  ensemble::EnsembleStats stats;  ///< statistics (stats-only)
};

/// What a run asks of its model and stepper. PairOf implements it once per (stepper, model) pair of
/// the registry: the engine and the model's initial laws. The run itself (run_model: time grid,
/// checks, files, segments, checkpoints) is compiled once, not once per pair.
class ModelStepper {
 public:
  virtual ~ModelStepper() = default;
  virtual int dim() const = 0;
  virtual std::string model_name() const = 0;    ///< M::name
  virtual std::string stepper_name() const = 0;  ///< St::name
  virtual bool has_stationary_law() const = 0;
  /// The model's name (and for a model file its text and hash) and parameter values into info.
  virtual void record(io::RunInfo& info) const = 0;
  virtual ensemble::StateMatrix sample_initial(const ensemble::InitSpec& spec, std::uint64_t seed, std::uint64_t first_path,
                                               std::int64_t n_paths) const = 0;
  virtual void simulate(ensemble::StateMatrix& state, const ensemble::EnsembleOptions& o, const ensemble::SnapshotSink& sink,
                        const ensemble::ProgressFn& progress) const = 0;
};

template <class St, class M>
class PairOf final : public ModelStepper {
 public:
  PairOf(const St& stepper, const M& model) : stepper_(stepper), model_(model) {}
  int dim() const override { return M::state_dim; }
  std::string model_name() const override { return std::string(M::name); }
  std::string stepper_name() const override { return std::string(St::name); }
  bool has_stationary_law() const override { return ensemble::HasStationaryLaw<M>; }
  void record(io::RunInfo& info) const override {
    modelfile::record_model(model_, info);  // the name; for a model file also its text and hash
    for (const auto& pv : app::param_values(model_)) info.model_parameters[pv.name] = pv.value;
  }
  ensemble::StateMatrix sample_initial(const ensemble::InitSpec& spec, std::uint64_t seed, std::uint64_t first_path,
                                       std::int64_t n_paths) const override {
    return ensemble::sample_initial(model_, spec, seed, first_path, n_paths);
  }
  void simulate(ensemble::StateMatrix& state, const ensemble::EnsembleOptions& o, const ensemble::SnapshotSink& sink,
                const ensemble::ProgressFn& progress) const override {
    ensemble::simulate(stepper_, model_, state, o, sink, progress);
  }

 private:
  St stepper_;
  M model_;
};

/// The simulation of one model with one stepper.
Result run_model(const Config& c, const Hooks& hooks, const ModelStepper& pair, Partition* part, SweepTarget* target) {
  const int D = pair.dim();
  const std::string model_name = pair.model_name();
  const auto wall0 = std::chrono::steady_clock::now();

  // ---- resolve and validate everything before touching any file ----------------------
  const PathRange pr = resolve_paths(c);
  // This process's paths: all of them, or its part of a run shared by several (Partition).
  PathRange mine = pr;
  std::int64_t part_first = 0;
  if (part) {
    const auto [first, count] = part->part(pr.count);
    part_first = first;
    mine = {pr.first + static_cast<std::uint64_t>(first), count};
    const char* serial_only = c.keep_positions ? "--keep-positions" : nullptr;
    if (serial_only)
      throw ConfigError(opt(c, serial_only) + " is not available in a run over several processes (MPI); run it in "
                        "one process, or split it into runs with " + opt(c, "--path-range"));
    if (!c.output.empty()) io::check_writable_target(c.output, c.force);  // on every process, before the file
  }
  const Grid grid = resolve_grid(c);
  check_threads(opt(c, "--threads"), c.threads);  // 0 or 1..max_threads(), before any OpenMP region
  require_memory(opt(c, "--paths") + " " + std::to_string(mine.count) + " of dimension " + std::to_string(D),
                 16.0 * D * static_cast<double>(mine.count),
                 "use fewer paths, or split the ensemble into runs with a path range");
  if (c.compress < 0 || c.compress > 9)
    throw ConfigError(opt(c, "--compress") + " = " + std::to_string(c.compress) +
                      " is invalid: valid levels are 0 (off) .. 9");
  if (c.checkpoint_every < 0)
    throw ConfigError(opt(c, "--checkpoint-every") + " = " + std::to_string(c.checkpoint_every) +
                      " is invalid: it must be >= 1 step (or 0: none)");
  const bool to_file = !c.output.empty();
  if (!to_file && !c.keep_positions && !target)
    throw ConfigError(c.cli_names ? "no output file: give -o FILE (e.g. -o paths.h5)"
                                  : "no output: give output=PATH or keep the positions in memory");
  if (!to_file && !target && (c.checkpoint_every > 0 || !c.resume.empty() || c.stats_only))
    throw ConfigError(std::string(c.stats_only ? opt(c, "--stats-only") : c.resume.empty() ? opt(c, "--checkpoint-every")
                                                                                             : opt(c, "--resume")) +
                      " needs an output file (" + opt(c, "--output") + ")");
  if (c.keep_positions && c.stats_only)
    throw ConfigError(opt(c, "--stats-only") + " stores statistics, not positions: it cannot keep the positions");
  ensemble::StatsOptions stats_opt;
  stats_opt.enabled = c.stats_only;
  stats_opt.histograms = resolve_hists(c, D);
  stats_opt.validate(D);
  const auto spec = ensemble::parse_init_spec(c.init);
  using K = ensemble::InitSpec::Kind;
  if (spec.kind == K::normal || spec.kind == K::uniform || (spec.kind == K::point && !spec.values.empty()))
    (void)ensemble::resolve_init_values(spec, D, model_name);  // counts and ranges, before any work
  if ((spec.kind == K::two_moons || spec.kind == K::checkerboard) && D != 2)
    throw ConfigError(opt(c, "--init") + " " + c.init + " is a 2D data set but model " + model_name +
                      " has dimension " + std::to_string(D));
  if (spec.kind == K::stationary && !pair.has_stationary_law())
    throw ConfigError(opt(c, "--init") + " stationary: model " + model_name +
                      " has no known stationary law; valid: " + app::models_with_stationary_law() +
                      " (overdamped_langevin* at T = 1), or a model file with log_density (1 or 2 variables)");
  if (to_file && spec.kind == K::file) io::check_distinct_files(spec.path, c.output, "--init file:");
  if (to_file && !c.resume.empty()) io::check_distinct_files(c.resume, c.output, "--resume");
  if (c.threads > 0) omp_set_num_threads(c.threads);

  Result res;
  io::RunInfo& info = res.info;
  pair.record(info);
  info.stepper = pair.stepper_name();
  info.dt = c.dt;
  info.seed = c.seed;
  info.initial_law = c.init;
  info.save_every = grid.save_every;
  info.path_first = static_cast<std::int64_t>(pr.first);
  info.path_count = pr.count;
  const std::string resolved = resolved_command_line(c, info, pr, grid);
  info.command_line = c.command_line.empty() ? resolved : c.command_line;
  info.extra["resolved_command_line"] = resolved;
  info.extra["t0"] = 0.0;
  info.extra["t_end"] = c.t_end;
  info.extra["n_steps"] = grid.n_steps;
  info.extra["stats_only"] = std::int64_t{c.stats_only};
  if (!c.hist.empty()) info.extra["histograms"] = c.hist;
  res.dim = D;
  res.n_paths = pr.count;
  res.first_path = static_cast<std::int64_t>(pr.first);
  res.n_steps = grid.n_steps;
  res.save_every = grid.save_every;
  res.t_end = c.t_end;
  res.output = c.output;
  res.resumed = !c.resume.empty();

  // ---- initial state: checkpoint, file or initial law --------------------------------
  ensemble::StateMatrix state;
  std::int64_t step0 = 0;
  if (!c.resume.empty()) {
    // Over several processes each reads only its own rows of the state (below).
    std::int64_t ck_rows = 0;
    io::Checkpoint ck = part ? io::read_checkpoint_head(c.resume, ck_rows) : io::read_checkpoint(c.resume);
    if (!part) ck_rows = ck.positions.rows();
    io::require_resumable(ck, c.resume);
    io::require_same_run(ck.run, info);
    auto mismatch = [&](const std::string& what, const std::string& then, const std::string& now) {
      throw ConfigError("checkpoint '" + c.resume + "' does not match this run: " + what + " is " + then +
                        " in the checkpoint but " + now +
                        " now; repeat the options of the original run (see its /parameters/command_line)");
    };
    if (ck.run.seed != info.seed) mismatch(opt(c, "--seed"), std::to_string(ck.run.seed), std::to_string(info.seed));
    if (ck.run.path_first != info.path_first || ck.run.path_count != info.path_count)
      mismatch("the path range", std::to_string(ck.run.path_first) + ":" + std::to_string(ck.run.path_count),
               std::to_string(info.path_first) + ":" + std::to_string(info.path_count));
    if (ck.run.save_every != info.save_every)
      mismatch(opt(c, "--save-every"), std::to_string(ck.run.save_every), std::to_string(info.save_every));
    if (ck.run.initial_law != info.initial_law)
      mismatch(opt(c, "--init"), "'" + ck.run.initial_law + "'", "'" + c.init + "'");
    auto extra_str = [](const io::RunInfo& r, const std::string& k) {
      const auto it = r.extra.find(k);
      if (it == r.extra.end()) return std::string("none");
      if (const auto* i = std::get_if<std::int64_t>(&it->second)) return std::to_string(*i);
      if (const auto* v = std::get_if<std::vector<std::string>>(&it->second)) return app::detail::join(*v);
      if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
      return std::string("?");
    };
    for (const char* k : {"stats_only", "histograms"})
      if (extra_str(ck.run, k) != extra_str(info, k))
        mismatch(opt(c, k == std::string("stats_only") ? "--stats-only" : "--hist"), extra_str(ck.run, k),
                 extra_str(info, k));
    if (ck.positions.cols() != D || ck_rows != pr.count)
      throw IoError("checkpoint '" + c.resume + "' holds " + std::to_string(ck_rows) + " x " +
                    std::to_string(ck.positions.cols()) + " states; expected " + std::to_string(pr.count) + " x " +
                    std::to_string(D));
    if (ck.step > grid.n_steps)
      throw ConfigError(opt(c, "--t-end") + " = " + num(c.t_end) + " is before the checkpoint's time " + num(ck.time) +
                        " (step " + std::to_string(ck.step) + "); valid: " + opt(c, "--t-end") + " >= " + num(ck.time));
    const io::Group root = io::open_file(c.resume);
    if (!root.has_group(c.stats_only ? "observables/ensemble" : "particles/trajectory"))
      throw IoError("checkpoint '" + c.resume + "' carries no saved " +
                    std::string(c.stats_only ? "statistics (observables/ensemble)" : "snapshots (particles/trajectory)") +
                    ": it was not written by sdesim --checkpoint-every");
    state = ensemble::StateMatrix::from_rows(
        part ? io::EnsembleReader(c.resume, ck.name).snapshot(0, part_first, mine.count) : ck.positions);
    step0 = ck.step;
    info.extra["resumed_from"] = c.resume;
    info.extra["resumed_at_step"] = ck.step;
  } else if (spec.kind == ensemble::InitSpec::Kind::file) {
    state = load_init_file(c, spec.path, D, model_name, mine);
  } else {
    state = pair.sample_initial(spec, c.seed, mine.first, mine.count);
  }

  // ---- files: checks first, then the temporary output --------------------------------
  const std::string ckpt = to_file ? checkpoint_path_for(c.output) : std::string();
  const bool ckpt_is_resume = same_file(ckpt, c.resume);
  if (c.checkpoint_every > 0) io::check_writable_target(ckpt, c.force || ckpt_is_resume);
  std::optional<io::OutputFile> file;
  std::optional<io::SharedFile> shared;
  if (part) {
    part->sync();  // every process is ready: the file is created together
    if (to_file) shared = part->shared_file(c.output);
  }
  if (to_file) file.emplace(c.output, info, c.force, shared ? &*shared : nullptr);
  std::optional<io::EnsembleWriter> ew;
  std::optional<io::ObservablesWriter> ow;
  // A process that fails from here on tells the others before its file handles close (the
  // closes are collective): declared after the file and writers, so destroyed before them.
  TellPartners tell_partners{part};
  auto make_observables = [&](io::OutputFile& f) {
    io::ObservablesOptions oo;
    oo.n_paths = pr.count;
    oo.compression = c.compress;
    if (!stats_opt.histograms.empty()) oo.histogram = histogram_spec_of(stats_opt);
    return io::ObservablesWriter(f, D, oo);
  };
  io::EnsembleOptions eopt;
  eopt.compression = c.compress;
  if (file) {
    if (c.stats_only) {
      ow.emplace(make_observables(*file));
    } else if (part) {
      io::EnsembleOptions po = eopt;
      po.part_of = pr.count;
      po.part_first = part_first;
      ew.emplace(*file, mine.count, D, po);
    } else {
      ew.emplace(*file, pr.count, D, eopt);
    }
  }
  if (target) target->open(info, D, pr.count, part_first, mine.count, grid.n_steps / grid.save_every + 1, stats_opt);

  // Snapshots kept in memory, (snapshot, path, dim).
  auto keep_rows = [&](const Eigen::MatrixXd& x, double t, std::int64_t k) {  // x: paths x dim
    if (!c.keep_positions) return;
    res.times.push_back(t);
    res.steps.push_back(k);
    const std::size_t off = res.positions.size();
    res.positions.resize(off + static_cast<std::size_t>(pr.count) * D);
    for (std::int64_t p = 0; p < pr.count; ++p)
      for (int d = 0; d < D; ++d) res.positions[off + static_cast<std::size_t>(p) * D + d] = x(p, d);
  };
  auto keep_view = [&](const ensemble::StateView& s, double t, std::int64_t k) {  // dim-major
    if (!c.keep_positions) return;
    res.times.push_back(t);
    res.steps.push_back(k);
    const std::size_t off = res.positions.size();
    res.positions.resize(off + static_cast<std::size_t>(pr.count) * D);
    double* out = res.positions.data() + off;
    for (int d = 0; d < D; ++d) {
      const double* x = s.coord(d);
      for (std::int64_t p = 0; p < pr.count; ++p) out[static_cast<std::size_t>(p) * D + d] = x[p];
    }
  };

  // Snapshots saved by the run we resume: re-emitted first, so the output holds them all.
  auto copy_saved = [&](const std::string& from, auto&& append_paths, auto&& append_stats) {
    if (!c.stats_only) {
      io::EnsembleReader r(from, "trajectory");
      const auto t = r.times();
      const auto k = r.steps();
      for (std::int64_t s = 0; s < r.n_snapshots(); ++s)  // over several processes: this one's rows
        append_paths(part ? r.snapshot(s, part_first, mine.count) : r.snapshot(s), t[s], k[s]);
    } else {
      io::ObservablesReader r(from, "ensemble");
      const auto t = r.times();
      const auto k = r.steps();
      for (std::int64_t s = 0; s < r.n_snapshots(); ++s)
        append_stats(t[s], k[s], r.mean(s), r.covariance(s), r.has_histogram() ? r.histogram(s) : io::CountMatrix());
    }
  };
  if (!c.resume.empty()) {
    copy_saved(
        c.resume,
        [&](const Eigen::MatrixXd& x, double t, std::int64_t k) {
          ew->append(x, t, k);
          keep_rows(x, t, k);
        },
        [&](double t, std::int64_t k, const Eigen::VectorXd& m, const Eigen::MatrixXd& cv, const io::CountMatrix& h) {
          ow->append(t, k, m, cv, h);
        });
    res.snapshots = c.stats_only ? ow->snapshots() : ew->snapshots();
  }

  // ---- checkpoints -------------------------------------------------------------------
  std::vector<Saved> pending;           // snapshots since the last checkpoint
  std::string saved_source = c.resume;  // file holding the snapshots up to the last checkpoint
  bool wrote_checkpoint = false;
  auto write_checkpoint = [&](std::int64_t k, double t) {
    io::RunInfo ci = info;
    ci.extra["checkpoint_for"] = c.output;
    // Over several processes: one checkpoint written together (the layout of one process's),
    // each process its rows; a checkpoint of N processes resumes on any number.
    std::optional<io::SharedFile> cshared;
    if (part) {
      part->sync();
      cshared = part->shared_file(ckpt);
    }
    io::OutputFile cf(ckpt, ci, /*overwrite=*/true, cshared ? &*cshared : nullptr);  // the target was checked at start
    io::EnsembleOptions so;
    so.name = "ensemble";
    if (part) {
      so.part_of = pr.count;
      so.part_first = part_first;
    }
    io::EnsembleWriter sw(cf, mine.count, D, so);
    sw.append_dim_major(state.data().data(), t, k, mine.count);
    if (!c.stats_only) {
      io::EnsembleOptions to = eopt;
      to.name = "trajectory";
      to.part_of = so.part_of;
      to.part_first = so.part_first;
      io::EnsembleWriter tw(cf, mine.count, D, to);
      if (!saved_source.empty())
        copy_saved(
            saved_source, [&](const Eigen::MatrixXd& x, double tt, std::int64_t kk) { tw.append(x, tt, kk); },
            [](double, std::int64_t, const Eigen::VectorXd&, const Eigen::MatrixXd&, const io::CountMatrix&) {});
      for (const auto& s : pending) tw.append_dim_major(s.x.data(), s.t, s.step, mine.count);
    } else {
      io::ObservablesWriter tw = make_observables(cf);
      if (!saved_source.empty())
        copy_saved(
            saved_source, [](const Eigen::MatrixXd&, double, std::int64_t) {},
            [&](double tt, std::int64_t kk, const Eigen::VectorXd& m, const Eigen::MatrixXd& cv,
                const io::CountMatrix& h) { tw.append(tt, kk, m, cv, h); });
      for (const auto& s : pending) tw.append(s.t, s.step, Eigen::VectorXd(s.stats.mean()), Eigen::MatrixXd(s.stats.cov()), counts_of(s.stats));
    }
    io::write_checkpoint_marker(cf.root(), "ensemble", k, t);
    if (part) part->sync();
    cf.commit();
    if (part) part->sync();  // renamed: the next checkpoint may read it
    pending.clear();
    saved_source = ckpt;
    wrote_checkpoint = true;
  };

  // ---- the run -----------------------------------------------------------------------
  const std::int64_t end = grid.n_steps;
  const double total = static_cast<double>(mine.count) * static_cast<double>(end - step0);
  double done_before = 0;
  ensemble::EnsembleStats last_stats;  // the statistics of the last snapshot (for a checkpoint)
  auto sink = [&](const ensemble::Snapshot& s) {
    if (part) part->sync();  // no process failed: write this snapshot together
    if (ew) {
      ew->append_dim_major(s.state.data, s.t, s.step, s.state.n_paths);
    } else if (ow || (target && c.stats_only)) {
      ensemble::EnsembleStats reduced;
      if (part) {  // this process's chunk partials, merged in path order across processes
        // (per-chunk partials do not depend on the threads; histogram counts are exact sums)
        const int n_threads = c.threads > 0 ? c.threads : omp_get_max_threads();
        ensemble::StatsAccumulator acc(D, mine.count, stats_opt, n_threads);
        const std::int64_t per = 16 * ensemble::kStatsChunk;
#pragma omp parallel for num_threads(n_threads) schedule(static)
        for (std::int64_t b = 0; b < mine.count; b += per)
          acc.add_range(s.state, b, std::min(mine.count, b + per), omp_get_thread_num());
        reduced = part->reduce(D, stats_opt, acc.partials());
      }
      const ensemble::EnsembleStats& st = part ? reduced : *s.stats;
      if (c.checkpoint_every > 0) last_stats = st;
      if (ow)
        ow->append(s.t, s.step, Eigen::VectorXd(st.mean()), Eigen::MatrixXd(st.cov()), counts_of(st));
      else
        target->stats(st, s.t, s.step, res.snapshots);
    } else if (target) {
      target->paths(s.state, s.t, s.step, res.snapshots);
    }
    keep_view(s.state, s.t, s.step);
    ++res.snapshots;
    if (c.checkpoint_every > 0) {
      Saved sv{s.t, s.step, {}, {}};
      if (ew)
        sv.x.assign(s.state.data, s.state.data + static_cast<std::ptrdiff_t>(s.state.dim) * s.state.n_paths);
      else
        sv.stats = last_stats;
      pending.push_back(std::move(sv));
    }
  };
  const bool report = static_cast<bool>(hooks.progress) || static_cast<bool>(hooks.stop_requested);
  auto on_progress = [&](const ensemble::Progress& p) {
    if (hooks.stop_requested && hooks.stop_requested()) throw Cancelled();
    if (hooks.progress)
      hooks.progress(Progress{done_before + static_cast<double>(p.path_steps_done), total, p.step, end});
  };

  ensemble::EnsembleOptions eo;
  eo.seed = c.seed;
  eo.first_path = mine.first;
  eo.t0 = 0.0;
  eo.dt = c.dt;
  eo.save_every = grid.save_every;
  eo.n_threads = c.threads;
  eo.stats = stats_opt;
  if (part) eo.stats.enabled = false;  // the sink reduces across processes
  eo.progress_every = report ? std::max<std::int64_t>(1, (end - step0) / 1000) : 0;
  std::int64_t k = step0;
  bool first_segment = true;
  while (k < end) {
    std::int64_t seg_end = end;
    if (c.checkpoint_every > 0) seg_end = std::min(end, (k / c.checkpoint_every + 1) * c.checkpoint_every);
    eo.step0 = k;
    eo.n_steps = seg_end - k;
    eo.emit_initial = first_segment && c.resume.empty();
    pair.simulate(state, eo, sink, report ? ensemble::ProgressFn(on_progress) : ensemble::ProgressFn());
    done_before += static_cast<double>(mine.count) * static_cast<double>(seg_end - k);
    first_segment = false;
    k = seg_end;
    if (c.checkpoint_every > 0 && k % c.checkpoint_every == 0) {
      write_checkpoint(k, static_cast<double>(k) * c.dt);
      if (c.stop_after_checkpoint_step >= 0 && k >= c.stop_after_checkpoint_step) throw Cancelled();
    }
  }
  if (hooks.stop_requested && hooks.stop_requested()) throw Cancelled();  // a stop during the last interval

  if (part) part->sync();  // every process finished: close the file together
  if (file) file->commit();
  if (part) part->sync();  // the rename succeeded (or the owner failed and says so)
  if (c.checkpoint_every > 0 && !c.keep_checkpoint && (wrote_checkpoint || ckpt_is_resume)) {
    std::error_code ec;
    fs::remove(ckpt, ec);
  }
  res.path_steps = part ? static_cast<double>(pr.count) * static_cast<double>(end - step0) : total;  // all processes
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return res;
}

}  // namespace

Grid resolve_grid(const Config& c) {
  const std::string DT = opt(c, "--dt"), TE = opt(c, "--t-end"), SE = opt(c, "--save-every");
  require_positive(DT, c.dt);
  require_positive(TE, c.t_end);
  const double ratio = c.t_end / c.dt;
  if (!(ratio < 4e18)) throw ConfigError(TE + " / " + DT + " = " + num(ratio) + " steps is too many: at most 4e18 steps");
  const auto n = static_cast<std::int64_t>(std::llround(ratio));
  if (n < 1 || std::abs(static_cast<double>(n) * c.dt - c.t_end) > 1e-9 * c.t_end) {
    const auto lo = static_cast<std::int64_t>(std::floor(ratio)), hi = lo + 1;
    throw ConfigError(TE + " = " + num(c.t_end) + " is not a whole number of steps of " + DT + " = " + num(c.dt) +
                      " (t_end / dt = " + num(ratio) + "); valid are multiples of dt, e.g. " + TE +
                      (c.cli_names ? " " : " = ") +
                      (lo >= 1 ? short_num(static_cast<double>(lo) * c.dt) + " or " : std::string()) +
                      short_num(static_cast<double>(hi) * c.dt));
  }
  Grid g{n, c.save_every};
  if (c.save_every < 0)
    throw ConfigError(SE + " = " + std::to_string(c.save_every) +
                      " is invalid: it must be >= 1 (or 0 for the default, n_steps / 10)");
  if (c.save_every == 0) g.save_every = n % 10 == 0 ? n / 10 : n;
  if (n % g.save_every != 0) {
    std::vector<std::int64_t> divs;  // divisors of n (pairs up to sqrt(n), at most 10^6 candidates)
    for (std::int64_t d = 1; d <= 1000000 && d * d <= n; ++d)
      if (n % d == 0) {
        divs.push_back(d);
        if (d != n / d) divs.push_back(n / d);
      }
    std::sort(divs.begin(), divs.end());
    std::string divisors;
    for (std::size_t i = 0; i < divs.size(); ++i) {
      if (divs.size() > 12 && i == 6) {
        divisors += ", ...";
        i = divs.size() - 6;
      }
      divisors += (i ? ", " : "") + std::to_string(divs[i]);
    }
    throw ConfigError(SE + " = " + std::to_string(c.save_every) + " does not divide the " + std::to_string(n) +
                      " steps (t_end / dt); valid are the divisors of " + std::to_string(n) + ": " + divisors);
  }
  return g;
}

std::string checkpoint_path_for(const std::string& output) { return output + ".ckpt.h5"; }

std::string default_stepper(const std::string& model) { return app::default_stepper(model); }

namespace {
void require_model(const Config& c) {
  if (c.model.empty())
    throw ConfigError(std::string(c.cli_names ? "no model given: use --model NAME" : "no model given") +
                      "; valid models are " + app::detail::join(app::model_names()) +
                      (c.cli_names ? " (--list-models, --describe NAME)" : ""));
}

Result simulate_point(const Config& c, const Hooks& hooks, Partition* partition, SweepTarget* target) {
  require_model(c);
  std::vector<app::ParamValue> params;
  for (const auto& [name, value] : c.params) {
    require_finite("parameter " + name, value);
    params.push_back({name, value});
  }
  const std::string stepper = c.stepper.empty() ? app::default_stepper(c.model) : c.stepper;
  return app::visit_model(c.model, params, [&](const auto& model) {
    using M = std::decay_t<decltype(model)>;
    Result r;
    app::visit_stepper<M>(stepper, [&](const auto& st) {
      r = run_model(c, hooks, PairOf<std::decay_t<decltype(st)>, M>(st, model), partition, target);
    });
    return r;
  });
}
}  // namespace

std::vector<SweepAxis> parse_sweep(const std::vector<std::string>& specs, bool cli_names) {
  const std::string SW = cli_names ? "--sweep" : "sweep";
  const std::string forms = "valid forms: NAME=A:B:N (N >= 1 values from A to B, as numpy.linspace) or "
                            "NAME=V1,V2,... (e.g. T=0.3:0.7:5 or T=0.3,0.5,0.7)";
  std::vector<SweepAxis> out;
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw ConfigError(SW + " '" + spec + "' is not of the form NAME=VALUES; " + forms);
    SweepAxis axis{spec.substr(0, eq), {}};
    const std::string rest = spec.substr(eq + 1);
    const bool range = rest.find(':') != std::string::npos;
    if (range) {
      const auto parts = split(rest, ':');
      const auto a = parts.size() == 3 ? to_double(parts[0]) : std::nullopt;
      const auto b = parts.size() == 3 ? to_double(parts[1]) : std::nullopt;
      const auto n = parts.size() == 3 ? to_int(parts[2]) : std::nullopt;
      if (!a || !b || !n) throw ConfigError(SW + " '" + spec + "' is malformed; " + forms);
      if (!std::isfinite(*a) || !std::isfinite(*b))
        throw ConfigError(SW + " '" + spec + "': the range [" + num(*a) + ", " + num(*b) +
                          "] is invalid: A and B must be finite numbers");
      if (*n < 1 || *n > 1000000)
        throw ConfigError(SW + " '" + spec + "': N = " + std::to_string(*n) + " is invalid: it must be 1..1000000");
      // numpy.linspace(A, B, N): A + j * ((B - A) / (N - 1)), the last value exactly B.
      const double step = *n > 1 ? (*b - *a) / static_cast<double>(*n - 1) : 0.0;
      for (long long j = 0; j < *n; ++j)
        axis.values.push_back(*n > 1 && j == *n - 1 ? *b : static_cast<double>(j) * step + *a);
    } else {
      for (const auto& v : split(rest, ',')) {
        const auto x = to_double(v);
        if (!x) throw ConfigError(SW + " '" + spec + "': '" + v + "' is not a number; " + forms);
        if (!std::isfinite(*x)) throw ConfigError(SW + " '" + spec + "': " + v + " is not a finite number");
        axis.values.push_back(*x);
      }
    }
    for (std::size_t i = 0; i < axis.values.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (axis.values[i] == axis.values[j])
          throw ConfigError(SW + " '" + spec + "': the value " + num(axis.values[i]) + " appears twice (values " +
                            std::to_string(j) + " and " + std::to_string(i) +
                            "); the values of a parameter must be distinct");
    for (const auto& prev : out)
      if (prev.name == axis.name)
        throw ConfigError(SW + " '" + spec + "': parameter " + axis.name +
                          " is swept twice; give each parameter one " + SW + " (several parameters form a grid)");
    static const char* const reserved[] = {"snapshot", "time", "step", "path", "dim", "dim2", "value",
                                           "mean", "covariance", "histogram", "hist_coord", "bin", "edge",
                                           "bin_edges", "box", "position"};
    for (const char* r : reserved)
      if (axis.name == r)
        throw ConfigError(SW + " '" + spec + "': a parameter named '" + axis.name +
                          "' would clash with a dimension of the sweep file");
    out.push_back(std::move(axis));
  }
  return out;
}

namespace {

/// "T = 0.5, gamma = 2": the parameter values of a point, for messages.
std::string sweep_point_text(const std::vector<std::pair<std::string, double>>& values) {
  std::string s;
  for (const auto& [k, v] : values) s += (s.empty() ? "" : ", ") + k + " = " + num(v);
  return s;
}

/// The sweep's one file: created with the first point (from its provenance), every point's
/// snapshots written at its index along the leading axes.
class SweepFile final : public SweepTarget {
 public:
  SweepFile(const Config& c, const std::vector<SweepAxis>& axes, Partition* part) : c_(c), axes_(axes), part_(part) {}

  std::int64_t point = 0;
  std::optional<io::SharedFile> shared;
  std::optional<io::OutputFile> file;  // declared before the writer: closed after it
  std::optional<io::SweepWriter> writer;
  io::RunInfo info;

  void open(const io::RunInfo& point_info, int dim, std::int64_t n_paths, std::int64_t part_first,
            std::int64_t part_count, std::int64_t n_snapshots, const ensemble::StatsOptions& stats) override {
    if (file) return;  // later points: the same grid, paths and dimension (same settings but the parameters)
    info = point_info;
    std::vector<std::string> names;
    std::string resolved = std::get<std::string>(info.extra.at("resolved_command_line"));
    for (const auto& a : axes_) {
      names.push_back(a.name);
      info.model_parameters.erase(a.name);  // its values are the scale of its axis
      const std::string p = " --param " + a.name + "=";
      if (const auto at = resolved.find(p); at != std::string::npos)
        resolved.erase(at, resolved.find(' ', at + p.size()) - at);
    }
    std::string sweeps;
    for (const auto& sp : c_.sweep) sweeps += " --sweep " + sp;
    if (const auto at = resolved.rfind(" -o "); at != std::string::npos) resolved.erase(at);  // the point's (none)
    resolved += sweeps + " -o " + c_.output;
    info.command_line = c_.command_line.empty() ? resolved : c_.command_line;
    info.extra["resolved_command_line"] = resolved;
    info.extra["sweep"] = c_.sweep;
    info.extra["sweep_parameters"] = names;
    if (part_) shared = part_->shared_file(c_.output);
    file.emplace(c_.output, info, c_.force, shared ? &*shared : nullptr);
    io::SweepLayout l;
    for (const auto& a : axes_) l.axes.push_back({a.name, a.values});
    l.n_snapshots = n_snapshots;
    l.n_paths = n_paths;
    l.dim = dim;
    l.stats_only = c_.stats_only;
    if (c_.stats_only && !stats.histograms.empty()) l.histogram = histogram_spec_of(stats);
    l.compression = c_.compress;
    l.part_first = part_first;
    l.part_count = part_count;
    writer.emplace(*file, l);
  }
  void paths(const ensemble::StateView& s, double t, std::int64_t step, std::int64_t index) override {
    writer->write_paths(point, index, t, step, s.data, s.n_paths);
  }
  void stats(const ensemble::EnsembleStats& st, double t, std::int64_t step, std::int64_t index) override {
    writer->write_stats(point, index, t, step, st.mean_data, st.cov_data, counts_of(st));
  }

 private:
  const Config& c_;
  const std::vector<SweepAxis>& axes_;
  Partition* part_;
};

Result run_sweep(const Config& c, const Hooks& hooks, Partition* part) {
  const auto wall0 = std::chrono::steady_clock::now();
  const std::string SW = opt(c, "--sweep");
  require_model(c);
  const std::vector<SweepAxis> axes = parse_sweep(c.sweep, c.cli_names);
  if (c.output.empty()) throw ConfigError(SW + " needs an output file (" + opt(c, "--output") + ")");
  if (c.keep_positions)
    throw ConfigError(SW + " writes every point to the output file: it cannot keep the positions in memory");
  if (c.checkpoint_every > 0 || !c.resume.empty())
    throw ConfigError(opt(c, c.checkpoint_every > 0 ? "--checkpoint-every" : "--resume") +
                      " is not available with " + SW + "; run the points one by one (" + opt(c, "--param") +
                      ") to checkpoint them");
  for (const auto& [name, value] : c.params)
    for (const auto& a : axes)
      if (a.name == name)
        throw ConfigError("parameter " + name + " is given both by " + opt(c, "--param") + " " + name + "=" +
                          num(value) + " and by " + SW + "; give it once");
  std::int64_t points = 1;
  for (const auto& a : axes) {
    if (static_cast<double>(points) * static_cast<double>(a.values.size()) > 1e6)
      throw ConfigError(SW + ": more than 1000000 points in the grid; sweep fewer values");
    points *= static_cast<std::int64_t>(a.values.size());
  }
  // Point i: row-major over the axes (the first outermost).
  auto point_values = [&](std::int64_t i) {
    std::vector<std::pair<std::string, double>> v(axes.size());
    for (std::size_t a = axes.size(); a-- > 0;) {
      const auto n = static_cast<std::int64_t>(axes[a].values.size());
      v[a] = {axes[a].name, axes[a].values[static_cast<std::size_t>(i % n)]};
      i /= n;
    }
    return v;
  };
  auto point_config = [&](std::int64_t i) {
    Config pc = c;
    pc.sweep.clear();
    pc.output.clear();
    for (const auto& pv : point_values(i)) pc.params.push_back(pv);
    return pc;
  };
  // Every point's parameters (names, ranges), before any work or file.
  {
    std::vector<app::ParamValue> base;
    for (const auto& [name, value] : c.params) {
      require_finite("parameter " + name, value);
      base.push_back({name, value});
    }
    app::visit_model(c.model, base, [](const auto&) {});
    for (std::int64_t i = 0; i < points; ++i) {
      std::vector<app::ParamValue> params = base;
      for (const auto& [name, value] : point_values(i)) params.push_back({name, value});
      try {
        app::visit_model(c.model, params, [](const auto&) {});
      } catch (const ConfigError& e) {
        std::string specs;
        for (const auto& sp : c.sweep) specs += (specs.empty() ? "" : " ") + sp;
        throw ConfigError(SW + " " + specs + ": at " + sweep_point_text(point_values(i)) + ": " + e.what());
      }
    }
  }
  io::check_writable_target(c.output, c.force);

  SweepFile target(c, axes, part);
  // A process that fails tells the others before the file closes (collectively).
  TellPartners tell_partners{part};
  Result res;
  double path_steps = 0;
  for (std::int64_t i = 0; i < points; ++i) {
    target.point = i;
    Hooks h;
    h.stop_requested = hooks.stop_requested;
    if (hooks.progress)
      h.progress = [&](const Progress& p) {
        hooks.progress(Progress{static_cast<double>(i) * p.total + p.done, static_cast<double>(points) * p.total,
                                p.step, p.n_steps});
      };
    const Result r = simulate_point(point_config(i), h, part, &target);
    path_steps += r.path_steps;
    if (i == 0) res = r;
  }
  if (part) part->sync();  // every process finished: close the file together
  target.writer.reset();
  target.file->commit();
  if (part) part->sync();
  res.info = target.info;
  res.output = c.output;
  res.sweep_points = points;
  res.path_steps = path_steps;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return res;
}

Result simulate_with(const Config& c, const Hooks& hooks, Partition* partition) {
  if (!c.sweep.empty()) return run_sweep(c, hooks, partition);
  return simulate_point(c, hooks, partition, nullptr);
}

}  // namespace

Result simulate(const Config& c, const Hooks& hooks) { return simulate_with(c, hooks, nullptr); }

Result simulate(const Config& c, const Hooks& hooks, Partition& partition) { return simulate_with(c, hooks, &partition); }

Result read_ensemble(const std::string& path) {
  if (!fs::exists(path)) throw IoError("cannot read ensemble file '" + path + "': no such file");
  io::EnsembleReader r(path, pick_ensemble(path, "ensemble file '" + path + "'"));
  Result res;
  res.info = r.info();
  res.dim = static_cast<int>(r.dim());
  res.n_paths = r.n_paths();
  res.first_path = res.info.path_first;
  res.save_every = res.info.save_every;
  res.output = path;
  res.snapshots = r.n_snapshots();
  res.times = r.times();
  res.steps = r.steps();
  if (const auto it = res.info.extra.find("n_steps"); it != res.info.extra.end())
    if (const auto* v = std::get_if<std::int64_t>(&it->second)) res.n_steps = *v;
  if (const auto it = res.info.extra.find("t_end"); it != res.info.extra.end())
    if (const auto* v = std::get_if<double>(&it->second)) res.t_end = *v;
  const std::size_t per = static_cast<std::size_t>(res.n_paths) * static_cast<std::size_t>(res.dim);
  res.positions.resize(per * static_cast<std::size_t>(res.snapshots));
  for (std::int64_t s = 0; s < res.snapshots; ++s) {
    const Eigen::MatrixXd x = r.snapshot(s);
    double* out = res.positions.data() + per * static_cast<std::size_t>(s);
    for (std::int64_t p = 0; p < res.n_paths; ++p)
      for (int d = 0; d < res.dim; ++d) out[static_cast<std::size_t>(p) * res.dim + d] = x(p, d);
  }
  return res;
}

}  // namespace sdescore::sim
