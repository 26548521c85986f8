#pragma once
/// \file
/// Umbrella header of sdescore::ensemble (docs/simulation.md).
#include "sdescore/ensemble/engine.hpp"
#include "sdescore/ensemble/init.hpp"
#include "sdescore/ensemble/state.hpp"
#include "sdescore/ensemble/stationary.hpp"
#include "sdescore/ensemble/stats.hpp"
