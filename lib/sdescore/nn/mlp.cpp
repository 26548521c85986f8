// Explicit instantiations: the network kernels are compiled once, here, with the library's flags
// (-march=native under the bench preset).
#include "sdescore/nn/mlp.hpp"

namespace sdescore::nn {
template class Mlp<float>;
template class Mlp<double>;
}  // namespace sdescore::nn
