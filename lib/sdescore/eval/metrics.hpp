#pragma once
/// \file
/// Distances between two sample sets a (n x d) and b (m x d) (docs/evaluation.md, section 4):
/// energy distance (U-statistic), sliced Wasserstein-1, errors of mean, covariance and
/// per-coordinate excess kurtosis, all in one call (compare_samples), and the same metrics
/// with a Monte-Carlo noise floor from two independent reference ensembles.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "sdescore/core/error.hpp"

namespace sdescore::eval {

namespace detail {
inline void check_pair(const char* what, const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, Eigen::Index min_rows = 1) {
  if (a.cols() != b.cols() || a.cols() < 1)
    throw ConfigError(std::string(what) + ": the sample sets have " + std::to_string(a.cols()) + " and " +
                      std::to_string(b.cols()) + " columns (they must have the same dimension >= 1)");
  if (a.rows() < min_rows || b.rows() < min_rows)
    throw ConfigError(std::string(what) + ": the sample sets have " + std::to_string(a.rows()) + " and " +
                      std::to_string(b.rows()) + " rows (at least " + std::to_string(min_rows) + " each needed)");
  if (!a.allFinite() || !b.allFinite()) throw ConfigError(std::string(what) + ": a sample set has non-finite values");
}
/// At most max_n rows, a uniformly random subset without replacement (seeded) if larger.
inline Eigen::MatrixXd subsample(const Eigen::MatrixXd& x, Eigen::Index max_n, std::uint64_t seed) {
  if (max_n <= 0 || x.rows() <= max_n) return x;
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(x.rows()));
  std::iota(idx.begin(), idx.end(), Eigen::Index(0));
  std::mt19937_64 gen(seed);
  // partial Fisher-Yates: the first max_n entries are a uniform subset
  for (Eigen::Index i = 0; i < max_n; ++i) {
    std::uniform_int_distribution<Eigen::Index> u(i, x.rows() - 1);
    std::swap(idx[static_cast<std::size_t>(i)], idx[static_cast<std::size_t>(u(gen))]);
  }
  Eigen::MatrixXd r(max_n, x.cols());
  for (Eigen::Index i = 0; i < max_n; ++i) r.row(i) = x.row(idx[static_cast<std::size_t>(i)]);
  return r;
}
/// sum_{i,j} ||x_i - y_j|| (all pairs), or over i != j if same.
inline double pair_distance_sum(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y) {
  const Eigen::MatrixXd xt = x.transpose(), yt = y.transpose();  // columns = points, contiguous
  const Eigen::Index n = xt.cols(), m = yt.cols();
  // per-row sums in parallel, then a serial sum: the result does not depend on the threads
  Eigen::VectorXd rows(n);
#pragma omp parallel for schedule(dynamic, 16) if (n * m > 100000)
  for (Eigen::Index i = 0; i < n; ++i) {
    double row = 0;
    for (Eigen::Index j = 0; j < m; ++j) row += (xt.col(i) - yt.col(j)).norm();
    rows(i) = row;
  }
  double acc = 0;
  for (Eigen::Index i = 0; i < n; ++i) acc += rows(i);
  return acc;
}
}  // namespace detail

struct EnergyOptions {
  Eigen::Index max_samples = 2000;  ///< per set; larger sets are subsampled (seeded). <= 0: no limit
  std::uint64_t seed = 7;           ///< subsampling seed
};

/// Energy distance (Szekely-Rizzo), squared form:
///   E(a, b) = 2 E||X - Y|| - E||X - X'|| - E||Y - Y'||   (>= 0, = 0 iff equal laws),
/// estimated without bias: the cross term averages all n m pairs, the within terms all
/// ordered pairs i != j (U-statistics), so the estimate can be slightly negative for equal
/// laws; its fluctuation is O(1/n) then. O(n^2): sets larger than opts.max_samples are
/// subsampled first.
inline double energy_distance(const Eigen::MatrixXd& a_in, const Eigen::MatrixXd& b_in, const EnergyOptions& opts = {}) {
  detail::check_pair("energy_distance", a_in, b_in, 2);
  const Eigen::MatrixXd a = detail::subsample(a_in, opts.max_samples, opts.seed);
  const Eigen::MatrixXd b = detail::subsample(b_in, opts.max_samples, opts.seed + 1);
  const double n = double(a.rows()), m = double(b.rows());
  const double xy = detail::pair_distance_sum(a, b) / (n * m);
  const double xx = detail::pair_distance_sum(a, a) / (n * (n - 1));  // diagonal terms are 0
  const double yy = detail::pair_distance_sum(b, b) / (m * (m - 1));
  return 2 * xy - xx - yy;
}

/// Exact W1 between the empirical laws of two 1D samples (any sizes):
///   W1 = integral |F_a(x) - F_b(x)| dx   over the merged sorted points.
/// For equal sizes this is mean_i |a_(i) - b_(i)| (sorted).
inline double wasserstein1_1d(Eigen::VectorXd a, Eigen::VectorXd b) {
  if (a.size() < 1 || b.size() < 1) throw ConfigError("wasserstein1_1d: both samples need at least one value");
  if (!a.allFinite() || !b.allFinite()) throw ConfigError("wasserstein1_1d: a sample has non-finite values");
  std::sort(a.data(), a.data() + a.size());
  std::sort(b.data(), b.data() + b.size());
  const Eigen::Index n = a.size(), m = b.size();
  if (n == m) return (a - b).cwiseAbs().mean();
  Eigen::Index i = 0, j = 0;
  double x = std::min(a(0), b(0)), w = 0;
  while (i < n || j < m) {
    // next breakpoint
    const bool take_a = j >= m || (i < n && a(i) <= b(j));
    const double xn = take_a ? a(i) : b(j);
    w += std::abs(double(i) / double(n) - double(j) / double(m)) * (xn - x);
    x = xn;
    if (take_a)
      ++i;
    else
      ++j;
  }
  return w;
}

struct SlicedOptions {
  int directions = 200;       ///< K random directions, uniform on the sphere
  std::uint64_t seed = 11;    ///< seed of the directions
};

/// Sliced Wasserstein-1: mean over K random unit directions theta of W1(theta.a, theta.b),
/// each exact (wasserstein1_1d). In 1D it is the exact W1 (no directions drawn).
inline double sliced_wasserstein1(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, const SlicedOptions& opts = {}) {
  detail::check_pair("sliced_wasserstein1", a, b);
  if (opts.directions < 1)
    throw ConfigError("sliced_wasserstein1: directions = " + std::to_string(opts.directions) + " is invalid: it must be >= 1");
  const Eigen::Index d = a.cols();
  if (d == 1) return wasserstein1_1d(a.col(0), b.col(0));
  std::mt19937_64 gen(opts.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd theta(d, opts.directions);
  for (int k = 0; k < opts.directions; ++k) {
    do {
      for (Eigen::Index c = 0; c < d; ++c) theta(c, k) = normal(gen);
    } while (theta.col(k).norm() < 1e-12);
    theta.col(k).normalize();
  }
  Eigen::VectorXd w(opts.directions);  // per direction, summed serially: thread-independent result
#pragma omp parallel for schedule(dynamic) if (a.rows() + b.rows() > 5000)
  for (int k = 0; k < opts.directions; ++k) w(k) = wasserstein1_1d(a * theta.col(k), b * theta.col(k));
  return w.sum() / opts.directions;
}

/// Sample mean (row vector of means as a column vector).
inline Eigen::VectorXd sample_mean(const Eigen::MatrixXd& x) { return x.colwise().mean().transpose(); }
/// Unbiased sample covariance (n - 1).
inline Eigen::MatrixXd sample_covariance(const Eigen::MatrixXd& x) {
  if (x.rows() < 2) throw ConfigError("sample_covariance: needs at least 2 samples, got " + std::to_string(x.rows()));
  const Eigen::MatrixXd c = x.rowwise() - x.colwise().mean();
  return c.transpose() * c / double(x.rows() - 1);
}
/// Per-coordinate excess kurtosis m4 / m2^2 - 3 (plug-in central moments; 0 for a Gaussian).
inline Eigen::VectorXd excess_kurtosis(const Eigen::MatrixXd& x) {
  if (x.rows() < 2) throw ConfigError("excess_kurtosis: needs at least 2 samples, got " + std::to_string(x.rows()));
  const Eigen::ArrayXXd c = (x.rowwise() - x.colwise().mean()).array();
  const Eigen::ArrayXd m2 = c.square().colwise().mean().transpose();
  const Eigen::ArrayXd m4 = c.square().square().colwise().mean().transpose();
  return (m4 / m2.square() - 3.0).matrix();
}

/// ||mean(a) - mean(b)||_2.
inline double mean_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  detail::check_pair("mean_error", a, b);
  return (sample_mean(a) - sample_mean(b)).norm();
}
/// ||cov(a) - cov(b)||_F (unbiased covariances).
inline double covariance_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  detail::check_pair("covariance_error", a, b, 2);
  return (sample_covariance(a) - sample_covariance(b)).norm();
}
/// max_k |kurt_k(a) - kurt_k(b)| over coordinates k (excess kurtosis).
inline double kurtosis_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  detail::check_pair("kurtosis_error", a, b, 2);
  return (excess_kurtosis(a) - excess_kurtosis(b)).cwiseAbs().maxCoeff();
}

struct CompareOptions {
  EnergyOptions energy;
  SlicedOptions sliced;
};

struct SampleMetrics {
  double energy = 0;          ///< energy distance (squared form, unbiased)
  double sliced_w1 = 0;       ///< sliced Wasserstein-1
  double mean_error = 0;      ///< ||mean a - mean b||
  double covariance_error = 0;  ///< ||cov a - cov b||_F
  double kurtosis_error = 0;  ///< max_k |excess kurtosis difference|
};

/// All metrics between a and b.
inline SampleMetrics compare_samples(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, const CompareOptions& opts = {}) {
  detail::check_pair("compare_samples", a, b, 2);
  SampleMetrics r;
  r.energy = energy_distance(a, b, opts.energy);
  r.sliced_w1 = sliced_wasserstein1(a, b, opts.sliced);
  r.mean_error = mean_error(a, b);
  r.covariance_error = covariance_error(a, b);
  r.kurtosis_error = kurtosis_error(a, b);
  return r;
}

/// A metric next to its Monte-Carlo noise floor (the same metric between two independent
/// reference ensembles). ratio() ~ 1 means "indistinguishable at this sample size".
struct MetricWithFloor {
  double value = 0;
  double floor = 0;
  double ratio() const {
    if (floor > 0) return value / floor;
    return value == 0 ? 1.0 : std::numeric_limits<double>::infinity();
  }
};

struct SampleMetricsWithFloor {
  MetricWithFloor energy, sliced_w1, mean_error, covariance_error, kurtosis_error;
};

/// value = compare_samples(candidate, reference), floor = compare_samples(reference2,
/// reference), with reference and reference2 two independent ensembles of the target law
/// (e.g. two SDE ensembles with different seeds). For a fair floor give candidate and
/// reference2 the same size.
inline SampleMetricsWithFloor compare_samples_with_floor(const Eigen::MatrixXd& candidate, const Eigen::MatrixXd& reference,
                                                         const Eigen::MatrixXd& reference2, const CompareOptions& opts = {}) {
  const SampleMetrics v = compare_samples(candidate, reference, opts);
  const SampleMetrics f = compare_samples(reference2, reference, opts);
  return {{v.energy, f.energy},
          {v.sliced_w1, f.sliced_w1},
          {v.mean_error, f.mean_error},
          {v.covariance_error, f.covariance_error},
          {v.kurtosis_error, f.kurtosis_error}};
}

}  // namespace sdescore::eval
