#pragma once
// Umbrella header of sdescore::nn (docs/nn.md).
#include "sdescore/nn/activation.hpp"
#include "sdescore/nn/adam.hpp"
#include "sdescore/nn/architecture.hpp"
#include "sdescore/nn/ema.hpp"
#include "sdescore/nn/loss.hpp"
#include "sdescore/nn/mlp.hpp"
#include "sdescore/nn/probes.hpp"
#include "sdescore/nn/schedule.hpp"
#include "sdescore/nn/trainer.hpp"
