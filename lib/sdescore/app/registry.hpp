#pragma once
// The one name-based registry, at the app edge: maps model and stepper names to the
// compile-time types, so the hot loops stay templated. `visit_model` / `visit_stepper` call a
// generic lambda with the concrete model / stepper.
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sdescore/modelfile/visit.hpp"
#include "sdescore/sdescore.hpp"

namespace sdescore::app {

using ModelTypes = std::tuple<models::DoubleWell, models::OU1, models::OU2, models::ActiveSwimmer,
                              models::ActiveBrownian2D, models::UnderdampedLangevin, models::OverdampedLangevin1D,
                              models::OverdampedLangevin2D>;
/// The model types whose training, study and physics templates are compiled once each, in units of
/// their own (lib/sdescore/{score,eval}/instantiate): the built-ins and the model-file shapes.
using InstantiatedModelTypes = decltype(std::tuple_cat(std::declval<ModelTypes>(), std::declval<modelfile::FileShapes>()));
using StepperTypes = std::tuple<EulerMaruyama, Milstein, Heun, BAOAB, LocalLinearization>;

/// A named parameter override, as given on the command line (`name=value`).
struct ParamValue {
  std::string name;
  double value;
};

/// Parses "name=value"; throws ConfigError naming the text when it is not of that form.
inline ParamValue parse_param(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw ConfigError("parameter '" + text + "' is not of the form name=value (e.g. T=0.5)");
  const std::string name = text.substr(0, eq), val = text.substr(eq + 1);
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(val, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != val.size())
    throw ConfigError("parameter " + name + ": value '" + val + "' is not a number");
  return {name, v};
}

struct ParamDescription {
  ParamInfo info;
  double default_value;
};

struct ModelDescription {
  std::string name, description, equation;
  int state_dim, noise_dim;
  std::vector<ParamDescription> params;
  std::vector<std::string> steppers;  ///< the steppers that support this model
  std::string default_stepper;        ///< the model's trait (solvers/default_stepper.hpp)
  bool stationary_law = false;        ///< the model samples its stationary law (init "stationary")
};

namespace detail {
template <class M>
std::vector<std::string> steppers_for() {
  std::vector<std::string> out;
  std::apply([&](auto... st) { ((decltype(st)::template supports<M> ? (void)out.emplace_back(decltype(st)::name) : void()), ...); },
             StepperTypes{});
  return out;
}

template <class M>
ModelDescription describe_instance(M m) {
  static_assert(Stepper<default_stepper_t<M>, M>, "a model's default stepper must support it");
  ModelDescription d{std::string(M::name), std::string(M::description), std::string(M::equation), M::state_dim,
                     M::noise_dim, {}, steppers_for<M>(), std::string(default_stepper_t<M>::name),
                     requires(const M& mm) { mm.stationary_law(); }};
  if constexpr (modelfile::is_file_model_v<M>) {  // a model file: its own name, text and equation
    d.name = m.label();
    d.description = m.spec().description;
    d.equation = m.spec().equation();
    d.stationary_law = m.spec().log_density != nullptr && M::state_dim <= 2;  // sampled from log_density
  }
  m.for_each_param([&](const ParamInfo& p, double& v) { d.params.push_back({p, v}); });
  return d;
}

template <class M>
ModelDescription describe_type() {
  return describe_instance(M{});
}

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}
}  // namespace detail

inline std::vector<ModelDescription> list_models() {
  std::vector<ModelDescription> out;
  std::apply([&](auto... m) { (out.push_back(detail::describe_type<decltype(m)>()), ...); }, ModelTypes{});
  return out;
}

inline std::vector<std::string> model_names() {
  std::vector<std::string> out;
  for (const auto& d : list_models()) out.push_back(d.name);
  return out;
}

/// The description of one model; ConfigError listing the valid names when unknown.
inline ModelDescription describe_model(const std::string& name) {
  if (modelfile::is_file_model_name(name)) {
    ModelDescription d;
    modelfile::visit_loaded(modelfile::resolve(name), [&](const auto& m) { d = detail::describe_instance(m); });
    return d;
  }
  for (auto& d : list_models())
    if (d.name == name) return d;
  throw ConfigError("unknown model '" + name + "': valid models are " + detail::join(model_names()));
}

/// The default stepper of the model called `name` (ConfigError listing the models if unknown).
inline std::string default_stepper(const std::string& name) { return describe_model(name).default_stepper; }

/// The models that know their stationary law (init "stationary"), comma-separated.
inline std::string models_with_stationary_law() {
  std::vector<std::string> out;
  for (const auto& d : list_models())
    if (d.stationary_law) out.push_back(d.name);
  return detail::join(out);
}

/// Applies name=value overrides to a model and validates it. Unknown parameter names are
/// rejected with the list of valid ones.
template <SdeModel M>
void apply_params(M& m, const std::vector<ParamValue>& params) {
  for (const auto& pv : params) {
    bool found = false;
    std::vector<std::string> names;
    m.for_each_param([&](const ParamInfo& p, double& v) {
      names.push_back(p.name);
      if (p.name == pv.name) {
        v = pv.value;
        found = true;
      }
    });
    if (!found)
      throw ConfigError("model " + modelfile::model_label(m) + " has no parameter '" + pv.name +
                        "': valid parameters are " + detail::join(names));
  }
  m.validate();
}

/// Current parameter values of a model, in declaration order.
template <SdeModel M>
std::vector<ParamValue> param_values(const M& model) {
  M m = model;
  std::vector<ParamValue> out;
  m.for_each_param([&](const ParamInfo& p, double& v) { out.push_back({p.name, v}); });
  return out;
}

/// Constructs the model called `name` with the given overrides and calls f(model).
template <class F>
decltype(auto) visit_model(const std::string& name, const std::vector<ParamValue>& params, F&& f) {
  using R = decltype(f(std::declval<models::DoubleWell&>()));
  std::optional<std::conditional_t<std::is_void_v<R>, int, R>> result;
  bool found = false;
  if (modelfile::is_file_model_name(name)) {  // a model file (path.toml) or a recorded one (file:NAME#HASH)
    modelfile::visit_loaded(modelfile::resolve(name), [&](auto& model) {
      apply_params(model, params);
      if constexpr (std::is_void_v<R>)
        f(model);
      else
        result.emplace(f(model));
    });
    if constexpr (!std::is_void_v<R>) return R(std::move(*result));
    else return;
  }
  std::apply(
      [&](auto... m) {
        (
            [&] {
              using M = decltype(m);
              if (found || name != M::name) return;
              found = true;
              M model;
              apply_params(model, params);
              if constexpr (std::is_void_v<R>)
                f(model);
              else
                result.emplace(f(model));
            }(),
            ...);
      },
      ModelTypes{});
  if (!found) throw ConfigError("unknown model '" + name + "': valid models are " + detail::join(model_names()));
  if constexpr (!std::is_void_v<R>) return R(std::move(*result));
}

/// Calls f(stepper) with the stepper called `name`, if it supports model type M; otherwise a
/// ConfigError naming the valid steppers for M.
template <SdeModel M, class F>
void visit_stepper(const std::string& name, F&& f) {
  bool found = false;
  std::apply(
      [&](auto... st) {
        (
            [&] {
              using St = decltype(st);
              if (found || name != St::name) return;
              if constexpr (St::template supports<M>) {
                found = true;
                f(St{});
              }
            }(),
            ...);
      },
      StepperTypes{});
  if (!found)
    throw ConfigError("stepper '" + name + "' is not available for model " + std::string(M::name) +
                      ": valid steppers for it are " + detail::join(detail::steppers_for<M>()));
}

}  // namespace sdescore::app
