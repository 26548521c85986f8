#pragma once
/// \file
/// Umbrella header of sdescore::random (counter-based variates; docs/simulation.md).
#include "sdescore/random/normal.hpp"
#include "sdescore/random/philox.hpp"
