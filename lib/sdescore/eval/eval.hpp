#pragma once
/// \file
/// Umbrella header of the evaluation layer sdescore::eval (docs/evaluation.md).
#include "sdescore/eval/metrics.hpp"
#include "sdescore/eval/model_fields.hpp"
#include "sdescore/eval/physics.hpp"
#include "sdescore/eval/probability_flow.hpp"
#include "sdescore/eval/reverse_sde.hpp"
#include "sdescore/eval/score_error.hpp"
