#include "sdescore/modelfile/stationary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sdescore/core/error.hpp"

namespace sdescore::modelfile {

namespace mf_stationary_detail {  // named: unity batches

using Logp = std::function<double(const double*)>;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMaxAbs = 1e12;  ///< the box never grows beyond |x| <= kMaxAbs

struct Box {
  double lo[2] = {0, 0}, hi[2] = {0, 0};
};

std::string point_text(const double* x, int dim) {
  std::string s = "(";
  for (int a = 0; a < dim; ++a) s += (a ? ", " : "") + sdescore::detail::fmt_double(x[a]);
  return s + ")";
}

double eval(const Logp& f, const double* x, int dim, const std::string& what) {
  const double v = f(x);
  if (std::isnan(v) || v == kInf)
    throw ConfigError(what + ": log_density is " + (std::isnan(v) ? std::string("nan") : std::string("inf")) + " at " +
                      point_text(x, dim) +
                      ": --init stationary needs it finite (or -inf where the density vanishes) wherever it is tabulated");
  return v;
}

double node(const Box& b, int a, long i, long K) { return b.lo[a] + (b.hi[a] - b.lo[a]) * double(i) / double(K); }

/// log p at the (K + 1)^dim nodes of the box, axis 0 fastest (K0 along axis 0, K1 along axis 1).
std::vector<double> scan(const Logp& f, int dim, const Box& b, long K0, long K1, const std::string& what) {
  const long n0 = K0 + 1, n1 = dim == 2 ? K1 + 1 : 1;
  std::vector<double> v(static_cast<std::size_t>(n0 * n1));
  double x[2] = {0, 0};
  for (long j = 0; j < n1; ++j) {
    if (dim == 2) x[1] = node(b, 1, j, K1);
    for (long i = 0; i < n0; ++i) {
      x[0] = node(b, 0, i, K0);
      v[static_cast<std::size_t>(i + n0 * j)] = eval(f, x, dim, what);
    }
  }
  return v;
}

/// The box where log p is within kDrop of its maximum (one coarse cell of margin).
Box bracket(const Logp& f, int dim, const double* center, const std::string& what) {
  Box b;
  for (int a = 0; a < dim; ++a) b.lo[a] = center[a] - 1, b.hi[a] = center[a] + 1;
  const long K = dim == 1 ? 4096 : 128, K1 = dim == 2 ? K : 0;
  const long n0 = K + 1, n1 = dim == 2 ? K + 1 : 1;
  int trims = 0;
  for (int iter = 0;; ++iter) {
    const auto v = scan(f, dim, b, K, K1, what);
    const double M = *std::max_element(v.begin(), v.end());
    const double cut = M - TabulatedLaw::kDrop;
    auto at = [&](long i, long j) { return v[static_cast<std::size_t>(i + n0 * j)]; };
    bool grew = false;
    for (int a = 0; a < dim; ++a)
      for (int side = 0; side < 2; ++side) {
        double edge = -kInf;
        const long idx = side == 0 ? 0 : K;
        if (a == 0)
          for (long j = 0; j < n1; ++j) edge = std::max(edge, at(idx, j));
        else
          for (long i = 0; i < n0; ++i) edge = std::max(edge, at(i, idx));
        if (M == -kInf || edge > cut) {  // not yet below the cut there: grow that side
          const double w = b.hi[a] - b.lo[a];
          (side == 0 ? b.lo[a] : b.hi[a]) += side == 0 ? -w : w;
          grew = true;
        }
      }
    if (grew) {
      for (int a = 0; a < dim; ++a)
        if (std::abs(b.lo[a]) > kMaxAbs || std::abs(b.hi[a]) > kMaxAbs)
          throw ConfigError(what + ": --init stationary: log_density does not fall " +
                            sdescore::detail::fmt_double(TabulatedLaw::kDrop) + " below its maximum (" +
                            sdescore::detail::fmt_double(M) + " on the grid) within |x| <= 1e12 of the initial point " +
                            point_text(center, dim) + ": is the density normalisable?");
      continue;
    }
    // Trim to the nodes above the cut, plus one node each side; rescan (finer) until stable.
    long imin[2] = {K, K}, imax[2] = {0, 0};
    for (long j = 0; j < n1; ++j)
      for (long i = 0; i < n0; ++i)
        if (at(i, j) > cut) {
          imin[0] = std::min(imin[0], i), imax[0] = std::max(imax[0], i);
          imin[1] = std::min(imin[1], j), imax[1] = std::max(imax[1], j);
        }
    bool stable = true;
    Box t = b;
    for (int a = 0; a < dim; ++a) {
      const long i0 = std::max(0L, imin[a] - 1), i1 = std::min(K, imax[a] + 1);
      if (i0 > 0 || i1 < K) stable = false;
      t.lo[a] = node(b, a, i0, K);
      t.hi[a] = node(b, a, i1, K);
    }
    if (stable || trims >= 16 || iter > 400) return b;
    b = t;
    ++trims;
  }
}

/// s in [0, 1] with density proportional to p0 + (p1 - p0) s on [0, 1], at CDF value u.
double lin_inv(double p0, double p1, double u) {
  const double m = 0.5 * (p0 + p1);
  const double r = u * m;
  if (!(m > 0) || !(r > 0)) return m > 0 ? 0.0 : u;
  const double s = 2.0 * r / (p0 + std::sqrt(std::max(0.0, p0 * p0 + 2.0 * (p1 - p0) * r)));
  return std::min(std::max(s, 0.0), 1.0);
}

/// Tail mass beyond one boundary node: p / (decay rate of log p there), or p times the box
/// width when log p does not decrease outwards there (a pessimistic bound).
double tail(double p, double v_edge, double v_inner, double h, double width) {
  if (!(p > 0)) return 0.0;
  const double rate = (v_inner - v_edge) / h;
  return rate > 0 ? p / rate : p * width;
}

TabulatedLaw tabulate(const Logp& f, int dim, const Box& b, long N, const std::string& what) {
  TabulatedLaw t;
  t.dim = dim;
  for (int a = 0; a < 2; ++a) t.lo[a] = b.lo[a], t.hi[a] = b.hi[a];
  t.cells[0] = N;
  t.cells[1] = dim == 2 ? N : 1;
  const long n0 = N + 1, n1 = dim == 2 ? N + 1 : 1, c0 = N, c1 = t.cells[1];
  const std::vector<double> v = scan(f, dim, b, N, N, what);
  t.max_log = *std::max_element(v.begin(), v.end());
  t.p.resize(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) t.p[k] = std::exp(v[k] - t.max_log);
  const double h0 = (b.hi[0] - b.lo[0]) / double(N), h1 = dim == 2 ? (b.hi[1] - b.lo[1]) / double(N) : 1.0;
  auto P = [&](long i, long j) { return t.p[static_cast<std::size_t>(i + n0 * j)]; };
  auto V = [&](long i, long j) { return v[static_cast<std::size_t>(i + n0 * j)]; };
  auto pe = [&](double x0, double x1) {
    const double x[2] = {x0, x1};
    return std::exp(eval(f, x, dim, what) - t.max_log);
  };
  t.cdf.assign(static_cast<std::size_t>(c0 * c1 + 1), 0.0);
  double defect = 0, tails = 0;
  if (dim == 1) {
    for (long i = 0; i < N; ++i) {
      const double avg = 0.5 * (P(i, 0) + P(i + 1, 0));
      t.cdf[static_cast<std::size_t>(i + 1)] = t.cdf[static_cast<std::size_t>(i)] + h0 * avg;
      defect += h0 * std::abs(pe(b.lo[0] + (double(i) + 0.5) * h0, 0.0) - avg);
    }
    const double w = b.hi[0] - b.lo[0];
    tails = tail(P(0, 0), V(0, 0), V(1, 0), h0, w) + tail(P(N, 0), V(N, 0), V(N - 1, 0), h0, w);
  } else {
    // Defects of the bilinear interpolant at the cell centres and edge midpoints.
    std::vector<double> ex(static_cast<std::size_t>(N * n1)), ey(static_cast<std::size_t>(n0 * N));
    for (long j = 0; j < n1; ++j)
      for (long i = 0; i < N; ++i)
        ex[static_cast<std::size_t>(i + N * j)] = pe(b.lo[0] + (double(i) + 0.5) * h0, node(b, 1, j, N));
    for (long j = 0; j < N; ++j)
      for (long i = 0; i < n0; ++i)
        ey[static_cast<std::size_t>(i + n0 * j)] = pe(node(b, 0, i, N), b.lo[1] + (double(j) + 0.5) * h1);
    std::size_t k = 0;
    for (long j = 0; j < N; ++j)
      for (long i = 0; i < N; ++i, ++k) {
        const double a = P(i, j), bb = P(i + 1, j), c = P(i, j + 1), d = P(i + 1, j + 1);
        const double avg = 0.25 * (a + bb + c + d);
        t.cdf[k + 1] = t.cdf[k] + h0 * h1 * avg;
        double dm = std::abs(pe(b.lo[0] + (double(i) + 0.5) * h0, b.lo[1] + (double(j) + 0.5) * h1) - avg);
        dm = std::max(dm, std::abs(ex[static_cast<std::size_t>(i + N * j)] - 0.5 * (a + bb)));
        dm = std::max(dm, std::abs(ex[static_cast<std::size_t>(i + N * (j + 1))] - 0.5 * (c + d)));
        dm = std::max(dm, std::abs(ey[static_cast<std::size_t>(i + n0 * j)] - 0.5 * (a + c)));
        dm = std::max(dm, std::abs(ey[static_cast<std::size_t>(i + 1 + n0 * j)] - 0.5 * (bb + d)));
        defect += h0 * h1 * dm;
      }
    const double w0 = b.hi[0] - b.lo[0], w1 = b.hi[1] - b.lo[1];
    for (long j = 0; j < n1; ++j)
      tails += h1 * (tail(P(0, j), V(0, j), V(1, j), h0, w0) + tail(P(N, j), V(N, j), V(N - 1, j), h0, w0));
    for (long i = 0; i < n0; ++i)
      tails += h0 * (tail(P(i, 0), V(i, 0), V(i, 1), h1, w1) + tail(P(i, N), V(i, N), V(i, N - 1), h1, w1));
  }
  const double Z = t.cdf.back();
  t.tv_estimate = Z > 0 ? (defect + tails) / Z : kInf;
  return t;
}

}  // namespace mf_stationary_detail

TabulatedLaw tabulate_log_density(const std::function<double(const double*)>& logp, int dim, const double* center,
                                  const std::string& what) {
  namespace d = mf_stationary_detail;
  if (dim < 1 || dim > 2)
    throw ConfigError(what + ": --init stationary samples a model file's log_density in 1 or 2 dimensions (a tabulated "
                      "grid); this model has " + std::to_string(dim) +
                      ": use another initial law (point, normal:..., uniform:..., file:PATH)");
  for (int a = 0; a < dim; ++a)
    if (!std::isfinite(center[a])) throw ConfigError(what + ": the initial point is not finite");
  const d::Box box = d::bracket(logp, dim, center, what);
  const long n_first = dim == 1 ? (1L << 16) : 512, n_last = dim == 1 ? (1L << 22) : 2048;
  for (long N = n_first;; N *= (dim == 1 ? 4 : 2)) {
    TabulatedLaw t = d::tabulate(logp, dim, box, N, what);
    if (t.tv_estimate <= TabulatedLaw::tolerance(dim)) return t;
    if (N >= n_last)
      throw ConfigError(what + ": --init stationary: the tabulated law of log_density on " +
                        std::to_string(N) + (dim == 2 ? " x " + std::to_string(N) : std::string()) + " cells over [" +
                        sdescore::detail::fmt_double(box.lo[0]) + ", " + sdescore::detail::fmt_double(box.hi[0]) + "]" +
                        (dim == 2 ? " x [" + sdescore::detail::fmt_double(box.lo[1]) + ", " +
                                        sdescore::detail::fmt_double(box.hi[1]) + "]"
                                  : std::string()) +
                        " is still " + sdescore::detail::fmt_double(t.tv_estimate) +
                        " from the exact law in total variation (estimate; the limit is " +
                        sdescore::detail::fmt_double(TabulatedLaw::tolerance(dim)) +
                        "): the density is too narrow for its support, or has heavy tails; use another initial law");
  }
}

void TabulatedLaw::sample(const double* u, double* x) const {
  namespace d = mf_stationary_detail;
  const double U = u[0] * cdf.back();
  long k = static_cast<long>(std::upper_bound(cdf.begin(), cdf.end(), U) - cdf.begin()) - 1;
  k = std::min(std::max(k, 0L), cells[0] * cells[1] - 1);
  const double h0 = (hi[0] - lo[0]) / double(cells[0]);
  if (dim == 1) {
    const double m = cdf[static_cast<std::size_t>(k + 1)] - cdf[static_cast<std::size_t>(k)];
    const double resid = m > 0 ? std::min(1.0, std::max(0.0, (U - cdf[static_cast<std::size_t>(k)]) / m)) : 0.5;
    const double s = d::lin_inv(p[static_cast<std::size_t>(k)], p[static_cast<std::size_t>(k + 1)], resid);
    x[0] = lo[0] + (double(k) + s) * h0;
    return;
  }
  const long N = cells[0], n0 = N + 1, i = k % N, j = k / N;
  const double h1 = (hi[1] - lo[1]) / double(cells[1]);
  auto P = [&](long a, long b) { return p[static_cast<std::size_t>(a + n0 * b)]; };
  const double a = P(i, j), b = P(i + 1, j), c = P(i, j + 1), dd = P(i + 1, j + 1);
  const double s = d::lin_inv(a + c, b + dd, u[1]);                          // the linear marginal along axis 0
  const double r = d::lin_inv((1 - s) * a + s * b, (1 - s) * c + s * dd, u[2]);  // then the conditional along axis 1
  x[0] = lo[0] + (double(i) + s) * h0;
  x[1] = lo[1] + (double(j) + r) * h1;
}

}  // namespace sdescore::modelfile
