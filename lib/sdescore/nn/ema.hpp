#pragma once
// Exponential moving average of the weights; evaluation uses the average.
//   k-th update (k = 1, 2, ...):  beta_k = warmup ? min(decay, (1 + k) / (10 + k)) : decay
//                                 ema <- beta_k ema + (1 - beta_k) theta
// The first update copies theta (an average of one). The warm-up keeps early averages from
// being dominated by the random initialisation.
#include <algorithm>
#include <cstdint>
#include <string>

#include <Eigen/Core>

#include "sdescore/core/error.hpp"

namespace sdescore::nn {

struct EmaOptions {
  double decay = 0.999;
  bool warmup = true;

  void validate() const {
    if (!(decay >= 0 && decay < 1))
      throw ConfigError("ema: decay = " + sdescore::detail::fmt_double(decay) + " is invalid: it must be in [0, 1)");
  }
};

template <class T = float>
class Ema {
 public:
  using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  explicit Ema(EmaOptions opt = {}) : opt_(opt) { opt_.validate(); }

  /// Decay used by update number k (k >= 1).
  double decay_at(std::int64_t k) const {
    return opt_.warmup ? std::min(opt_.decay, (1.0 + double(k)) / (10.0 + double(k))) : opt_.decay;
  }

  void update(const Eigen::Ref<const Vector>& theta) {
    if (k_ == 0) {
      avg_ = theta;
      k_ = 1;
      return;
    }
    if (theta.size() != avg_.size())
      throw ConfigError("ema: got " + std::to_string(theta.size()) + " parameters, the average holds " +
                        std::to_string(avg_.size()));
    ++k_;
    const T beta = static_cast<T>(decay_at(k_));
    avg_ = beta * avg_ + (T(1) - beta) * theta;
  }

  const Vector& average() const { return avg_; }
  std::int64_t updates() const { return k_; }
  const EmaOptions& options() const { return opt_; }
  /// Restores a saved average (e.g. from a checkpoint) with its update count.
  void set_average(const Eigen::Ref<const Vector>& avg, std::int64_t updates) {
    avg_ = avg;
    k_ = updates;
  }

 private:
  EmaOptions opt_;
  Vector avg_;
  std::int64_t k_ = 0;
};

}  // namespace sdescore::nn
