#pragma once
// Fixtures shared by the score tests: exact Gaussian ensembles, a training source over one, and
// the options of a fixed step schedule.
#include <random>

#include "sdescore/score/ensemble_source.hpp"
#include "sdescore/score/schedule.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"

namespace sdescore::test {

/// An ensemble with one snapshot at time t0 of exact N(m, C) samples (1D or 2D).
template <int D>
score::EnsembleData gaussian_ensemble(int n, const Vec<double, D>& m, const Mat<double, D, D>& C, double t0,
                                      unsigned long seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  const Mat<double, D, D> L = C.llt().matrixL();
  score::EnsembleData e;
  e.times = {t0};
  e.states.emplace_back(n, D);
  for (int p = 0; p < n; ++p) {
    Vec<double, D> z;
    for (int i = 0; i < D; ++i) z(i) = nd(rng);
    e.states[0].row(p) = (m + L * z).transpose();
  }
  e.dt = 1e-3;
  return e;
}

/// A training source over an exact N(m, C) ensemble at t0 (gaussian_ensemble): model M stepped
/// by Euler-Maruyama, no paths held out. It owns the data the source points into, so it is
/// neither copied nor moved (return it as a prvalue).
template <SdeModel M>
struct GaussianSource {
  static constexpr int D = M::state_dim;
  score::EnsembleData data;
  score::EnsembleSource<M, EulerMaruyama> src;
  GaussianSource(const M& model, int n, const Vec<double, D>& m, const Mat<double, D, D>& C, double t0, unsigned long seed)
      : data(gaussian_ensemble<D>(n, m, C, t0, seed)), src(model, EulerMaruyama{}, data, 0, false) {}
  GaussianSource(const GaussianSource&) = delete;
  GaussianSource& operator=(const GaussianSource&) = delete;
};

/// Options of a fixed step schedule: Delta = delta at `grid` times (the rest as defaulted).
inline score::ScheduleOptions fixed_schedule(double delta, int grid) {
  score::ScheduleOptions so;
  so.kind = "fixed";
  so.delta = delta;
  so.grid = grid;
  return so;
}

}  // namespace sdescore::test
