#pragma once
/// \file
/// Run-time compilation of a model file (docs/model-files.md, "Compilation and cache").
///
/// The parsed expressions become a small C++ unit (the expressions as templates over the scalar,
/// a tiny forward-mode dual number, C-ABI entry points below). The system compiler ($CXX, else
/// c++) builds it with kCompileFlags into a shared object cached under
/// $XDG_CACHE_HOME/sdescore/modelfiles (else ~/.cache/sdescore/modelfiles), named by a hash of
/// (generated unit, sdescore version, compiler command and its --version, flags). The compiler
/// writes to a unique temporary name that is renamed into place, so concurrent first uses and
/// interrupted compilations never leave a half-built entry under the final name; an entry that
/// fails to load or carries another key is rebuilt. The object is loaded with dlopen.
///
/// Entry points (D = dim, M = noise_dim, N = D + 1 directions: the variables, then t; all
/// arrays row-major):
///   drift(y, t, p, f)                f[D]
///   drift_jet1(y, t, p, f, J)        J[D x N] = d f / d(y, t)
///   drift_jet2(y, t, p, f, J, H)     H[D x N x N], second derivatives in (y, t)
///   diffusion(y, t, p, G)            G[D x M]
///   diffusion_jet1(y, t, p, G, dG)   dG[(D x M) x N]
///   log_density(y, p)                (only with log_density in the file)
///   drift_block(y, ldy, t, p, f, ldf, n)      f over n paths in the engine's layout: variable d of
///                                             path i at y[d ldy + i], f_d of path i at f[d ldf + i]
///   diffusion_block(y, ldy, t, p, G, ldG, n)  G entry k = i M + j of path i at G[k ldG + i]
/// The block functions are plain loops over the paths (the same scalar code as drift and
/// diffusion, hence the same bits per path), compiled with GCC's target_clones for x86-64-v4,
/// x86-64-v3 and the portable default so they vectorise at the CPU's width without -march
/// (-ffp-contract=off: every clone rounds the same way). kAbiVersion is exported and checked.
/// Derivatives come from forward-mode dual numbers over the same expression template as the
/// values (nested duals for the Hessian): nothing is differentiated symbolically.
#include <memory>
#include <string>
#include <vector>

#include "sdescore/modelfile/model_file.hpp"

namespace sdescore::modelfile {

using DriftFn = void (*)(const double* y, double t, const double* p, double* f);
using Jet1Fn = void (*)(const double* y, double t, const double* p, double* f, double* J);
using Jet2Fn = void (*)(const double* y, double t, const double* p, double* f, double* J, double* H);
using LogDensityFn = double (*)(const double* y, const double* p);
using BlockFn = void (*)(const double* y, long ldy, double t, const double* p, double* out, long ldo, long n);

/// Version of the entry points above (exported as sdescore_mf_abi; part of the generated unit,
/// hence of the cache key). 2: the block functions.
inline constexpr int kAbiVersion = 2;

/// Flags of every compilation (no -march: the object must run wherever the cache is shared).
inline constexpr const char* kCompileFlags = "-std=c++17 -O3 -shared -fPIC -ffp-contract=off -fno-math-errno";

struct CompiledCode {
  DriftFn drift = nullptr;
  Jet1Fn drift_jet1 = nullptr;
  Jet2Fn drift_jet2 = nullptr;
  DriftFn diffusion = nullptr;
  Jet1Fn diffusion_jet1 = nullptr;
  LogDensityFn log_density = nullptr;
  BlockFn drift_block = nullptr;
  BlockFn diffusion_block = nullptr;
  std::string object_path;   ///< the cached shared object
  std::string compiler;      ///< the compiler command used (or that would be used)
  std::string flags = kCompileFlags;
  bool from_cache = false;   ///< loaded without compiling
  double seconds = 0;        ///< time to compile (or only load) it
};

/// A model file, parsed, compiled and loaded. Shared by all adapter copies; never unloaded
/// while referenced.
struct LoadedModel {
  ModelSpec spec;
  CompiledCode code;
  std::shared_ptr<void> handle;  ///< dlclose on destruction
};

/// The C++ unit generated for a spec (deterministic; its hash keys the cache).
std::string generate_unit(const ModelSpec& spec);

/// The cache folder: $SDESCORE_CACHE_DIR, else $XDG_CACHE_HOME/sdescore/modelfiles, else
/// $HOME/.cache/sdescore/modelfiles.
std::string cache_dir();

/// Compiles (or finds in the cache) and loads the spec, then checks it: defaults give finite
/// drift and diffusion at the initial point, and `linear = true` is verified (the Hessian of the
/// drift vanishes at random states). ConfigError for a false claim or a failing compiler
/// (naming the compiler, the command and its first error lines), IoError for the cache.
std::shared_ptr<const LoadedModel> compile_and_load(ModelSpec spec);

/// read_model_file + compile_and_load, registered under spec.key() (see find_loaded).
std::shared_ptr<const LoadedModel> load_model_file(const std::string& path);
/// The same from a text (e.g. stored in an ensemble file); `origin` names it in messages.
std::shared_ptr<const LoadedModel> load_model_text(const std::string& text, const std::string& origin);
/// A model loaded earlier in this process under `key` ("file:<name>#<hash16>"), or nullptr.
std::shared_ptr<const LoadedModel> find_loaded(const std::string& key);

}  // namespace sdescore::modelfile
