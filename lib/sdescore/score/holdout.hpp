#pragma once
// The one hold-out rule (docs/score-learning.md, "Held-out paths"): with holdout_every = k > 0,
// path p is held out for evaluation when p % k == k - 1 (every k-th path, the last of each block
// of k); training uses the others. k = 0 holds nothing out: then no path of that ensemble may be
// used to judge the fit, and evaluation needs an independent ensemble.
// Training (EnsembleSource), held-out ISM, `compare` and `physics` all call these functions.
#include <string>
#include <vector>

#include "sdescore/core/error.hpp"

namespace sdescore::score {

/// True when path p is held out for evaluation under holdout_every (0: nothing held out).
constexpr bool is_held_out(long p, long holdout_every) { return holdout_every > 0 && p % holdout_every == holdout_every - 1; }

/// The paths (indices 0..n_paths-1) held out (held_out = true) or used for training (false).
inline std::vector<int> split_paths(int n_paths, int holdout_every, bool held_out) {
  std::vector<int> out;
  for (int p = 0; p < n_paths; ++p)
    if (is_held_out(p, holdout_every) == held_out) out.push_back(p);
  return out;
}

/// The paths a fit may be judged on. On the ensemble it was trained on (`same_ensemble`), only
/// the held-out paths; ConfigError when nothing was held out (`what` names the caller). On an
/// independent ensemble (another seed or file), every path.
inline std::vector<int> evaluation_paths(int n_paths, int holdout_every, bool same_ensemble, const std::string& what) {
  if (!same_ensemble) return split_paths(n_paths, 0, false);
  if (holdout_every <= 0)
    throw ConfigError(what + ": the score was trained on every path of this ensemble (holdout_every = 0), so none is left to judge it "
                             "on: train with holdout_every >= 2 (--holdout-every) or evaluate on an independent ensemble (another seed)");
  auto held = split_paths(n_paths, holdout_every, true);
  if (held.empty())
    throw ConfigError(what + ": holdout_every = " + std::to_string(holdout_every) + " holds out no path of " + std::to_string(n_paths) +
                      ": use a smaller holdout_every or more paths");
  return held;
}

}  // namespace sdescore::score
