#pragma once
// Umbrella header of the sdescore::io layer (HDF5 in/out). See docs/file-format.md.
#include "sdescore/io/atomic.hpp"
#include "sdescore/io/checkpoint.hpp"
#include "sdescore/io/ensemble_reader.hpp"
#include "sdescore/io/ensemble_writer.hpp"
#include "sdescore/io/h5.hpp"
#include "sdescore/io/observables.hpp"
#include "sdescore/io/output_file.hpp"
#include "sdescore/io/run_info.hpp"
#include "sdescore/io/sweep_writer.hpp"
