#pragma once
// The shape of a score network: everything needed to rebuild it around a flat parameter vector.
//
//   input  x = [ y (input_dim) ; phi(t) (time.size()) ]
//   hidden h_l = act(W_l h_{l-1} + b_l),  l = 1..hidden.size()
//   output o = W_out h_L + b_out  (output_dim),    s = o / sigma_bar  (optional, per sample)
//
// Time features phi(t) (docs/nn.md): with u = t / t_max (linear) or
// u = log(t / t_min) / log(t_max / t_min) (log),  phi = [u, sin(pi k u), cos(pi k u)], k = 1..K.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "sdescore/core/error.hpp"

namespace sdescore::nn {

enum class Activation { silu, tanh, softplus };

inline std::string_view activation_name(Activation a) {
  switch (a) {
    case Activation::silu: return "silu";
    case Activation::tanh: return "tanh";
    case Activation::softplus: return "softplus";
  }
  return "?";
}

/// Inverse of activation_name; throws ConfigError naming the valid choices.
inline Activation parse_activation(std::string_view name) {
  for (Activation a : {Activation::silu, Activation::tanh, Activation::softplus})
    if (name == activation_name(a)) return a;
  throw ConfigError("activation '" + std::string(name) + "' is unknown: valid are silu, tanh, softplus");
}

enum class TimeScale { linear, log };

inline std::string_view time_scale_name(TimeScale s) { return s == TimeScale::linear ? "linear" : "log"; }
inline TimeScale parse_time_scale(std::string_view name) {
  if (name == "linear") return TimeScale::linear;
  if (name == "log") return TimeScale::log;
  throw ConfigError("time scale '" + std::string(name) + "' is unknown: valid are linear, log");
}

/// Fourier features of (rescaled) time: [u, sin(pi k u), cos(pi k u)] for k = 1..n_frequencies.
struct TimeFeatures {
  int n_frequencies = 4;               ///< K >= 0; K = 0 feeds u alone
  double t_max = 1.0;                  ///< time horizon T (u = 1 at t = t_max)
  TimeScale scale = TimeScale::linear;
  double t_min = 1e-3;                 ///< log scale only: u = 0 at t = t_min

  int size() const { return 1 + 2 * n_frequencies; }

  void validate() const {
    if (n_frequencies < 0)
      throw ConfigError("time features: n_frequencies = " + std::to_string(n_frequencies) +
                        " is invalid: it must be >= 0");
    require_positive("time features: t_max", t_max);
    if (scale == TimeScale::log) {
      require_positive("time features: t_min (log scale)", t_min);
      if (!(t_min < t_max))
        throw ConfigError("time features: t_min = " + sdescore::detail::fmt_double(t_min) +
                          " must be < t_max = " + sdescore::detail::fmt_double(t_max) + " for the log scale");
    }
  }

  /// The rescaled time u(t). Log scale needs t > 0 (NumericalError otherwise).
  double rescale(double t) const {
    if (scale == TimeScale::linear) return t / t_max;
    if (!(t > 0))
      throw NumericalError("time features: t = " + sdescore::detail::fmt_double(t) +
                           " is invalid for the log time scale: it must be > 0");
    return std::log(t / t_min) / std::log(t_max / t_min);
  }

  /// Writes size() features of time t to out.
  template <class T>
  void compute(double t, T* out) const {
    const double u = rescale(t);
    out[0] = static_cast<T>(u);
    for (int k = 1; k <= n_frequencies; ++k) {
      const double a = std::numbers::pi * k * u;
      out[2 * k - 1] = static_cast<T>(std::sin(a));
      out[2 * k] = static_cast<T>(std::cos(a));
    }
  }
};

/// Weight initialisation (biases start at zero in both).
enum class Init {
  xavier_uniform,   ///< U(-a, a), a = sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)
  kaiming_uniform,  ///< U(-a, a), a = sqrt(3 / fan_in)  (unit-variance preactivations, He et al. 2015, gain 1)
};

struct Architecture {
  int input_dim = 1;                   ///< d: dimension of y (the state)
  std::vector<int> hidden = {128, 128};
  Activation activation = Activation::silu;
  TimeFeatures time{};
  int output_dim = 1;                  ///< d for a score model

  /// A score model on R^d with the default body (2 x 128, SiLU, 4 frequencies).
  static Architecture score_model(int d) {
    Architecture a;
    a.input_dim = d;
    a.output_dim = d;
    return a;
  }

  int network_input_dim() const { return input_dim + time.size(); }
  int n_layers() const { return static_cast<int>(hidden.size()) + 1; }  ///< affine layers
  int layer_in(int l) const { return l == 0 ? network_input_dim() : hidden[l - 1]; }
  int layer_out(int l) const { return l == static_cast<int>(hidden.size()) ? output_dim : hidden[l]; }

  /// Number of scalars in the flat parameter vector.
  std::int64_t num_parameters() const {
    std::int64_t n = 0;
    for (int l = 0; l < n_layers(); ++l) n += std::int64_t(layer_out(l)) * (layer_in(l) + 1);
    return n;
  }
  /// Offset of layer l's weight matrix (layer_out x layer_in, column-major) in the flat vector;
  /// its bias (layer_out) follows immediately.
  std::int64_t weight_offset(int l) const {
    std::int64_t n = 0;
    for (int k = 0; k < l; ++k) n += std::int64_t(layer_out(k)) * (layer_in(k) + 1);
    return n;
  }
  std::int64_t bias_offset(int l) const { return weight_offset(l) + std::int64_t(layer_out(l)) * layer_in(l); }

  void validate() const {
    if (input_dim < 1)
      throw ConfigError("architecture: input_dim = " + std::to_string(input_dim) + " is invalid: it must be >= 1");
    if (output_dim < 1)
      throw ConfigError("architecture: output_dim = " + std::to_string(output_dim) + " is invalid: it must be >= 1");
    for (std::size_t l = 0; l < hidden.size(); ++l)
      if (hidden[l] < 1)
        throw ConfigError("architecture: hidden[" + std::to_string(l) + "] = " + std::to_string(hidden[l]) +
                          " is invalid: widths must be >= 1");
    time.validate();
  }

  friend bool operator==(const Architecture& a, const Architecture& b) {
    return a.input_dim == b.input_dim && a.hidden == b.hidden && a.activation == b.activation &&
           a.time.n_frequencies == b.time.n_frequencies && a.time.t_max == b.time.t_max &&
           a.time.scale == b.time.scale && a.time.t_min == b.time.t_min && a.output_dim == b.output_dim;
  }
};

}  // namespace sdescore::nn
