#pragma once
// Adam (Kingma & Ba 2015) on a flat parameter vector, with global-norm gradient clipping and
// optional decoupled weight decay (AdamW). One step with gradient g and learning rate lr:
//   if max_grad_norm > 0 and |g| > max_grad_norm:  g <- g * max_grad_norm / |g|
//   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,   k <- k + 1
//   theta <- theta - lr ( m / (1 - b1^k) / (sqrt(v / (1 - b2^k)) + eps) + weight_decay theta )
#include <cmath>
#include <cstdint>
#include <string>

#include <Eigen/Core>

#include "sdescore/core/error.hpp"

namespace sdescore::nn {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double max_grad_norm = 1.0;  ///< global-norm clipping threshold; <= 0 disables clipping
  double weight_decay = 0.0;   ///< decoupled (AdamW)

  void validate() const {
    if (!(beta1 >= 0 && beta1 < 1))
      throw ConfigError("adam: beta1 = " + sdescore::detail::fmt_double(beta1) + " is invalid: it must be in [0, 1)");
    if (!(beta2 >= 0 && beta2 < 1))
      throw ConfigError("adam: beta2 = " + sdescore::detail::fmt_double(beta2) + " is invalid: it must be in [0, 1)");
    require_positive("adam: eps", eps);
    require_finite("adam: max_grad_norm", max_grad_norm);
    require_non_negative("adam: weight_decay", weight_decay);
  }
};

template <class T = float>
class Adam {
 public:
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  explicit Adam(Eigen::Index n_parameters, AdamOptions opt = {}) : opt_(opt) {
    opt_.validate();
    m_.setZero(n_parameters);
    v_.setZero(n_parameters);
  }

  /// One update of theta in place; grad is clipped in place. Returns the gradient norm before
  /// clipping. Throws NumericalError on a non-finite gradient (theta is then left unchanged).
  double step(Eigen::Ref<Vector> theta, Eigen::Ref<Vector> grad, double lr) {
    if (theta.size() != m_.size() || grad.size() != m_.size())
      throw ConfigError("adam: got " + std::to_string(theta.size()) + " parameters and " + std::to_string(grad.size()) +
                        " gradient entries: the optimiser was built for " + std::to_string(m_.size()));
    double sq = 0;
    for (Eigen::Index i = 0; i < grad.size(); ++i) sq += double(grad[i]) * double(grad[i]);
    const double norm = std::sqrt(sq);
    if (!std::isfinite(norm))
      throw NumericalError("adam: the gradient norm is " + sdescore::detail::fmt_double(norm) + " at step " +
                           std::to_string(k_ + 1) + ": it must be finite (lower the learning rate or check the data)");
    if (opt_.max_grad_norm > 0 && norm > opt_.max_grad_norm) grad *= static_cast<T>(opt_.max_grad_norm / norm);
    ++k_;
    const T b1 = static_cast<T>(opt_.beta1), b2 = static_cast<T>(opt_.beta2);
    const T c1 = static_cast<T>(1.0 / (1.0 - std::pow(opt_.beta1, double(k_))));
    const T c2 = static_cast<T>(1.0 / (1.0 - std::pow(opt_.beta2, double(k_))));
    const T eps = static_cast<T>(opt_.eps), lrt = static_cast<T>(lr), wd = static_cast<T>(opt_.weight_decay);
    m_.array() = b1 * m_.array() + (T(1) - b1) * grad.array();
    v_.array() = b2 * v_.array() + (T(1) - b2) * grad.array().square();
    theta.array() -= lrt * ((m_.array() * c1) / ((v_.array() * c2).sqrt() + eps) + wd * theta.array());
    return norm;
  }

  /// Restores a saved optimiser state (checkpoint resume): moments and step count.
  void set_state(const Eigen::Ref<const Vector>& m, const Eigen::Ref<const Vector>& v, std::int64_t steps) {
    if (m.size() != m_.size() || v.size() != v_.size())
      throw ConfigError("adam: set_state got moments of size " + std::to_string(m.size()) + " and " +
                        std::to_string(v.size()) + ": the optimiser was built for " + std::to_string(m_.size()));
    if (steps < 0) throw ConfigError("adam: set_state got steps = " + std::to_string(steps) + ": it must be >= 0");
    m_ = m;
    v_ = v;
    k_ = steps;
  }

  std::int64_t steps() const { return k_; }
  const AdamOptions& options() const { return opt_; }
  const Vector& first_moment() const { return m_; }
  const Vector& second_moment() const { return v_; }

 private:
  AdamOptions opt_;
  Vector m_, v_;
  std::int64_t k_ = 0;
};

}  // namespace sdescore::nn
