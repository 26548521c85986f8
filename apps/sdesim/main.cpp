// sdesim: ensembles of SDE paths into HDF5 (docs/cli.md). The program is sdesim::main_program.
#include "sdesim.hpp"

int main(int argc, char** argv) { return sdescore::sdesim::main_program(argc, argv); }
