#pragma once
// local-DSM training targets (method.md 2.3, 2.5): Gaussian kernels of the SDE linearised at
// y_s, single-pair, antithetic and multi-sample self-normalised targets, and the
// y_s-independent weight Lambda(t).
//
// Batches are built from *pools*: a pool holds one time t, s = t - Delta(t), a set of samples
// y_s^j of p_s with their kernels N(m_j, Sigma_j), and Lambda(t) from the schedule. A batch takes
// G pools ("time groups") and B/G samples y_t from each; the multi-sample target of a y_t uses the
// pool's samples as its reference set (always including the sample that generated y_t).
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sdescore/core/parallel.hpp"
#include "sdescore/linearize/gaussian_transition.hpp"
#include "sdescore/score/ensemble_source.hpp"
#include "sdescore/score/schedule.hpp"
#include "sdescore/score/target_kernel.hpp"

namespace sdescore::score {

/// How the loss weighs a residual (never a function of y_s: method.md 2).
enum class WeightKind { covariance, scalar, none };

inline WeightKind parse_weight(const std::string& s) {
  if (s == "covariance") return WeightKind::covariance;
  if (s == "scalar") return WeightKind::scalar;
  if (s == "none") return WeightKind::none;
  throw ConfigError("weight '" + s + "' is unknown: valid weights are covariance, scalar, none");
}

template <int D>
struct KernelPool {
  double t = 0, s = 0, delta = 0;
  std::vector<Vec<double, D>> ys, mean;
  std::vector<Mat<double, D, D>> chol, prec;  ///< Sigma_j = L L^T, Sigma_j^{-1}
  std::vector<double> log_norm;               ///< -1/2 log det Sigma_j
  Mat<double, D, D> lambda = Mat<double, D, D>::Identity();  ///< the loss weight at t
  double max_jitter = 0;                      ///< largest Cholesky jitter used (reported)
  bool sorted = false;      ///< 1D: samples sorted by kernel mean (reference sets are windows of nearest kernels)
  double window = 0;        ///< 1D: kernels with |m_j - y| > window are skipped (6 x the largest kernel sd)
  bool multi = true;        ///< use the multi-sample target (false: its effective sample size is ~1)
  double ess = 1;           ///< estimated effective sample size of the multi-sample target
  /// Structure-of-arrays rows for the vectorised multi-sample target (target_kernel.hpp): D rows
  /// of means, D*D rows of precisions ((a, b) in row D + a + D b), one row of log_norm, each of
  /// leading dimension soa_ld (>= size() + simd::kRowPadding, padding zero).
  std::vector<double> soa;
  std::int64_t soa_ld = 0;
  int size() const { return static_cast<int>(ys.size()); }
};

/// "the local-linear kernel of y_s = (..) at s = .. over Delta = ..": context of a failed kernel.
template <int D>
std::string describe_kernel_sample(const Vec<double, D>& y, double s, double delta) {
  std::string out = "the local-linear kernel of y_s = (";
  for (int d = 0; d < D; ++d) out += (d ? ", " : "") + detail::fmt_double(y(d));
  return out + ") at s = " + detail::fmt_double(s) + " over Delta = " + detail::fmt_double(delta);
}

/// Fills a pool's structure-of-arrays target rows (soa, soa_ld) from its kernels (mean, prec,
/// log_norm, in their final order).
template <int D>
void fill_target_rows(KernelPool<D>& pool) {
  const int n = static_cast<int>(pool.mean.size());
  const std::int64_t ld = (n + simd::kRowPadding + 7) / 8 * 8;
  pool.soa_ld = ld;
  pool.soa.assign(static_cast<std::size_t>((D + D * D + 1) * ld), 0.0);
  double* rows = pool.soa.data();
  for (int j = 0; j < n; ++j) {
    for (int a = 0; a < D; ++a) rows[a * ld + j] = pool.mean[j](a);
    for (int ab = 0; ab < D * D; ++ab) rows[(D + ab) * ld + j] = pool.prec[j].data()[ab];
    rows[(D + D * D) * ld + j] = pool.log_norm[j];
  }
}

/// A pool as raw doubles (its sizes and flags as exact integers), appended to `out`: every field
/// but the target rows, which read_pool rebuilds from the kernels (the same bits). For the pools
/// the processes of a training run compute in turn and give each other (docs/distributed.md).
template <int D>
void append_pool(const KernelPool<D>& pool, std::vector<double>& out) {
  const std::size_t n = pool.ys.size(), nk = pool.mean.size();
  if ((nk != 0 && nk != n) || pool.chol.size() != nk || pool.prec.size() != nk || pool.log_norm.size() != nk)
    throw NumericalError("append_pool: a pool of " + std::to_string(n) + " samples has " + std::to_string(nk) + " kernel means, " +
                         std::to_string(pool.chol.size()) + " factors, " + std::to_string(pool.prec.size()) + " precisions and " +
                         std::to_string(pool.log_norm.size()) + " normalisers (all must be 0 or " + std::to_string(n) + ")");
  for (double v : {static_cast<double>(n), static_cast<double>(nk), pool.t, pool.s, pool.delta, pool.max_jitter,
                   pool.sorted ? 1.0 : 0.0, pool.window, pool.multi ? 1.0 : 0.0, pool.ess})
    out.push_back(v);
  auto put = [&out](const auto& m) { out.insert(out.end(), m.data(), m.data() + m.size()); };
  put(pool.lambda);
  for (const auto& v : pool.ys) put(v);
  for (const auto& v : pool.mean) put(v);
  for (const auto& m : pool.chol) put(m);
  for (const auto& m : pool.prec) put(m);
  put(pool.log_norm);
}

/// The pool append_pool wrote at in[pos], bit for bit; pos moves past it. NumericalError when the
/// record is cut short.
template <int D>
KernelPool<D> read_pool(std::span<const double> in, std::size_t& pos) {
  auto take = [&](std::size_t count) {
    if (in.size() - std::min(pos, in.size()) < count)
      throw NumericalError("read_pool: a pool record ends after " + std::to_string(in.size()) + " values, " +
                           std::to_string(pos + count) + " expected");
    const double* p = in.data() + pos;
    pos += count;
    return p;
  };
  const double* h = take(10);
  const auto n = static_cast<std::size_t>(h[0]), nk = static_cast<std::size_t>(h[1]);
  KernelPool<D> pool;
  pool.t = h[2];
  pool.s = h[3];
  pool.delta = h[4];
  pool.max_jitter = h[5];
  pool.sorted = h[6] != 0;
  pool.window = h[7];
  pool.multi = h[8] != 0;
  pool.ess = h[9];
  auto get = [&](auto& m) {
    const double* p = take(static_cast<std::size_t>(m.size()));
    std::copy(p, p + m.size(), m.data());
  };
  get(pool.lambda);
  pool.ys.resize(n);
  for (auto& v : pool.ys) get(v);
  pool.mean.resize(nk);
  for (auto& v : pool.mean) get(v);
  pool.chol.resize(nk);
  for (auto& m : pool.chol) get(m);
  pool.prec.resize(nk);
  for (auto& m : pool.prec) get(m);
  pool.log_norm.resize(nk);
  get(pool.log_norm);
  if (nk > 0) fill_target_rows(pool);
  return pool;
}

/// Fills a pool's kernels from its samples ys at time s over delta.
template <int D>
void compute_kernels(const ModelView<D>& m, KernelPool<D>& pool, const LinearizationOptions& lin) {
  const int n = pool.size();
  pool.mean.resize(n);
  pool.chol.resize(n);
  pool.prec.resize(n);
  pool.log_norm.resize(n);
  double jit_max = 0;
  ParallelErrors errors;  // a failed factorisation is raised after the loop, naming the sample
#pragma omp parallel for schedule(static) reduction(max : jit_max)
  for (int j = 0; j < n; ++j) errors.run(j, [&] {
    const auto tr = m.transition(pool.ys[j], pool.s, pool.delta, lin);
    // a non-finite mean (a drift that overflows far out) would also break the 1D sort below
    if (!tr.mean.allFinite()) throw NumericalError("the kernel mean is not finite (the drift overflows there)");
    double jit = 0;
    const Mat<double, D, D> L = robust_cholesky<D>(tr.cov, &jit);
    jit_max = std::max(jit_max, jit);
    const Mat<double, D, D> Linv = L.template triangularView<Eigen::Lower>().solve(Mat<double, D, D>::Identity());
    pool.mean[j] = tr.mean;
    pool.chol[j] = L;
    pool.prec[j] = Linv.transpose() * Linv;
    pool.log_norm[j] = -L.diagonal().array().log().sum();
  });
  errors.rethrow([&](std::int64_t j) { return describe_kernel_sample(pool.ys[j], pool.s, pool.delta); });
  pool.max_jitter = jit_max;
  if constexpr (D == 1) {  // sort by kernel mean: the R nearest kernels of a point are a window
    // (mean, index) pairs sorted directly: the order of a stable sort by mean (ties by index)
    // without its indirect comparisons and merge buffers
    std::vector<std::pair<double, int>> key(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) key[j] = {pool.mean[j](0), j};
    std::sort(key.begin(), key.end());
    std::vector<int> idx(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) idx[j] = key[j].second;
    auto permute = [&](auto& v) {
      auto w = v;
      for (int j = 0; j < n; ++j) v[j] = w[idx[j]];
    };
    permute(pool.ys);
    permute(pool.mean);
    permute(pool.chol);
    permute(pool.prec);
    permute(pool.log_norm);
    pool.sorted = true;
    double var = 0;
    for (const auto& L : pool.chol) var = std::max(var, L(0, 0) * L(0, 0));
    pool.window = 6 * std::sqrt(var);  // a skipped kernel's weight is < e^-18 of the nearest one's
  }
  fill_target_rows(pool);
}

/// The same for a model type (its view with the sampler stepper).
template <SdeModel M>
void compute_kernels(const M& m, KernelPool<M::state_dim>& pool, const LinearizationOptions& lin) {
  compute_kernels<M::state_dim>(ModelViewOf<M>(m), pool, lin);
}

template <int D>
Mat<double, D, D> weight_matrix(WeightKind w, const Mat<double, D, D>& sigma_bar) {
  switch (w) {
    case WeightKind::covariance: return sigma_bar;
    case WeightKind::scalar: return Mat<double, D, D>::Identity() * (sigma_bar.trace() / D);
    default: return Mat<double, D, D>::Identity();
  }
}

/// A local-DSM pool at time t: `size` samples of p_s, s = max(t - Delta(t), t_first).
template <int D>
KernelPool<D> make_local_dsm_pool(const SnapshotSource<D>& src, const StepSchedule& sch, double t, int size, WeightKind w,
                                  const LinearizationOptions& lin, random::KeyedDraws& rng) {
  KernelPool<D> pool;
  pool.t = t;
  pool.s = std::max(src.t_first(), t - sch.delta_at(t));
  pool.delta = t - pool.s;
  if (!(pool.delta > 0))
    throw ConfigError("local-DSM: no room for a step at t = " + detail::fmt_double(t) + ": t must exceed the first snapshot time " +
                      detail::fmt_double(src.t_first()));
  pool.ys = src.sample_many(pool.s, size, rng);
  compute_kernels(src.model(), pool, lin);
  pool.lambda = weight_matrix<D>(w, Mat<double, D, D>(sch.sigma_bar_at(t)));
  return pool;
}

/// A DSM pool (linear models): s is the first snapshot, Delta = t - t_first, and the linearised
/// kernel is the exact transition.
template <int D>
KernelPool<D> make_dsm_pool(const SnapshotSource<D>& src, double t, int size, WeightKind w, random::KeyedDraws& rng) {
  KernelPool<D> pool;
  pool.t = t;
  pool.s = src.t_first();
  pool.delta = t - pool.s;
  if (!(pool.delta > 0)) throw ConfigError("DSM: t = " + detail::fmt_double(t) + " must exceed the first snapshot time");
  pool.ys = src.sample_many(pool.s, size, rng);
  compute_kernels(src.model(), pool, LinearizationOptions{.ito_corrected_mean = false});
  // Sigma_t does not depend on y_0 for a linear SDE, so the weight is y_0-independent
  Mat<double, D, D> sb = Mat<double, D, D>::Zero();
  for (const auto& L : pool.chol) sb += L * L.transpose();
  pool.lambda = weight_matrix<D>(w, Mat<double, D, D>(sb / pool.size()));
  return pool;
}

/// Self-normalised multi-sample target at y (method.md 2.3):
///   sum_k w_k (-P_k (y - m_k)),  w_k  proportional to  N(y; m_k, Sigma_k),
/// over a reference set of at most R pool samples that always includes the generator of y. In 1D
/// (sorted pool) the set is the kernels whose means lie within pool.window = 6 sd of y (a skipped
/// kernel's weight is below e^-18 of the nearest one's, so nothing measurable is lost), and if
/// there are more than R of them, the R nearest (a truncation: R below the window's content biases
/// the target towards the local average; keep R at the pool size). Otherwise the set is the first
/// R samples of the pool (a random subset: pool samples are i.i.d.). If the generator is not in
/// the set it replaces its last member. Vectorised over the reference set (structure-of-arrays pool
/// rows, runtime SIMD dispatch: target_kernel.hpp; same bits on every target with FMA).
/// *ess, if given, receives the effective sample size (sum w)^2 / sum w^2 of the weights.
template <int D>
Vec<double, D> multi_sample_target(const KernelPool<D>& pool, const Vec<double, D>& y, int generator, int R,
                                   double* ess = nullptr) {
  const int n = pool.size();
  const std::int64_t ld = pool.soa_ld;
  int count = std::min(R, n), first = 0;
  if (pool.sorted) {
    const double* m = pool.soa.data();  // row 0: the kernel means, sorted
    const int lo = static_cast<int>(std::lower_bound(m, m + n, y(0) - pool.window) - m);
    const int hi = static_cast<int>(std::upper_bound(m, m + n, y(0) + pool.window) - m);
    if (hi - lo <= count) {
      first = lo;
      count = std::max(hi - lo, 1);
      first = std::min(first, n - count);
    } else {
      const int pos = static_cast<int>(std::lower_bound(m, m + n, y(0)) - m);
      first = std::clamp(pos - count / 2, lo, hi - count);
    }
  }
  // the window's kernels, except its last one when the generator must be swapped in for it
  const bool generator_in = generator >= first && generator < first + count;
  const int nk = generator_in ? count : count - 1;
  double mx = -std::numeric_limits<double>::infinity(), sw = 0, sw2 = 0;
  Vec<double, D> swpr = Vec<double, D>::Zero();
  if (nk > 0) {
    if constexpr (D <= simd::kMaxDim) {  // runtime-dispatched SIMD kernel (target_kernel.cpp)
      const auto t = simd::target_sums(D, nk, pool.soa.data() + first, ld, y.data());
      mx = t.max_log_w;
      sw = t.sum_w;
      sw2 = t.sum_w2;
      for (int a = 0; a < D; ++a) swpr(a) = t.sum_w_pr[a];
    } else {
      thread_local std::vector<double> lw, pr;
      lw.resize(static_cast<std::size_t>(nk));
      pr.resize(static_cast<std::size_t>(nk) * D);
      const double* rows = pool.soa.data() + first;
      for (int k = 0; k < nk; ++k) {
        Vec<double, D> r;
        for (int a = 0; a < D; ++a) r(a) = y(a) - rows[a * ld + k];
        double q = 0;
        for (int a = 0; a < D; ++a) {
          double v = 0;
          for (int b = 0; b < D; ++b) v += rows[(D + a + D * b) * ld + k] * r(b);
          pr[static_cast<std::size_t>(k) * D + a] = v;
          q += r(a) * v;
        }
        lw[k] = rows[(D + D * D) * ld + k] - 0.5 * q;
        mx = std::max(mx, lw[k]);
      }
      for (int k = 0; k < nk; ++k) {
        const double w = std::exp(lw[k] - mx);
        sw += w;
        sw2 += w * w;
        for (int a = 0; a < D; ++a) swpr(a) += w * pr[static_cast<std::size_t>(k) * D + a];
      }
    }
  }
  if (!generator_in) {  // the generator's own term, merged into the max-shifted sums
    const Vec<double, D> rg = y - pool.mean[generator];
    const Vec<double, D> pg = pool.prec[generator] * rg;
    const double lg = pool.log_norm[generator] - 0.5 * rg.dot(pg);
    if (lg > mx) {
      const double scale = std::exp(mx - lg);
      sw *= scale;
      sw2 *= scale * scale;
      swpr *= scale;
      mx = lg;
    }
    const double w = std::exp(lg - mx);
    sw += w;
    sw2 += w * w;
    swpr += w * pg;
  }
  if (ess) *ess = sw * sw / sw2;
  return -swpr / sw;
}

/// Decides whether a pool's multi-sample target is worth its cost (method.md 2.3, issue 16):
/// estimates the effective sample size of its weights from `probes` points y_t ~ the pool's
/// kernels and keeps the multi-sample target only if it exceeds ess_min. Below that the target
/// is the single-pair one: on needle-thin kernels (hypoelliptic models, tiny Delta) the average
/// reduces to the generator's own term and costs R kernel evaluations for nothing.
template <int D>
void assess_multi_sample(KernelPool<D>& pool, int R, double ess_min, int probes, random::KeyedDraws& rng) {
  if (R <= 1 || pool.size() <= 1) {
    pool.multi = false;
    pool.ess = 1;
    return;
  }
  double acc = 0;
  // the draws in order, the probes' targets in parallel, their ESS summed in order (the same
  // bits for any thread count)
  std::vector<int> gen(static_cast<std::size_t>(probes));
  std::vector<Vec<double, D>> eps(static_cast<std::size_t>(probes));
  std::vector<double> ess(static_cast<std::size_t>(probes), 1.0);
  for (int i = 0; i < probes; ++i) {
    gen[i] = rng.uniform_int(pool.size());
    for (int c = 0; c < D; ++c) eps[i](c) = rng.normal();
  }
#pragma omp parallel for schedule(dynamic, 4)
  for (int i = 0; i < probes; ++i) {
    const Vec<double, D> y = pool.mean[gen[i]] + pool.chol[gen[i]] * eps[i];
    multi_sample_target<D>(pool, y, gen[i], R, &ess[i]);
  }
  for (int i = 0; i < probes; ++i) acc += ess[i];
  pool.ess = acc / probes;
  pool.multi = pool.ess > ess_min;
}

/// A training batch: points, their times, regression targets and per-sample weights.
struct Batch {
  Eigen::MatrixXd y;       ///< B x d
  Eigen::VectorXd t;       ///< B
  Eigen::MatrixXd target;  ///< B x d
  Eigen::MatrixXd lambda;  ///< B x (d*d), column-major d x d weight per sample
  Eigen::VectorXd row_ess; ///< B, the effective sample size of each target (1: single-pair)
  double ess = 1;          ///< mean effective sample size of the targets (1 for single-pair targets)
  int size() const { return static_cast<int>(y.rows()); }
};

/// The per-sample weights of a batch stacked as d x (d*B) (block i = Lambda_i), the layout of
/// nn::LossWeights::matrix. (Batch::lambda is column-major, so its rows are strided: copy each
/// row before reading it as a d x d block.)
inline Eigen::MatrixXd stacked_weights(const Batch& b) {
  const int d = static_cast<int>(b.y.cols());
  Eigen::MatrixXd stacked(d, d * b.size());
  Eigen::RowVectorXd row(d * d);
  for (int i = 0; i < b.size(); ++i) {
    row = b.lambda.row(i);
    stacked.middleCols(i * d, d) = Eigen::Map<const Eigen::MatrixXd>(row.data(), d, d);
  }
  return stacked;
}

struct TargetOptions {
  int reference_size = 1024;  ///< R (at most); 1 gives the plain single-pair target
  bool antithetic = false;    ///< y_t = m +- L eps in pairs
  double ess_min = 1.5;       ///< pools whose multi-sample ESS is <= this use the single-pair target (0: never)
  int ess_probes = 32;        ///< points per pool for the ESS estimate
};

/// The mean of a batch's per-sample effective sample sizes, summed in sample order (the same
/// bits for any thread or process count).
inline double mean_ess(const Eigen::VectorXd& row_ess) {
  double sum = 0;
  for (Eigen::Index i = 0; i < row_ess.size(); ++i) sum += row_ess[i];
  return sum / static_cast<double>(row_ess.size());
}

/// Draws `per_pool` points y_t from each pool (ys[j] -> N(m_j, Sigma_j)) and their targets.
/// All draws are made (they are sequential and cheap); points, targets and weights are computed
/// for the samples [rows.first, rows.second) only (rows.second < 0: to the end), the others are
/// left zero (a process of a data-parallel run computes its own part, nn/process_group.hpp).
template <int D>
Batch make_batch(const std::vector<const KernelPool<D>*>& pools, int per_pool, const TargetOptions& opt, random::KeyedDraws& rng,
                 std::pair<int, int> rows = {0, -1}) {
  if (opt.reference_size < 1)
    throw ConfigError("reference_size R = " + std::to_string(opt.reference_size) + " is invalid: it must be >= 1");
  const int B = per_pool * static_cast<int>(pools.size());
  const int first = std::clamp(rows.first, 0, B), end = rows.second < 0 ? B : std::clamp(rows.second, first, B);
  Batch b;
  b.y.setZero(B, D);
  b.t.setZero(B);
  b.target.setZero(B, D);
  b.lambda.setZero(B, D * D);
  b.row_ess.setZero(B);
  std::vector<int> gen(B), pool_of(B);
  std::vector<Vec<double, D>> eps(B);
  // all random draws first, sequentially: deterministic for a seed whatever the thread count
  for (int g = 0, i = 0; g < static_cast<int>(pools.size()); ++g) {
    const auto& P = *pools[g];
    for (int k = 0; k < per_pool; ++k, ++i) {
      pool_of[i] = g;
      if (opt.antithetic && k % 2 == 1) {
        gen[i] = gen[i - 1];
        eps[i] = -eps[i - 1];
      } else {
        gen[i] = rng.uniform_int(P.size());
        for (int c = 0; c < D; ++c) eps[i](c) = rng.normal();
      }
    }
  }
  // dynamic: a target's cost follows its pool's window (up to R kernels), which differs between
  // the batch's time groups; each sample is independent, so the bits do not depend on the schedule
#pragma omp parallel for schedule(dynamic, 16)
  for (int i = first; i < end; ++i) {
    const auto& P = *pools[pool_of[i]];
    const int j = gen[i];
    const Vec<double, D> y = P.mean[j] + P.chol[j] * eps[i];
    Vec<double, D> target;
    double ess = 1;
    if (opt.reference_size == 1 || !P.multi)  // -Sigma^{-1}(y - m) = -L^{-T} eps
      target = -P.chol[j].transpose().template triangularView<Eigen::Upper>().solve(eps[i]);
    else
      target = multi_sample_target<D>(P, y, j, opt.reference_size, &ess);
    b.row_ess[i] = ess;
    b.y.row(i) = y.transpose();
    b.t(i) = P.t;
    b.target.row(i) = target.transpose();
    b.lambda.row(i) = Eigen::Map<const Eigen::Matrix<double, 1, D * D>>(P.lambda.data());
  }
  b.ess = mean_ess(b.row_ess);
  return b;
}

}  // namespace sdescore::score
