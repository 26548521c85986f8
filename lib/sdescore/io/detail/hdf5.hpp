#pragma once
// Private to the io layer: the HDF5 C API, an RAII owner for hid_t and error helpers.
// Only io/*.cpp include this header.
#include <hdf5.h>
#include <hdf5_hl.h>

#include <sdescore/core/error.hpp>

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace sdescore::io::detail {

static_assert(std::is_same_v<hid_t, std::int64_t>,
              "sdescore::io stores hid_t as std::int64_t in its public headers (HDF5 >= 1.10)");

/// Turns off HDF5's automatic error stack printing once per process: failures are
/// reported through IoError messages instead.
void silence_hdf5_errors();

/// Owns one HDF5 identifier and closes it with H5Idec_ref. Ids already invalidated
/// (e.g. by a strong file close) are skipped.
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Hid() { reset(); }
  void reset() noexcept {
    if (id_ >= 0 && H5Iis_valid(id_) > 0) H5Idec_ref(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t get() const noexcept { return id_; }
  hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }
  explicit operator bool() const noexcept { return id_ >= 0 && H5Iis_valid(id_) > 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// Throws IoError(what) if id < 0, otherwise wraps it.
inline Hid checked(hid_t id, const std::string& what) {
  if (id < 0) throw IoError(what);
  return Hid(id);
}
/// Throws IoError(what) if status < 0.
inline void check(herr_t status, const std::string& what) {
  if (status < 0) throw IoError(what);
}

/// Full HDF5 path of an object ("/particles/x/position"), or "?" if unknown.
std::string object_path(hid_t id);
/// Name of the file an object lives in.
std::string file_name(hid_t id);
/// "'<file>:<path>'" for messages.
std::string where(hid_t id);

/// True if the link `rel` (possibly nested "a/b/c") exists below loc and resolves.
bool link_exists(hid_t loc, const std::string& rel);

/// A variable-length UTF-8 string type.
Hid vlen_string_type();

}  // namespace sdescore::io::detail
