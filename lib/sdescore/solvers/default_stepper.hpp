#pragma once
// The default stepper of a model is a trait of the model: a model that names one with
// `using default_stepper = St;` gets St, every other model Euler-Maruyama. The apps, the
// simulation run and the Python module all ask this trait (no name test anywhere else).
#include <type_traits>

#include "sdescore/solvers/euler_maruyama.hpp"
#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

template <class M>
struct default_stepper_of {
  using type = EulerMaruyama;
};
template <class M>
  requires requires { typename M::default_stepper; }
struct default_stepper_of<M> {
  using type = typename M::default_stepper;
};

/// The stepper a model is simulated with unless another one is asked for.
template <SdeModel M>
using default_stepper_t = typename default_stepper_of<M>::type;

}  // namespace sdescore
