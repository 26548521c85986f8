#pragma once
// Training a score model s_theta(y, t) on an ensemble with one of the objectives of method.md 2:
//   local-dsm       (default)  regression on local-linearisation targets, Lambda(t) weights
//   dsm             linear models only: regression on the exact transition from t_first
//   ism             Hyvarinen's implicit score matching, exact divergence
//   ism-hutchinson  ISM with a Hutchinson divergence estimate
// Batches are G time groups drawn from a set of pools (local_dsm.hpp); one pool is refreshed per
// step (round robin) at a fresh uniform time in [t_min, t_max], so times are continuous.
#include <chrono>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "sdescore/nn/trainer.hpp"
#include "sdescore/score/local_dsm.hpp"

namespace sdescore::score {

enum class Objective { local_dsm, dsm, ism, ism_hutchinson };

inline Objective parse_objective(const std::string& s) {
  if (s == "local-dsm") return Objective::local_dsm;
  if (s == "dsm") return Objective::dsm;
  if (s == "ism") return Objective::ism;
  if (s == "ism-hutchinson") return Objective::ism_hutchinson;
  throw ConfigError("objective '" + s + "' is unknown: valid objectives are local-dsm, ism, ism-hutchinson, dsm");
}
inline std::string objective_name(Objective o) {
  switch (o) {
    case Objective::local_dsm: return "local-dsm";
    case Objective::dsm: return "dsm";
    case Objective::ism: return "ism";
    default: return "ism-hutchinson";
  }
}

/// Models whose drift is affine and noise additive declare `static constexpr bool linear = true`.
template <class M>
inline constexpr bool is_linear_model_v = requires { requires M::linear; };

struct FitOptions {
  Objective objective = Objective::local_dsm;
  long steps = 5000;
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
  nn::TrainerOptions trainer{};
  std::uint64_t seed = 1;
  int log_every = 50;             ///< loss-curve resolution (steps averaged per point)

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
    if (target.antithetic && (batch / groups) % 2 != 0)
      throw ConfigError("antithetic pairs need an even number of samples per group; batch/groups = " +
                        std::to_string(batch / groups));
  }
};

struct LossPoint {
  long step;
  double loss, lr, seconds;
};

struct FitProgress {
  long step, total;
  double loss, seconds;
};

/// The trained model and what produced it.
struct FitResult {
  nn::Trainer trainer;
  StepSchedule schedule;
  std::vector<LossPoint> curve;
  double t_min = 0, t_max = 0;
  double seconds = 0;
  double max_jitter = 0;  ///< largest Cholesky jitter used by any kernel (hypoelliptic models)
};

/// Trains on `data` for the model and stepper given (the stepper advances snapshots to s).
template <SdeModel M, class St>
FitResult fit_score(const M& model, St stepper, const EnsembleData& data, FitOptions opt,
                    const std::function<void(const FitProgress&)>& progress = {},
                    const std::function<void(long, const nn::Trainer&)>& on_step = {}) {
  constexpr int D = M::state_dim;
  opt.validate();
  if (opt.objective == Objective::dsm && !is_linear_model_v<M>)
    throw ConfigError("objective dsm needs a closed-form transition, which model " + std::string(M::name) +
                      " (nonlinear drift) does not have: use local-dsm or ism");
  EnsembleSource<M, St> src(model, stepper, data, opt.holdout_every, false);
  const double span = src.t_last() - src.t_first();
  if (!(span > 0)) throw ConfigError("the ensemble needs at least two snapshot times to train on a time range");
  std::mt19937_64 rng(opt.seed);
  const double t_min = opt.t_min >= 0 ? opt.t_min
                                      : src.t_first() + (opt.schedule.kind == "fixed" ? std::min(opt.schedule.delta, 0.01 * span)
                                                                                      : std::min(opt.schedule.delta_max, 0.01 * span));
  const double t_max = opt.t_max >= 0 ? opt.t_max : src.t_last();
  if (!(t_min > src.t_first()) || !(t_max > t_min) || t_max > src.t_last() + 1e-12)
    throw ConfigError("time range [t_min, t_max] = [" + detail::fmt_double(t_min) + ", " + detail::fmt_double(t_max) +
                      "] is invalid: it must satisfy " + detail::fmt_double(src.t_first()) + " < t_min < t_max <= " +
                      detail::fmt_double(src.t_last()) + " (the ensemble's snapshot times)");
  StepSchedule sch = build_schedule(src, t_min, t_max, opt.schedule, opt.seed ^ 0xabcdefull);

  opt.arch.input_dim = D;
  opt.arch.output_dim = D;
  if (opt.arch.time.t_max <= 0 || opt.arch.time.t_max < t_max) opt.arch.time.t_max = t_max;
  opt.trainer.seed = opt.seed;
  if (opt.trainer.schedule.decay == nn::LrSchedule::Decay::cosine) opt.trainer.schedule.total_steps = opt.steps;
  FitResult res{nn::Trainer(opt.arch, opt.trainer), sch, {}, t_min, t_max, 0, 0};

  std::uniform_real_distribution<double> ut(t_min, t_max);
  const bool regression = opt.objective == Objective::local_dsm || opt.objective == Objective::dsm;
  auto make_pool = [&](double t) {
    if (opt.objective == Objective::local_dsm)
      return make_local_dsm_pool(src, sch, t, opt.pool_size, opt.weight, opt.lin, rng);
    if (opt.objective == Objective::dsm) return make_dsm_pool(src, t, opt.pool_size, opt.weight, rng);
    KernelPool<D> p;  // ISM: samples of p_t itself, no kernels
    p.t = p.s = t;
    p.ys.resize(opt.pool_size);
    for (auto& y : p.ys) y = src.sample(t, rng);
    p.lambda = weight_matrix<D>(opt.weight, Mat<double, D, D>(sch.sigma_bar_at(t)));
    return p;
  };
  std::vector<KernelPool<D>> pools;
  pools.reserve(opt.n_pools);
  for (int i = 0; i < opt.n_pools; ++i) pools.push_back(make_pool(t_min + (t_max - t_min) * (i + 0.5) / opt.n_pools));
  for (const auto& p : pools) res.max_jitter = std::max(res.max_jitter, p.max_jitter);

  const int per = opt.batch / opt.groups;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  double acc = 0;
  int acc_n = 0;
  long next_refresh = 0;
  std::vector<int> order(opt.n_pools);
  Eigen::MatrixXd y(opt.batch, D);
  Eigen::VectorXd tt(opt.batch), w(opt.batch);
  for (long step = 0; step < opt.steps; ++step) {
    for (int r = 0; r < opt.refresh_per_step; ++r) {
      auto& p = pools[next_refresh++ % opt.n_pools];
      p = make_pool(ut(rng));
      res.max_jitter = std::max(res.max_jitter, p.max_jitter);
    }
    // G distinct pools
    std::iota(order.begin(), order.end(), 0);
    for (int g = 0; g < opt.groups; ++g) std::swap(order[g], order[g + std::uniform_int_distribution<int>(0, opt.n_pools - 1 - g)(rng)]);
    std::vector<const KernelPool<D>*> chosen;
    for (int g = 0; g < opt.groups; ++g) chosen.push_back(&pools[order[g]]);
    nn::StepStats st;
    if (regression) {
      const Batch b = make_batch<D>(chosen, per, opt.target, rng);
      st = res.trainer.step_regression(b.y, b.t, b.target, nn::LossWeights::matrix(stacked_weights(b)));
    } else {
      for (int g = 0, i = 0; g < opt.groups; ++g) {
        const auto& P = *chosen[g];
        std::uniform_int_distribution<int> pick(0, P.size() - 1);
        const double wt = P.lambda.trace() / D;
        for (int k = 0; k < per; ++k, ++i) {
          y.row(i) = P.ys[pick(rng)].transpose();
          tt(i) = P.t;
          w(i) = wt;
        }
      }
      st = res.trainer.step_ism(y, tt, opt.objective == Objective::ism ? nn::DivergenceKind::exact : nn::DivergenceKind::hutchinson, w);
    }
    if (!std::isfinite(st.loss))
      throw NumericalError("training diverged at step " + std::to_string(step) + ": loss = " + detail::fmt_double(st.loss) +
                           " (try a smaller --lr)");
    acc += st.loss;
    ++acc_n;
    if (acc_n == opt.log_every || step + 1 == opt.steps) {
      res.curve.push_back({step + 1, acc / acc_n, st.lr, elapsed()});
      if (progress) progress({step + 1, opt.steps, acc / acc_n, elapsed()});
      acc = 0;
      acc_n = 0;
    }
    if (on_step) on_step(step + 1, res.trainer);
  }
  res.seconds = elapsed();
  return res;
}

/// Held-out ISM value (method.md 4.3): mean of |s|^2 + 2 div s over held-out samples of p_t at
/// the given times (exact divergence, EMA weights). Lower is better; it needs no reference.
template <SdeModel M, class St>
double heldout_ism(const nn::Trainer& tr, const M& model, St stepper, const EnsembleData& data, int holdout_every,
                   const std::vector<double>& times, int per_time, std::uint64_t seed) {
  constexpr int D = M::state_dim;
  EnsembleSource<M, St> src(model, stepper, data, holdout_every, true);
  std::mt19937_64 rng(seed);
  const int n = per_time * static_cast<int>(times.size());
  Eigen::MatrixXd y(n, D);
  Eigen::VectorXd t(n);
  for (std::size_t k = 0, i = 0; k < times.size(); ++k)
    for (int j = 0; j < per_time; ++j, ++i) {
      y.row(i) = src.sample(times[k], rng).transpose();
      t(i) = times[k];
    }
  const auto net = tr.ema_model();
  const Eigen::MatrixXd s = net.evaluate(y, t, Eigen::VectorXd(), tr.options().threads);
  const Eigen::VectorXd dv = net.divergence(y, t, Eigen::VectorXd(), tr.options().threads);
  return (s.rowwise().squaredNorm() + 2 * dv).mean();
}

}  // namespace sdescore::score
