#pragma once
// Learning-rate schedule: linear warm-up, then cosine, step or no decay.
//   warm-up   (k < W):  lr = base (k + 1) / W
//   cosine    (k >= W): p = min(1, (k - W) / (N - W)),  lr = final + (base - final) (1 + cos(pi p)) / 2
//   step      (k >= W): lr = base gamma^floor((k - W) / step_size)
//   constant  (k >= W): lr = base
// k counts optimiser steps from 0.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

#include "sdescore/core/error.hpp"

namespace sdescore::nn {

struct LrSchedule {
  enum class Decay { cosine, step, constant };
  double base_lr = 1e-3;
  std::int64_t warmup_steps = 0;
  Decay decay = Decay::cosine;
  std::int64_t total_steps = 10000;  ///< cosine: step at which lr reaches final_lr
  double final_lr = 0.0;             ///< cosine floor
  std::int64_t step_size = 1000;     ///< step decay period
  double gamma = 0.5;                ///< step decay factor

  static LrSchedule warmup_cosine(double base, std::int64_t warmup, std::int64_t total, double final_lr = 0.0) {
    LrSchedule s;
    s.base_lr = base;
    s.warmup_steps = warmup;
    s.total_steps = total;
    s.final_lr = final_lr;
    return s;
  }
  static LrSchedule constant(double base) {
    LrSchedule s;
    s.base_lr = base;
    s.decay = Decay::constant;
    return s;
  }

  void validate() const {
    require_positive("lr schedule: base_lr", base_lr);
    require_non_negative("lr schedule: final_lr", final_lr);
    if (warmup_steps < 0)
      throw ConfigError("lr schedule: warmup_steps = " + std::to_string(warmup_steps) + " is invalid: it must be >= 0");
    if (decay == Decay::cosine && total_steps <= warmup_steps)
      throw ConfigError("lr schedule: total_steps = " + std::to_string(total_steps) +
                        " is invalid: it must exceed warmup_steps = " + std::to_string(warmup_steps));
    if (decay == Decay::step) {
      if (step_size < 1)
        throw ConfigError("lr schedule: step_size = " + std::to_string(step_size) + " is invalid: it must be >= 1");
      require_positive("lr schedule: gamma", gamma);
    }
  }

  double operator()(std::int64_t k) const {
    if (k < warmup_steps) return base_lr * static_cast<double>(k + 1) / static_cast<double>(warmup_steps);
    const double after = static_cast<double>(k - warmup_steps);
    switch (decay) {
      case Decay::cosine: {
        const double p = std::min(1.0, after / static_cast<double>(total_steps - warmup_steps));
        return final_lr + (base_lr - final_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
      }
      case Decay::step: return base_lr * std::pow(gamma, std::floor(after / static_cast<double>(step_size)));
      case Decay::constant: return base_lr;
    }
    return base_lr;
  }
};

}  // namespace sdescore::nn
