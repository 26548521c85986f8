#include "sdescore/ensemble/stats.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace sdescore::ensemble {

void StatsOptions::validate(int dim) const {
  for (std::size_t h = 0; h < histograms.size(); ++h) {
    const auto& spec = histograms[h];
    const std::string what = "histogram " + std::to_string(h) + " (coordinate " + std::to_string(spec.coord) + ")";
    if (spec.coord < 0 || spec.coord >= dim)
      throw ConfigError(what + ": coordinate out of range; valid coordinates are 0.." + std::to_string(dim - 1));
    if (spec.edges.size() < 2) throw ConfigError(what + ": needs at least 2 bin edges");
    for (std::size_t i = 0; i < spec.edges.size(); ++i) {
      require_finite(what + " edge " + std::to_string(i), spec.edges[i]);
      if (i > 0 && !(spec.edges[i] > spec.edges[i - 1]))
        throw ConfigError(what + ": bin edges must be strictly increasing (edge " + std::to_string(i) + " = " +
                          detail::fmt_double(spec.edges[i]) + " <= " + detail::fmt_double(spec.edges[i - 1]) + ")");
    }
  }
}

StatsAccumulator::StatsAccumulator(int dim, std::int64_t n_paths, const StatsOptions& opt, int n_threads)
    : dim_(dim), n_paths_(n_paths), n_chunks_((n_paths + kStatsChunk - 1) / kStatsChunk), stride_(1 + dim + dim * dim),
      opt_(opt), n_threads_(std::max(1, n_threads)) {
  opt_.validate(dim);
  partials_.assign(static_cast<std::size_t>(n_chunks_ * stride_), 0.0);
  for (const auto& h : opt_.histograms) {
    hist_offset_.push_back(hist_stride_);
    hist_stride_ += h.edges.size() - 1 + 3;
  }
  hist_.assign(hist_stride_ * static_cast<std::size_t>(n_threads_), 0);
}

void StatsAccumulator::reset() {
  std::fill(partials_.begin(), partials_.end(), 0.0);
  std::fill(hist_.begin(), hist_.end(), 0);
}

void StatsAccumulator::add_range(const StateView& s, std::int64_t begin, std::int64_t end, int thread) {
  const int D = dim_;
  for (std::int64_t c0 = begin; c0 < end; c0 += kStatsChunk) {
    const std::int64_t c1 = std::min(end, c0 + kStatsChunk);
    double* P = partials_.data() + (c0 / kStatsChunk) * stride_;
    const double n = static_cast<double>(c1 - c0);
    P[0] = n;
    double* mean = P + 1;
    double* M2 = P + 1 + D;
    for (int d = 0; d < D; ++d) {
      const double* x = s.coord(d);
      double acc = 0;
      for (std::int64_t p = c0; p < c1; ++p) acc += x[p];
      mean[d] = acc / n;
    }
    for (int a = 0; a < D; ++a)
      for (int b = a; b < D; ++b) {
        const double *xa = s.coord(a), *xb = s.coord(b);
        double acc = 0;
        for (std::int64_t p = c0; p < c1; ++p) acc += (xa[p] - mean[a]) * (xb[p] - mean[b]);
        M2[a * D + b] = M2[b * D + a] = acc;
      }
  }
  std::int64_t* H = hist_.data() + hist_stride_ * static_cast<std::size_t>(thread);
  for (std::size_t h = 0; h < opt_.histograms.size(); ++h) {
    const auto& e = opt_.histograms[h].edges;
    const int nb = static_cast<int>(e.size()) - 1;
    std::int64_t* cnt = H + hist_offset_[h];
    const double* x = s.coord(opt_.histograms[h].coord);
    for (std::int64_t p = begin; p < end; ++p) {
      const double v = x[p];
      if (!std::isfinite(v)) {
        ++cnt[nb + 2];
      } else if (v < e.front()) {
        ++cnt[nb];
      } else if (v > e.back()) {
        ++cnt[nb + 1];
      } else {
        const auto it = std::upper_bound(e.begin(), e.end(), v);
        const int i = std::min(nb - 1, static_cast<int>(it - e.begin()) - 1);
        ++cnt[i];
      }
    }
  }
}

StatsPartials StatsAccumulator::partials() const {
  StatsPartials p;
  p.chunks = partials_;
  p.hist.assign(hist_stride_, 0);
  for (int t = 0; t < n_threads_; ++t)
    for (std::size_t i = 0; i < hist_stride_; ++i) p.hist[i] += hist_[hist_stride_ * static_cast<std::size_t>(t) + i];
  return p;
}

EnsembleStats StatsAccumulator::finish() const { return merge_partials(dim_, opt_, partials()); }

EnsembleStats merge_partials(int dim, const StatsOptions& opt, const StatsPartials& p) {
  const int D = dim;
  const std::size_t stride = static_cast<std::size_t>(1 + D + D * D);
  EnsembleStats r;
  r.dim = D;
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(D);
  Eigen::MatrixXd M2 = Eigen::MatrixXd::Zero(D, D);
  double n = 0;
  // Ordered pairwise merge (Chan, Golub, LeVeque 1979): chunk order = path order.
  for (std::size_t off = 0; off + stride <= p.chunks.size(); off += stride) {
    const double* P = p.chunks.data() + off;
    const double nb = P[0];
    if (nb == 0) continue;
    const Eigen::Map<const Eigen::VectorXd> mb(P + 1, D);
    const Eigen::Map<const Eigen::MatrixXd> M2b(P + 1 + D, D, D);
    const double nn = n + nb;
    const Eigen::VectorXd delta = mb - mean;
    mean += delta * (nb / nn);
    M2 += M2b + delta * delta.transpose() * (n * nb / nn);
    n = nn;
  }
  r.n = static_cast<std::int64_t>(n);
  r.mean_data.assign(mean.data(), mean.data() + D);
  const Eigen::MatrixXd cov = n > 1 ? Eigen::MatrixXd(M2 / (n - 1)) : Eigen::MatrixXd::Zero(D, D);
  r.cov_data.assign(cov.data(), cov.data() + D * D);
  std::size_t off = 0;
  for (const auto& spec : opt.histograms) {
    Histogram out;
    out.coord = spec.coord;
    out.edges = spec.edges;
    const std::size_t nb = out.edges.size() - 1;
    if (off + nb + 3 > p.hist.size())
      throw ConfigError("statistics partials: " + std::to_string(p.hist.size()) +
                        " histogram counts do not match the histogram options");
    out.counts.assign(p.hist.begin() + static_cast<std::ptrdiff_t>(off),
                      p.hist.begin() + static_cast<std::ptrdiff_t>(off + nb));
    out.underflow = p.hist[off + nb];
    out.overflow = p.hist[off + nb + 1];
    out.nonfinite = p.hist[off + nb + 2];
    off += nb + 3;
    r.histograms.push_back(std::move(out));
  }
  return r;
}

EnsembleStats compute_stats(const StateView& s, const StatsOptions& opt) {
  StatsAccumulator acc(s.dim, s.n_paths, opt, 1);
  acc.add_range(s, 0, s.n_paths, 0);
  return acc.finish();
}

}  // namespace sdescore::ensemble
