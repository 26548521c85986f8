#pragma once
// What the objective study and the physics report ask of a model with additive noise, behind one
// interface per shape (D variables, N noises).
//
// The study and physics bodies (eval/detail/study_impl.hpp, physics_impl.hpp) - the Fokker-Planck
// reference, probability flows, the reverse SDE, the sample metrics - are compiled once per shape
// over AdditiveModel<D, N> (eval/instantiate/dim.cpp.in), not once per model type: per model only
// AdditiveFieldsOf<M> (diffusion, label, the stationary sampler; drift and Jacobian come from the
// model's training view, score/model_view.hpp) is compiled.
// The shape keeps N, so the reverse SDE draws the same normals, and every number is computed by the
// same code as before: the bits do not change.
#include <memory>
#include <string>
#include <string_view>

#include "sdescore/core/model.hpp"
#include "sdescore/ensemble/init.hpp"
#include "sdescore/modelfile/visit.hpp"
#include "sdescore/score/model_view.hpp"
#include "sdescore/score/train.hpp"

namespace sdescore::eval {

/// A model with additive noise, D variables and N noises, as the study and physics see it.
template <int D, int N>
class AdditiveFields {
 public:
  virtual ~AdditiveFields() = default;
  /// How messages name the model (modelfile::model_label: the built-in's name or the file's label).
  virtual std::string label() const = 0;
  /// G(t), D x N (fixed size: the reverse SDE draws N normals). Drift, its Jacobian and
  /// linearity are the training view's.
  virtual Mat<double, D, N> diffusion(const Vec<double, D>& y, double t) const = 0;
  /// n exact samples of the stationary law (init "stationary"), n x D; ConfigError where unknown.
  virtual Eigen::MatrixXd sample_stationary(std::uint64_t seed, long n) const = 0;
  /// The model as training sees it (score/model_view.hpp).
  virtual const score::ModelView<D>& training() const = 0;
};

/// An SdeModel whose fields are an AdditiveFields<D, N>: the type the eval templates are
/// instantiated with. It points to the fields, which must outlive it.
template <int D, int N>
struct AdditiveModel {
  static constexpr std::string_view name = "additive model", description = "a model seen through eval::AdditiveFields",
                                    equation = "dy = f(y, t) dt + G(t) dW";
  static constexpr int state_dim = D;
  static constexpr int noise_dim = N;
  using noise_kind = additive_noise;

  const AdditiveFields<D, N>* fields = nullptr;

  Vec<double, D> drift(const Vec<double, D>& y, double t) const { return fields->training().drift(y, t); }
  Mat<double, D, N> diffusion(const Vec<double, D>& y, double t) const { return fields->diffusion(y, t); }
  /// Used by eval::model_drift_jacobian instead of autodiff of drift.
  Mat<double, D, D> drift_jacobian(const Vec<double, D>& y, double t) const { return fields->training().drift_jacobian(y, t); }
  Vec<double, D> initial_state() const { return Vec<double, D>::Zero(); }
  void validate() const {}
  template <class F>
  void for_each_param(F&&) {}
  std::string label() const { return fields->label(); }
};

/// AdditiveFields of model M (additive noise). Its training view comes from M's score unit
/// (score::make_model_view), so no engine is compiled here.
template <SdeModel M>
class AdditiveFieldsOf final : public AdditiveFields<M::state_dim, M::noise_dim> {
 public:
  static constexpr int D = M::state_dim, N = M::noise_dim;
  static_assert(is_additive_v<M>, "AdditiveFieldsOf: the study and physics take models with additive noise");
  explicit AdditiveFieldsOf(const M& model) : model_(model), view_(score::make_model_view(model)) {}

  std::string label() const override { return modelfile::model_label(model_); }
  Mat<double, D, N> diffusion(const Vec<double, D>& y, double t) const override { return model_.diffusion(y, t); }
  Eigen::MatrixXd sample_stationary(std::uint64_t seed, long n) const override {
    return ensemble::sample_initial(model_, ensemble::parse_init_spec("stationary"), seed, 0, n).to_rows();
  }
  const score::ModelView<D>& training() const override { return *view_; }

  /// The SdeModel the shape's templates take.
  AdditiveModel<D, N> model() const { return {this}; }

 private:
  M model_;
  std::unique_ptr<const score::ModelView<D>> view_;
};

}  // namespace sdescore::eval
