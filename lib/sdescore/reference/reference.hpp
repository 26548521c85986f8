#pragma once
/// \file
/// Umbrella header of the reference layer: grids, Fokker-Planck solver, snapshots and score
/// errors, the own error by refinement, analytic reference laws (docs/reference.md).
#include "sdescore/reference/analytic.hpp"
#include "sdescore/reference/fokker_planck.hpp"
#include "sdescore/reference/grid.hpp"
#include "sdescore/reference/refinement.hpp"
#include "sdescore/reference/snapshot.hpp"
