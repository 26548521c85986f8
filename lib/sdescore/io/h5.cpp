#include "sdescore/io/h5.hpp"

#include "sdescore/io/detail/hdf5.hpp"

#include <algorithm>
#include <mutex>
#include <numeric>
#include <sstream>

namespace sdescore::io {
namespace detail {

namespace {
// HDF5 closes every object still open from an atexit handler (H5_term_library). After a failed
// write (a full disk) a dataset whose close failed stays registered, and closing it again at
// exit, after its file is gone, segfaulted (exit 139 instead of 3; issue #14). Every file we
// write is closed explicitly (AtomicFile::commit / discard) and readers close theirs by RAII, so
// the exit handler has nothing to do that matters: it is switched off before the library starts.
// (H5dont_atexit must run before any other HDF5 call; a static initializer does that.)
const int g_no_hdf5_atexit = [] { return static_cast<int>(H5dont_atexit()); }();
}  // namespace

void silence_hdf5_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

std::string object_path(hid_t id) {
  ssize_t n = H5Iget_name(id, nullptr, 0);
  if (n <= 0) return "?";
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  H5Iget_name(id, s.data(), s.size());
  s.resize(static_cast<std::size_t>(n));
  return s;
}

std::string file_name(hid_t id) {
  ssize_t n = H5Fget_name(id, nullptr, 0);
  if (n <= 0) return "?";
  std::string s(static_cast<std::size_t>(n) + 1, '\0');
  H5Fget_name(id, s.data(), s.size());
  s.resize(static_cast<std::size_t>(n));
  return s;
}

std::string where(hid_t id) {
  std::string s(1, '\'');
  s += file_name(id);
  s += ':';
  s += object_path(id);
  s += '\'';
  return s;
}

bool link_exists(hid_t loc, const std::string& rel) {
  if (rel.empty() || rel == "." || rel == "/") return true;
  std::size_t pos = 0;
  std::string prefix;
  if (rel[0] == '/') {
    prefix = "/";
    pos = 1;
  }
  while (pos <= rel.size()) {
    std::size_t next = rel.find('/', pos);
    if (next == std::string::npos) next = rel.size();
    std::string part = rel.substr(pos, next - pos);
    if (!part.empty()) {
      prefix += (prefix.empty() || prefix.back() == '/') ? part : "/" + part;
      if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
      if (H5Oexists_by_name(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    pos = next + 1;
  }
  return true;
}

Hid vlen_string_type() {
  Hid t = checked(H5Tcopy(H5T_C_S1), "cannot copy HDF5 string type");
  check(H5Tset_size(t.get(), H5T_VARIABLE), "cannot make a variable-length string type");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "cannot set UTF-8 on a string type");
  return t;
}

}  // namespace detail

namespace {
using detail::check;
using detail::checked;
using detail::Hid;

std::string join_shape(const std::vector<std::size_t>& shape) {
  std::ostringstream os;
  os << "(";
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ")";
  return os.str();
}

Hid make_space(const std::vector<std::size_t>& shape) {
  if (shape.empty()) return checked(H5Screate(H5S_SCALAR), "cannot create a scalar dataspace");
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                 "cannot create dataspace " + join_shape(shape));
}

std::vector<std::size_t> space_shape(hid_t space) {
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) throw IoError("cannot read a dataspace rank");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

template <class T>
hid_t mem_type() {
  if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  else if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_NATIVE_UINT64;
  else static_assert(sizeof(T) == 0, "unsupported element type");
}
template <class T>
hid_t file_type() {
  if constexpr (std::is_same_v<T, double>) return H5T_IEEE_F64LE;
  else if constexpr (std::is_same_v<T, float>) return H5T_IEEE_F32LE;
  else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_STD_I64LE;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_STD_U64LE;
  else static_assert(sizeof(T) == 0, "unsupported element type");
}

std::string last_component(const std::string& p) {
  auto k = p.find_last_of('/');
  return k == std::string::npos ? p : p.substr(k + 1);
}

herr_t scale_name_cb(hid_t, unsigned, hid_t scale, void* out) {
  *static_cast<std::string*>(out) = last_component(detail::object_path(scale));
  return 0;  // keep iterating: the last attached scale wins (as in netCDF)
}

/// Attaches dimension scales named dim_names to dataset ds living in group g.
void attach_dims(hid_t g, hid_t ds, const std::string& ds_name, const std::vector<std::size_t>& shape,
                 const std::vector<std::string>& dim_names) {
  if (dim_names.empty()) return;
  if (dim_names.size() != shape.size())
    throw IoError("dataset " + detail::where(ds) + " has rank " + std::to_string(shape.size()) + " but " +
                  std::to_string(dim_names.size()) + " dimension names were given");
  for (std::size_t axis = 0; axis < shape.size(); ++axis) {
    const std::string& dn = dim_names[axis];
    if (dn.empty()) continue;
    if (dn == ds_name) {
      if (shape.size() != 1)
        throw IoError("dataset " + detail::where(ds) + " is named like its dimension '" + dn +
                      "' but is not one-dimensional");
      check(H5DSset_scale(ds, dn.c_str()), "cannot make " + detail::where(ds) + " a dimension scale");
      continue;
    }
    Hid scale;
    if (detail::link_exists(g, dn)) {
      scale = checked(H5Dopen2(g, dn.c_str(), H5P_DEFAULT),
                      "dimension '" + dn + "' of " + detail::where(ds) + " names an object that is not a dataset");
      Hid sp = checked(H5Dget_space(scale.get()), "cannot read the dataspace of dimension '" + dn + "'");
      auto sshape = space_shape(sp.get());
      if (sshape.size() != 1 || sshape[0] != shape[axis])
        throw IoError("dimension '" + dn + "' has shape " + join_shape(sshape) + " but axis " + std::to_string(axis) +
                      " of " + detail::where(ds) + " has length " + std::to_string(shape[axis]));
      if (H5DSis_scale(scale.get()) <= 0)
        check(H5DSset_scale(scale.get(), dn.c_str()), "cannot make '" + dn + "' a dimension scale");
    } else {
      std::vector<std::int64_t> idx(shape[axis]);
      std::iota(idx.begin(), idx.end(), std::int64_t{0});
      Hid sp = make_space({shape[axis]});
      scale = checked(H5Dcreate2(g, dn.c_str(), H5T_STD_I64LE, sp.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      "cannot create dimension scale '" + dn + "' next to " + detail::where(ds));
      if (!idx.empty())
        check(H5Dwrite(scale.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, idx.data()),
              "cannot write dimension scale '" + dn + "'");
      check(H5DSset_scale(scale.get(), dn.c_str()), "cannot make '" + dn + "' a dimension scale");
    }
    check(H5DSattach_scale(ds, scale.get(), static_cast<unsigned>(axis)),
          "cannot attach dimension scale '" + dn + "' to " + detail::where(ds));
  }
}

template <class T>
void write_array_impl(hid_t g, const std::string& name, std::span<const T> data, const std::vector<std::size_t>& shape,
                      const std::vector<std::string>& dim_names) {
  std::size_t n = std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
  if (n != data.size())
    throw IoError("cannot write dataset '" + name + "' in " + detail::where(g) + ": shape " + join_shape(shape) +
                  " holds " + std::to_string(n) + " values but " + std::to_string(data.size()) + " were given");
  if (detail::link_exists(g, name))
    throw IoError("cannot write dataset '" + name + "' in " + detail::where(g) + ": it already exists");
  auto slash = name.find_last_of('/');
  const std::string parent_rel = slash == std::string::npos ? std::string(".") : name.substr(0, slash);
  if (!dim_names.empty()) {
    // Validate existing dimension scales before creating anything.
    if (dim_names.size() != shape.size())
      throw IoError("cannot write dataset '" + name + "' in " + detail::where(g) + ": rank " +
                    std::to_string(shape.size()) + " but " + std::to_string(dim_names.size()) +
                    " dimension names were given");
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
      const std::string dn = parent_rel == "." ? dim_names[axis] : parent_rel + "/" + dim_names[axis];
      if (dim_names[axis].empty() || dim_names[axis] == last_component(name) || !detail::link_exists(g, dn)) continue;
      Hid sc = checked(H5Dopen2(g, dn.c_str(), H5P_DEFAULT),
                       "dimension '" + dim_names[axis] + "' of dataset '" + name + "' is not a dataset");
      Hid sp = checked(H5Dget_space(sc.get()), "cannot read the dataspace of dimension '" + dn + "'");
      auto sshape = space_shape(sp.get());
      if (sshape.size() != 1 || sshape[0] != shape[axis])
        throw IoError("cannot write dataset '" + name + "' in " + detail::where(g) + ": dimension '" +
                      dim_names[axis] + "' has shape " + join_shape(sshape) + " but axis " + std::to_string(axis) +
                      " has length " + std::to_string(shape[axis]));
    }
  }
  Hid lcpl = checked(H5Pcreate(H5P_LINK_CREATE), "cannot create a link property list");
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Hid sp = make_space(shape);
  Hid ds = checked(H5Dcreate2(g, name.c_str(), file_type<T>(), sp.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                   "cannot create dataset '" + name + "' in " + detail::where(g));
  if (n > 0)
    check(H5Dwrite(ds.get(), mem_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()),
          "cannot write dataset " + detail::where(ds.get()));
  if (!dim_names.empty()) {
    // Scales live in the dataset's own group so that h5netcdf/xarray resolve them.
    Hid parent = slash == std::string::npos
                     ? Hid((H5Iinc_ref(g), g))
                     : checked(H5Gopen2(g, name.substr(0, slash).c_str(), H5P_DEFAULT), "cannot open parent group");
    attach_dims(parent.get(), ds.get(), last_component(name), shape, dim_names);
  }
}

template <class T>
std::vector<T> read_attr_vector(hid_t a, hid_t space) {
  hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<T> v(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
  if (!v.empty()) check(H5Aread(a, mem_type<T>(), v.data()), "cannot read attribute values");
  return v;
}

std::vector<std::string> read_attr_strings(hid_t a, hid_t type, hid_t space) {
  hssize_t n = std::max<hssize_t>(H5Sget_simple_extent_npoints(space), 0);
  std::vector<std::string> out;
  if (H5Tis_variable_str(type) > 0) {
    std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
    Hid mt = detail::vlen_string_type();
    H5Tset_cset(mt.get(), H5Tget_cset(type));
    if (n > 0) check(H5Aread(a, mt.get(), ptrs.data()), "cannot read string attribute");
    for (char* p : ptrs) {
      out.emplace_back(p ? p : "");
      if (p) H5free_memory(p);
    }
  } else {
    std::size_t len = H5Tget_size(type);
    std::vector<char> buf(len * static_cast<std::size_t>(n) + 1, '\0');
    Hid mt = checked(H5Tcopy(type), "cannot copy string type");
    if (n > 0) check(H5Aread(a, mt.get(), buf.data()), "cannot read string attribute");
    for (hssize_t i = 0; i < n; ++i) {
      const char* p = buf.data() + static_cast<std::size_t>(i) * len;
      std::size_t l = 0;
      while (l < len && p[l] != '\0') ++l;
      out.emplace_back(p, l);
    }
  }
  return out;
}

}  // namespace

// ---- Group: lifetime ------------------------------------------------------------------

Group Group::adopt(std::int64_t id) {
  Group g;
  g.id_ = id;
  return g;
}
Group::Group(const Group& o) : id_(o.id_) {
  if (id_ >= 0 && H5Iis_valid(id_) > 0) H5Iinc_ref(id_);
  else id_ = -1;
}
Group& Group::operator=(const Group& o) {
  if (this != &o) {
    Group tmp(o);
    std::swap(id_, tmp.id_);
  }
  return *this;
}
Group::Group(Group&& o) noexcept : id_(std::exchange(o.id_, -1)) {}
Group& Group::operator=(Group&& o) noexcept {
  if (this != &o) {
    Group tmp(std::move(o));
    std::swap(id_, tmp.id_);
  }
  return *this;
}
Group::~Group() {
  if (id_ >= 0 && H5Iis_valid(id_) > 0) H5Idec_ref(id_);
}
bool Group::valid() const { return id_ >= 0 && H5Iis_valid(id_) > 0; }

namespace {
void require_valid(const Group& g, const char* what) {
  if (!g.valid())
    throw IoError(std::string("cannot ") + what + ": the HDF5 group handle is closed (file committed or not opened)");
}
}  // namespace

std::string Group::path() const { return valid() ? detail::object_path(id_) : std::string("?"); }
std::string Group::file_name() const { return valid() ? detail::file_name(id_) : std::string("?"); }

// ---- structure ------------------------------------------------------------------------

bool Group::has(const std::string& rel) const {
  require_valid(*this, "look up a link");
  return detail::link_exists(id_, rel);
}
bool Group::has_group(const std::string& rel) const {
  if (!has(rel)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name(id_, rel.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_GROUP;
}
bool Group::has_dataset(const std::string& rel) const {
  if (!has(rel)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name(id_, rel.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_DATASET;
}
Group Group::group(const std::string& rel) const {
  require_valid(*this, "open a group");
  if (!has_group(rel))
    throw IoError("file '" + file_name() + "' has no group '" + rel + "' under '" + path() + "'");
  return adopt(checked(H5Gopen2(id_, rel.c_str(), H5P_DEFAULT), "cannot open group '" + rel + "'").release());
}
Group Group::require_group(const std::string& rel) {
  require_valid(*this, "create a group");
  if (has(rel)) return group(rel);
  Hid lcpl = checked(H5Pcreate(H5P_LINK_CREATE), "cannot create a link property list");
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  return adopt(checked(H5Gcreate2(id_, rel.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                       "cannot create group '" + rel + "' in " + detail::where(id_))
                   .release());
}
std::vector<std::string> Group::children() const {
  require_valid(*this, "list a group");
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  H5Literate(id_, H5_INDEX_NAME, H5_ITER_INC, nullptr, cb, &names);
  return names;
}
std::vector<std::size_t> Group::dataset_shape(const std::string& rel) const {
  if (!has_dataset(rel)) throw IoError("file '" + file_name() + "' has no dataset '" + rel + "' under '" + path() + "'");
  Hid ds = checked(H5Dopen2(id_, rel.c_str(), H5P_DEFAULT), "cannot open dataset '" + rel + "'");
  Hid sp = checked(H5Dget_space(ds.get()), "cannot read dataspace of '" + rel + "'");
  return space_shape(sp.get());
}

// ---- attributes -----------------------------------------------------------------------

void Group::set_attr(const std::string& name, const AttrValue& value) {
  require_valid(*this, "write an attribute");
  if (H5Aexists(id_, name.c_str()) > 0)
    check(H5Adelete(id_, name.c_str()), "cannot replace attribute '" + name + "' on " + detail::where(id_));
  const std::string what = "cannot write attribute '" + name + "' on " + detail::where(id_);
  auto write_num = [&](hid_t ftype, hid_t mtype, const void* data, const std::vector<std::size_t>& shape) {
    Hid sp = make_space(shape);
    Hid a = checked(H5Acreate2(id_, name.c_str(), ftype, sp.get(), H5P_DEFAULT, H5P_DEFAULT), what);
    std::size_t n = shape.empty() ? 1 : shape[0];
    if (n > 0) check(H5Awrite(a.get(), mtype, data), what);
  };
  auto write_str = [&](const std::vector<std::string>& s, bool scalar) {
    Hid t = detail::vlen_string_type();
    Hid sp = scalar ? make_space({}) : make_space({s.size()});
    Hid a = checked(H5Acreate2(id_, name.c_str(), t.get(), sp.get(), H5P_DEFAULT, H5P_DEFAULT), what);
    std::vector<const char*> ptrs;
    for (auto& x : s) ptrs.push_back(x.c_str());
    if (!ptrs.empty()) check(H5Awrite(a.get(), t.get(), ptrs.data()), what);
  };
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) write_str({v}, true);
        else if constexpr (std::is_same_v<V, std::vector<std::string>>) write_str(v, false);
        else if constexpr (std::is_same_v<V, std::vector<double>> || std::is_same_v<V, std::vector<std::int64_t>>)
          write_num(file_type<typename V::value_type>(), mem_type<typename V::value_type>(), v.data(), {v.size()});
        else write_num(file_type<V>(), mem_type<V>(), &v, {});
      },
      value);
}
void Group::set_attrs(const Attributes& attributes) {
  for (const auto& [k, v] : attributes) set_attr(k, v);
}
bool Group::has_attr(const std::string& name) const {
  require_valid(*this, "look up an attribute");
  return H5Aexists(id_, name.c_str()) > 0;
}
std::vector<std::string> Group::attr_names() const {
  require_valid(*this, "list attributes");
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  H5Aiterate2(id_, H5_INDEX_NAME, H5_ITER_INC, nullptr, cb, &names);
  return names;
}
AttrValue Group::attr(const std::string& name) const {
  if (!has_attr(name))
    throw IoError("file '" + file_name() + "': '" + path() + "' has no attribute '" + name + "'");
  const std::string what = "cannot read attribute '" + name + "' of " + detail::where(id_);
  Hid a = checked(H5Aopen(id_, name.c_str(), H5P_DEFAULT), what);
  Hid type = checked(H5Aget_type(a.get()), what);
  Hid space = checked(H5Aget_space(a.get()), what);
  bool scalar = H5Sget_simple_extent_type(space.get()) == H5S_SCALAR;
  switch (H5Tget_class(type.get())) {
    case H5T_STRING: {
      auto s = read_attr_strings(a.get(), type.get(), space.get());
      if (scalar) return s.empty() ? std::string() : s[0];
      return s;
    }
    case H5T_FLOAT: {
      auto v = read_attr_vector<double>(a.get(), space.get());
      if (scalar) return v.at(0);
      return v;
    }
    case H5T_INTEGER: {
      if (scalar && H5Tget_sign(type.get()) == H5T_SGN_NONE && H5Tget_size(type.get()) == 8)
        return read_attr_vector<std::uint64_t>(a.get(), space.get()).at(0);
      auto v = read_attr_vector<std::int64_t>(a.get(), space.get());
      if (scalar) return v.at(0);
      return v;
    }
    default:
      throw IoError(what + ": unsupported attribute type (expected string, float or integer)");
  }
}
Attributes Group::attrs() const {
  Attributes out;
  for (const auto& n : attr_names()) {
    try {
      out.emplace(n, attr(n));
    } catch (const IoError&) {
      // Attributes of other types (e.g. dimension-scale references) are skipped.
    }
  }
  return out;
}

namespace {
[[noreturn]] void wrong_type(const Group& g, const std::string& name, const char* expected) {
  throw IoError("file '" + g.file_name() + "': attribute '" + name + "' of '" + g.path() + "' is not " + expected);
}
}  // namespace

std::string Group::attr_string(const std::string& name) const {
  auto v = attr(name);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* s = std::get_if<std::vector<std::string>>(&v); s && s->size() == 1) return (*s)[0];
  wrong_type(*this, name, "a string");
}
double Group::attr_double(const std::string& name) const {
  auto v = attr(name);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* d = std::get_if<std::vector<double>>(&v); d && d->size() == 1) return (*d)[0];
  wrong_type(*this, name, "a floating-point number");
}
std::int64_t Group::attr_int64(const std::string& name) const {
  auto v = attr(name);
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* u = std::get_if<std::uint64_t>(&v); u && *u <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(*u);
  if (auto* i = std::get_if<std::vector<std::int64_t>>(&v); i && i->size() == 1) return (*i)[0];
  wrong_type(*this, name, "an integer");
}
std::uint64_t Group::attr_uint64(const std::string& name) const {
  auto v = attr(name);
  if (auto* u = std::get_if<std::uint64_t>(&v)) return *u;
  if (auto* i = std::get_if<std::int64_t>(&v); i && *i >= 0) return static_cast<std::uint64_t>(*i);
  wrong_type(*this, name, "a non-negative integer");
}
std::vector<double> Group::attr_doubles(const std::string& name) const {
  auto v = attr(name);
  if (auto* d = std::get_if<std::vector<double>>(&v)) return *d;
  if (auto* d = std::get_if<double>(&v)) return {*d};
  if (auto* i = std::get_if<std::vector<std::int64_t>>(&v)) return {i->begin(), i->end()};
  wrong_type(*this, name, "an array of numbers");
}
std::vector<std::string> Group::attr_strings(const std::string& name) const {
  auto v = attr(name);
  if (auto* s = std::get_if<std::vector<std::string>>(&v)) return *s;
  if (auto* s = std::get_if<std::string>(&v)) return {*s};
  wrong_type(*this, name, "an array of strings");
}

void Group::write_named_doubles(const std::string& rel, const std::map<std::string, double>& values) {
  Group g = require_group(rel);
  for (const auto& [k, v] : values) g.set_attr(k, v);
}
std::map<std::string, double> Group::read_named_doubles(const std::string& rel) const {
  Group g = group(rel);
  std::map<std::string, double> out;
  for (const auto& n : g.attr_names()) out[n] = g.attr_double(n);
  return out;
}

// ---- datasets -------------------------------------------------------------------------

void Group::write_array(const std::string& name, std::span<const double> data, const std::vector<std::size_t>& shape,
                        const std::vector<std::string>& dim_names) {
  require_valid(*this, "write a dataset");
  write_array_impl<double>(id_, name, data, shape, dim_names);
}
void Group::write_array(const std::string& name, std::span<const float> data, const std::vector<std::size_t>& shape,
                        const std::vector<std::string>& dim_names) {
  require_valid(*this, "write a dataset");
  write_array_impl<float>(id_, name, data, shape, dim_names);
}
void Group::write_array(const std::string& name, std::span<const std::int64_t> data,
                        const std::vector<std::size_t>& shape, const std::vector<std::string>& dim_names) {
  require_valid(*this, "write a dataset");
  write_array_impl<std::int64_t>(id_, name, data, shape, dim_names);
}

template <class T>
Array<T> Group::read_array(const std::string& rel) const {
  require_valid(*this, "read a dataset");
  if (!has_dataset(rel)) throw IoError("file '" + file_name() + "' has no dataset '" + rel + "' under '" + path() + "'");
  Hid ds = checked(H5Dopen2(id_, rel.c_str(), H5P_DEFAULT), "cannot open dataset '" + rel + "'");
  Hid sp = checked(H5Dget_space(ds.get()), "cannot read dataspace of '" + rel + "'");
  Array<T> out;
  out.shape = space_shape(sp.get());
  std::size_t n = std::accumulate(out.shape.begin(), out.shape.end(), std::size_t{1}, std::multiplies<>());
  out.data.resize(n);
  if (n > 0)
    check(H5Dread(ds.get(), mem_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data.data()),
          "cannot read dataset " + detail::where(ds.get()) + " as the requested type");
  return out;
}
template Array<double> Group::read_array<double>(const std::string&) const;
template Array<float> Group::read_array<float>(const std::string&) const;
template Array<std::int64_t> Group::read_array<std::int64_t>(const std::string&) const;

std::vector<std::string> Group::dim_names(const std::string& rel) const {
  auto shape = dataset_shape(rel);
  Hid ds = checked(H5Dopen2(id_, rel.c_str(), H5P_DEFAULT), "cannot open dataset '" + rel + "'");
  std::vector<std::string> names(shape.size());
  for (std::size_t axis = 0; axis < shape.size(); ++axis) {
    if (H5DSget_num_scales(ds.get(), static_cast<unsigned>(axis)) > 0)
      H5DSiterate_scales(ds.get(), static_cast<unsigned>(axis), nullptr, scale_name_cb, &names[axis]);
  }
  return names;
}

// ---- files ----------------------------------------------------------------------------

namespace {
Group open_impl(const std::filesystem::path& path, unsigned flags) {
  detail::silence_hdf5_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw IoError("cannot open '" + path.string() + "': no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError("cannot open '" + path.string() + "': not an HDF5 file");
  Hid f = checked(H5Fopen(path.c_str(), flags, H5P_DEFAULT),
                  "cannot open HDF5 file '" + path.string() + "'" +
                      (flags == H5F_ACC_RDWR ? " for writing" : " for reading"));
  return Group::adopt(checked(H5Gopen2(f.get(), "/", H5P_DEFAULT), "cannot open the root group of '" +
                                                                       path.string() + "'")
                          .release());
}
}  // namespace

Group open_file(const std::filesystem::path& path) { return open_impl(path, H5F_ACC_RDONLY); }
Group open_file_rw(const std::filesystem::path& path) { return open_impl(path, H5F_ACC_RDWR); }

}  // namespace sdescore::io
