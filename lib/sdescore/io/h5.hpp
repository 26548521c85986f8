#pragma once
// Small generic HDF5 helpers for every layer: an RAII group handle with typed
// attributes, "named doubles" maps and N-dimensional double/float/int64 datasets with
// optional dimension names (attached as HDF5 dimension scales, so xarray/h5netcdf see
// named dimensions). No HDF5 type appears in this header.
//
//   auto root = sdescore::io::open_file(path);           // read-only
//   auto w = root.group("score/network").read_array<float>("layer0/weight");
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace sdescore::io {

/// Value of an HDF5 attribute as sdescore writes and reads it. Integers without a
/// suffix convert to std::int64_t; seeds use std::uint64_t.
using AttrValue = std::variant<std::string, double, std::int64_t, std::uint64_t, std::vector<double>,
                               std::vector<std::int64_t>, std::vector<std::string>>;
/// Ordered name -> value map (written in name order).
using Attributes = std::map<std::string, AttrValue>;

/// A dense row-major N-dimensional array read back from a dataset.
template <class T>
struct Array {
  std::vector<T> data;
  std::vector<std::size_t> shape;
  std::size_t size() const { return data.size(); }
};

/// Handle to an HDF5 file root or group. Copies share the underlying object (reference
/// counted); the file stays open while any handle into it lives, except for files owned
/// by an AtomicFile, whose commit() closes every handle into them.
class Group {
 public:
  Group() = default;
  Group(const Group& other);
  Group& operator=(const Group& other);
  Group(Group&& other) noexcept;
  Group& operator=(Group&& other) noexcept;
  ~Group();

  /// True while the underlying HDF5 object is open.
  bool valid() const;
  /// HDF5 path inside the file, e.g. "/particles/ensemble".
  std::string path() const;
  /// Name of the file on disk.
  std::string file_name() const;

  // ---- structure -------------------------------------------------------------------
  /// True if a link `rel` ("a/b/c" allowed) exists below this group.
  bool has(const std::string& rel) const;
  bool has_group(const std::string& rel) const;
  bool has_dataset(const std::string& rel) const;
  /// Opens an existing subgroup; IoError naming file and path if it is missing.
  Group group(const std::string& rel) const;
  /// Opens or creates a subgroup (and any missing intermediate groups).
  Group require_group(const std::string& rel);
  /// Names of the direct children (groups and datasets), in name order.
  std::vector<std::string> children() const;
  /// Shape of dataset `rel`.
  std::vector<std::size_t> dataset_shape(const std::string& rel) const;

  // ---- attributes ------------------------------------------------------------------
  /// Writes (or replaces) attribute `name`. Strings are variable-length UTF-8.
  void set_attr(const std::string& name, const AttrValue& value);
  void set_attrs(const Attributes& attributes);
  bool has_attr(const std::string& name) const;
  std::vector<std::string> attr_names() const;
  /// Reads any attribute of a supported type (integers widen to int64/uint64, floats to double).
  AttrValue attr(const std::string& name) const;
  Attributes attrs() const;
  /// Typed reads: IoError naming the attribute if it is missing or of another type.
  std::string attr_string(const std::string& name) const;
  double attr_double(const std::string& name) const;
  std::int64_t attr_int64(const std::string& name) const;
  std::uint64_t attr_uint64(const std::string& name) const;
  std::vector<double> attr_doubles(const std::string& name) const;
  std::vector<std::string> attr_strings(const std::string& name) const;

  /// A map of named doubles stored as the attributes of subgroup `rel` (one double
  /// attribute per entry; readable as dict(f[rel].attrs) in h5py).
  void write_named_doubles(const std::string& rel, const std::map<std::string, double>& values);
  std::map<std::string, double> read_named_doubles(const std::string& rel) const;

  // ---- datasets --------------------------------------------------------------------
  /// Writes a contiguous row-major dataset `name` of the given shape (rank >= 0; a rank-0
  /// shape writes a scalar). `dim_names`, if given, must have one entry per axis: each
  /// names a dimension scale dataset in this group (created as 0..n-1 int64 if missing,
  /// reused if present with the right length; a 1-D dataset named like its dimension
  /// becomes the scale itself). Replacing an existing dataset is an IoError.
  void write_array(const std::string& name, std::span<const double> data, const std::vector<std::size_t>& shape,
                   const std::vector<std::string>& dim_names = {});
  void write_array(const std::string& name, std::span<const float> data, const std::vector<std::size_t>& shape,
                   const std::vector<std::string>& dim_names = {});
  void write_array(const std::string& name, std::span<const std::int64_t> data,
                   const std::vector<std::size_t>& shape, const std::vector<std::string>& dim_names = {});
  /// Reads dataset `rel` converting to T (double, float or std::int64_t).
  template <class T>
  Array<T> read_array(const std::string& rel) const;
  /// Names of the dimension scales attached to each axis of dataset `rel` ("" if none).
  std::vector<std::string> dim_names(const std::string& rel) const;

  /// The raw HDF5 id (hid_t), for code inside the io layer.
  std::int64_t id() const { return id_; }
  /// Takes ownership of an open HDF5 group/file id (io layer internal).
  static Group adopt(std::int64_t id);

 private:
  std::int64_t id_ = -1;
};

extern template Array<double> Group::read_array<double>(const std::string&) const;
extern template Array<float> Group::read_array<float>(const std::string&) const;
extern template Array<std::int64_t> Group::read_array<std::int64_t>(const std::string&) const;

/// Opens an existing HDF5 file read-only and returns its root group. IoError naming the
/// path if it does not exist or is not an HDF5 file.
Group open_file(const std::filesystem::path& path);
/// Opens an existing HDF5 file for reading and writing (in place, not atomic).
Group open_file_rw(const std::filesystem::path& path);

}  // namespace sdescore::io
