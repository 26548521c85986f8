// Architecture: parameter count and layout, time features by hand, validation, names.
#include <doctest/doctest.h>

#include <cmath>

#include "sdescore/nn/architecture.hpp"

using namespace sdescore;
using namespace sdescore::nn;

TEST_CASE("Architecture: parameter count and offsets") {
  Architecture a = Architecture::score_model(2);
  CHECK(a.network_input_dim() == 2 + 9);
  CHECK(a.n_layers() == 3);
  CHECK(a.num_parameters() == 128 * 12 + 128 * 129 + 2 * 129);
  CHECK(a.weight_offset(0) == 0);
  CHECK(a.bias_offset(0) == 128 * 11);
  CHECK(a.weight_offset(1) == 128 * 12);
  CHECK(a.bias_offset(2) == a.num_parameters() - 2);
}

TEST_CASE("TimeFeatures: values by hand, linear and log scale") {
  TimeFeatures tf;
  tf.n_frequencies = 2;
  tf.t_max = 4.0;
  double f[5];
  tf.compute(1.0, f);  // u = 1/4
  const double pi = 3.141592653589793;
  CHECK(f[0] == doctest::Approx(0.25));
  CHECK(f[1] == doctest::Approx(std::sin(pi / 4)));
  CHECK(f[2] == doctest::Approx(std::cos(pi / 4)));
  CHECK(f[3] == doctest::Approx(1.0));   // sin(pi/2)
  CHECK(f[4] == doctest::Approx(0.0).epsilon(1e-12).scale(1.0));
  tf.scale = TimeScale::log;
  tf.t_min = 0.01;
  tf.t_max = 1.0;
  CHECK(tf.rescale(0.01) == doctest::Approx(0.0));
  CHECK(tf.rescale(0.1) == doctest::Approx(0.5));
  CHECK(tf.rescale(1.0) == doctest::Approx(1.0));
  CHECK_THROWS_AS(tf.rescale(0.0), NumericalError);
  TimeFeatures none;
  none.n_frequencies = 0;
  CHECK(none.size() == 1);
}

TEST_CASE("Architecture: validation names the bad value") {
  Architecture a;
  a.input_dim = 0;
  CHECK_THROWS_WITH_AS(a.validate(), doctest::Contains("input_dim = 0"), ConfigError);
  a = Architecture{};
  a.time.n_frequencies = -1;
  CHECK_THROWS_WITH_AS(a.validate(), doctest::Contains("n_frequencies = -1"), ConfigError);
  a = Architecture{};
  a.time.scale = TimeScale::log;
  a.time.t_min = 2.0;
  CHECK_THROWS_AS(a.validate(), ConfigError);
}

TEST_CASE("Architecture: enum names round trip") {
  for (Activation x : {Activation::silu, Activation::tanh, Activation::softplus})
    CHECK(parse_activation(activation_name(x)) == x);
  CHECK_THROWS_WITH_AS(parse_activation("relu"), doctest::Contains("silu, tanh, softplus"), ConfigError);
  CHECK(parse_time_scale(time_scale_name(TimeScale::log)) == TimeScale::log);
  CHECK_THROWS_AS(parse_time_scale("sqrt"), ConfigError);
}
