// scorefit: learn, evaluate and export time-dependent scores (docs/cli.md). The program is
// scorefit::main_program.
#include "scorefit.hpp"

#ifdef SDESCORE_MPI
int main(int argc, char** argv) { return sdescore::scorefit::main_mpi(argc, argv); }  // docs/distributed.md
#else
int main(int argc, char** argv) { return sdescore::scorefit::main_program(argc, argv); }
#endif
