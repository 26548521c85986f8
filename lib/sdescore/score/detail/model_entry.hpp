#pragma once
// Definitions of the per-model entry points declared in score/train.hpp, included only by the
// per-model units (score/instantiate/model.cpp.in): each is the model's view (model_view.hpp)
// handed to what is compiled once per state dimension (train_score_dim, heldout_ism). The unit
// parses no training code.
#include <memory>

#include "sdescore/score/model_view.hpp"
#include "sdescore/score/train.hpp"

namespace sdescore::score {

template <SdeModel M>
std::unique_ptr<const ModelView<M::state_dim>> make_model_view(const M& model) {
  return std::make_unique<const ModelViewOf<M>>(model);
}

template <SdeModel M>
ScoreModel train_score_for(const M& model, const TrainingConfig& config, const TrainingData& data, const TrainControl& control) {
  return train_score_dim<M::state_dim>(ModelViewOf<M>(model), config, data, control);
}

template <SdeModel M>
double heldout_ism_for(const M& model, const nn::Mlp<float>& net, const EnsembleData& data, int holdout_every,
                       const std::vector<double>& times, int per_time, std::uint64_t seed, int threads) {
  return heldout_ism<M::state_dim>(net, ModelViewOf<M>(model), data, holdout_every, times, per_time, seed, threads);
}

}  // namespace sdescore::score
