#pragma once
/// \file
/// Model files: a user's SDE written in TOML (docs/model-files.md). This header reads and checks
/// the file into a ModelSpec (expressions parsed, shapes and the noise kind checked, defaults in
/// range); compile.hpp turns the spec into machine code; file_model.hpp is the SdeModel adapter.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sdescore/core/model.hpp"
#include "sdescore/modelfile/expression.hpp"

namespace sdescore::modelfile {

enum class NoiseKind { additive, diagonal, general };
std::string to_string(NoiseKind k);

struct ParamSpec {
  ParamInfo info;
  double default_value = 0;
};

/// One expression of the file with its text and where it stands (for messages).
struct Formula {
  std::shared_ptr<const Expr> expr;
  std::string text;   ///< as written
  std::string where;  ///< e.g. "drift[1] (dv)"
  int line = 0, column = 0;  ///< 1-based position of the first character of the text in the file (0: unknown)
  bool exact_columns = false;  ///< whether column + offset is the file column of character `offset`
};

/// A model file with 3 variables and fewer than 3 noises runs with G padded by zero columns to
/// 3 x 3 (the model-file shapes, visit.hpp, have 3 noise columns for 3 variables).
inline constexpr int kRunNoiseColumns3D = 3;

struct ModelSpec {
  std::string origin;  ///< the path given, or a description of where the text came from
  std::string text;    ///< the full text of the file
  std::string hash;    ///< 32 hex digits, FNV-1a 128 of `text`
  std::string name, description, reference;
  std::vector<std::string> variables;  ///< their count is the dimension
  std::vector<ParamSpec> params;       ///< in file order
  std::vector<Formula> drift;          ///< one per variable
  std::vector<Formula> diffusion;      ///< dim x noise_dim, row-major
  int dim = 0, noise_dim = 0;          ///< noise_dim: the columns G runs with (padded, below)
  int declared_noise_dim = 0;          ///< the columns the file gives (< noise_dim: zero columns were added)
  NoiseKind noise_kind = NoiseKind::general;  ///< as declared, else inferred (checked either way)
  NoiseKind inferred_noise_kind = NoiseKind::general;
  bool diffusion_constant = false;     ///< no variable and no t in G
  std::string diffusion_form;          ///< "scalar", "diagonal" or "matrix"
  bool linear = false;                 ///< claimed (verified after compilation, compile.hpp)
  int linear_line = 0, linear_column = 0;  ///< where the claim stands
  std::vector<double> initial;         ///< default initial point (zeros unless given)
  std::shared_ptr<Formula> log_density;  ///< optional unnormalised log stationary density

  /// The name under which runs record the model: "file:<name>#<first 16 hex digits of hash>".
  std::string key() const { return "file:" + name + "#" + hash.substr(0, 16); }
  /// The SDE as text, for --describe and the provenance.
  std::string equation() const;
  Symbols symbols() const;
};

/// 128-bit FNV-1a of `text` as 32 hex digits.
std::string content_hash(const std::string& text);

/// Parses and checks the text of a model file. `origin` names it in messages (its path).
/// Throws ConfigError "origin:line:column: what was found; what is valid".
ModelSpec parse_model_text(const std::string& text, const std::string& origin);

/// Reads the file (IoError if it cannot be read) and parses it.
ModelSpec read_model_file(const std::string& path);

/// Message prefix "origin:line:column: " for a position inside a formula.
std::string locate(const ModelSpec& spec, const Formula& f, int offset);

}  // namespace sdescore::modelfile
