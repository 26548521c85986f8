#pragma once
// Training a score model s_theta(y, t) on an ensemble with one of the objectives of method.md 2:
//   local-dsm       (default)  regression on local-linearisation targets, Lambda(t) weights; on a
//                   model without noise in some coordinates (hypoelliptic, e.g. the active
//                   swimmer's x) those coordinates are learnt by exact ISM (method.md 2.5,
//                   mixed.hpp): with Lambda = Sigma_bar they would carry a weight ~Delta^3
//   local-dsm-plain local-DSM in every coordinate, noiseless ones included (the paper's form)
//   dsm             linear models only: regression on the exact transition from t_first
//   ism             Hyvarinen's implicit score matching, exact divergence
//   ism-hutchinson  ISM with a Hutchinson divergence estimate
//   local-dsm-ism   the same as local-dsm (the name of the per-component objective before it
//                   became local-dsm's behaviour; kept so older commands and files still work)
// Batches are G time groups drawn from a set of pools (local_dsm.hpp); one pool is refreshed per
// step (round robin) at a fresh uniform time in [t_min, t_max], so times are continuous. Over a
// process group the pools are computed by the processes in turn (detail/shared_pools.hpp).
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "sdescore/random/draws.hpp"
#include "sdescore/nn/trainer.hpp"
#include "sdescore/score/checks.hpp"
#include "sdescore/score/detail/shared_pools.hpp"
#include "sdescore/score/local_dsm.hpp"
#include "sdescore/score/mixed.hpp"

namespace sdescore::score {

enum class Objective { local_dsm, dsm, ism, ism_hutchinson, local_dsm_ism, local_dsm_plain };

inline Objective parse_objective(const std::string& s) {
  if (s == "local-dsm") return Objective::local_dsm;
  if (s == "dsm") return Objective::dsm;
  if (s == "ism") return Objective::ism;
  if (s == "ism-hutchinson") return Objective::ism_hutchinson;
  if (s == "local-dsm-ism") return Objective::local_dsm_ism;
  if (s == "local-dsm-plain") return Objective::local_dsm_plain;
  throw ConfigError("objective '" + s + "' is unknown: valid objectives are local-dsm, local-dsm-plain, local-dsm-ism, ism, ism-hutchinson, dsm");
}
inline std::string objective_name(Objective o) {
  switch (o) {
    case Objective::local_dsm: return "local-dsm";
    case Objective::dsm: return "dsm";
    case Objective::ism: return "ism";
    case Objective::local_dsm_ism: return "local-dsm-ism";
    case Objective::local_dsm_plain: return "local-dsm-plain";
    default: return "ism-hutchinson";
  }
}

struct LossPoint {
  long step;
  double loss, lr, seconds;
  double ess = 1;  ///< mean effective sample size of the multi-sample targets over the block (1: single-pair)
};

/// The state a run continues from (`scorefit train --resume`): what a score model file stores.
/// With it, fit_score takes steps steps_done+1 .. opt.steps and gives bit-identical weights to
/// a run that was never interrupted (same options, data and thread-independent kernels): every
/// random draw is keyed by (seed, step) or (seed, pool refresh), so the pools in use at
/// steps_done are rebuilt exactly, and the trainer resumes its weights, Adam moments and EMA.
struct FitState {
  StepSchedule schedule;
  double t_min = 0, t_max = 0;
  std::vector<float> raw_parameters, adam_m, adam_v, ema_parameters;
  std::int64_t steps_done = 0, ema_updates = 0;
  std::vector<LossPoint> curve;
  double seconds = 0;      ///< training wall time already spent
  double max_jitter = 0;
  double initial_loss = std::numeric_limits<double>::quiet_NaN();  ///< the LossGuard reference (NaN: unknown)
};

/// The library's default optimiser settings (the single source of the defaults that
/// `scorefit train`, TrainingConfig and the Python module show): Adam with global-norm clipping
/// at 1, peak learning rate 4e-3 after 200 warm-up steps, cosine decay to 1e-5 over the run,
/// EMA decay 0.999.
inline nn::TrainerOptions default_trainer_options() {
  nn::TrainerOptions t;
  t.schedule = nn::LrSchedule::warmup_cosine(4e-3, 200, 5000, 1e-5);
  return t;
}

struct FitOptions {
  Objective objective = Objective::local_dsm;
  long steps = 20000;         ///< the issue-16 measurement: fixed Delta = 0.02 reaches 1.5% at 20k steps on the double well
  int batch = 512;
  int groups = 8;             ///< G time groups per batch
  int pool_size = 1024;       ///< samples of p_s per pool (also the largest reference set)
  int n_pools = 64;           ///< pools kept; one refreshed per step
  int refresh_per_step = 1;
  TargetOptions target{};     ///< R and antithetic pairs
  WeightKind weight = WeightKind::covariance;
  LinearizationOptions lin{};
  ScheduleOptions schedule{};
  double t_min = -1, t_max = -1;  ///< < 0: first snapshot + Delta_max (or + 1% of the span), last snapshot
  int holdout_every = 10;         ///< every 10th path is held out for evaluation
  nn::Architecture arch{};        ///< input_dim / output_dim are set from the model
  nn::TrainerOptions trainer = default_trainer_options();  ///< cosine total_steps follows `steps`
  std::uint64_t seed = 1;
  int log_every = 50;             ///< loss-curve resolution (steps averaged per point)
  long checkpoint_every = 0;      ///< > 0: call on_checkpoint every this many steps (a multiple of log_every)
  std::shared_ptr<const FitState> resume;  ///< continue from this state (arch must match)
  long stop_at = 0;               ///< > 0: stop at the first multiple of log_every >= stop_at (resumable)
  double time_limit = 0;          ///< > 0: stop at the first multiple of log_every after this many seconds
  /// Data parallel over processes (nn/process_group.hpp, docs/distributed.md): each process
  /// computes the targets and the network pass of its chunks of every batch, and its share of
  /// the pools (the initial ones, then one refresh in every block of size() refreshes); the
  /// weights are the single process's bits. nullptr: one process. Every process calls fit_score alike.
  nn::ProcessGroup* group = nullptr;
  /// Called with the refresh count q when the process computing refresh q starts it (over a
  /// process group, up to size() - 1 refreshes before the step that uses it); may throw to make
  /// that refresh fail, which the run raises at the step that uses it. A test hook (the MPI tests).
  std::function<void(std::uint64_t)> on_refresh;

  void validate() const {
    if (steps < 1) throw ConfigError("steps = " + std::to_string(steps) + " is invalid: it must be >= 1");
    if (batch < 1) throw ConfigError("batch = " + std::to_string(batch) + " is invalid: it must be >= 1");
    if (groups < 1 || batch % groups != 0)
      throw ConfigError("groups = " + std::to_string(groups) + " is invalid: it must be >= 1 and divide the batch " +
                        std::to_string(batch));
    if (pool_size < 1) throw ConfigError("pool size = " + std::to_string(pool_size) + " is invalid: it must be >= 1");
    if (n_pools < groups)
      throw ConfigError("n_pools = " + std::to_string(n_pools) + " is invalid: it must be >= groups = " + std::to_string(groups));
    if (target.reference_size < 1 || target.reference_size > pool_size)
      throw ConfigError("reference size R = " + std::to_string(target.reference_size) + " is invalid: valid values are 1.." +
                        std::to_string(pool_size) + " (the pool size)");
    if (checkpoint_every < 0 || (checkpoint_every > 0 && checkpoint_every % log_every != 0))
      throw ConfigError("checkpoint interval = " + std::to_string(checkpoint_every) + " is invalid: it must be 0 (off) or a multiple of " +
                        std::to_string(log_every) + " steps (the loss-curve resolution)");
    if (resume && resume->steps_done >= steps)
      throw ConfigError("steps = " + std::to_string(steps) + " is invalid for resuming: the saved run has done " +
                        std::to_string(resume->steps_done) + " steps, so the new total must be larger");
    if (target.antithetic && (batch / groups) % 2 != 0)
      throw ConfigError("antithetic pairs need an even number of samples per group; batch/groups = " +
                        std::to_string(batch / groups));
  }
};

struct FitProgress {
  long step, total;
  double loss, seconds;
  double ess = 1;  ///< mean effective sample size of the targets over the last block (local-DSM)
};

/// Default t_min - t_first for a schedule over a snapshot span: fixed, 2.5 Delta (the first
/// pools then start from p_s with s >= t_first + 1.5 Delta, away from a sharp p_0), at most
/// 2.5% of the span; error-controlled, min(Delta_max, 1% of the span).
inline double default_t_min_offset(const ScheduleOptions& s, double span) {
  return s.kind != "error-controlled" ? std::min(2.5 * s.delta, 0.025 * span) : std::min(s.delta_max, 0.01 * span);
}

/// The trained model and what produced it.
struct FitResult {
  nn::Trainer trainer;
  StepSchedule schedule;
  std::vector<LossPoint> curve;
  double t_min = 0, t_max = 0;
  double seconds = 0;
  double max_jitter = 0;  ///< largest Cholesky jitter used by any kernel (hypoelliptic models)
  /// Loss of the untrained network on the first batch: the divergence reference (LossGuard).
  double initial_loss = std::numeric_limits<double>::quiet_NaN();
  /// Coordinates learnt by exact ISM inside local-dsm (those without noise; empty: none).
  std::vector<int> ism_coordinates;
};

/// The training time range [t_min, t_max] fit_score uses on snapshots spanning [t_first, t_last]:
/// opt.t_min / opt.t_max where given (>= 0), else t_first + default_t_min_offset and t_last.
inline std::pair<double, double> default_training_range(const FitOptions& opt, double t_first, double t_last) {
  const double span = t_last - t_first;
  const double t_min = opt.t_min >= 0 ? opt.t_min : t_first + default_t_min_offset(opt.schedule, span);
  return {t_min, opt.t_max >= 0 ? opt.t_max : t_last};
}

/// A batch's samples [first, end) computed by one process of opt.group (its whole chunks of
/// the network's chunk size); {0, -1} (all) without a group. ConfigError when a process would
/// get no chunk.
inline std::pair<int, int> own_batch_rows(const FitOptions& opt) {
  if (!opt.group) return {0, -1};
  const std::int64_t C = opt.trainer.chunk_size, chunks = (opt.batch + C - 1) / C;
  const int n = opt.group->size();
  if (chunks < n)
    throw ConfigError("batch = " + std::to_string(opt.batch) + " is too small for " + std::to_string(n) +
                      " processes: the batch is split into chunks of " + std::to_string(C) +
                      " samples, at least one per process, so valid are batch >= " + std::to_string(C * (n - 1) + 1) +
                      " (or at most " + std::to_string(chunks) + " processes)");
  const auto [a, b] = nn::share(chunks, opt.group->rank(), n);
  return {static_cast<int>(a * C), static_cast<int>(std::min<std::int64_t>(b * C, opt.batch))};
}

/// Every process's part of a batch (make_batch over own_batch_rows) to every process, and the
/// batch's mean ESS from all its samples: the batch one process makes alone.
inline void gather_batch(Batch& b, const FitOptions& opt) {
  const int n = opt.group->size(), B = b.size(), d = static_cast<int>(b.y.cols());
  const std::int64_t C = opt.trainer.chunk_size, chunks = (B + C - 1) / C, W = 2 * d + d * d + 2;
  std::vector<std::int64_t> counts(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) {
    const auto [c0, c1] = nn::share(chunks, r, n);
    counts[static_cast<std::size_t>(r)] = (std::min<std::int64_t>(c1 * C, B) - std::min<std::int64_t>(c0 * C, B)) * W;
  }
  Eigen::MatrixXd v(W, B);  // one column per sample: y, t, target, lambda, ess
  v.topRows(d) = b.y.transpose();
  v.row(d) = b.t.transpose();
  v.middleRows(d + 1, d) = b.target.transpose();
  v.middleRows(2 * d + 1, d * d) = b.lambda.transpose();
  v.row(W - 1) = b.row_ess.transpose();
  opt.group->sync();
  opt.group->allgather(std::span<double>(v.data(), static_cast<std::size_t>(v.size())), counts);
  b.y = v.topRows(d).transpose();
  b.t = v.row(d).transpose();
  b.target = v.middleRows(d + 1, d).transpose();
  b.lambda = v.middleRows(2 * d + 1, d * d).transpose();
  b.row_ess = v.row(W - 1).transpose();
  b.ess = mean_ess(b.row_ess);
}

/// Trains on `data` for the model given (its view's stepper advances snapshots to s).
/// `on_checkpoint` is called every opt.checkpoint_every steps (not after the last) with the
/// state so far; `opt.resume` continues a run from such a state. With opt.stop_at or
/// opt.time_limit the run may end early: result.trainer.steps() < opt.steps then.
/// Compiled once per dimension (score/instantiate/dim.cpp.in); the model-typed overload below wraps it.
template <int D>
FitResult fit_score(const ModelView<D>& model, const EnsembleData& data, FitOptions opt,
                    const std::function<void(const FitProgress&)>& progress = {},
                    const std::function<void(long, const nn::Trainer&)>& on_step = {},
                    const std::function<void(const FitResult&)>& on_checkpoint = {}) {
  opt.validate();
  const std::pair<int, int> own_rows = own_batch_rows(opt);  // all rows without a process group
  check_fit_settings(opt.holdout_every, opt.t_min, opt.t_max);  // before any work (checks.hpp)
  check_training_data(model, data, opt.holdout_every, "");
  if (opt.objective == Objective::dsm && !model.linear())
    throw ConfigError("objective dsm needs a closed-form transition, which model " + model.name() +
                      " (nonlinear drift) does not have: use local-dsm or ism");
  SnapshotSource<D> src(model, data, opt.holdout_every, false);
  const double span = src.t_last() - src.t_first();
  if (!(span > 0)) throw ConfigError("the ensemble needs at least two snapshot times to train on a time range");
  const FitState* const resume = opt.resume.get();
  const auto range = default_training_range(opt, src.t_first(), src.t_last());
  const double t_min = resume ? resume->t_min : range.first;
  const double t_max = resume ? resume->t_max : range.second;
  if (!(t_min > src.t_first()) || !(t_max > t_min) || t_max > src.t_last() + 1e-12)
    throw ConfigError("time range [t_min, t_max] = [" + detail::fmt_double(t_min) + ", " + detail::fmt_double(t_max) +
                      "] is invalid: it must satisfy " + detail::fmt_double(src.t_first()) + " < t_min < t_max <= " +
                      detail::fmt_double(src.t_last()) + " (the ensemble's snapshot times)");
  StepSchedule sch = resume ? resume->schedule : build_schedule(src, t_min, t_max, opt.schedule, random::derive_seed(opt.seed, "score-schedule"));

  opt.arch.input_dim = D;
  opt.arch.output_dim = D;
  if (opt.arch.time.t_max <= 0 || opt.arch.time.t_max < t_max) opt.arch.time.t_max = t_max;
  opt.trainer.seed = opt.seed;
  if (opt.trainer.schedule.decay == nn::LrSchedule::Decay::cosine) {
    opt.trainer.schedule.total_steps = opt.steps;  // a warm-up longer than the run is cut to fit it
    opt.trainer.schedule.warmup_steps = std::min<std::int64_t>(opt.trainer.schedule.warmup_steps, std::max(0L, opt.steps - 1));
  }
  FitResult res{nn::Trainer(opt.arch, opt.trainer), sch, {}, t_min, t_max, 0, 0, std::numeric_limits<double>::quiet_NaN(), {}};
  res.trainer.share_with(opt.group);
  long first_step = 0;
  double seconds_before = 0;
  if (resume) {
    const auto n = res.trainer.model().num_parameters();
    for (const auto* v : {&resume->raw_parameters, &resume->adam_m, &resume->adam_v, &resume->ema_parameters})
      if (static_cast<Eigen::Index>(v->size()) != n)
        throw ConfigError("cannot resume: the saved state has " + std::to_string(v->size()) + " values per parameter vector but the network has " +
                          std::to_string(n) + " parameters (architecture mismatch)");
    using V = nn::Trainer::Net::Vector;
    auto map = [](const std::vector<float>& v) { return Eigen::Map<const V>(v.data(), static_cast<Eigen::Index>(v.size())); };
    res.trainer.restore(map(resume->raw_parameters), map(resume->adam_m), map(resume->adam_v), resume->steps_done,
                        map(resume->ema_parameters), resume->ema_updates);
    res.curve = resume->curve;
    res.max_jitter = resume->max_jitter;
    res.initial_loss = resume->initial_loss;
    first_step = resume->steps_done;
    seconds_before = resume->seconds;
  }

  // Every random draw comes from a generator keyed by (seed, purpose, index): the initial pools
  // by pool index, each refresh by its refresh count, each batch by its step. A resumed run can
  // therefore rebuild the exact pools in use and continue with the exact draws.
  enum : std::uint64_t { initial_pool = 1, refreshed_pool = 2, batch_draws = 3 };
  const std::uint64_t purpose_seed[] = {0, random::derive_seed(opt.seed, "score-initial-pool"),
                                         random::derive_seed(opt.seed, "score-refreshed-pool"),
                                         random::derive_seed(opt.seed, "score-batch")};
  auto stream = [&](std::uint64_t purpose, std::uint64_t index) { return random::KeyedDraws(purpose_seed[purpose], index); };
  const bool local = opt.objective == Objective::local_dsm || opt.objective == Objective::local_dsm_ism ||
                     opt.objective == Objective::local_dsm_plain;
  // local-dsm (and its old name local-dsm-ism): the noiseless coordinates, from G at samples
  // spread over the whole data span (a stream of their own, so a resumed run finds the same set
  // and the other draws do not move); none -> plain local-DSM, bit for bit
  std::vector<int> noiseless;
  if (local && opt.objective != Objective::local_dsm_plain) {
    random::KeyedDraws rng(random::derive_seed(opt.seed, "score-noiseless"), 0);
    std::vector<Vec<double, D>> ys;
    std::vector<double> ts;
    for (int k = 0; k < 16; ++k) {
      const double t = src.t_first() + span * k / 15.0;
      for (const auto& y : src.sample_many(t, 64, rng)) {
        ys.push_back(y);
        ts.push_back(t);
      }
    }
    noiseless = noiseless_coordinates(model, ys, ts);
    if (static_cast<int>(noiseless.size()) == D)
      throw ConfigError("objective " + objective_name(opt.objective) + " needs noise in at least one coordinate: model " + model.name() +
                        " has a zero diffusion matrix on the data");
  }
  const bool mixed = !noiseless.empty();
  res.ism_coordinates = noiseless;
  const bool regression = (local && !mixed) || opt.objective == Objective::dsm;
  const Eigen::MatrixXd probes = noiseless.empty() ? Eigen::MatrixXd() : noiseless_probes(opt.batch, D, noiseless);
  auto make_pool = [&](double t, random::KeyedDraws& rng) {
    if (local) {
      auto p = make_local_dsm_pool(src, sch, t, opt.pool_size, opt.weight, opt.lin, rng);
      if (opt.target.ess_min > 0) assess_multi_sample(p, opt.target.reference_size, opt.target.ess_min, opt.target.ess_probes, rng);
      return p;
    }
    if (opt.objective == Objective::dsm) return make_dsm_pool(src, t, opt.pool_size, opt.weight, rng);
    KernelPool<D> p;  // ISM: samples of p_t itself, no kernels
    p.t = p.s = t;
    p.ys = src.sample_many(t, opt.pool_size, rng);
    p.lambda = weight_matrix<D>(opt.weight, Mat<double, D, D>(sch.sigma_bar_at(t)));
    return p;
  };
  auto refreshed = [&](std::uint64_t q) {  // the q-th refresh (0-based) replaces pool q % n_pools
    if (opt.on_refresh) opt.on_refresh(q);
    auto rng = stream(refreshed_pool, q);
    const double t = rng.uniform(t_min, t_max);
    return make_pool(t, rng);
  };
  const std::uint64_t refreshes_done = static_cast<std::uint64_t>(first_step) * opt.refresh_per_step;
  auto pool_in_slot = [&](std::int64_t i) {  // slot i's pool at the start of this run
    const auto n = static_cast<std::uint64_t>(opt.n_pools), ui = static_cast<std::uint64_t>(i);
    if (refreshes_done > ui) return refreshed(ui + n * ((refreshes_done - 1 - ui) / n));  // its last refresh before the resume point
    auto rng = stream(initial_pool, ui);
    return make_pool(t_min + (t_max - t_min) * (static_cast<double>(i) + 0.5) / opt.n_pools, rng);
  };
  // Over a process group, every pool is computed by one process and given to all
  // (detail/shared_pools.hpp): the initial pools round robin, the refreshes in blocks of size()
  // consecutive ones, process r computing the r-th of a block at its first step. A refresh is
  // installed at the step where one process would compute it (the pool it replaces serves the
  // batches before), so the blocks need not align with anything: a resumed run starts its first
  // block at its first refresh.
  nn::ProcessGroup* const sharing = opt.group && opt.group->size() > 1 ? opt.group : nullptr;
  std::vector<KernelPool<D>> pools;
  pools.reserve(opt.n_pools);
  if (sharing) {
    for (auto& sp : share_pools<D>(*sharing, opt.n_pools, pool_in_slot)) pools.push_back(take_shared(std::move(sp), *sharing));
  } else {
    for (int i = 0; i < opt.n_pools; ++i) pools.push_back(pool_in_slot(i));
  }
  for (const auto& p : pools) res.max_jitter = std::max(res.max_jitter, p.max_jitter);
  std::vector<SharedPool<D>> staged;  // refreshes staged_first, staged_first + 1, ... computed ahead
  std::uint64_t staged_first = 0;
  auto refresh = [&](std::uint64_t q) {  // the q-th refresh, q increasing by one per call
    if (!sharing) return refreshed(q);
    if (q - staged_first >= staged.size()) {  // the next block: size() refreshes, or those left to the last step
      const std::uint64_t left = static_cast<std::uint64_t>(opt.steps) * opt.refresh_per_step - q;
      staged = share_pools<D>(*sharing, static_cast<std::int64_t>(std::min<std::uint64_t>(sharing->size(), left)),
                                      [&](std::int64_t i) { return refreshed(q + static_cast<std::uint64_t>(i)); });
      staged_first = q;
    }
    return take_shared(std::move(staged[q - staged_first]), *sharing);
  };

  const int per = opt.batch / opt.groups;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  double acc = 0, acc_ess = 0;
  int acc_n = 0;
  LossGuard guard;  // non-finite or exploding block loss -> NumericalError naming the step
  guard.set_reference(res.initial_loss);
  if (resume && !guard.has_reference() && !resume->curve.empty()) {
    // a file from before initial_loss was stored: the smallest logged loss (it passed the guard)
    double m = std::abs(resume->curve.front().loss);
    for (const auto& p : resume->curve) m = std::min(m, std::abs(p.loss));
    guard.set_reference(m);
  }
  std::uint64_t next_refresh = refreshes_done;
  std::vector<int> order(opt.n_pools);
  Eigen::MatrixXd y(opt.batch, D);
  Eigen::VectorXd tt(opt.batch), w(opt.batch);
  for (long step = first_step; step < opt.steps; ++step) {
    for (int r = 0; r < opt.refresh_per_step; ++r, ++next_refresh) {
      auto& p = pools[next_refresh % static_cast<std::uint64_t>(opt.n_pools)];
      p = refresh(next_refresh);
      res.max_jitter = std::max(res.max_jitter, p.max_jitter);
    }
    auto rng = stream(batch_draws, static_cast<std::uint64_t>(step));
    // G distinct pools
    std::iota(order.begin(), order.end(), 0);
    for (int g = 0; g < opt.groups; ++g) std::swap(order[g], order[g + rng.uniform_int(opt.n_pools - g)]);
    std::vector<const KernelPool<D>*> chosen;
    for (int g = 0; g < opt.groups; ++g) chosen.push_back(&pools[order[g]]);
    nn::StepStats st;
    if (regression) {
      Batch b = make_batch<D>(chosen, per, opt.target, rng, own_rows);
      if (opt.group) gather_batch(b, opt);
      acc_ess += b.ess;
      st = res.trainer.step_regression(b.y, b.t, b.target, nn::LossWeights::matrix(stacked_weights(b)));
    } else if (mixed) {
      Batch b = make_batch<D>(chosen, per, opt.target, rng, own_rows);
      if (opt.group) gather_batch(b, opt);
      acc_ess += b.ess;
      const Eigen::MatrixXd lam = stacked_weights(b);
      st = res.trainer.step_custom(b.y, b.t, Eigen::VectorXd(), noiseless.empty() ? nn::Divergence::none() : nn::Divergence::hutchinson(probes),
                                   [&](const Eigen::MatrixXd& s, const Eigen::VectorXd& dv) { return mixed_loss(s, dv, b.target, lam, noiseless); });
    } else {
      for (int g = 0, i = 0; g < opt.groups; ++g) {
        const auto& P = *chosen[g];
        const double wt = P.lambda.trace() / D;
        for (int k = 0; k < per; ++k, ++i) {
          y.row(i) = P.ys[rng.uniform_int(P.size())].transpose();
          tt(i) = P.t;
          w(i) = wt;
        }
      }
      st = res.trainer.step_ism(y, tt, opt.objective == Objective::ism ? nn::DivergenceKind::exact : nn::DivergenceKind::hutchinson, w);
      acc_ess += 1;
    }
    if (!std::isfinite(st.loss))
      throw NumericalError("training diverged at step " + std::to_string(step) + ": loss = " + detail::fmt_double(st.loss) +
                           " (try a smaller --lr)");
    if (step == 0) {  // the untrained network's loss (taken before the update): the guard's reference
      res.initial_loss = st.loss;
      guard.set_reference(st.loss);
    }
    acc += st.loss;
    ++acc_n;
    // The curve is averaged over blocks of log_every steps counted from step 0, so a resumed
    // run (resumed at a checkpoint, i.e. a block boundary) logs the same blocks.
    if ((step + 1) % opt.log_every == 0 || step + 1 == opt.steps) {
      guard.observe(step + 1, acc / acc_n);
      res.curve.push_back({step + 1, acc / acc_n, st.lr, elapsed(), acc_ess / acc_n});
      if (progress) progress({step + 1, opt.steps, acc / acc_n, elapsed(), acc_ess / acc_n});
      acc = 0;
      acc_ess = 0;
      acc_n = 0;
    }
    if (on_step) on_step(step + 1, res.trainer);
    if (on_checkpoint && opt.checkpoint_every > 0 && (step + 1) % opt.checkpoint_every == 0 && step + 1 < opt.steps) {
      res.seconds = elapsed();
      on_checkpoint(res);
    }
    // A requested stop happens at a block boundary so that a resumed run logs the same blocks.
    // With a process group, the time limit is reached when any process's clock says so.
    if ((step + 1) % opt.log_every == 0 &&
        ((opt.stop_at > 0 && step + 1 >= opt.stop_at) ||
         (opt.time_limit > 0 && (opt.group ? opt.group->any(elapsed() - seconds_before >= opt.time_limit)
                                            : elapsed() - seconds_before >= opt.time_limit))))
      break;
  }
  res.seconds = elapsed();
  res.trainer.share_with(nullptr);  // the group is the caller's; the result stands alone
  return res;
}

/// The same for a model M whose snapshots stepper St advances.
template <SdeModel M, class St>
FitResult fit_score(const M& model, St stepper, const EnsembleData& data, FitOptions opt,
                    const std::function<void(const FitProgress&)>& progress = {},
                    const std::function<void(long, const nn::Trainer&)>& on_step = {},
                    const std::function<void(const FitResult&)>& on_checkpoint = {}) {
  return fit_score<M::state_dim>(ModelViewOf<M, St>(model, stepper), data, std::move(opt), progress, on_step, on_checkpoint);
}

/// Held-out ISM value (method.md 4.3): mean of |s|^2 + 2 div s over held-out samples of p_t at
/// the given times (exact divergence, EMA weights). Lower is better; it needs no reference.
template <int D>
double heldout_ism(const nn::Mlp<float>& net, const ModelView<D>& model, const EnsembleData& data, int holdout_every,
                   const std::vector<double>& times, int per_time, std::uint64_t seed, int threads) {
  SnapshotSource<D> src(model, data, holdout_every, true);
  random::KeyedDraws rng(random::derive_seed(seed, "score-heldout-ism"), 0);
  const int n = per_time * static_cast<int>(times.size());
  Eigen::MatrixXd y(n, D);
  Eigen::VectorXd t(n);
  for (std::size_t k = 0, i = 0; k < times.size(); ++k)
    for (int j = 0; j < per_time; ++j, ++i) {
      y.row(i) = src.sample(times[k], rng).transpose();
      t(i) = times[k];
    }
  const Eigen::MatrixXd s = net.evaluate(y, t, Eigen::VectorXd(), threads);
  const Eigen::VectorXd dv = net.divergence(y, t, Eigen::VectorXd(), threads);
  return (s.rowwise().squaredNorm() + 2 * dv).mean();
}

/// The same for a model M whose snapshots stepper St advances.
template <SdeModel M, class St>
double heldout_ism(const nn::Mlp<float>& net, const M& model, St stepper, const EnsembleData& data, int holdout_every,
                   const std::vector<double>& times, int per_time, std::uint64_t seed, int threads) {
  return heldout_ism<M::state_dim>(net, ModelViewOf<M, St>(model, stepper), data, holdout_every, times, per_time, seed, threads);
}

/// The same for a trainer's EMA weights.
template <SdeModel M, class St>
double heldout_ism(const nn::Trainer& tr, const M& model, St stepper, const EnsembleData& data, int holdout_every,
                   const std::vector<double>& times, int per_time, std::uint64_t seed) {
  return heldout_ism(tr.ema_model(), model, stepper, data, holdout_every, times, per_time, seed, tr.options().threads);
}

// Compiled once per dimension in score/instantiate/dim.cpp.in.
#define SDESCORE_FIT_DIM(D)                                                                                              \
  extern template FitResult fit_score<D>(const ModelView<D>&, const EnsembleData&, FitOptions,                           \
                                         const std::function<void(const FitProgress&)>&,                                 \
                                         const std::function<void(long, const nn::Trainer&)>&,                           \
                                         const std::function<void(const FitResult&)>&);                                  \
  extern template double heldout_ism<D>(const nn::Mlp<float>&, const ModelView<D>&, const EnsembleData&, int,            \
                                        const std::vector<double>&, int, std::uint64_t, int);
SDESCORE_FIT_DIM(1)
SDESCORE_FIT_DIM(2)
SDESCORE_FIT_DIM(3)
#undef SDESCORE_FIT_DIM

}  // namespace sdescore::score
