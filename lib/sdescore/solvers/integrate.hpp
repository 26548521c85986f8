#pragma once
// Drivers own the time grid; observers receive (state, t). As in odeint, `integrate_n_steps`
// calls the observer at the start and after every step. The noise source is a callable
// `noise(k, dW)` that fills dW with the N(0, dt) increments of step k.
#include "sdescore/solvers/stepper.hpp"

namespace sdescore {

struct null_observer {
  template <class State>
  void operator()(const State&, double) const {}
};

template <class St, SdeModel M, class Noise, class Observer = null_observer>
  requires Stepper<St, M>
double integrate_n_steps(const St& stepper, const M& model, Vec<double, M::state_dim>& y, double t0, double dt,
                         long n_steps, Noise&& noise, Observer&& obs = {}) {
  check_step_size(dt);
  Vec<double, St::template noise_dim<M>> dW;
  double t = t0;
  obs(y, t);
  for (long k = 0; k < n_steps; ++k) {
    noise(k, dW);
    stepper.do_step(model, y, t, dt, dW);
    t = t0 + (k + 1) * dt;
    obs(y, t);
  }
  return t;
}

}  // namespace sdescore
