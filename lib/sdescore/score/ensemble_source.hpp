#pragma once
// Samples of p_tau for any tau in [t_first, t_last] from a stored ensemble (method.md 2.3,
// "where y_s comes from"): take the latest snapshot t_k <= tau and advance it to tau with the
// sampler stepper of the model's view (model_view.hpp; at most the simulation dt per step). That is not necessarily
// the stepper that produced the ensemble: the apps pass stochastic Heun for additive noise and
// Euler-Maruyama otherwise (scorefit::with_sampler_stepper); the simulation's own stepper is
// only recorded in the file. Paths are split into a training part and a held-out part by path
// index, so evaluation never sees training paths.
#include <algorithm>
#include <cmath>
#include <vector>

#include "sdescore/core/model.hpp"
#include "sdescore/ensemble/engine.hpp"
#include "sdescore/random/draws.hpp"
#include "sdescore/score/holdout.hpp"
#include "sdescore/score/model_view.hpp"
#include "sdescore/solvers/stepper.hpp"

namespace sdescore::score {

/// Snapshots of an ensemble held in memory: times[k] and states[k] (paths x dim).
struct EnsembleData {
  std::vector<double> times;
  std::vector<Eigen::MatrixXd> states;
  double dt = 1e-3;  ///< the simulation step, used to advance between snapshots

  int n_snapshots() const { return static_cast<int>(times.size()); }
  int n_paths() const { return states.empty() ? 0 : static_cast<int>(states[0].rows()); }
  int dim() const { return states.empty() ? 0 : static_cast<int>(states[0].cols()); }
  void validate(int model_dim) const;
};

inline void EnsembleData::validate(int model_dim) const {
  if (times.empty()) throw ConfigError("ensemble has no snapshots: need at least one");
  if (states.size() != times.size()) throw ConfigError("ensemble: times and states differ in length");
  for (std::size_t k = 0; k < states.size(); ++k) {
    if (states[k].cols() != model_dim)
      throw ConfigError("ensemble snapshot " + std::to_string(k) + " has dimension " + std::to_string(states[k].cols()) +
                        " but the model has state_dim " + std::to_string(model_dim));
    if (states[k].rows() != states[0].rows()) throw ConfigError("ensemble snapshots differ in path count");
    if (k > 0 && !(times[k] > times[k - 1])) throw ConfigError("ensemble snapshot times must increase");
  }
  require_positive("ensemble dt", dt);
}

/// Draws samples of p_tau from an ensemble (training or held-out paths only), advancing
/// snapshots with a model seen through its ModelView (compiled once per dimension D).
template <int D>
class SnapshotSource {
 public:
  using State = Vec<double, D>;

  /// held-out paths follow score/holdout.hpp (every holdout_every-th path; 0: none held out).
  /// The model is not copied: it must outlive the source.
  SnapshotSource(const ModelView<D>& model, const EnsembleData& data, int holdout_every, bool held_out)
      : model_(&model), data_(&data) {
    data.validate(D);
    paths_ = split_paths(data.n_paths(), holdout_every, held_out);  // the one hold-out rule (holdout.hpp)
    if (paths_.empty()) throw ConfigError("ensemble: no paths left for " + std::string(held_out ? "evaluation" : "training"));
  }

  double t_first() const { return data_->times.front(); }
  double t_last() const { return data_->times.back(); }
  int n_paths() const { return static_cast<int>(paths_.size()); }

  /// Index of the latest snapshot with time <= tau (tau is clamped to the stored range).
  int snapshot_before(double tau) const {
    const auto& ts = data_->times;
    int k = static_cast<int>(std::upper_bound(ts.begin(), ts.end(), tau + 1e-12 * (1 + std::abs(tau))) - ts.begin()) - 1;
    return std::max(0, k);
  }

  /// One sample of p_tau: a random training path's snapshot advanced to tau.
  State sample(double tau, random::KeyedDraws& rng) const { return sample_path(paths_[rng.uniform_int(n_paths())], tau, rng); }

  /// n independent samples of p_tau. Sample j takes the path drawn by KeyedDraws(rng.fork(), j);
  /// the n snapshots are then advanced to tau together by the ensemble engine (vectorised,
  /// parallel, runtime SIMD dispatch) with the same steps as sample_path, its normals keyed by
  /// derive_seed(rng.fork(), "advance") and the sample index. The result does not depend on the
  /// thread count.
  std::vector<State> sample_many(double tau, int n, random::KeyedDraws& rng) const {
    std::vector<State> ys(static_cast<std::size_t>(std::max(n, 0)));
    const std::uint64_t key = rng.fork();
    if (n <= 0) return ys;
    const int k = snapshot_before(tau);
    const Eigen::MatrixXd& S = data_->states[k];
    ensemble::StateMatrix state(D, n);
    // The draws first, then the gather: the gather's loads (a random path's row of S) no longer
    // wait behind a Philox call each, so the processor overlaps their cache misses.
    std::vector<int> pick(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static)
    for (int j = 0; j < n; ++j) pick[j] = random::KeyedDraws(key, static_cast<std::uint64_t>(j)).uniform_int(n_paths());
#pragma omp parallel for schedule(static)
    for (int j = 0; j < n; ++j) {
      const int p = paths_[pick[j]];
      for (int a = 0; a < D; ++a) state(a, j) = S(p, a);
    }
    const double t = data_->times[k], gap = tau - t;
    if (gap > 1e-12) {
      ensemble::EnsembleOptions o;
      o.seed = random::derive_seed(key, "advance");
      o.n_steps = std::max(1, static_cast<int>(std::ceil(gap / data_->dt - 1e-9)));
      o.t0 = t;
      o.dt = gap / static_cast<double>(o.n_steps);
      try {
        model_->advance(state, o);
      } catch (const NumericalError& e) {  // say which training step failed, not only the engine's path and step
        throw NumericalError("advancing " + std::to_string(n) + " snapshot samples from t = " + detail::fmt_double(t) +
                             " to tau = " + detail::fmt_double(tau) + " (training data): " + e.what());
      }
    }
    for (int j = 0; j < n; ++j)
      for (int a = 0; a < D; ++a) ys[j](a) = state(a, j);
    return ys;
  }

  /// Path p's snapshot before tau, advanced to tau with steps of at most the simulation dt.
  State sample_path(int p, double tau, random::KeyedDraws& rng) const {
    const int k = snapshot_before(tau);
    State y = data_->states[k].row(p).transpose();
    const double t = data_->times[k], gap = tau - t;
    if (gap > 1e-12) {
      const int n = std::max(1, static_cast<int>(std::ceil(gap / data_->dt - 1e-9)));
      model_->advance_path(y, t, n, gap / n, rng);
    }
    return y;
  }

  const std::vector<int>& paths() const { return paths_; }
  const EnsembleData& data() const { return *data_; }
  const ModelView<D>& model() const { return *model_; }

 private:
  const ModelView<D>* model_;
  const EnsembleData* data_;
  std::vector<int> paths_;
};

/// Base-from-member of EnsembleSource: the view is constructed before the SnapshotSource that points to it.
template <SdeModel M, class St>
struct OwnedModelView {
  ModelViewOf<M, St> view;
};

/// A SnapshotSource that owns the view of model M advanced by stepper St.
template <SdeModel M, class St>
class EnsembleSource : private OwnedModelView<M, St>, public SnapshotSource<M::state_dim> {
 public:
  EnsembleSource(const M& model, St stepper, const EnsembleData& data, int holdout_every, bool held_out)
      : OwnedModelView<M, St>{ModelViewOf<M, St>(model, stepper)},
        SnapshotSource<M::state_dim>(this->view, data, holdout_every, held_out) {}
  EnsembleSource(const EnsembleSource&) = delete;  // the base points into this object
  EnsembleSource& operator=(const EnsembleSource&) = delete;
};

}  // namespace sdescore::score
