#pragma once
// What training asks of a model, behind one interface per state dimension D.
//
// The training loop (fit.hpp), the schedules, kernels, checks and the snapshot source are
// compiled once per dimension over ModelView<D> (score/instantiate/dim.cpp.in), not once per
// model type: only ModelViewOf<M, St> - the model's drift and diffusion, its local-linear
// transition and the sampler stepper's ensemble engine - is compiled per model. The data checks
// see only a model's fields (ModelFields<D>), so code that only checks data (the study, physics)
// instantiates no engine. The per-sample virtual call costs nothing next to what it calls (an
// autodiff linearisation with matrix exponentials, or a whole engine run over a pool), and every
// number is computed by the same code as before, so the bits do not change.
#include <string>
#include <type_traits>

#include "sdescore/core/autodiff.hpp"
#include "sdescore/core/model.hpp"
#include "sdescore/ensemble/engine.hpp"
#include "sdescore/linearize/gaussian_transition.hpp"
#include "sdescore/random/draws.hpp"
#include "sdescore/solvers/euler_maruyama.hpp"
#include "sdescore/solvers/heun.hpp"

namespace sdescore::score {

/// The stepper that advances stored snapshots to a training time s (within one snapshot
/// interval, at the simulation dt): stochastic Heun (weak order 2) for additive noise, else
/// Euler-Maruyama. One stepper per model keeps the instantiations (and the build) small.
template <class M>
using sampler_stepper_t = std::conditional_t<Heun::supports<M>, Heun, EulerMaruyama>;

/// Models whose drift is affine and noise additive declare `static constexpr bool linear = true`.
template <class M>
inline constexpr bool is_linear_model_v = requires { requires M::linear; };
/// The same at run time: a model file states `linear = true` in its text (verified on loading).
template <class M>
bool is_linear_model(const M& m) {
  if constexpr (requires { m.spec().linear; })
    return m.spec().linear;
  else
    return is_linear_model_v<M>;
}

/// A model's fields at a point: what the data checks ask of it (double precision only).
template <int D>
class ModelFields {
 public:
  static constexpr int state_dim = D;
  using State = Vec<double, D>;
  virtual ~ModelFields() = default;

  /// The model's type name (M::name), for messages.
  virtual std::string name() const = 0;
  /// Affine drift and additive noise (is_linear_model): the DSM objective's closed form holds.
  virtual bool linear() const = 0;
  virtual State drift(const State& y, double t) const = 0;
  /// G(y, t), D x noise_dim.
  virtual Eigen::Matrix<double, D, Eigen::Dynamic> diffusion(const State& y, double t) const = 0;
};

/// A model of state dimension D as training sees it: its fields, its linearisation and the
/// sampler that advances stored snapshots.
template <int D>
class ModelView : public ModelFields<D> {
 public:
  using State = Vec<double, D>;
  virtual Mat<double, D, D> drift_jacobian(const State& y, double t) const = 0;
  /// The Gaussian transition of the SDE linearised at y over [s, s + delta] (linearize/).
  virtual GaussianTransition<D> transition(const State& y, double s, double delta, const LinearizationOptions& lin) const = 0;
  /// Advances the D x n states with the sampler stepper through the ensemble engine.
  virtual void advance(ensemble::StateMatrix& state, const ensemble::EnsembleOptions& o) const = 0;
  /// Advances one state from t by n steps of h, the normals drawn from rng in order.
  virtual void advance_path(State& y, double t, int n, double h, random::KeyedDraws& rng) const = 0;
};

/// The fields of model M behind Base (ModelFields<D> or ModelView<D>). Alone (ModelFieldsOf) it
/// instantiates only the model's drift and diffusion: what the data checks need.
template <class Base, SdeModel M>
class FieldsOf : public Base {
 public:
  static constexpr int D = M::state_dim;
  using State = Vec<double, D>;
  explicit FieldsOf(const M& model) : model_(model) {}

  std::string name() const override { return std::string(M::name); }
  bool linear() const override { return is_linear_model(model_); }
  State drift(const State& y, double t) const override { return model_.drift(y, t); }
  Eigen::Matrix<double, D, Eigen::Dynamic> diffusion(const State& y, double t) const override { return model_.diffusion(y, t); }
  const M& model() const { return model_; }

 protected:
  M model_;
};
template <SdeModel M>
using ModelFieldsOf = FieldsOf<ModelFields<M::state_dim>, M>;

/// ModelView of a model M whose samples are advanced by stepper St.
template <SdeModel M, class St = sampler_stepper_t<M>>
class ModelViewOf final : public FieldsOf<ModelView<M::state_dim>, M> {
 public:
  static constexpr int D = M::state_dim;
  using State = Vec<double, D>;
  explicit ModelViewOf(const M& model, St stepper = St{}) : FieldsOf<ModelView<D>, M>(model), stepper_(stepper) {}

  Mat<double, D, D> drift_jacobian(const State& y, double t) const override { return sdescore::drift_jacobian(this->model_, y, t); }
  GaussianTransition<D> transition(const State& y, double s, double delta, const LinearizationOptions& lin) const override {
    return local_linear_transition(this->model_, y, s, delta, lin);
  }
  void advance(ensemble::StateMatrix& state, const ensemble::EnsembleOptions& o) const override {
    ensemble::simulate(stepper_, this->model_, state, o);
  }
  void advance_path(State& y, double t, int n, double h, random::KeyedDraws& rng) const override {
    const double sh = std::sqrt(h);
    Vec<double, St::template noise_dim<M>> dW;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < dW.size(); ++j) dW(j) = sh * rng.normal();
      stepper_.do_step(this->model_, y, t + i * h, h, dW);
    }
  }

 private:
  St stepper_;
};

}  // namespace sdescore::score
