// Score models in Python: placeholder until the score bindings land (issue #12, score half).
#include "bindings.hpp"

namespace sdescore::python {

void bind_score(pybind11::module_&) {}

}  // namespace sdescore::python
