#pragma once
// Physical observables of a learned score (`scorefit physics`, `sdescore.physics`;
// docs/evaluation.md 5): the probability-flow velocity v = f - div D - D s, the probability
// current j = p v on a grid, the entropy S(t), its rate dS/dt and the entropy production rate
// Pi(t) = E[v^T D^+ v], both on the SDE ensemble's held-out samples and along the learned
// probability flow. Samples follow the one hold-out rule (score/holdout.hpp): on the ensemble the
// score was trained on, only held-out paths (refused when none was held out); on an
// independent ensemble (another seed), every path.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sdescore/eval/physics.hpp"
#include "sdescore/score/train.hpp"

namespace sdescore::eval {

struct PhysicsOptions {
  std::vector<double> times;         ///< empty: the snapshot times in the trained range (at most ~21)
  int flow_samples = 2000;           ///< held-out samples pushed along the probability flow
  std::string density = "ensemble";  ///< grid density for j = p v: ensemble (histogram) | score (learned)
  std::vector<double> lo, hi;        ///< grid corners (default: the data's range, padded 5%)
  std::vector<int> n;                ///< grid points per coordinate (default 201 in 1D, 81 in 2D)
  double fd_step = 1e-2;             ///< finite-difference step of the score Jacobian (div v)
  int threads = 0;
  void validate() const;
};

struct PhysicsResult {
  std::string model;
  double trained_t_min = 0, trained_t_max = 0;
  std::vector<double> times;
  // on the SDE ensemble's evaluation samples
  std::size_t ensemble_samples = 0;
  std::vector<double> entropy_production, entropy_production_stderr, mean_speed, drift_scale, entropy_knn;
  // along the learned probability flow (times.size() > 1)
  bool has_flow = false;
  std::size_t flow_samples = 0;
  double entropy_start_knn = 0;
  std::vector<double> flow_entropy, flow_entropy_change, flow_entropy_rate, flow_entropy_production, flow_entropy_production_stderr,
      flow_medium_entropy_rate, flow_mean_speed, flow_outside_fraction;
  // on a grid (1D / 2D models)
  bool has_grid = false;
  std::string density_source;
  NodeGrid grid;
  std::vector<Eigen::VectorXd> density;    ///< per time, grid.size()
  std::vector<Eigen::MatrixXd> velocity;   ///< per time, grid.size() x d
  std::vector<double> current_l1;          ///< per time, integral of |j|
};

/// Computes the physics of `fit` on `data` (an ensemble of the model it was trained on:
/// ConfigError otherwise). `poll` is called between stages and may throw to stop.
PhysicsResult compute_physics(const score::ScoreModel& fit, const score::TrainingData& data, const PhysicsOptions& opt,
                              const std::function<void()>& poll = {});
/// Writes the result to HDF5 atomically (docs/file-format.md, "physics files").
void write_physics(const PhysicsResult& r, const std::filesystem::path& output, bool overwrite, const std::string& score_model_file,
                   const std::string& data_file, const std::string& command_line);

/// Per-model entry point, explicitly instantiated once per model (eval/instantiate/).
template <SdeModel M>
PhysicsResult compute_physics_for(const M& model, const score::ScoreModel& fit, const score::TrainingData& data, const PhysicsOptions& opt,
                                  const std::function<void()>& poll);

}  // namespace sdescore::eval
