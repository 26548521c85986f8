#pragma once
// Loss values and their output gradients dL/ds (and dL/d(div)), to feed Mlp::backward.
// Everything is in double; the network casts to its own scalar.
//
//   weighted squared: L = (1/B) sum_b (s_b - target_b)^T Lambda_b (s_b - target_b)
//                     dL/ds_b = (1/B) (Lambda_b + Lambda_b^T) (s_b - target_b)
//   ISM (Hyvarinen):  L = (1/B) sum_b w_b (|s_b|^2 + 2 div s_b)
//                     dL/ds_b = 2 w_b s_b / B,  dL/d(div_b) = 2 w_b / B
#include <string>
#include <utility>

#include <Eigen/Core>

#include "sdescore/core/error.hpp"

namespace sdescore::nn {

/// Per-sample weights Lambda_b of the squared loss.
struct LossWeights {
  enum class Kind { uniform, scalar, matrix, shared_matrix };
  Kind kind = Kind::uniform;
  Eigen::VectorXd scalars;   ///< scalar: w_b, size B
  Eigen::MatrixXd matrices;  ///< matrix: d x (d*B), Lambda_b = columns [b*d, (b+1)*d); shared_matrix: d x d

  /// Lambda_b = I.
  static LossWeights uniform() { return {}; }
  /// Lambda_b = w_b I.
  static LossWeights scalar(Eigen::VectorXd w) { return {Kind::scalar, std::move(w), {}}; }
  /// Lambda_b = block b of a d x (d*B) matrix.
  static LossWeights matrix(Eigen::MatrixXd stacked) { return {Kind::matrix, {}, std::move(stacked)}; }
  /// Lambda_b = Lambda for all b.
  static LossWeights shared(Eigen::MatrixXd lambda) { return {Kind::shared_matrix, {}, std::move(lambda)}; }
};

struct LossGradient {
  double value = 0;          ///< the loss
  Eigen::MatrixXd dL_ds;     ///< B x d
  Eigen::VectorXd dL_ddiv;   ///< B (ISM), empty otherwise
};

/// Weighted squared loss of s (B x d) against target (B x d).
inline LossGradient weighted_squared_loss(const Eigen::Ref<const Eigen::MatrixXd>& s,
                                          const Eigen::Ref<const Eigen::MatrixXd>& target,
                                          const LossWeights& weights = LossWeights::uniform()) {
  const Eigen::Index B = s.rows(), d = s.cols();
  if (target.rows() != B || target.cols() != d)
    throw ConfigError("weighted_squared_loss: target is " + std::to_string(target.rows()) + " x " +
                      std::to_string(target.cols()) + ": it must match s, " + std::to_string(B) + " x " + std::to_string(d));
  if (B == 0) throw ConfigError("weighted_squared_loss: the batch is empty: it needs at least one sample");
  using K = LossWeights::Kind;
  switch (weights.kind) {
    case K::uniform: break;
    case K::scalar:
      if (weights.scalars.size() != B)
        throw ConfigError("weighted_squared_loss: scalar weights have size " + std::to_string(weights.scalars.size()) +
                          ": it must be the batch size " + std::to_string(B));
      break;
    case K::matrix:
      if (weights.matrices.rows() != d || weights.matrices.cols() != d * B)
        throw ConfigError("weighted_squared_loss: weight matrices are " + std::to_string(weights.matrices.rows()) + " x " +
                          std::to_string(weights.matrices.cols()) + ": they must be d x (d*B) = " + std::to_string(d) +
                          " x " + std::to_string(d * B));
      break;
    case K::shared_matrix:
      if (weights.matrices.rows() != d || weights.matrices.cols() != d)
        throw ConfigError("weighted_squared_loss: the shared weight matrix is " + std::to_string(weights.matrices.rows()) +
                          " x " + std::to_string(weights.matrices.cols()) + ": it must be d x d = " + std::to_string(d) +
                          " x " + std::to_string(d));
      break;
  }
  LossGradient out;
  out.dL_ds.resize(B, d);
  const double inv_b = 1.0 / static_cast<double>(B);
  double total = 0;
  for (Eigen::Index b = 0; b < B; ++b) {
    if (weights.kind == K::uniform || weights.kind == K::scalar) {
      const double w = weights.kind == K::scalar ? weights.scalars[b] : 1.0;
      for (Eigen::Index i = 0; i < d; ++i) {
        const double r = s(b, i) - target(b, i);
        total += w * r * r;
        out.dL_ds(b, i) = 2.0 * inv_b * w * r;
      }
    } else {
      const double* lam = weights.matrices.data() + (weights.kind == K::matrix ? b * d * d : 0);  // column-major d x d
      for (Eigen::Index i = 0; i < d; ++i) out.dL_ds(b, i) = 0;
      for (Eigen::Index j = 0; j < d; ++j) {
        const double rj = s(b, j) - target(b, j);
        for (Eigen::Index i = 0; i < d; ++i) {
          const double ri = s(b, i) - target(b, i), l = lam[i + j * d];
          total += ri * l * rj;
          out.dL_ds(b, i) += inv_b * l * rj;  // (Lambda r)_i
          out.dL_ds(b, j) += inv_b * l * ri;  // (Lambda^T r)_j
        }
      }
    }
  }
  out.value = total * inv_b;
  return out;
}

/// ISM loss from s (B x d) and div s (B); weights w_b (empty = 1).
inline LossGradient ism_loss(const Eigen::Ref<const Eigen::MatrixXd>& s, const Eigen::Ref<const Eigen::VectorXd>& div,
                             const Eigen::Ref<const Eigen::VectorXd>& weights = Eigen::VectorXd()) {
  const Eigen::Index B = s.rows();
  if (B == 0) throw ConfigError("ism_loss: the batch is empty: it needs at least one sample");
  if (div.size() != B)
    throw ConfigError("ism_loss: div has size " + std::to_string(div.size()) + ": it must be the batch size " +
                      std::to_string(B));
  if (weights.size() != 0 && weights.size() != B)
    throw ConfigError("ism_loss: weights have size " + std::to_string(weights.size()) +
                      ": it must be empty (all 1) or the batch size " + std::to_string(B));
  LossGradient out;
  out.dL_ds.resize(B, s.cols());
  out.dL_ddiv.resize(B);
  const double inv_b = 1.0 / static_cast<double>(B);
  double total = 0;
  for (Eigen::Index b = 0; b < B; ++b) {
    const double w = weights.size() ? weights[b] : 1.0;
    total += w * (s.row(b).squaredNorm() + 2.0 * div[b]);
    out.dL_ds.row(b) = (2.0 * w * inv_b) * s.row(b);
    out.dL_ddiv[b] = 2.0 * w * inv_b;
  }
  out.value = total * inv_b;
  return out;
}

}  // namespace sdescore::nn
