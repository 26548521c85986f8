#include "scorefit.hpp"

#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "apps/common/cli.hpp"
#include <optional>

#include "sdescore/io/atomic.hpp"
#include "sdescore/io/h5.hpp"
#include "sdescore/score/train.hpp"
#include "sdescore/core/limits.hpp"
#include "sdescore/eval/grid_check.hpp"
#include "sdescore/score/checks.hpp"

namespace sdescore::scorefit {

namespace {
/// The auto schedule's rule in words, from its defaults (score::ScheduleOptions) and the growth
/// share in use: for --help and the run's report.
std::string auto_schedule_rule(double growth = score::ScheduleOptions{}.auto_elapsed) {
  const score::ScheduleOptions d;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%g%% of the noisy coordinates' relaxation time, at most %g%% of the training span", 100 * d.auto_ratio,
                100 * d.auto_span);
  std::string rule = buf;
  if (growth > 0) {  // --auto-growth 0: no growth, no clause
    std::snprintf(buf, sizeof buf, " or, where larger, %g%% of the time since the first snapshot", 100 * growth);
    rule += buf;
  }
  return rule;
}
}  // namespace

void add_training_flags(CLI::App* app, score::TrainingConfig& t) {
  app->add_option("--objective", t.objective, "local-dsm | local-dsm-plain | ism | ism-hutchinson | dsm (local-dsm learns coordinates without noise by ISM; local-dsm-plain: local-DSM in every coordinate; local-dsm-ism: old name of local-dsm; dsm: linear models only)")->capture_default_str();
  app->add_option("--steps", t.steps, "optimiser steps")->capture_default_str();
  app->add_option("--batch", t.batch, "batch size B")->capture_default_str();
  app->add_option("--groups", t.groups, "time groups G per batch (B/G samples share a time)")->capture_default_str();
  app->add_option("--pool-size", t.pool_size, "samples of p_s per time pool")->capture_default_str();
  app->add_option("--pools", t.n_pools, "time pools kept (one refreshed per step)")->capture_default_str();
  app->add_option("--reference-size,-R", t.reference_size, "multi-sample target reference set R (1: plain target)")->capture_default_str();
  app->add_flag("--antithetic", t.antithetic, "antithetic pairs y = m +- L eps");
  app->add_option("--weight", t.weight, "loss weight: covariance (Lambda = Sigma_bar(t)) | scalar | none")->capture_default_str();
  app->add_option("--schedule", t.schedule, "local step schedule: auto (Delta from the data: " + auto_schedule_rule() +
                  ") | fixed | error-controlled")->capture_default_str();
  app->add_option("--delta", t.delta, "fixed schedule: the local step Delta (given without --schedule, selects the fixed schedule)")->capture_default_str();
  app->add_option("--delta-min", t.delta_min, "error-controlled: smallest Delta")->capture_default_str();
  app->add_option("--delta-max", t.delta_max, "error-controlled: largest Delta")->capture_default_str();
  app->add_option("--auto-growth", t.auto_growth, "auto schedule: where the span cap binds, Delta grows to this share of the time since the first snapshot (0: off)")->capture_default_str();
  app->add_option("--tolerance", t.tolerance, "error-controlled: local error tolerance lambda")->capture_default_str();
  app->add_flag_callback("--no-ito-correction", [&t] { t.ito_correction = false; }, "use the first-order linearised mean");
  app->add_option("--t-min", t.t_min, "earliest training time (default: first snapshot + min(2.5 Delta, 2.5% of the span); error-controlled: min(Delta_max, 1% of the span))")->check(CLI::NonNegativeNumber);
  app->add_option("--t-max", t.t_max, "latest training time (default: last snapshot)")->check(CLI::NonNegativeNumber);
  app->add_option("--holdout-every", t.holdout_every, "hold out every k-th path for evaluation (0: none)")->capture_default_str();
  app->add_option("--hidden", t.hidden, "hidden widths, e.g. 128,128")->delimiter(',')->capture_default_str();
  app->add_option("--activation", t.activation, "silu | tanh | softplus")->capture_default_str();
  app->add_option("--time-frequencies", t.time_frequencies, "Fourier time features K")->capture_default_str();
  app->add_option("--lr", t.lr, "peak learning rate (Adam)")->capture_default_str();
  app->add_option("--lr-final", t.lr_final, "learning rate at the end of the cosine decay")->capture_default_str();
  app->add_option("--warmup", t.warmup, "learning-rate warm-up steps")->capture_default_str();
  app->add_option("--clip", t.clip, "global gradient-norm clipping (<= 0: off)")->capture_default_str();
  app->add_option("--ema", t.ema, "EMA decay of the weights used for evaluation")->capture_default_str();
  app->add_option("--probes", t.probes, "ism-hutchinson: probes per sample")->capture_default_str();
  app->add_option("--probe-kind", t.probe_kind, "ism-hutchinson: rademacher | gaussian")->capture_default_str();
  app->add_option("--seed", t.seed, "seed (initialisation, batches, probes)")->capture_default_str();
  app->add_option("--threads", t.threads, "OpenMP threads (0: all); results do not depend on it");

}

void finish_training_flags(Options& opt) {
  // --delta alone asks for that Delta: the fixed schedule (the default, auto, chooses its own)
  auto fix = [](const CLI::App* cmd, score::TrainingConfig& cfg) {
    if (cmd->count("--delta") > 0 && cmd->count("--schedule") == 0) cfg.select_fixed_schedule();
  };
  fix(opt.train_cmd, opt.train);
  fix(opt.compare_cmd, opt.compare.train);
}

void setup(CLI::App& app, Options& opt) {
  app.require_subcommand(1);
  auto* tr = opt.train_cmd = app.add_subcommand("train", "train a score model on an sdesim ensemble");
  auto& t = opt.train;
  tr->add_option("--data", t.data, "ensemble file written by sdesim (with --resume: default the file the run trained on)");
  tr->add_option("--ensemble", t.ensemble, "ensemble name under /particles (default: the only one)");
  tr->add_option("-o,--output", t.output, "score model file to write")->required();
  add_training_flags(tr, t);
  tr->add_option("--resume", t.resume, "continue the run saved in this score model file (a checkpoint or a finished run) up to --steps, with its saved settings");
  tr->add_option("--checkpoint-every", t.checkpoint_every, "write the output file every N steps (a multiple of 50) so an interrupted run can --resume")->capture_default_str();
  tr->add_option("--stop-at", t.stop_at, "stop at this step (rounded up to a multiple of 50) and save a resumable state");
  tr->add_option("--time-limit", t.time_limit, "stop after this many seconds of training (at the next multiple of 50 steps) and save a resumable state");
  tr->add_flag("--force", t.force, "overwrite an existing output file");
  tr->add_flag("-q,--quiet", t.quiet, "no progress line");

  auto* sc = opt.score_cmd = app.add_subcommand("score", "evaluate a score model at given points (/points, /time -> /score)");
  sc->add_option("--model", opt.score.model, "score model file")->required();
  sc->add_option("--input", opt.score.input, "HDF5 file with /points (n x d, float64) and /time (n, float64)")->required();
  sc->add_option("-o,--output", opt.score.output, "HDF5 file to write with /score (n x d)")->required();
  sc->add_option("--threads", opt.score.threads, "OpenMP threads (0: all)");
  sc->add_flag("--force", opt.score.force, "overwrite an existing output file");

  auto* cm = opt.compare_cmd = app.add_subcommand("compare", "local-DSM vs ISM (vs DSM) study: same network, steps and seeds; errors against references and SDE marginals");
  auto& c = opt.compare;
  cm->add_option("--data", c.data, "ensemble file written by sdesim")->required();
  cm->add_option("--ensemble", c.ensemble, "ensemble name under /particles (default: the only one)");
  cm->add_option("-o,--output", c.output, "HDF5 report (a .csv and a .md summary are written beside it)")->required();
  cm->add_option("--objectives", c.objectives, "objectives to compare (default: local-dsm,ism,ism-hutchinson[,dsm])")->delimiter(',');
  cm->add_option("--seeds", c.seeds, "seeds, one fit per objective and seed")->delimiter(',')->capture_default_str();
  cm->add_option("--eval-times", c.eval_times, "evaluation times (snapped to snapshot times)")->delimiter(',');
  cm->add_option("--threshold", c.threshold, "time-to-accuracy threshold on the relative score error")->capture_default_str();
  cm->add_option("--eval-every", c.eval_every, "steps between accuracy checks")->capture_default_str();
  cm->add_option("--fp-cells", c.fp_cells, "Fokker-Planck cells per coordinate (default 1000 in 1D, 200 in 2D)")->delimiter(',');
  cm->add_option("--fp-dt", c.fp_dt, "Fokker-Planck time step (default 1e-3 in 1D, 5e-3 in 2D)");
  cm->add_option("--fp-advection", c.fp_advection,
                 "Fokker-Planck flux in noiseless directions (hypoelliptic models): upwind3 (second order) or upwind1 "
                 "(first order, diffusive)")
      ->capture_default_str();
  cm->add_flag("!--no-fp-check", c.fp_check,
               "skip the reference's own error (by default the reference is solved again on half the cells and the "
               "difference reported next to the score errors)");
  cm->add_option("--flow-samples", c.flow_samples, "samples pushed along the learned probability flow")->capture_default_str();
  cm->add_flag("--reverse-from-prior", c.reverse_from_prior, "start the reverse SDE from the model's stationary law (the prior)");
  cm->add_option("--reverse-steps", c.reverse_steps, "reverse-SDE steps for generation from p_T (0: skip)")->capture_default_str();
  add_training_flags(cm, c.train);
  cm->add_flag("--force", c.force, "overwrite existing report files");
  cm->add_flag("-q,--quiet", c.quiet, "no progress line or per-run lines");

  auto* ph = opt.physics_cmd = app.add_subcommand("physics", "probability current, entropy and entropy production of a learned score");
  auto& q = opt.physics;
  ph->add_option("--model", q.model, "score model file")->required();
  ph->add_option("--data", q.data, "ensemble file (default: the one the model was trained on)");
  ph->add_option("--ensemble", q.ensemble, "ensemble name under /particles (default: the only one)");
  ph->add_option("--times", q.times, "times (snapped to snapshot times; default: the snapshots in the trained range)")->delimiter(',');
  ph->add_option("--flow-samples", q.flow_samples, "held-out samples carried along the probability flow")->capture_default_str();
  ph->add_option("--density", q.density, "grid density for the current j = p v: ensemble (histogram) | score (from the learned score)")->capture_default_str();
  ph->add_option("--lo", q.lo, "grid lower corner per coordinate (default: data range)")->delimiter(',');
  ph->add_option("--hi", q.hi, "grid upper corner per coordinate (default: data range)")->delimiter(',');
  ph->add_option("--n", q.n, "grid points per coordinate (default 201 in 1D, 81 in 2D)")->delimiter(',');
  ph->add_option("--fd-step", q.fd_step, "finite-difference step of the score Jacobian for div v")->capture_default_str();
  ph->add_option("-o,--output", q.output, "HDF5 file to write")->required();
  ph->add_option("--threads", q.threads, "OpenMP threads (0: all)");
  ph->add_flag("--force", q.force, "overwrite an existing output file");
  ph->add_flag("-q,--quiet", q.quiet, "no summary table");

  auto* gr = opt.grid_cmd = app.add_subcommand("grid", "the learned score, D s and the probability-flow velocity on a grid");
  gr->add_option("--model", opt.grid.model, "score model file")->required();
  gr->add_option("--times", opt.grid.times, "times, e.g. 0.5,1,2")->delimiter(',')->required();
  gr->add_option("--lo", opt.grid.lo, "lower corner per coordinate (default -3)")->delimiter(',');
  gr->add_option("--hi", opt.grid.hi, "upper corner per coordinate (default 3)")->delimiter(',');
  gr->add_option("--n", opt.grid.n, "points per coordinate (default 101)")->delimiter(',');
  gr->add_option("-o,--output", opt.grid.output, "HDF5 file to write")->required();
  gr->add_option("--threads", opt.grid.threads, "OpenMP threads (0: all)");
  gr->add_flag("--force", opt.grid.force, "overwrite an existing output file");
}

int main_program(int argc, char** argv) {
  CLI::App app{"scorefit: learn, evaluate and export time-dependent scores of SDE ensembles"};
  Options opt;
  setup(app, opt);
  try {
    app.parse(argc, argv);
    finish_training_flags(opt);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : cli::usage_error;
  }
  const std::string cmd = cli::command_line(argc, argv);
  opt.train.command_line = opt.score.command_line = opt.grid.command_line = opt.compare.command_line = opt.physics.command_line = cmd;
  return cli::guarded("scorefit", [&] { return run(opt); });
}

int run(const Options& opt) {
  io::install_signal_cleanup();
  for (int n : {opt.train.threads, opt.compare.train.threads, opt.score.threads, opt.grid.threads, opt.physics.threads})
    check_threads("--threads", n);  // before any OpenMP region (absurd counts crash the runtime)
  if (opt.train_cmd && opt.train_cmd->parsed()) {
    TrainOptions t = opt.train;
    for (const CLI::Option* o : opt.train_cmd->get_options())
      if (o->count() > 0 && !o->get_lnames().empty()) t.given_flags.push_back("--" + o->get_lnames().front());
    t.steps_given = opt.train_cmd->count("--steps") > 0;
    return run_train(t);
  }
  if (opt.score_cmd && opt.score_cmd->parsed()) return run_score(opt.score);
  if (opt.grid_cmd && opt.grid_cmd->parsed()) return run_grid(opt.grid);
  if (opt.compare_cmd && opt.compare_cmd->parsed()) return run_compare(opt.compare);
  if (opt.physics_cmd && opt.physics_cmd->parsed()) return run_physics(opt.physics);
  throw ConfigError("no subcommand: valid subcommands are train, score, grid, compare, physics");
}

namespace {

/// Flags that may be given with --resume; every other training setting comes from the file.
bool allowed_on_resume(const std::string& flag) {
  for (const char* f : {"--data", "--ensemble", "--output", "--steps", "--threads", "--resume", "--checkpoint-every", "--stop-at",
                        "--time-limit", "--force", "--quiet"})
    if (flag == f) return true;
  return false;
}

/// The options of a resumed run: the saved configuration, with what may change on --resume.
TrainOptions resumed_options(const score::ScoreModel& saved, const std::string& path, const TrainOptions& given) {
  for (const auto& flag : given.given_flags)
    if (!allowed_on_resume(flag))
      throw ConfigError(flag + " cannot be given with --resume: the run continues with the settings saved in " + path +
                        " (start a new run to change them; with --resume only --steps, --data, --threads, --checkpoint-every, --stop-at, --time-limit, -o, --force, -q apply)");
  saved.fit_state();  // IoError when there is no optimiser state
  TrainOptions o = given;
  static_cast<score::TrainingConfig&>(o) = saved.config();
  o.threads = given.threads;
  const long planned = o.steps;
  if (given.steps_given) {
    o.steps = given.steps;
  } else if (saved.record().steps_done >= planned) {
    throw ConfigError("the run in " + path + " finished its " + std::to_string(planned) + " steps: give --steps larger than " +
                      std::to_string(saved.record().steps_done) + " to continue it");
  }
  if (o.data.empty()) o.data = saved.record().data_file;
  return o;
}

}  // namespace

int run_train(const TrainOptions& given) {
  if (given.threads > 0) omp_set_num_threads(given.threads);  // every OpenMP region, not only the network
  // Everything that can be checked before reading data is checked first, and the output target
  // is checked before hours of training.
  std::optional<score::ScoreModel> saved;
  TrainOptions o = given;
  bool overwrite = o.force;
  if (!o.resume.empty()) {
    saved.emplace(score::ScoreModel::load(o.resume));
    o = resumed_options(*saved, o.resume, given);
    // continuing a run into its own file replaces it (atomically, only when a new state is ready)
    std::error_code ec;
    if (std::filesystem::equivalent(o.resume, o.output, ec)) overwrite = true;
  }
  if (o.data.empty()) throw ConfigError("train needs --data (the ensemble file written by sdesim), or --resume");
  if (o.checkpoint_every < 0) throw ConfigError("--checkpoint-every " + std::to_string(o.checkpoint_every) + " is invalid: it must be >= 0");
  if (o.stop_at < 0) throw ConfigError("--stop-at " + std::to_string(o.stop_at) + " is invalid: it must be >= 0 (0: off)");
  if (!(o.time_limit >= 0)) throw ConfigError("--time-limit " + detail::fmt_double(o.time_limit) + " is invalid: it must be >= 0 seconds (0: off)");
  io::check_writable_target(o.output, overwrite);
  o.fit_options().validate();

  io::check_distinct_files(o.data, o.output, "--data");
  const score::TrainingData data = score::load_training_data(o.data, o.ensemble);
  // A run over several processes: all have their data (or all stop here), process 0 writes.
  nn::ProcessGroup* const group = o.group;  // train_score checks that every process has the same data and settings
  const bool writer = !group || group->rank() == 0;
  cli::Progress bar("train " + o.objective, static_cast<double>(o.steps), o.quiet, saved ? double(saved->record().steps_done) : 0.0);
  score::TrainControl control;
  control.command_line = o.command_line;
  control.resume = saved ? &*saved : nullptr;
  control.checkpoint_every = o.checkpoint_every;
  control.stop_at = o.stop_at;
  control.time_limit = o.time_limit;
  control.group = group;
  if (const char* fault = group ? std::getenv("SDESCORE_TEST_FAIL_AT") : nullptr) {
    // Test hook of the MPI tests (tests/mpi/test_mpi_scorefit.py): "R:K" makes process R fail
    // after step K, between two agreements, as a rank-local error would; "refresh:Q" makes the
    // computation of pool refresh Q fail on the process that computes it (perhaps ahead of
    // step Q), as samples that diverge there would.
    int fail_rank = -1;
    long fail_step = -1;
    unsigned long long fail_refresh = 0;
    if (std::sscanf(fault, "refresh:%llu", &fail_refresh) == 1) {
      control.on_refresh = [fail_refresh](std::uint64_t q) {
        if (q == fail_refresh) throw NumericalError("failure injected by SDESCORE_TEST_FAIL_AT in pool refresh " + std::to_string(q));
      };
    } else if (std::sscanf(fault, "%d:%ld", &fail_rank, &fail_step) == 2) {
      control.on_step = [group, fail_rank, fail_step](long step, const nn::Trainer&) {
        if (group->rank() == fail_rank && step == fail_step)
          throw NumericalError("failure injected by SDESCORE_TEST_FAIL_AT after step " + std::to_string(step));
      };
    } else {
      throw ConfigError(std::string("SDESCORE_TEST_FAIL_AT = '") + fault + "' is invalid: it must be RANK:STEP or refresh:Q");
    }
  }
  control.progress = [&](const score::FitProgress& p) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "loss %.4g  ESS %.1f", p.loss, p.ess);
    bar.update(static_cast<double>(p.step), buf);
  };
  control.on_checkpoint = [&](const score::ScoreModel& m) {
    if (writer) m.save(o.output, overwrite);
    overwrite = true;  // from now on the file is this run's own
  };
  const score::ScoreModel fit = score::train_score(o, data, control);
  bar.finish();
  if (group) group->sync();  // the file appears only when every process has finished
  if (writer) fit.save(o.output, overwrite);
  if (!o.quiet) {
    const auto& out = fit.record();
    const long first = saved ? static_cast<long>(saved->record().steps_done) : 0;
    const double secs = out.seconds - (saved ? saved->record().seconds : 0.0);
    const long last = static_cast<long>(out.steps_done);
    std::printf("scorefit: wrote %s (%s, steps %ld-%ld in %.1f s, %.0f steps/s, final loss %.4g, held-out ISM %.4g)\n",
                o.output.c_str(), o.objective.c_str(), first + 1, last, secs, (last - first) / std::max(secs, 1e-9),
                out.curve.empty() ? 0.0 : out.curve.back().loss, out.heldout_ism);
    if (out.schedule.kind == "auto" && !out.schedule.delta.empty()) {
      const double base = out.schedule.base_delta > 0 ? out.schedule.base_delta : out.schedule.delta.back();
      std::printf("scorefit: local step Delta = %.4g (schedule auto, relaxation time %.4g: %s)", base, out.schedule.relaxation,
                  auto_schedule_rule(o.auto_growth).c_str());
      if (out.schedule.delta.back() > base * (1 + 1e-12))
        std::printf(", growing to %.4g at t = %.4g", out.schedule.delta.back(), out.schedule.t.back());
      std::printf("; --delta D fixes it\n");
    }
    if (!out.ism_coordinates.empty())
      std::printf("scorefit: the model has no noise in coordinate(s) %s: learnt there by exact ISM (docs/score-learning.md; --objective local-dsm-plain keeps local-DSM there)\n",
                  out.ism_coordinates.c_str());
    if (last < o.steps)
      std::printf("scorefit: stopped at step %ld of %ld as asked; continue with: scorefit train --resume %s -o %s\n", last, o.steps,
                  o.output.c_str(), o.output.c_str());
  }
  return cli::ok;
}

int run_score(const ScoreOptions& o) {
  io::check_writable_target(o.output, o.force);
  io::check_distinct_files(o.model, o.output, "--model");
  io::check_distinct_files(o.input, o.output, "--input");
  const auto fit = score::ScoreModel::load(o.model);
  io::Group in = io::open_file(o.input);
  if (!in.has_dataset("points") || !in.has_dataset("time"))
    throw IoError("input " + o.input + " must hold datasets /points (n x d, float64) and /time (n, float64)");
  const auto pts = in.read_array<double>("points");
  const auto tim = in.read_array<double>("time");
  const std::size_t d = static_cast<std::size_t>(fit.dim());
  if (pts.shape.size() != 2 || pts.shape[1] != d)
    throw IoError("input " + o.input + ": /points has shape " +
                  (pts.shape.size() == 2 ? std::to_string(pts.shape[0]) + " x " + std::to_string(pts.shape[1]) : std::string("of rank ") + std::to_string(pts.shape.size())) +
                  " but the model's dimension is " + std::to_string(d) + ": it must be n x " + std::to_string(d));
  const std::size_t n = pts.shape[0];
  if (tim.shape.size() != 1 || tim.shape[0] != n)
    throw IoError("input " + o.input + ": /time must have shape (" + std::to_string(n) + ",), one time per point");
  for (std::size_t i = 0; i < n; ++i)
    score::require_trained_time("score: input /time[" + std::to_string(i) + "]", tim.data[i], fit.t_min(), fit.t_max());
  for (std::size_t i = 0; i < pts.data.size(); ++i)
    if (!std::isfinite(pts.data[i]))
      throw ConfigError("score: input /points[" + std::to_string(i / d) + "][" + std::to_string(i % d) + "] = " +
                        detail::fmt_double(pts.data[i]) + " is not finite");
  const Eigen::MatrixXd P = Eigen::Map<const Eigen::Matrix<double, -1, -1, Eigen::RowMajor>>(pts.data.data(), n, d);
  const Eigen::VectorXd T = Eigen::Map<const Eigen::VectorXd>(tim.data.data(), n);
  const Eigen::Matrix<double, -1, -1, Eigen::RowMajor> Sr = fit.score(P, T, o.threads);
  io::AtomicFile file(o.output, o.force);
  io::Group root = file.root();
  root.write_array("score", std::span<const double>(Sr.data(), Sr.size()), {n, d}, {"point", "dim"});
  root.set_attr("score_model", o.model);
  root.set_attr("command_line", o.command_line);
  root.set_attr("model", fit.model_name());
  file.commit();
  return cli::ok;
}

int run_grid(const GridOptions& o) {
  io::check_writable_target(o.output, o.force);
  io::check_distinct_files(o.model, o.output, "--model");
  const auto fit = score::ScoreModel::load(o.model);
  const int d = fit.dim();
  eval::check_grid_options("grid", o.lo, o.hi, o.n, d, static_cast<long long>(o.times.size()));
  for (double t : o.times) score::require_trained_time("grid: --times", t, fit.t_min(), fit.t_max());
  if (d > 2)
    throw ConfigError("grid: model " + fit.model_name() + " has dimension " + std::to_string(d) +
                      "; grids are for 1D and 2D models (use `scorefit score` on your own points)");
  auto per_dim = [&](const std::vector<double>& v, double def, const char* what) {
    if (v.empty()) return std::vector<double>(d, def);
    if (static_cast<int>(v.size()) == 1) return std::vector<double>(d, v[0]);
    if (static_cast<int>(v.size()) != d)
      throw ConfigError(std::string("grid: --") + what + " has " + std::to_string(v.size()) + " values: give 1 or " + std::to_string(d));
    return v;
  };
  const auto lo = per_dim(o.lo, -3.0, "lo"), hi = per_dim(o.hi, 3.0, "hi");
  std::vector<int> n = o.n.empty() ? std::vector<int>(d, 101) : o.n;
  if (static_cast<int>(n.size()) == 1) n.assign(d, n[0]);
  if (static_cast<int>(n.size()) != d)
    throw ConfigError("grid: --n has " + std::to_string(n.size()) + " values: give 1 or " + std::to_string(d));
  for (int i = 0; i < d; ++i) {
    if (!(hi[i] > lo[i])) throw ConfigError("grid: --hi " + detail::fmt_double(hi[i]) + " must exceed --lo " + detail::fmt_double(lo[i]));
    if (n[i] < 2) throw ConfigError("grid: --n " + std::to_string(n[i]) + " is invalid: it must be >= 2");
  }
  for (double t : o.times)
    if (!std::isfinite(t)) throw ConfigError("grid: time " + detail::fmt_double(t) + " is not finite");
  const int nx = n[0], ny = d == 2 ? n[1] : 1, nt = static_cast<int>(o.times.size());
  const long npts = static_cast<long>(nx) * ny;
  Eigen::MatrixXd P(npts * nt, d);
  Eigen::VectorXd T(npts * nt);
  std::vector<double> xs(nx), ys(ny);
  for (int i = 0; i < nx; ++i) xs[i] = lo[0] + (hi[0] - lo[0]) * i / (nx - 1);
  if (d == 2)
    for (int j = 0; j < ny; ++j) ys[j] = lo[1] + (hi[1] - lo[1]) * j / (ny - 1);
  for (int k = 0, r = 0; k < nt; ++k)
    for (int i = 0; i < nx; ++i)
      for (int j = 0; j < ny; ++j, ++r) {
        P(r, 0) = xs[i];
        if (d == 2) P(r, 1) = ys[j];
        T(r) = o.times[k];
      }
  // the library's fields: s, D s and v = f - div D - D s with the model's own diffusion (any noise kind)
  const Eigen::MatrixXd S = fit.score(P, T, o.threads), DS = fit.diffusion_score(P, T, o.threads), V = fit.velocity(P, T, o.threads);
  io::AtomicFile file(o.output, o.force);
  io::Group root = file.root();
  root.write_array("time", std::span<const double>(o.times), {std::size_t(nt)}, {"time"});
  root.write_array("x", std::span<const double>(xs), {std::size_t(nx)}, {"x"});
  std::vector<std::size_t> shape{std::size_t(nt), std::size_t(nx)};
  std::vector<std::string> dims{"time", "x"};
  if (d == 2) {
    root.write_array("y", std::span<const double>(ys), {std::size_t(ny)}, {"y"});
    shape.push_back(ny);
    dims.push_back("y");
  }
  shape.push_back(d);
  dims.push_back("component");
  auto write = [&](const char* name, const Eigen::MatrixXd& M) {
    const Eigen::Matrix<double, -1, -1, Eigen::RowMajor> R = M;
    root.write_array(name, std::span<const double>(R.data(), R.size()), shape, dims);
  };
  write("score", S);
  write("diffusion_score", DS);
  write("flow_velocity", V);
  root.set_attr("score_model", o.model);
  root.set_attr("model", fit.model_name());
  root.set_attr("command_line", o.command_line);
  root.set_attr("description", std::string("score s(y,t) = grad log p_t; diffusion_score = D s with D = G G^T / 2; "
                                           "flow_velocity = f - div D - D s (probability-flow ODE)"));
  file.commit();
  return cli::ok;
}

}  // namespace sdescore::scorefit
