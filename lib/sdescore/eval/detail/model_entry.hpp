#pragma once
// The per-model entry points of the study and the physics report (eval/study.hpp,
// eval/physics_report.hpp), included by the per-model units (eval/instantiate/model.cpp.in): a
// model with additive noise is seen through its fields (model_view.hpp) and handed to the bodies
// compiled once per shape (run_study_dim, compute_physics_dim; eval/instantiate/dim.cpp.in). The
// per-model unit parses none of the study's code.
#include <functional>

#include "sdescore/eval/model_view.hpp"
#include "sdescore/eval/physics_report.hpp"
#include "sdescore/eval/study.hpp"

namespace sdescore::eval {

/// The study over a model of shape (D, N) (detail/study_impl.hpp).
template <int D, int N>
StudyResult run_study_dim(const AdditiveModel<D, N>& model, const StudyOptions& o, const score::TrainingData& td,
                          const StudyControl& control);
/// The physics report over a model of shape (D, N) (detail/physics_impl.hpp).
template <int D, int N>
PhysicsResult compute_physics_dim(const AdditiveModel<D, N>& model, const score::ScoreModel& fit, const score::TrainingData& td,
                                  const PhysicsOptions& o, const std::function<void()>& poll_fn);

/// The study needs the probability flow and the Fokker-Planck references, implemented for
/// additive noise: a model with state-dependent noise (a model file) is refused.
template <SdeModel M>
StudyResult run_study_for(const M& model, const StudyOptions& o, const score::TrainingData& td, const StudyControl& control) {
  if constexpr (!is_additive_v<M>)
    throw ConfigError("compare: model " + modelfile::model_label(model) +
                      " has state-dependent noise; compare (flows, references) supports additive noise only");
  else {
    const AdditiveFieldsOf<M> fields(model);
    return run_study_dim(fields.model(), o, td, control);
  }
}

/// The flow's log-density needs div v, implemented for additive noise (eval/probability_flow.hpp):
/// a model with state-dependent noise (a model file) is refused.
template <SdeModel M>
PhysicsResult compute_physics_for(const M& model, const score::ScoreModel& fit, const score::TrainingData& td, const PhysicsOptions& o,
                                  const std::function<void()>& poll_fn) {
  if constexpr (!is_additive_v<M>)
    throw ConfigError("physics: model " + modelfile::model_label(model) +
                      " has state-dependent noise; physics supports additive noise only (eval/probability_flow.hpp)");
  else {
    const AdditiveFieldsOf<M> fields(model);
    return compute_physics_dim(fields.model(), fit, td, o, poll_fn);
  }
}

}  // namespace sdescore::eval
