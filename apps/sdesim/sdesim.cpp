#include "sdesim.hpp"

#include <omp.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include "common/cli.hpp"
#include "sdescore/app/registry.hpp"
#include "sdescore/ensemble/ensemble.hpp"
#include "sdescore/io/io.hpp"
#include "sdescore/core/limits.hpp"

namespace sdescore::sdesim {
namespace {

namespace fs = std::filesystem;

/// Shortest decimal text that reads back as exactly v (for command lines and messages).
std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  for (int prec = 6; prec <= 17; ++prec) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  return sdescore::detail::fmt_double(v);
}

/// 12 significant digits (for suggested values in messages).
std::string short_num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

/// Parses an integer / double covering the whole text; nullopt otherwise.
std::optional<long long> to_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}
std::optional<double> to_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

struct PathRange {
  std::uint64_t first = 0;
  std::int64_t count = 0;
};

PathRange resolve_paths(const Options& o) {
  if (o.path_range.empty()) {
    if (o.paths < 1)
      throw ConfigError("--paths = " + std::to_string(o.paths) + " is invalid: it must be >= 1");
    return {0, o.paths};
  }
  const auto parts = split(o.path_range, ':');
  const auto first = parts.size() == 2 ? to_int(parts[0]) : std::nullopt;
  const auto count = parts.size() == 2 ? to_int(parts[1]) : std::nullopt;
  if (!first || !count || *first < 0 || *count < 1)
    throw ConfigError("--path-range '" + o.path_range +
                      "' is invalid: it must be FIRST:COUNT with FIRST >= 0 and COUNT >= 1 (e.g. 1000:500 for paths "
                      "1000..1499)");
  return {static_cast<std::uint64_t>(*first), static_cast<std::int64_t>(*count)};
}

struct Grid {
  std::int64_t n_steps = 0;
  std::int64_t save_every = 0;
};

Grid resolve_grid(const Options& o) {
  require_positive("--dt", o.dt);
  require_positive("--t-end", o.t_end);
  const double ratio = o.t_end / o.dt;
  if (!(ratio < 4e18))
    throw ConfigError("--t-end / --dt = " + num(ratio) + " steps is too many: at most 4e18 steps");
  const auto n = static_cast<std::int64_t>(std::llround(ratio));
  if (n < 1 || std::abs(static_cast<double>(n) * o.dt - o.t_end) > 1e-9 * o.t_end) {
    const auto lo = static_cast<std::int64_t>(std::floor(ratio)), hi = lo + 1;
    throw ConfigError("--t-end = " + num(o.t_end) + " is not a whole number of steps of --dt = " + num(o.dt) +
                      " (t_end / dt = " + num(ratio) + "); valid are multiples of dt, e.g. --t-end " +
                      (lo >= 1 ? short_num(static_cast<double>(lo) * o.dt) + " or " : std::string()) +
                      short_num(static_cast<double>(hi) * o.dt));
  }
  Grid g{n, o.save_every};
  if (o.save_every < 0)
    throw ConfigError("--save-every = " + std::to_string(o.save_every) +
                      " is invalid: it must be >= 1 (or 0 for the default, n_steps / 10)");
  if (o.save_every == 0) g.save_every = n % 10 == 0 ? n / 10 : n;
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
    throw ConfigError("--save-every = " + std::to_string(o.save_every) + " does not divide the " + std::to_string(n) +
                      " steps (t_end / dt); valid are the divisors of " + std::to_string(n) + ": " + divisors);
  }
  return g;
}

/// --hist COORD:LO:HI:BINS specs as engine histograms (equal bin counts: the file stores one
/// bin_edges matrix).
std::vector<ensemble::HistogramSpec> resolve_hists(const Options& o, int dim) {
  std::vector<ensemble::HistogramSpec> out;
  if (!o.hist.empty() && !o.stats_only)
    throw ConfigError("--hist '" + o.hist.front() + "' needs --stats-only (histograms are stored with the statistics)");
  for (const auto& h : o.hist) {
    const auto parts = split(h, ':');
    const auto coord = parts.size() == 4 ? to_int(parts[0]) : std::nullopt;
    const auto lo = parts.size() == 4 ? to_double(parts[1]) : std::nullopt;
    const auto hi = parts.size() == 4 ? to_double(parts[2]) : std::nullopt;
    const auto bins = parts.size() == 4 ? to_int(parts[3]) : std::nullopt;
    if (!coord || !lo || !hi || !bins)
      throw ConfigError("--hist '" + h + "' is not of the form COORD:LO:HI:BINS (e.g. 0:-2:2:80)");
    if (*coord < 0 || *coord >= dim)
      throw ConfigError("--hist '" + h + "': coordinate " + std::to_string(*coord) + " is out of range; valid are 0.." +
                        std::to_string(dim - 1) + " for model " + o.model);
    if (!std::isfinite(*lo) || !std::isfinite(*hi) || !(*lo < *hi))
      throw ConfigError("--hist '" + h + "': the range [" + num(*lo) + ", " + num(*hi) +
                        "] is invalid: LO and HI must be finite with LO < HI");
    if (*bins < 1 || *bins > 1000000)
      throw ConfigError("--hist '" + h + "': BINS = " + std::to_string(*bins) + " is invalid: it must be 1..1000000");
    if (!out.empty() && static_cast<long long>(out.front().edges.size()) != *bins + 1)
      throw ConfigError("--hist '" + h + "' has " + std::to_string(*bins) + " bins but '" + o.hist.front() + "' has " +
                        std::to_string(out.front().edges.size() - 1) + ": all histograms must have the same BINS");
    ensemble::HistogramSpec spec;
    spec.coord = static_cast<int>(*coord);
    for (long long i = 0; i <= *bins; ++i)
      spec.edges.push_back(i == *bins ? *hi : *lo + (*hi - *lo) * static_cast<double>(i) / static_cast<double>(*bins));
    out.push_back(std::move(spec));
  }
  return out;
}

// Mean and covariance of EnsembleStats (works whether they are members or accessor functions).
template <class S>
Eigen::VectorXd mean_of(const S& st) {
  if constexpr (requires { st.mean(); })
    return st.mean();
  else
    return st.mean;
}
template <class S>
Eigen::MatrixXd cov_of(const S& st) {
  if constexpr (requires { st.cov(); })
    return st.cov();
  else
    return st.cov;
}

io::CountMatrix counts_of(const ensemble::EnsembleStats& st) {
  if (st.histograms.empty()) return {};
  io::CountMatrix c(static_cast<Eigen::Index>(st.histograms.size()),
                    static_cast<Eigen::Index>(st.histograms.front().counts.size()));
  for (std::size_t h = 0; h < st.histograms.size(); ++h)
    for (std::size_t b = 0; b < st.histograms[h].counts.size(); ++b)
      c(static_cast<Eigen::Index>(h), static_cast<Eigen::Index>(b)) = st.histograms[h].counts[b];
  return c;
}

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

/// The states of the last snapshot of an ensemble file (--init file:PATH), for paths
/// [first, first + count) by global index.
ensemble::StateMatrix load_init_file(const std::string& path, int dim, std::string_view model, PathRange pr) {
  const auto names = io::ensemble_names(path);
  std::string name;
  if (names.size() == 1)
    name = names.front();
  else if (std::find(names.begin(), names.end(), "ensemble") != names.end())
    name = "ensemble";  // e.g. an sdesim checkpoint: the state, not the saved trajectory
  else
    throw IoError("--init file:" + path + ": the file holds no single ensemble (found " +
                  std::to_string(names.size()) + ": " + app::detail::join(names) + ")");
  io::EnsembleReader r(path, name);
  if (r.dim() != dim)
    throw ConfigError("--init file:" + path + ": the ensemble has dimension " + std::to_string(r.dim()) +
                      " but model " + std::string(model) + " has state dimension " + std::to_string(dim));
  if (r.n_snapshots() < 1) throw IoError("--init file:" + path + ": the ensemble has no snapshots");
  const Eigen::MatrixXd rows = r.snapshot(-1);
  for (Eigen::Index p = 0; p < rows.rows(); ++p)
    if (!rows.row(p).allFinite())
      throw ConfigError("--init file:" + path + ": path " + std::to_string(p) + " of the last snapshot is not finite; the initial states must be finite numbers");
  if (rows.rows() == 1) return ensemble::states_from_rows(rows, dim, 0, pr.count);
  const auto file_first = static_cast<std::uint64_t>(r.info().path_first);
  if (pr.first < file_first || pr.first + static_cast<std::uint64_t>(pr.count) > file_first + rows.rows())
    throw ConfigError("--init file:" + path + " holds paths [" + std::to_string(file_first) + ", " +
                      std::to_string(file_first + static_cast<std::uint64_t>(rows.rows())) + ") but paths [" +
                      std::to_string(pr.first) + ", " + std::to_string(pr.first + static_cast<std::uint64_t>(pr.count)) +
                      ") were requested; give --paths/--path-range within that range");
  return ensemble::states_from_rows(rows, dim, pr.first - file_first, pr.count);
}

std::string resolved_command_line(const Options& o, const std::string& model, const std::string& stepper,
                                  const std::map<std::string, double>& params, PathRange pr, const Grid& g) {
  std::ostringstream s;
  s << "sdesim --model " << model;
  for (const auto& [k, v] : params) s << " --param " << k << '=' << num(v);
  s << " --stepper " << stepper << " --init " << o.init << " --path-range " << pr.first << ':' << pr.count
    << " --dt " << num(o.dt) << " --t-end " << num(o.t_end) << " --save-every " << g.save_every << " --seed "
    << o.seed;
  if (o.stats_only) s << " --stats-only";
  for (const auto& h : o.hist) s << " --hist " << h;
  if (o.compress) s << " --compress " << o.compress;
  s << " -o " << o.output;
  return s.str();
}

/// A snapshot kept in memory between two checkpoints (the checkpoint carries all snapshots).
struct Saved {
  double t;
  std::int64_t step;
  std::vector<double> x;  ///< dim-major state (paths only)
  ensemble::EnsembleStats stats;  ///< statistics (stats-only)
};

/// The simulation of one model with one stepper.
template <class St, class M>
int simulate_model(const Options& o, const St& stepper, const M& model) {
  constexpr int D = M::state_dim;
  std::ostream& out = o.out ? *o.out : std::cout;
  const auto wall0 = std::chrono::steady_clock::now();

  // ---- resolve and validate everything before touching any file ----------------------
  const PathRange pr = resolve_paths(o);
  const Grid grid = resolve_grid(o);
  check_threads("--threads", o.threads);  // 0 or 1..max_threads(), before any OpenMP region
  require_memory("--paths " + std::to_string(pr.count) + " of dimension " + std::to_string(D), 16.0 * D * static_cast<double>(pr.count),
                 "use fewer --paths, or split the ensemble into runs with --path-range");
  if (o.compress < 0 || o.compress > 9)
    throw ConfigError("--compress = " + std::to_string(o.compress) + " is invalid: valid levels are 0 (off) .. 9");
  if (o.checkpoint_every < 0)
    throw ConfigError("--checkpoint-every = " + std::to_string(o.checkpoint_every) + " is invalid: it must be >= 1 step (or 0: none)");
  if (o.output.empty()) throw ConfigError("no output file: give -o FILE (e.g. -o paths.h5)");
  ensemble::StatsOptions stats_opt;
  stats_opt.enabled = o.stats_only;
  stats_opt.histograms = resolve_hists(o, D);
  stats_opt.validate(D);
  const auto spec = ensemble::parse_init_spec(o.init);
  using K = ensemble::InitSpec::Kind;
  if (spec.kind == K::normal || spec.kind == K::uniform || (spec.kind == K::point && !spec.values.empty()))
    (void)ensemble::resolve_init_values(spec, D, M::name);  // counts and ranges, before any work
  if ((spec.kind == K::two_moons || spec.kind == K::checkerboard) && D != 2)
    throw ConfigError("--init " + o.init + " is a 2D data set but model " + std::string(M::name) + " has dimension " +
                      std::to_string(D));
  if (spec.kind == K::file) io::check_distinct_files(spec.path, o.output, "--init file:");
  if (!o.resume.empty()) io::check_distinct_files(o.resume, o.output, "--resume");
  if (o.threads > 0) omp_set_num_threads(o.threads);

  io::RunInfo info;
  modelfile::record_model(model, info);  // the name; for a model file also its text and hash
  for (const auto& pv : app::param_values(model)) info.model_parameters[pv.name] = pv.value;
  info.stepper = std::string(St::name);
  info.dt = o.dt;
  info.seed = o.seed;
  info.initial_law = o.init;
  info.save_every = grid.save_every;
  info.path_first = static_cast<std::int64_t>(pr.first);
  info.path_count = pr.count;
  const std::string resolved = resolved_command_line(o, info.model, info.stepper, info.model_parameters, pr, grid);
  info.command_line = o.command_line.empty() ? resolved : o.command_line;
  info.extra["resolved_command_line"] = resolved;
  info.extra["t0"] = 0.0;
  info.extra["t_end"] = o.t_end;
  info.extra["n_steps"] = grid.n_steps;
  info.extra["stats_only"] = std::int64_t{o.stats_only};
  if (!o.hist.empty()) info.extra["histograms"] = o.hist;

  // ---- initial state: checkpoint, file or initial law --------------------------------
  ensemble::StateMatrix state;
  std::int64_t step0 = 0;
  if (!o.resume.empty()) {
    const io::Checkpoint ck = io::read_checkpoint(o.resume);
    io::require_same_run(ck.run, info);
    auto mismatch = [&](const std::string& what, const std::string& then, const std::string& now) {
      throw ConfigError("checkpoint '" + o.resume + "' does not match this run: " + what + " is " + then +
                        " in the checkpoint but " + now +
                        " now; repeat the options of the original run (see its /parameters/command_line)");
    };
    if (ck.run.seed != info.seed) mismatch("--seed", std::to_string(ck.run.seed), std::to_string(info.seed));
    if (ck.run.path_first != info.path_first || ck.run.path_count != info.path_count)
      mismatch("the path range", std::to_string(ck.run.path_first) + ":" + std::to_string(ck.run.path_count),
               std::to_string(info.path_first) + ":" + std::to_string(info.path_count));
    if (ck.run.save_every != info.save_every)
      mismatch("--save-every", std::to_string(ck.run.save_every), std::to_string(info.save_every));
    if (ck.run.initial_law != info.initial_law) mismatch("--init", "'" + ck.run.initial_law + "'", "'" + o.init + "'");
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
        mismatch(std::string(k == std::string("stats_only") ? "--stats-only" : "--hist"), extra_str(ck.run, k),
                 extra_str(info, k));
    if (ck.positions.cols() != D || ck.positions.rows() != pr.count)
      throw IoError("checkpoint '" + o.resume + "' holds " + std::to_string(ck.positions.rows()) + " x " +
                    std::to_string(ck.positions.cols()) + " states; expected " + std::to_string(pr.count) + " x " +
                    std::to_string(D));
    if (ck.step > grid.n_steps)
      throw ConfigError("--t-end = " + num(o.t_end) + " is before the checkpoint's time " + num(ck.time) + " (step " +
                        std::to_string(ck.step) + "); valid: --t-end >= " + num(ck.time));
    const io::Group root = io::open_file(o.resume);
    if (!root.has_group(o.stats_only ? "observables/ensemble" : "particles/trajectory"))
      throw IoError("checkpoint '" + o.resume + "' carries no saved " +
                    std::string(o.stats_only ? "statistics (observables/ensemble)" : "snapshots (particles/trajectory)") +
                    ": it was not written by sdesim --checkpoint-every");
    state = ensemble::StateMatrix::from_rows(ck.positions);
    step0 = ck.step;
    info.extra["resumed_from"] = o.resume;
    info.extra["resumed_at_step"] = ck.step;
  } else if (spec.kind == ensemble::InitSpec::Kind::file) {
    state = load_init_file(spec.path, D, M::name, pr);
  } else {
    state = ensemble::sample_initial(model, spec, o.seed, pr.first, pr.count);
  }

  // ---- files: checks first, then the temporary output --------------------------------
  const std::string ckpt = checkpoint_path_for(o.output);
  const bool ckpt_is_resume = same_file(ckpt, o.resume);
  if (o.checkpoint_every > 0) io::check_writable_target(ckpt, o.force || ckpt_is_resume);
  io::OutputFile file(o.output, info, o.force);
  std::optional<io::EnsembleWriter> ew;
  std::optional<io::ObservablesWriter> ow;
  auto make_observables = [&](io::OutputFile& f) {
    io::ObservablesOptions oo;
    oo.n_paths = pr.count;
    oo.compression = o.compress;
    if (!stats_opt.histograms.empty()) {
      io::HistogramSpec hs;
      hs.bin_edges.resize(static_cast<Eigen::Index>(stats_opt.histograms.size()),
                          static_cast<Eigen::Index>(stats_opt.histograms.front().edges.size()));
      for (std::size_t h = 0; h < stats_opt.histograms.size(); ++h) {
        hs.coordinates.push_back(stats_opt.histograms[h].coord);
        for (std::size_t e = 0; e < stats_opt.histograms[h].edges.size(); ++e)
          hs.bin_edges(static_cast<Eigen::Index>(h), static_cast<Eigen::Index>(e)) = stats_opt.histograms[h].edges[e];
      }
      oo.histogram = hs;
    }
    return io::ObservablesWriter(f, D, oo);
  };
  io::EnsembleOptions eopt;
  eopt.compression = o.compress;
  if (o.stats_only)
    ow.emplace(make_observables(file));
  else
    ew.emplace(file, pr.count, D, eopt);

  // Snapshots saved by the run we resume: re-emitted first, so the output holds them all.
  auto copy_saved = [&](const std::string& from, auto&& append_paths, auto&& append_stats) {
    if (!o.stats_only) {
      io::EnsembleReader r(from, "trajectory");
      const auto t = r.times();
      const auto k = r.steps();
      for (std::int64_t s = 0; s < r.n_snapshots(); ++s) append_paths(r.snapshot(s), t[s], k[s]);
    } else {
      io::ObservablesReader r(from, "ensemble");
      const auto t = r.times();
      const auto k = r.steps();
      for (std::int64_t s = 0; s < r.n_snapshots(); ++s)
        append_stats(t[s], k[s], r.mean(s), r.covariance(s), r.has_histogram() ? r.histogram(s) : io::CountMatrix());
    }
  };
  std::int64_t snapshots_written = 0;
  if (!o.resume.empty()) {
    copy_saved(
        o.resume, [&](const Eigen::MatrixXd& x, double t, std::int64_t k) { ew->append(x, t, k); },
        [&](double t, std::int64_t k, const Eigen::VectorXd& m, const Eigen::MatrixXd& c, const io::CountMatrix& h) {
          ow->append(t, k, m, c, h);
        });
    snapshots_written = o.stats_only ? ow->snapshots() : ew->snapshots();
  }

  // ---- checkpoints -------------------------------------------------------------------
  std::vector<Saved> pending;  // snapshots since the last checkpoint
  std::string saved_source = o.resume;  // file holding the snapshots up to the last checkpoint
  bool wrote_checkpoint = false;
  auto write_checkpoint = [&](std::int64_t k, double t) {
    io::RunInfo ci = info;
    ci.extra["checkpoint_for"] = o.output;
    io::OutputFile cf(ckpt, ci, /*overwrite=*/true);  // the target was checked at start
    io::EnsembleOptions so;
    so.name = "ensemble";
    io::EnsembleWriter sw(cf, pr.count, D, so);
    sw.append_dim_major(state.data().data(), t, k, pr.count);
    if (!o.stats_only) {
      io::EnsembleOptions to = eopt;
      to.name = "trajectory";
      io::EnsembleWriter tw(cf, pr.count, D, to);
      if (!saved_source.empty())
        copy_saved(
            saved_source, [&](const Eigen::MatrixXd& x, double tt, std::int64_t kk) { tw.append(x, tt, kk); },
            [](double, std::int64_t, const Eigen::VectorXd&, const Eigen::MatrixXd&, const io::CountMatrix&) {});
      for (const auto& s : pending) tw.append_dim_major(s.x.data(), s.t, s.step, pr.count);
    } else {
      io::ObservablesWriter tw = make_observables(cf);
      if (!saved_source.empty())
        copy_saved(
            saved_source, [](const Eigen::MatrixXd&, double, std::int64_t) {},
            [&](double tt, std::int64_t kk, const Eigen::VectorXd& m, const Eigen::MatrixXd& c,
                const io::CountMatrix& h) { tw.append(tt, kk, m, c, h); });
      for (const auto& s : pending) tw.append(s.t, s.step, mean_of(s.stats), cov_of(s.stats), counts_of(s.stats));
    }
    io::Group g = cf.root().require_group("checkpoint");
    g.set_attr("format", std::string("sdescore checkpoint"));
    g.set_attr("format_version", std::int64_t{1});
    g.set_attr("ensemble", std::string("ensemble"));
    g.set_attr("step", k);
    g.set_attr("time", t);
    cf.commit();
    pending.clear();
    saved_source = ckpt;
    wrote_checkpoint = true;
  };

  // ---- the run -----------------------------------------------------------------------
  const std::int64_t end = grid.n_steps;
  const double total = static_cast<double>(pr.count) * static_cast<double>(end - step0);
  cli::Progress progress("sdesim", total > 0 ? total : 1.0, o.quiet);
  double done_before = 0;
  auto sink = [&](const ensemble::Snapshot& s) {
    if (ew)
      ew->append_dim_major(s.state.data, s.t, s.step, s.state.n_paths);
    else
      ow->append(s.t, s.step, mean_of(*s.stats), cov_of(*s.stats), counts_of(*s.stats));
    ++snapshots_written;
    if (o.checkpoint_every > 0) {
      Saved sv{s.t, s.step, {}, {}};
      if (ew)
        sv.x.assign(s.state.data, s.state.data + static_cast<std::ptrdiff_t>(s.state.dim) * s.state.n_paths);
      else
        sv.stats = *s.stats;
      pending.push_back(std::move(sv));
    }
  };
  auto on_progress = [&](const ensemble::Progress& p) {
    const double done = done_before + static_cast<double>(p.path_steps_done);
    progress.update(done, "step " + std::to_string(p.step) + "/" + std::to_string(end) + ", " + num(done) +
                              " of " + num(total) + " path-steps");
  };

  ensemble::EnsembleOptions eo;
  eo.seed = o.seed;
  eo.first_path = pr.first;
  eo.t0 = 0.0;
  eo.dt = o.dt;
  eo.save_every = grid.save_every;
  eo.n_threads = o.threads;
  eo.stats = stats_opt;
  eo.progress_every = progress.enabled() ? std::max<std::int64_t>(1, (end - step0) / 1000) : 0;
  std::int64_t k = step0;
  bool first_segment = true;
  while (k < end) {
    std::int64_t seg_end = end;
    if (o.checkpoint_every > 0) seg_end = std::min(end, (k / o.checkpoint_every + 1) * o.checkpoint_every);
    eo.step0 = k;
    eo.n_steps = seg_end - k;
    eo.emit_initial = first_segment && o.resume.empty();
    ensemble::simulate(stepper, model, state, eo, sink, progress.enabled() ? ensemble::ProgressFn(on_progress) : ensemble::ProgressFn());
    done_before += static_cast<double>(pr.count) * static_cast<double>(seg_end - k);
    first_segment = false;
    k = seg_end;
    if (o.checkpoint_every > 0 && k % o.checkpoint_every == 0) {
      write_checkpoint(k, static_cast<double>(k) * o.dt);
      if (o.stop_after_checkpoint_step >= 0 && k >= o.stop_after_checkpoint_step) throw Interrupted();
    }
  }
  progress.finish();

  file.commit();
  if (o.checkpoint_every > 0 && !o.keep_checkpoint && (wrote_checkpoint || ckpt_is_resume)) {
    std::error_code ec;
    fs::remove(ckpt, ec);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (!o.quiet) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.3g", secs > 0 ? total / secs : 0.0);
    char wall[64];
    std::snprintf(wall, sizeof wall, "%.3g", secs);
    out << "sdesim: wrote " << o.output << '\n'
        << "sdesim: " << pr.count << " paths x " << snapshots_written << " "
        << (o.stats_only ? "statistics snapshots" : "snapshots") << " of " << modelfile::model_label(model) << " (" << St::name
        << ", dt " << num(o.dt) << ", t_end " << num(o.t_end) << (o.resume.empty() ? "" : ", resumed") << ") in "
        << wall << " s, " << rate << " particle-steps/s\n";
  }
  return cli::ok;
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
  const std::string def = default_stepper(d.name);
  out << "\n  steppers (--stepper):";
  for (std::size_t i = 0; i < d.steppers.size(); ++i)
    out << (i ? ", " : " ") << d.steppers[i] << (d.steppers[i] == def ? " (default)" : "");
  out << '\n';
}

}  // namespace

std::string default_stepper(const std::string& model) {
  return model == "underdamped_langevin" ? "baoab" : "euler_maruyama";
}

std::string checkpoint_path_for(const std::string& output) { return output + ".ckpt.h5"; }

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
  if (o.model.empty())
    throw ConfigError("no model given: use --model NAME; valid models are " + app::detail::join(app::model_names()) +
                      " (--list-models, --describe NAME)");
  std::vector<app::ParamValue> params;
  for (const auto& p : o.params) {
    params.push_back(app::parse_param(p));
    require_finite("parameter " + params.back().name, params.back().value);
  }
  const std::string stepper = o.stepper.empty() ? default_stepper(o.model) : o.stepper;
  int rc = cli::internal_error;
  app::visit_model(o.model, params, [&](const auto& model) {
    using M = std::decay_t<decltype(model)>;
    app::visit_stepper<M>(stepper, [&](const auto& st) { rc = simulate_model(o, st, model); });
  });
  return rc;
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
                 "Stepper (default: baoab for underdamped_langevin, euler_maruyama otherwise; see --describe)")
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
