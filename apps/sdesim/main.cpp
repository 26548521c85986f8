// sdesim: ensembles of SDE paths into HDF5 (docs/cli.md). The program is sdesim::main_program.
#include "sdesim.hpp"

#ifdef SDESCORE_MPI
int main(int argc, char** argv) { return sdescore::sdesim::main_mpi(argc, argv); }  // docs/distributed.md
#else
int main(int argc, char** argv) { return sdescore::sdesim::main_program(argc, argv); }
#endif
