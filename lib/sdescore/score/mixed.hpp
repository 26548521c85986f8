#pragma once
// The per-component mixed objective `local-dsm-ism` (method.md 2.5, issue 16): exact ISM on the
// noiseless coordinates, local-DSM regression on the noisy ones.
//
// The ISM identity holds coordinate by coordinate: for any k, integrating by parts in y_k alone,
//   E_p (s_k - d_k log p)^2 = E_p [ s_k^2 + 2 d_k s_k ] + const,
// and Lemma 1 (local-DSM) holds for any positive semi-definite weight, in particular one supported
// on a block of coordinates. So, with N0 the coordinates whose diffusion row is zero and N1 the
// others, the loss
//   l = sum_{k in N0} w (s_k^2 + 2 d_k s_k) + (s - target)_{N1}^T Lambda_{N1 N1} (s - target)_{N1}
// is minimised by the marginal score in every coordinate. w = tr Lambda_{N1 N1} / |N1| (a function
// of t only), so both parts weigh a unit of squared score error alike. With N0 empty (a fully
// noisy model) it is exactly local-DSM. Why: with Lambda = Sigma_bar, local-DSM weighs a noiseless
// direction by ~Delta^3 and never learns its score component (method.md 2.5); ISM does, but costs
// d tangents per sample where this costs |N0|.
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sdescore/core/error.hpp"
#include "sdescore/core/model.hpp"
#include "sdescore/score/model_view.hpp"
#include "sdescore/nn/loss.hpp"

namespace sdescore::score {

/// The coordinates without noise: k such that row k of G(y, t) is exactly zero at every sample
/// (ys[i], times[i]). A row that vanishes at some samples only does not count (e.g. a noise
/// proportional to y_k): the mixed objective needs d_k log p learnt by ISM only where the data
/// have no noise in k at all.
template <int D>
std::vector<int> noiseless_coordinates(const ModelFields<D>& m, const std::vector<Vec<double, D>>& ys, const std::vector<double>& times) {
  if (ys.size() != times.size() || ys.empty())
    throw ConfigError("noiseless_coordinates: needs one time per sample and at least one sample, got " + std::to_string(ys.size()) +
                      " samples and " + std::to_string(times.size()) + " times");
  std::vector<bool> noisy(D, false);
  for (std::size_t i = 0; i < ys.size(); ++i) {
    const auto G = m.diffusion(ys[i], times[i]);
    for (int k = 0; k < D; ++k)
      if (!noisy[k] && G.row(k).squaredNorm() != 0) noisy[k] = true;
  }
  std::vector<int> out;
  for (int k = 0; k < D; ++k)
    if (!noisy[k]) out.push_back(k);
  return out;
}

/// The same for a model type.
template <SdeModel M>
std::vector<int> noiseless_coordinates(const M& m, const std::vector<Vec<double, M::state_dim>>& ys, const std::vector<double>& times) {
  return noiseless_coordinates<M::state_dim>(ModelFieldsOf<M>(m), ys, times);
}

/// Hutchinson "probes" that make the network's divergence pass compute the noiseless diagonal:
/// B x (n0 * d), probe p of every sample is the unit vector e_{noiseless[p]}. With them the
/// network returns (1/n0) sum_{k in N0} d_k s_k (nn::Divergence::hutchinson averages its probes).
inline Eigen::MatrixXd noiseless_probes(Eigen::Index batch, int dim, const std::vector<int>& noiseless) {
  const auto n0 = static_cast<Eigen::Index>(noiseless.size());
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(batch, n0 * dim);
  for (Eigen::Index q = 0; q < n0; ++q) p.col(q * dim + noiseless[q]).setOnes();
  return p;
}

/// The mixed loss of a batch and its gradients (method.md 2.5).
///   s           B x d, the network's output;
///   div_mean    B, (1/n0) sum_{k in N0} d_k s_k at each sample (the network's divergence with
///               noiseless_probes); ignored when `noiseless` is empty;
///   target      B x d regression targets (their N0 entries are not used);
///   lambda      d x (d*B) per-sample weights Lambda_b (nn::LossWeights::matrix layout).
/// Returns L = (1/B) sum_b [ w_b sum_{k in N0} (s_bk^2 + 2 d_k s_bk) + r_{b,N1}^T Lambda_{b,N1N1} r_{b,N1} ],
/// r = s - target, w_b = tr Lambda_{b,N1N1} / |N1|, with dL/ds and dL/d(div_mean).
inline nn::LossGradient mixed_loss(const Eigen::Ref<const Eigen::MatrixXd>& s, const Eigen::Ref<const Eigen::VectorXd>& div_mean,
                                   const Eigen::Ref<const Eigen::MatrixXd>& target, const Eigen::Ref<const Eigen::MatrixXd>& lambda,
                                   const std::vector<int>& noiseless) {
  const Eigen::Index B = s.rows(), d = s.cols();
  const auto n0 = static_cast<Eigen::Index>(noiseless.size());
  if (lambda.rows() != d || lambda.cols() != d * B)
    throw ConfigError("mixed_loss: weights are " + std::to_string(lambda.rows()) + " x " + std::to_string(lambda.cols()) +
                      ": they must be d x (d*B) = " + std::to_string(d) + " x " + std::to_string(d * B));
  if (n0 > 0 && div_mean.size() != B)
    throw ConfigError("mixed_loss: the noiseless divergence has size " + std::to_string(div_mean.size()) + ": it must be the batch size " +
                      std::to_string(B));
  if (n0 >= d) throw ConfigError("mixed_loss: every coordinate is noiseless: local-DSM needs noise in at least one");
  std::vector<bool> quiet(static_cast<std::size_t>(d), false);
  for (int k : noiseless) {
    if (k < 0 || k >= d) throw ConfigError("mixed_loss: noiseless coordinate " + std::to_string(k) + " is not in 0.." + std::to_string(d - 1));
    quiet[static_cast<std::size_t>(k)] = true;
  }
  // regression on the noisy block: Lambda with the noiseless rows and columns zeroed
  Eigen::MatrixXd lam = lambda;
  Eigen::VectorXd w(B);
  for (Eigen::Index b = 0; b < B; ++b) {
    double tr = 0;
    for (Eigen::Index i = 0; i < d; ++i) {
      if (!quiet[static_cast<std::size_t>(i)]) tr += lam(i, b * d + i);
      for (Eigen::Index j = 0; j < d; ++j)
        if (quiet[static_cast<std::size_t>(i)] || quiet[static_cast<std::size_t>(j)]) lam(i, b * d + j) = 0;
    }
    w(b) = tr / static_cast<double>(d - n0);
  }
  nn::LossGradient out = nn::weighted_squared_loss(s, target, nn::LossWeights::matrix(std::move(lam)));
  if (n0 == 0) return out;
  // exact ISM on the noiseless coordinates: sum_k d_k s_k = n0 * div_mean
  const double inv_b = 1.0 / static_cast<double>(B);
  double total = 0;
  out.dL_ddiv.resize(B);
  for (Eigen::Index b = 0; b < B; ++b) {
    double sq = 0;
    for (int k : noiseless) {
      sq += s(b, k) * s(b, k);
      out.dL_ds(b, k) += 2.0 * w(b) * inv_b * s(b, k);
    }
    total += w(b) * (sq + 2.0 * static_cast<double>(n0) * div_mean(b));
    out.dL_ddiv(b) = 2.0 * w(b) * inv_b * static_cast<double>(n0);
  }
  out.value += total * inv_b;
  return out;
}

}  // namespace sdescore::score
