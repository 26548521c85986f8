#include "sdesim.hpp"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "common/cli.hpp"
#include "sdescore/app/registry.hpp"
#include "sdescore/core/parse.hpp"
#include "sdescore/io/atomic.hpp"
#include "sdescore/sim/simulation.hpp"

namespace sdescore::sdesim {
namespace {

namespace fs = std::filesystem;

using parse::split;
using parse::to_int;
/// Shortest decimal text that reads back as exactly v (for command lines and messages).
inline std::string num(double v) { return parse::shortest_decimal(v); }

/// The simulation settings of the options (--path-range FIRST:COUNT resolved).
sim::Config config_of(const Options& o) {
  sim::Config c;
  c.model = o.model;
  for (const auto& p : o.params) {
    const auto pv = app::parse_param(p);
    c.params.emplace_back(pv.name, pv.value);
  }
  c.stepper = o.stepper;
  c.init = o.init;
  c.paths = o.paths;
  if (!o.path_range.empty()) {
    const auto parts = split(o.path_range, ':');
    const auto first = parts.size() == 2 ? to_int(parts[0]) : std::nullopt;
    const auto count = parts.size() == 2 ? to_int(parts[1]) : std::nullopt;
    if (!first || !count || *first < 0 || *count < 1)
      throw ConfigError("--path-range '" + o.path_range +
                        "' is invalid: it must be FIRST:COUNT with FIRST >= 0 and COUNT >= 1 (e.g. 1000:500 for paths "
                        "1000..1499)");
    c.first_path = *first;
    c.paths = *count;
  }
  c.dt = o.dt;
  c.t_end = o.t_end;
  c.save_every = o.save_every;
  c.seed = o.seed;
  c.threads = o.threads;
  c.output = o.output;
  c.force = o.force;
  c.stats_only = o.stats_only;
  c.hist = o.hist;
  c.compress = o.compress;
  c.sweep = o.sweep;
  c.checkpoint_every = o.checkpoint_every;
  c.keep_checkpoint = o.keep_checkpoint;
  c.resume = o.resume;
  c.command_line = o.command_line;
  c.stop_after_checkpoint_step = o.stop_after_checkpoint_step;
  return c;
}

std::string range_text(const ParamInfo& p) {
  return std::string(p.lower_open ? "(" : "[") + num(p.lower) + ", " + num(p.upper) + (p.upper_open ? ")" : "]");
}

void print_models(std::ostream& out) {
  const auto models = app::list_models();
  std::size_t w = 4;
  for (const auto& m : models) w = std::max(w, m.name.size());
  out << std::left << std::setw(static_cast<int>(w)) << "model" << "  dim  description\n";
  for (const auto& m : models)
    out << std::left << std::setw(static_cast<int>(w)) << m.name << "  " << std::right << std::setw(3) << m.state_dim
        << "  " << m.description << '\n';
}

void print_description(std::ostream& out, const std::string& name) {
  const auto d = app::describe_model(name);
  out << d.name << ": " << d.description << "\n\n"
      << "  equation:   " << d.equation << "\n"
      << "  dimension:  state " << d.state_dim << ", noise " << d.noise_dim << "\n\n"
      << "  parameters (--param NAME=VALUE):\n";
  std::size_t w = 4, wv = 7, wr = 5;
  for (const auto& p : d.params) {
    w = std::max(w, p.info.name.size());
    wv = std::max(wv, num(p.default_value).size());
    wr = std::max(wr, range_text(p.info).size());
  }
  out << "    " << std::left << std::setw(static_cast<int>(w)) << "name" << "  " << std::setw(static_cast<int>(wv))
      << "default" << "  " << std::setw(static_cast<int>(wr)) << "range" << "  meaning\n";
  for (const auto& p : d.params)
    out << "    " << std::left << std::setw(static_cast<int>(w)) << p.info.name << "  " << std::setw(static_cast<int>(wv))
        << num(p.default_value) << "  " << std::setw(static_cast<int>(wr)) << range_text(p.info) << "  "
        << p.info.meaning << '\n';
  const std::string& def = d.default_stepper;
  out << "\n  steppers (--stepper):";
  for (std::size_t i = 0; i < d.steppers.size(); ++i)
    out << (i ? ", " : " ") << d.steppers[i] << (d.steppers[i] == def ? " (default)" : "");
  out << '\n';
}

}  // namespace

std::string default_stepper(const std::string& model) { return sim::default_stepper(model); }

std::string checkpoint_path_for(const std::string& output) { return sim::checkpoint_path_for(output); }

int run(const Options& o) {
  std::ostream& out = o.out ? *o.out : std::cout;
  if (o.list_models) {
    print_models(out);
    return cli::ok;
  }
  if (!o.describe.empty()) {
    print_description(out, o.describe);
    return cli::ok;
  }
  const sim::Config c = config_of(o);
  std::optional<cli::Progress> progress;
  sim::Hooks hooks;
  if (!o.quiet && ::isatty(STDERR_FILENO))
    hooks.progress = [&](const sim::Progress& p) {
      if (!progress) progress.emplace("sdesim", p.total > 0 ? p.total : 1.0, false);
      progress->update(p.done, "step " + std::to_string(p.step) + "/" + std::to_string(p.n_steps) + ", " +
                                   num(p.done) + " of " + num(p.total) + " path-steps");
    };
  const sim::Result r = o.partition ? sim::simulate(c, hooks, *o.partition) : sim::simulate(c, hooks);
  if (progress) progress->finish();
  if (!o.quiet) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.3g", r.seconds > 0 ? r.path_steps / r.seconds : 0.0);
    char wall[64];
    std::snprintf(wall, sizeof wall, "%.3g", r.seconds);
    out << "sdesim: wrote " << r.output << '\n' << "sdesim: ";
    if (r.sweep_points > 0) out << r.sweep_points << " parameter points x ";
    out << r.n_paths << " paths x " << r.snapshots << " "
        << (c.stats_only ? "statistics snapshots" : "snapshots") << " of " << r.info.model << " (" << r.info.stepper
        << ", dt " << num(c.dt) << ", t_end " << num(c.t_end) << (r.resumed ? ", resumed" : "") << ") in " << wall
        << " s, " << rate << " particle-steps/s\n";
  }
  return cli::ok;
}

void setup(CLI::App& app, Options& o) {
  app.description(
      "sdesim: simulate an ensemble of paths of a nonlinear SDE model into an HDF5 file.\n"
      "Reproducible: path i, step k draw from (seed, i, k), so any thread count, path range or\n"
      "checkpointed split gives the same numbers. See docs/cli.md.");
  app.add_flag("--list-models", o.list_models, "List the models (name, dimension, description) and exit");
  app.add_option("--describe", o.describe, "Describe MODEL (equation, parameters, steppers) and exit")
      ->type_name("MODEL");
  app.add_option("-m,--model", o.model, "Model name (see --list-models) or model file (FILE.toml, docs/model-files.md)")
      ->type_name("NAME|FILE");
  app.add_option("-p,--param", o.params, "Model parameter override, repeatable (e.g. --param T=0.5)")
      ->type_name("NAME=VALUE");
  app.add_option("--stepper", o.stepper,
                 "Stepper (default: the model's own, e.g. baoab for underdamped_langevin, euler_maruyama otherwise; see --describe)")
      ->type_name("NAME");
  app.add_option("--init", o.init,
                 "Initial law: point, point:x1,..,xD, normal:mean,std[,..], uniform:lo,hi[,..], stationary, "
                 "file:PATH (last snapshot of an ensemble file)")
      ->capture_default_str();
  auto* paths = app.add_option("-n,--paths", o.paths, "Number of paths (global indices 0..N-1)")->capture_default_str();
  app.add_option("--path-range", o.path_range, "Only paths FIRST..FIRST+COUNT-1 (bit-identical to a full run)")
      ->type_name("FIRST:COUNT")
      ->excludes(paths);
  app.add_option("--dt", o.dt, "Time step")->capture_default_str();
  app.add_option("--t-end", o.t_end, "End time (a whole number of steps; the run starts at t = 0)")
      ->capture_default_str();
  app.add_option("--save-every", o.save_every,
                 "Steps between stored snapshots (default 0: n_steps/10 if 10 divides n_steps, else n_steps)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of the counter-based generator")->capture_default_str();
  app.add_option("--threads", o.threads, "OpenMP threads (0: OMP_NUM_THREADS or all cores)")->capture_default_str();
  app.add_option("-o,--output", o.output, "Output HDF5 file (written atomically)")->type_name("FILE");
  app.add_flag("-f,--force", o.force, "Replace an existing output (and its checkpoint)");
  app.add_flag("--stats-only", o.stats_only, "Store mean, covariance and histograms per snapshot instead of the paths");
  app.add_option("--hist", o.hist, "Histogram of a coordinate per snapshot (with --stats-only), repeatable, same BINS")
      ->type_name("COORD:LO:HI:BINS");
  app.add_option("--sweep", o.sweep,
                 "Parameter sweep into one file: N values from A to B (numpy.linspace) or a list; repeatable: "
                 "several form a grid (docs/simulation.md)")
      ->type_name("NAME=A:B:N|NAME=V1,V2,..");
  app.add_option("--compress", o.compress, "gzip level of the stored paths, 0 (off) .. 9")->capture_default_str();
  app.add_flag("-q,--quiet", o.quiet, "No progress line and no summary");
  app.add_option("--checkpoint-every", o.checkpoint_every,
                 "Write <output>.ckpt.h5 (atomically) at every multiple of N steps; 0: never")
      ->type_name("N")
      ->capture_default_str();
  app.add_flag("--keep-checkpoint", o.keep_checkpoint, "Keep <output>.ckpt.h5 after a successful run");
  app.add_option("--resume", o.resume, "Continue from checkpoint CKPT (repeat the original options)")
      ->type_name("CKPT");
}

int main_program(int argc, char** argv) {
  CLI::App app{"", "sdesim"};
  Options o;
  setup(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? cli::ok : cli::usage_error;
  }
  o.command_line = cli::command_line(argc, argv);
  // Signals ignored on entry (e.g. SIGINT of a background job started by a script, nohup)
  // stay ignored, as POSIX tools do: otherwise the handler would delete the temporary of a
  // run that then goes on to the end.
  auto ignored = [](int sig) {
    struct sigaction old {};
    return ::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN;
  };
  const bool int_ignored = ignored(SIGINT), term_ignored = ignored(SIGTERM);
  io::install_signal_cleanup();
  if (int_ignored) std::signal(SIGINT, SIG_IGN);
  if (term_ignored) std::signal(SIGTERM, SIG_IGN);
  return cli::guarded("sdesim", [&] { return run(o); });
}

}  // namespace sdescore::sdesim
