#pragma once
// The stepper concept (docs/concepts.md), after Boost.Odeint: a stepper advances one step of
// an SDE given (model, state, t, dt, dW) and never owns a random generator. dW holds
// `St::noise_dim<M>` independent N(0, dt) increments.
#include <concepts>

#include "sdescore/core/model.hpp"

namespace sdescore {

template <class St, class M>
concept Stepper = SdeModel<M> && requires(const St& st, const M& m, Vec<double, M::state_dim>& y, double t,
                                          double dt, const Vec<double, St::template noise_dim<M>>& dW) {
  { St::name } -> std::convertible_to<std::string_view>;
  requires St::template supports<M>;
  st.do_step(m, y, t, dt, dW);
};

/// Rejects a non-finite or non-positive step size with a message naming it.
inline void check_step_size(double dt) {
  if (!std::isfinite(dt) || !(dt > 0))
    throw ConfigError("step size dt = " + detail::fmt_double(dt) + " is invalid: it must be a finite number > 0");
}

}  // namespace sdescore
