#include "sdescore/eval/study.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "sdescore/app/registry.hpp"
#include "sdescore/io/atomic.hpp"
#include "sdescore/io/h5.hpp"
#include "sdescore/version.hpp"

namespace sdescore::eval {

static_assert(std::tuple_size_v<app::InstantiatedModelTypes> == SDESCORE_MODEL_COUNT,
              "app::InstantiatedModelTypes changed: set SDESCORE_MODEL_COUNT in lib/CMakeLists.txt to its size (one instantiation unit per model)");

void StudyOptions::validate() const {
  if (seeds.empty()) throw ConfigError("compare: the list of seeds is empty: give at least one seed");
  require_positive("compare: threshold", threshold);
  if (eval_every < 1) throw ConfigError("compare: eval_every = " + std::to_string(eval_every) + " must be >= 1");
  if (flow_samples < 2) throw ConfigError("compare: flow_samples = " + std::to_string(flow_samples) + " must be >= 2");
  if (reverse_steps < 0) throw ConfigError("compare: reverse_steps = " + std::to_string(reverse_steps) + " must be >= 0 (0: skip)");
  for (int c : fp_cells)
    if (c < 10) throw ConfigError("compare: Fokker-Planck cells = " + std::to_string(c) + " is invalid: give at least 10 per coordinate");
  if (fp_dt < 0) throw ConfigError("compare: fp_dt = " + sdescore::detail::fmt_double(fp_dt) + " must be >= 0 (0: default)");
  if (fp_advection != "upwind1" && fp_advection != "upwind3")
    throw ConfigError("compare: fp_advection = '" + fp_advection + "' is not a Fokker-Planck advection flux: use upwind3 or upwind1");
}

StudyResult run_study(const StudyOptions& opt, const score::TrainingData& data, const StudyControl& control) {
  opt.validate();
  std::vector<app::ParamValue> params;
  for (const auto& [k, v] : data.info.model_parameters) params.push_back({k, v});
  return app::visit_model(data.info.model, params, [&](auto& model) { return run_study_for(model, opt, data, control); });
}

std::string study_reference_summary(const StudyResult& res, const StudyOptions& opt) {
  if (!res.has_reference) return "No Fokker-Planck reference (1D and 2D models only): no score errors.";
  auto cells = [](const std::vector<int>& c, int div) {
    std::string s;
    for (std::size_t d = 0; d < c.size(); ++d) s += (d ? " x " : "") + std::to_string(c[d] / div);
    return s;
  };
  auto series = [](const std::vector<double>& v) {
    std::string s;
    char buf[32];
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%.3g", v[i]);
      s += (i ? " / " : "") + std::string(buf);
    }
    return s;
  };
  std::string s = "Reference: Fokker-Planck on " + cells(res.ref_grid_cells, 1) + " cells (" + opt.fp_advection +
                  " flux in noiseless directions). ";
  if (res.ref_check_error.empty())
    return s + "Its own error was not measured (the refinement check is off or a cell count is odd).";
  std::string ts;
  char buf[32];
  for (std::size_t i = 0; i < res.times.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%g", res.times[i]);
    ts += (i ? ", " : "") + std::string(buf);
  }
  return s + "Its own error by refinement (the same solve on " + cells(res.ref_grid_cells, 2) + " cells) at t = " + ts +
         ": score " + series(res.ref_check_error) + ", D s " + series(res.ref_check_ds_error) +
         ". Differences between score errors smaller than these are not resolved by the reference.";
}

std::pair<std::filesystem::path, std::filesystem::path> study_summary_paths(const std::filesystem::path& output) {
  return {std::filesystem::path(output).replace_extension(".csv"), std::filesystem::path(output).replace_extension(".md")};
}

void check_study_targets(const std::filesystem::path& output, bool overwrite) {
  io::check_writable_target(output, overwrite);
  const auto [csv, md] = study_summary_paths(output);
  for (const auto& p : {csv, md}) io::check_writable_target(p, true);  // names (length, special files); existence below
  if (!overwrite)
    for (const auto& p : {csv, md})
      if (std::filesystem::exists(p)) throw IoError("summary file " + p.string() + " exists: pass --force to overwrite it");
}

namespace {

void write_run(io::Group g, const StudyRun& r, const std::vector<double>& times, bool has_ref) {
  g.set_attr("objective", r.objective);
  g.set_attr("seed", std::uint64_t{r.seed});
  g.set_attr("train_seconds", r.train_seconds);
  g.set_attr("time_to_accuracy", r.time_to_accuracy);
  g.set_attr("heldout_ism", r.heldout_ism);
  const std::size_t nt = times.size();
  g.write_array("time", std::span<const double>(times), {nt}, {"time"});
  if (has_ref) {
    g.set_attr("score_error_rms", r.final_error);
    g.set_attr("diffusion_score_error_rms", r.final_ds_error);
    g.write_array("score_error", std::span<const double>(r.score_error), {nt}, {"time"});
    g.write_array("diffusion_score_error", std::span<const double>(r.ds_error), {nt}, {"time"});
    const std::size_t na = r.acc_step.size();
    std::vector<std::int64_t> st(r.acc_step.begin(), r.acc_step.end());
    io::Group a = g.require_group("accuracy_trace");
    a.write_array("step", std::span<const std::int64_t>(st), {na}, {"check"});
    a.write_array("train_seconds", std::span<const double>(r.acc_seconds), {na}, {"check"});
    a.write_array("score_error_rms", std::span<const double>(r.acc_error), {na}, {"check"});
  }
  auto metric = [&](const char* name, auto get) {
    std::vector<double> v, f;
    for (const auto& m : r.metrics) {
      v.push_back(get(m).value);
      f.push_back(get(m).floor);
    }
    g.write_array(name, std::span<const double>(v), {v.size()}, {"time"});
    g.write_array(std::string(name) + "_floor", std::span<const double>(f), {f.size()}, {"time"});
  };
  if (!r.metrics.empty()) {
    metric("energy_distance", [](const auto& m) { return m.energy; });
    metric("sliced_w1", [](const auto& m) { return m.sliced_w1; });
    metric("mean_error", [](const auto& m) { return m.mean_error; });
    metric("covariance_error", [](const auto& m) { return m.covariance_error; });
    metric("kurtosis_error", [](const auto& m) { return m.kurtosis_error; });
  }
  if (!r.flow_outside.empty()) {
    g.write_array("flow_outside_fraction", std::span<const double>(r.flow_outside), {r.flow_outside.size()}, {"time"});
  }
  {
    std::vector<std::int64_t> st;
    std::vector<double> loss, secs;
    for (const auto& p : r.curve) {
      st.push_back(p.step);
      loss.push_back(p.loss);
      secs.push_back(p.seconds);
    }
    io::Group lc = g.require_group("loss_curve");
    lc.write_array("step", std::span<const std::int64_t>(st), {st.size()}, {"point"});
    lc.write_array("loss", std::span<const double>(loss), {loss.size()}, {"point"});
  }
  if (r.flow_last.size()) {
    const Eigen::Matrix<double, -1, -1, Eigen::RowMajor> F = r.flow_last;
    g.write_array("flow_samples_last", std::span<const double>(F.data(), F.size()),
                  {std::size_t(F.rows()), std::size_t(F.cols())}, {"sample", "dim"});
  }
  if (r.reverse_first.size()) {
    const Eigen::Matrix<double, -1, -1, Eigen::RowMajor> F = r.reverse_first;
    io::Group rv = g.require_group("reverse_sde");
    rv.write_array("samples_first", std::span<const double>(F.data(), F.size()),
                   {std::size_t(F.rows()), std::size_t(F.cols())}, {"sample", "dim"});
    const auto put = [&](const char* n, const MetricWithFloor& m) {
      rv.set_attr(n, m.value);
      rv.set_attr(std::string(n) + "_floor", m.floor);
    };
    put("energy_distance", r.reverse.energy);
    put("sliced_w1", r.reverse.sliced_w1);
    put("mean_error", r.reverse.mean_error);
    put("covariance_error", r.reverse.covariance_error);
    put("kurtosis_error", r.reverse.kurtosis_error);
  }
  if (!r.score_on_grid.empty()) {
    std::vector<double> all;
    for (const auto& S : r.score_on_grid) {
      const Eigen::Matrix<double, -1, -1, Eigen::RowMajor> R = S;
      all.insert(all.end(), R.data(), R.data() + R.size());
    }
    g.write_array("score_on_grid", std::span<const double>(all),
                  {nt, std::size_t(r.score_on_grid[0].rows()), std::size_t(r.score_on_grid[0].cols())}, {"time", "cell", "dim"});
  }
}

}  // namespace

void write_study(const StudyResult& res, const StudyOptions& opt, const std::filesystem::path& output, bool overwrite,
                 const std::string& data_file, const std::string& command_line) {
  check_study_targets(output, overwrite);
  const auto [csv_path, md_path] = study_summary_paths(output);
  const std::vector<double>& times = res.times;
  // ---- HDF5 report ----
  io::AtomicFile file(output, overwrite);
  io::Group root = file.root();
  io::Group st = root.require_group("study");
  st.set_attr("data_file", data_file);
  st.set_attr("model", res.model);
  st.set_attr("command_line", command_line);
  st.set_attr("threshold", opt.threshold);
  st.set_attr("sdescore_version", std::string(sdescore::version));
  st.set_attr("steps", double(res.steps));
  st.write_array("time", std::span<const double>(times), {times.size()}, {"time"});
  if (res.has_reference) {
    io::Group rg = root.require_group("reference");
    const Eigen::Matrix<double, -1, -1, Eigen::RowMajor> C = res.ref_cells;
    rg.write_array("cell_centres", std::span<const double>(C.data(), C.size()), {std::size_t(C.rows()), std::size_t(C.cols())}, {"cell", "dim"});
    std::vector<double> dens, sc;
    for (std::size_t i = 0; i < times.size(); ++i) {
      dens.insert(dens.end(), res.ref_density[i].data(), res.ref_density[i].data() + res.ref_density[i].size());
      const Eigen::Matrix<double, -1, -1, Eigen::RowMajor> S = res.ref_score[i];
      sc.insert(sc.end(), S.data(), S.data() + S.size());
    }
    rg.write_array("density", std::span<const double>(dens), {times.size(), std::size_t(C.rows())}, {"time", "cell"});
    rg.write_array("score", std::span<const double>(sc), {times.size(), std::size_t(C.rows()), std::size_t(C.cols())}, {"time", "cell", "dim"});
    std::vector<double> cells(res.ref_grid_cells.begin(), res.ref_grid_cells.end());
    rg.write_array("grid_cells", std::span<const double>(cells), {cells.size()}, {"dim"});
    rg.set_attr("advection", opt.fp_advection);
    if (!res.ref_check_error.empty()) {  // the reference's own error by refinement (half the cells)
      rg.write_array("check_score_error", std::span<const double>(res.ref_check_error), {times.size()}, {"time"});
      rg.write_array("check_diffusion_score_error", std::span<const double>(res.ref_check_ds_error), {times.size()}, {"time"});
    }
  }
  for (int h = 0; h < 2; ++h) {
    const Eigen::Matrix<double, -1, -1, Eigen::RowMajor> S = h == 0 ? res.sde_half_a_last : res.sde_half_b_last;
    root.require_group("sde_samples").write_array(h == 0 ? "half_a_last" : "half_b_last", std::span<const double>(S.data(), S.size()),
                                                  {std::size_t(S.rows()), std::size_t(S.cols())}, {"sample", "dim"});
  }
  for (const auto& r : res.runs) write_run(root.require_group("runs/" + r.objective + "/seed_" + std::to_string(r.seed)), r, times, res.has_reference);
  file.commit();

  // ---- CSV (one row per run and time) and Markdown summary (mean +- sd over seeds) ----
  {
    const auto tmp = std::filesystem::path(csv_path).concat(".tmp");
    std::ofstream csv(tmp);
    csv << "objective,seed,time,score_error,diffusion_score_error,energy_distance,energy_floor,sliced_w1,sliced_w1_floor,"
           "mean_error,mean_floor,covariance_error,covariance_floor,kurtosis_error,kurtosis_floor,train_seconds,"
           "time_to_accuracy,heldout_ism,flow_outside_fraction,reference_check_score_error,reference_check_diffusion_score_error\n";
    for (const auto& r : res.runs)
      for (std::size_t i = 0; i < times.size(); ++i) {
        const auto& m = r.metrics[i];
        csv << r.objective << ',' << r.seed << ',' << times[i] << ',' << (res.has_reference ? r.score_error[i] : NAN) << ','
            << (res.has_reference ? r.ds_error[i] : NAN) << ',' << m.energy.value << ',' << m.energy.floor << ',' << m.sliced_w1.value
            << ',' << m.sliced_w1.floor << ',' << m.mean_error.value << ',' << m.mean_error.floor << ','
            << m.covariance_error.value << ',' << m.covariance_error.floor << ',' << m.kurtosis_error.value << ','
            << m.kurtosis_error.floor << ',' << r.train_seconds << ',' << r.time_to_accuracy << ',' << r.heldout_ism << ','
            << (i < r.flow_outside.size() ? r.flow_outside[i] : NAN) << ','
            << (i < res.ref_check_error.size() ? res.ref_check_error[i] : NAN) << ','
            << (i < res.ref_check_ds_error.size() ? res.ref_check_ds_error[i] : NAN) << '\n';
      }
    csv.close();
    std::filesystem::rename(tmp, csv_path);
  }
  {
    const auto tmp = std::filesystem::path(md_path).concat(".tmp");
    std::ofstream md(tmp);
    md << "# scorefit compare: " << res.model << "\n\n`" << command_line << "`\n\n";
    md << "Evaluation times: ";
    for (std::size_t i = 0; i < times.size(); ++i) md << (i ? ", " : "") << times[i];
    md << ". Steps per fit: " << res.steps << ". Seeds: " << opt.seeds.size() << ".\n\n";
    md << "| objective | score error (rms over times) | D s error | time to " << opt.threshold
       << " [s] | train time [s] | held-out ISM | flow: energy distance (floor), last time | flow: sliced W1 / floor, last time (samples out of range) | reverse SDE: sliced W1 / floor, first time |\n";
    md << "|---|---|---|---|---|---|---|---|---|\n";
    std::vector<std::string> names;
    for (const auto& r : res.runs)
      if (std::find(names.begin(), names.end(), r.objective) == names.end()) names.push_back(r.objective);
    auto ms = [](const std::vector<double>& v) {
      double m = 0, s = 0;
      for (double x : v) m += x / v.size();
      for (double x : v) s += (x - m) * (x - m);
      s = v.size() > 1 ? std::sqrt(s / (v.size() - 1)) : 0;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.4g ± %.2g", m, s);
      return std::string(buf);
    };
    auto percent = [](const std::vector<double>& v) {  // mean over the runs of the share of flow samples out of range
      double m = 0;
      for (double x : v) m += x / v.size();
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2g %%", 100 * m);
      return std::string(buf);
    };
    for (const auto& n : names) {
      std::vector<double> e, de, tta, ts, ism, ed, edf, sw, rsw, out;
      int reached = 0, total = 0;
      for (const auto& r : res.runs)
        if (r.objective == n) {
          ++total;
          e.push_back(r.final_error);
          de.push_back(r.final_ds_error);
          if (r.time_to_accuracy >= 0) {
            tta.push_back(r.time_to_accuracy);
            ++reached;
          }
          ts.push_back(r.train_seconds);
          ism.push_back(r.heldout_ism);
          ed.push_back(r.metrics.back().energy.value);
          edf.push_back(r.metrics.back().energy.floor);
          sw.push_back(r.metrics.back().sliced_w1.ratio());
          out.push_back(r.flow_outside.empty() ? NAN : r.flow_outside.back());
          rsw.push_back(r.reverse.sliced_w1.ratio());
        }
      md << "| " << n << " | " << (res.has_reference ? ms(e) : "n/a") << " | " << (res.has_reference ? ms(de) : "n/a") << " | "
         << (tta.empty() ? "not reached" : ms(tta)) << " (" << reached << "/" << total << ") | " << ms(ts) << " | " << ms(ism)
         << " | " << ms(ed) << " (" << ms(edf) << ") | " << ms(sw) << " (" << percent(out) << ") | "
         << (opt.reverse_steps > 0 ? ms(rsw) : "skipped (reverse_steps 0)") << " |\n";
    }
    md << "\n" << study_reference_summary(res, opt) << "\n";
    md << "\nScore errors are sqrt(E|s - s_ref|^2 / E|s_ref|^2) under p_t against a Fokker-Planck reference. Sample\n"
          "metrics push held-out p_t samples at the first evaluation time along the learned probability flow and compare\n"
          "them with an independent held-out SDE half-ensemble; the floor compares the two SDE halves. Flow samples that\n"
          "leave the SDE ensemble's range (padded 5 %) are dropped from then on; the share dropped by the last time is given\n"
          "in parentheses. A ratio near 1\n"
          "means the flow samples are as close to the SDE marginal as a second SDE ensemble is. The energy distance is the\n"
          "unbiased U-statistic, so for equal laws it scatters around 0 and can be negative: compare it with its floor.\n"
          "The reverse SDE generates from held-out samples at the last time back to the first evaluation time.\n";
    md.close();
    std::filesystem::rename(tmp, md_path);
  }
}

}  // namespace sdescore::eval
