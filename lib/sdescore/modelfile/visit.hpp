#pragma once
/// \file
/// Model files at the registry edge: which names are model files, the shapes the adapter is
/// compiled for, and the provenance stored in output files (docs/model-files.md).
///
/// A model file runs as FileModel<D, M, Kind> for the (state_dim, noise_dim, noise kind) shapes
/// in FileShapes. Every shape is one more instantiation of every app template (engine x steppers,
/// training, physics), so the list is short:
///   (1,1) additive, (1,1) diagonal, (2,1) additive, (2,2) additive, (2,2) general,
///   (3,3) additive, (3,3) general.
/// A 2D or 3D diagonal model runs as general (Milstein is then not offered). A 3-variable model
/// with fewer than 3 noises runs with its G padded by zero columns to 3 x 3 (model_file.cpp,
/// kRunNoiseColumns3D): the same law, one or two more normals per step. Other shapes are refused
/// with this list.
#include <memory>
#include <string>
#include <tuple>
#include <variant>

#include "sdescore/modelfile/compile.hpp"
#include "sdescore/modelfile/file_model.hpp"

namespace sdescore::modelfile {

using FileShapes = std::tuple<FileModel<1, 1, additive_noise>, FileModel<1, 1, diagonal_noise>,
                              FileModel<2, 1, additive_noise>, FileModel<2, 2, additive_noise>,
                              FileModel<2, 2, general_noise>, FileModel<3, 3, additive_noise>,
                              FileModel<3, 3, general_noise>>;

inline constexpr std::string_view kShapesText =
    "1 variable (any noise), 2 variables with 1 additive noise, 2 variables with 2 noises (any kind), "
    "3 variables with at most 3 noises (any kind)";

/// The attribute names of the provenance in output files (io::RunInfo::extra).
inline constexpr const char* kTextAttr = "model_file_text";
inline constexpr const char* kHashAttr = "model_file_hash";
inline constexpr const char* kPathAttr = "model_file_path";

template <class M>
inline constexpr bool is_file_model_v = requires { requires M::is_model_file; };

/// Whether a model name refers to a model file: a path ending in ".toml", or the recorded name
/// "file:<name>#<hash16>" of one.
inline bool is_file_model_name(const std::string& name) {
  return name.rfind("file:", 0) == 0 || (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0);
}

/// Loads the model file at a path, or finds the recorded "file:..." model loaded (adopted) in
/// this process. ConfigError if a recorded model's text is not available.
inline std::shared_ptr<const LoadedModel> resolve(const std::string& name) {
  if (name.rfind("file:", 0) == 0) {
    auto lm = find_loaded(name);
    if (!lm)
      throw ConfigError("model '" + name + "' comes from a model file whose text is not available here: it is read "
                        "from the ensemble or score file that records it (attribute " + std::string(kTextAttr) +
                        "); give the model file's path (a .toml) instead");
    return lm;
  }
  return load_model_file(name);
}

/// Whether FileModel type M runs a spec.
template <class M>
bool fits(const ModelSpec& s) {
  if (s.dim != M::state_dim || s.noise_dim != M::noise_dim) return false;
  using K = typename M::noise_kind;
  switch (s.noise_kind) {
    case NoiseKind::additive:
      return std::is_same_v<K, additive_noise>;
    case NoiseKind::diagonal:
    case NoiseKind::general:
      return s.dim == 1 ? std::is_same_v<K, diagonal_noise> : std::is_same_v<K, general_noise>;
  }
  return false;
}

/// Calls f(model) with the FileModel type that fits the loaded file (defaults applied; the
/// caller applies overrides). ConfigError naming the shape when none fits.
template <class F>
void visit_loaded(const std::shared_ptr<const LoadedModel>& lm, F&& f) {
  bool found = false;
  std::apply(
      [&](auto... m) {
        (
            [&] {
              using M = decltype(m);
              if (found || !fits<M>(lm->spec)) return;
              found = true;
              M model(lm);
              f(model);
            }(),
            ...);
      },
      FileShapes{});
  if (!found)
    throw ConfigError(lm->spec.origin + ": model '" + lm->spec.name + "' has " + std::to_string(lm->spec.dim) +
                      " variables, noise dimension " + std::to_string(lm->spec.noise_dim) + " and " +
                      to_string(lm->spec.noise_kind) + " noise; model files run in these shapes: " +
                      std::string(kShapesText));
}

/// The name a model is recorded under: M::name for a built-in, label() for a model file.
template <class M>
std::string model_label(const M& m) {
  if constexpr (is_file_model_v<M>)
    return m.label();
  else
    return std::string(M::name);
}

/// Stores the model name, and for a model file its full text, hash and path, in a run's
/// provenance (Info: io::RunInfo, with `model` and the `extra` attribute map).
template <class M, class Info>
void record_model(const M& m, Info& info) {
  info.model = model_label(m);
  if constexpr (is_file_model_v<M>) {
    info.extra[kTextAttr] = m.spec().text;
    info.extra[kHashAttr] = m.spec().hash;
    info.extra[kPathAttr] = m.spec().origin;
  }
}

/// Makes the model file recorded in a run's provenance available under its recorded name
/// (resolve / visit_model), from the stored text alone. Does nothing for built-in models.
/// IoError if the stored text does not match its recorded hash or name.
template <class Info>
void adopt_recorded_model(const Info& info, const std::string& where) {
  if (info.model.rfind("file:", 0) != 0) return;
  const auto it = info.extra.find(kTextAttr);
  const std::string* text = it == info.extra.end() ? nullptr : std::get_if<std::string>(&it->second);
  if (!text)
    throw IoError(where + " records the model '" + info.model + "' but not its text (attribute " + std::string(kTextAttr) + ")");
  const std::string hash = content_hash(*text);  // checked even when the model is already loaded
  if (info.model.size() < 16 || info.model.compare(info.model.size() - 16, 16, hash.substr(0, 16)) != 0)
    throw IoError(where + ": the stored model file text does not match the recorded model '" + info.model +
                  "' (content hash " + hash.substr(0, 16) + "): the file was altered");
  if (find_loaded(info.model)) return;
  const auto lm = load_model_text(*text, where + " (stored model file)");
  if (lm->spec.key() != info.model)
    throw IoError(where + ": the stored model file defines '" + lm->spec.key() + "', not the recorded '" + info.model + "'");
}

}  // namespace sdescore::modelfile
