#pragma once
#include <random>

#include "sdescore/score/ensemble_source.hpp"

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

}  // namespace sdescore::test
