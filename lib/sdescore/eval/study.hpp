#pragma once
// The objective study (`scorefit compare`, `sdescore.compare`; docs/evaluation.md 8.1): trains each
// objective with the same network, step budget and seeds on one ensemble and judges every fit
// by method.md section 4:
//   - relative L2 errors of s and of D s against a Fokker-Planck reference (1D/2D models), whose
//     start is the recorded normal initial law or else a kernel density estimate of the first
//     snapshot; errors weighted by the reference density; the reference's own error measured by
//     solving again on half the cells (the refinement difference, next to the errors it judges);
//   - samples pushed along the learned probability flow against held-out SDE samples, by energy
//     distance, sliced W1 and moment errors, each with its noise floor (the held-out paths split
//     into two independent halves, compared the same way); flow samples that leave the
//     ensemble's range (padded 5 %) are dropped and their fraction reported;
//   - generation by the reverse-time SDE; the held-out ISM value; training wall time and
//     time-to-accuracy (training seconds until the score error first drops below a threshold,
//     evaluation time not counted).
// Evaluation uses only held-out paths (score/holdout.hpp): a configuration that holds none out
// is refused. Per-model work is compiled once per model (eval/instantiate/).
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sdescore/eval/metrics.hpp"
#include "sdescore/score/train.hpp"

namespace sdescore::eval {

struct StudyOptions {
  std::vector<std::string> objectives;   ///< empty: local-dsm, ism, ism-hutchinson (+ dsm for linear models)
  std::vector<unsigned long> seeds{1, 2, 3};
  score::TrainingConfig train;           ///< shared training settings (objective and seed are set per run)
  std::vector<double> eval_times;        ///< empty: 5 times spread over the training range (snapped to snapshots)
  double threshold = 0.05;               ///< time-to-accuracy: relative score error to reach
  long eval_every = 500;                 ///< steps between accuracy checks (not counted as training time)
  std::vector<int> fp_cells;             ///< Fokker-Planck cells per coordinate (default 1000 / 200 x 200)
  double fp_dt = 0;                      ///< Fokker-Planck time step (default 1e-3 in 1D, 5e-3 in 2D)
  /// Flux in noiseless directions (hypoelliptic models): "upwind3" (second order) or "upwind1"
  /// (first order, positivity-preserving, numerically diffusive); no effect where there is noise
  std::string fp_advection = "upwind3";
  bool fp_check = true;                  ///< also solve on half the cells: the reference's own error by refinement
  int flow_samples = 2000;               ///< held-out samples pushed along the learned probability flow
  bool reverse_from_prior = false;       ///< reverse SDE from the stationary law instead of p_T samples
  int reverse_steps = 1000;              ///< reverse-SDE steps (0: skip generation)
  void validate() const;
};

/// One fit of the study.
struct StudyRun {
  std::string objective;
  unsigned long seed = 0;
  std::vector<double> score_error, ds_error;            ///< per evaluation time (with a reference)
  std::vector<SampleMetricsWithFloor> metrics;          ///< flow samples (those in range) vs held-out SDE, per time
  std::vector<double> flow_outside;                     ///< per time, the fraction of flow samples that left the ensemble's range (dropped)
  std::vector<long> acc_step;                           ///< accuracy trace
  std::vector<double> acc_seconds, acc_error;
  std::vector<score::LossPoint> curve;
  double train_seconds = 0, time_to_accuracy = -1, heldout_ism = 0, final_error = -1, final_ds_error = -1;
  Eigen::MatrixXd flow_last;                            ///< flow samples at the last time (those in range)
  SampleMetricsWithFloor reverse{};                     ///< reverse-SDE samples at the first time
  Eigen::MatrixXd reverse_first;
  std::vector<Eigen::MatrixXd> score_on_grid;           ///< per time, reference cells x d
};

struct StudyResult {
  std::string model;
  long steps = 0;
  std::vector<double> times;
  bool has_reference = false;
  Eigen::MatrixXd ref_cells;                  ///< Fokker-Planck cell centres
  std::vector<Eigen::VectorXd> ref_density;   ///< per time
  std::vector<Eigen::MatrixXd> ref_score;     ///< per time
  std::vector<int> ref_grid_cells;            ///< the reference's cells per coordinate
  /// The reference's own error by refinement, per time (reference/refinement.hpp): relative
  /// difference of s and of D s between the grid and the grid with half the cells, an upper
  /// estimate of the reference's error for schemes of order >= 1; empty when not computed
  std::vector<double> ref_check_error, ref_check_ds_error;
  Eigen::MatrixXd sde_half_a_last, sde_half_b_last;  ///< held-out halves at the last time
  std::vector<StudyRun> runs;
};

struct StudyControl {
  /// Called at the start of each fit: (objective, seed); returns the progress callback of that fit.
  std::function<std::function<void(const score::FitProgress&)>(const std::string&, unsigned long)> start_run;
  std::function<void(const StudyRun&)> run_done;    ///< after each fit
  std::function<void()> poll;                       ///< called often; may throw to stop the study
  std::function<void(const std::string&)> warn;     ///< a flow or reverse SDE that failed (recorded as NaN)
};

/// One sentence on the reference: its grid, flux and own error by refinement (or why there is none).
std::string study_reference_summary(const StudyResult& res, const StudyOptions& opt);

/// Runs the study on data (model from data.info).
StudyResult run_study(const StudyOptions& opt, const score::TrainingData& data, const StudyControl& control = {});

/// Writes the HDF5 report at `output` and the .csv and .md summaries beside it, atomically.
/// IoError when a target exists and !overwrite (checked for all three before anything is written).
void write_study(const StudyResult& r, const StudyOptions& opt, const std::filesystem::path& output, bool overwrite,
                 const std::string& data_file, const std::string& command_line);
/// The .csv and .md paths written beside `output`.
std::pair<std::filesystem::path, std::filesystem::path> study_summary_paths(const std::filesystem::path& output);
/// IoError when any of the three report files exists and !overwrite.
void check_study_targets(const std::filesystem::path& output, bool overwrite);

/// Per-model entry point, explicitly instantiated once per model (eval/instantiate/).
template <SdeModel M>
StudyResult run_study_for(const M& model, const StudyOptions& opt, const score::TrainingData& data, const StudyControl& control);

}  // namespace sdescore::eval
