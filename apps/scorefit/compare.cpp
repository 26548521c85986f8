// scorefit compare: the objective study of eval/study.hpp on one ensemble file, with a progress
// line per fit, a summary line per fit and the HDF5 / CSV / Markdown report.
#include <omp.h>

#include <cstdio>
#include <memory>

#include "apps/common/cli.hpp"
#include "scorefit.hpp"
#include "sdescore/io/atomic.hpp"

namespace sdescore::scorefit {

int run_compare(const CompareOptions& o) {
  if (o.train.threads > 0) omp_set_num_threads(o.train.threads);  // every OpenMP region, not only the network
  eval::check_study_targets(o.output, o.force);
  o.validate();
  io::check_distinct_files(o.data, o.output, "--data");
  const score::TrainingData data = score::load_training_data(o.data, o.ensemble);
  std::unique_ptr<cli::Progress> bar;
  eval::StudyControl control;
  control.start_run = [&](const std::string& obj, unsigned long seed) -> std::function<void(const score::FitProgress&)> {
    bar = std::make_unique<cli::Progress>("compare " + obj + " seed " + std::to_string(seed), double(o.train.steps), o.quiet);
    return [&](const score::FitProgress& p) { bar->update(double(p.step)); };
  };
  control.warn = [](const std::string& msg) { std::fprintf(stderr, "compare: %s\n", msg.c_str()); };
  control.run_done = [&](const eval::StudyRun& r) {
    if (bar) bar->finish();
    if (o.quiet) return;
    const bool ref = !r.score_error.empty();  // a Fokker-Planck reference exists (1D and 2D models)
    char tta[32] = "not reached", err[64] = "n/a (no reference)";
    if (r.time_to_accuracy >= 0) std::snprintf(tta, sizeof tta, "%.1f s", r.time_to_accuracy);
    if (!ref) std::snprintf(tta, sizeof tta, "n/a");
    if (ref) std::snprintf(err, sizeof err, "%.4f (D s %.4f)", r.final_error, r.final_ds_error);
    std::printf("compare: %-15s seed %lu: %.1f s, score error %s, time to %.3g: %s, held-out ISM %.4g, SW1/floor at last time: %.2f\n",
                r.objective.c_str(), r.seed, r.train_seconds, err, o.threshold, tta, r.heldout_ism,
                r.metrics.back().sliced_w1.ratio());
    std::fflush(stdout);
  };
  const eval::StudyResult res = eval::run_study(o, data, control);
  eval::write_study(res, o, o.output, o.force, o.data, o.command_line);
  if (!o.quiet) {
    std::printf("compare: %s\n", eval::study_reference_summary(res, o).c_str());
    const auto [csv, md] = eval::study_summary_paths(o.output);
    std::printf("scorefit: wrote %s, %s, %s\n", o.output.c_str(), csv.c_str(), md.c_str());
  }
  return cli::ok;
}

}  // namespace sdescore::scorefit
