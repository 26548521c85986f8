#include "sdescore/modelfile/compile.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sdescore/version.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

extern char** environ;

namespace sdescore::modelfile {
namespace {

namespace fs = std::filesystem;

// The dual number and the smooth functions of the expression language, as C++ text. Kept tiny
// (only <cmath> and <type_traits>) so a unit compiles in about a second.
const char* kPrelude = R"CPP(#include <cmath>
#include <type_traits>
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12 && !defined(__AVX512F__)
#define SD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SD_CLONES
#endif
namespace {
template <class T, int N> struct Dual { T v; T d[N]; };
template <class S> struct Const { static S make(double x) { return x; } };
template <class T, int N> struct Const<Dual<T, N>> {
  static Dual<T, N> make(double x) { Dual<T, N> r; r.v = Const<T>::make(x); for (int i = 0; i < N; ++i) r.d[i] = Const<T>::make(0.0); return r; }
};
template <class S, class E> S lift(const E& e) { if constexpr (std::is_same_v<S, E>) return e; else return Const<S>::make(e); }
template <class T, int N> Dual<T, N> chain(const Dual<T, N>& a, const T& v, const T& g) {
  Dual<T, N> r; r.v = v; for (int i = 0; i < N; ++i) r.d[i] = g * a.d[i]; return r;
}
#define SD_BIN(OP, VEXPR, DEXPR_DD, DEXPR_DS, DEXPR_SD) \
template <class T, int N> Dual<T, N> operator OP(const Dual<T, N>& a, const Dual<T, N>& b) { Dual<T, N> r; r.v = VEXPR(a.v, b.v); for (int i = 0; i < N; ++i) r.d[i] = DEXPR_DD; return r; } \
template <class T, int N> Dual<T, N> operator OP(const Dual<T, N>& a, double b) { Dual<T, N> r; r.v = VEXPR(a.v, b); for (int i = 0; i < N; ++i) r.d[i] = DEXPR_DS; return r; } \
template <class T, int N> Dual<T, N> operator OP(double a, const Dual<T, N>& b) { Dual<T, N> r; r.v = VEXPR(a, b.v); for (int i = 0; i < N; ++i) r.d[i] = DEXPR_SD; return r; }
#define SD_ADD(x, y) ((x) + (y))
#define SD_SUB(x, y) ((x) - (y))
#define SD_MUL(x, y) ((x) * (y))
#define SD_DIV(x, y) ((x) / (y))
SD_BIN(+, SD_ADD, a.d[i] + b.d[i], a.d[i], b.d[i])
SD_BIN(-, SD_SUB, a.d[i] - b.d[i], a.d[i], -b.d[i])
SD_BIN(*, SD_MUL, a.d[i] * b.v + a.v * b.d[i], a.d[i] * b, a * b.d[i])
SD_BIN(/, SD_DIV, (a.d[i] - r.v * b.d[i]) / b.v, a.d[i] / b, -(r.v * b.d[i]) / b.v)
template <class T, int N> Dual<T, N> operator-(const Dual<T, N>& a) { Dual<T, N> r; r.v = -a.v; for (int i = 0; i < N; ++i) r.d[i] = -a.d[i]; return r; }
inline bool negative(double x) { return x < 0; }
template <class T, int N> bool negative(const Dual<T, N>& a) { return negative(a.v); }
inline double f_exp(double x) { return std::exp(x); }
inline double f_log(double x) { return std::log(x); }
inline double f_log1p(double x) { return std::log1p(x); }
inline double f_expm1(double x) { return std::expm1(x); }
inline double f_sqrt(double x) { return std::sqrt(x); }
inline double f_sin(double x) { return std::sin(x); }
inline double f_cos(double x) { return std::cos(x); }
inline double f_tan(double x) { return std::tan(x); }
inline double f_sinh(double x) { return std::sinh(x); }
inline double f_cosh(double x) { return std::cosh(x); }
inline double f_tanh(double x) { return std::tanh(x); }
inline double f_asin(double x) { return std::asin(x); }
inline double f_acos(double x) { return std::acos(x); }
inline double f_atan(double x) { return std::atan(x); }
inline double f_abs(double x) { return std::fabs(x); }
inline double f_erf(double x) { return std::erf(x); }
inline double f_pow(double x, double y) { return std::pow(x, y); }
inline double f_atan2(double y, double x) { return std::atan2(y, x); }
template <class T, int N> Dual<T, N> f_exp(const Dual<T, N>& a) { const T e = f_exp(a.v); return chain(a, e, e); }
template <class T, int N> Dual<T, N> f_log(const Dual<T, N>& a) { return chain(a, f_log(a.v), 1.0 / a.v); }
template <class T, int N> Dual<T, N> f_log1p(const Dual<T, N>& a) { return chain(a, f_log1p(a.v), 1.0 / (1.0 + a.v)); }
template <class T, int N> Dual<T, N> f_expm1(const Dual<T, N>& a) { return chain(a, f_expm1(a.v), f_exp(a.v)); }
template <class T, int N> Dual<T, N> f_sqrt(const Dual<T, N>& a) { const T s = f_sqrt(a.v); return chain(a, s, 0.5 / s); }
template <class T, int N> Dual<T, N> f_sin(const Dual<T, N>& a) { return chain(a, f_sin(a.v), f_cos(a.v)); }
template <class T, int N> Dual<T, N> f_cos(const Dual<T, N>& a) { return chain(a, f_cos(a.v), -f_sin(a.v)); }
template <class T, int N> Dual<T, N> f_tan(const Dual<T, N>& a) { const T c = f_cos(a.v); return chain(a, f_tan(a.v), 1.0 / (c * c)); }
template <class T, int N> Dual<T, N> f_sinh(const Dual<T, N>& a) { return chain(a, f_sinh(a.v), f_cosh(a.v)); }
template <class T, int N> Dual<T, N> f_cosh(const Dual<T, N>& a) { return chain(a, f_cosh(a.v), f_sinh(a.v)); }
template <class T, int N> Dual<T, N> f_tanh(const Dual<T, N>& a) { const T h = f_tanh(a.v); return chain(a, h, 1.0 - h * h); }
template <class T, int N> Dual<T, N> f_asin(const Dual<T, N>& a) { return chain(a, f_asin(a.v), 1.0 / f_sqrt(1.0 - a.v * a.v)); }
template <class T, int N> Dual<T, N> f_acos(const Dual<T, N>& a) { return chain(a, f_acos(a.v), -1.0 / f_sqrt(1.0 - a.v * a.v)); }
template <class T, int N> Dual<T, N> f_atan(const Dual<T, N>& a) { return chain(a, f_atan(a.v), 1.0 / (1.0 + a.v * a.v)); }
template <class T, int N> Dual<T, N> f_abs(const Dual<T, N>& a) { return negative(a.v) ? -a : a; }
template <class T, int N> Dual<T, N> f_erf(const Dual<T, N>& a) { return chain(a, f_erf(a.v), 1.1283791670955126 * f_exp(-(a.v * a.v))); }
template <class T, int N> Dual<T, N> f_pow(const Dual<T, N>& a, double b) { return chain(a, f_pow(a.v, b), b * f_pow(a.v, b - 1.0)); }
template <class T, int N> Dual<T, N> f_pow(double a, const Dual<T, N>& b) { const T r = f_pow(a, b.v); return chain(b, r, r * std::log(a)); }
template <class T, int N> Dual<T, N> f_pow(const Dual<T, N>& a, const Dual<T, N>& b) { return f_exp(b * f_log(a)); }
template <class T, int N> Dual<T, N> f_atan2(const Dual<T, N>& y, const Dual<T, N>& x) {
  Dual<T, N> r; r.v = f_atan2(y.v, x.v); const T q = x.v * x.v + y.v * y.v;
  for (int i = 0; i < N; ++i) r.d[i] = (x.v * y.d[i] - y.v * x.d[i]) / q; return r;
}
template <class T, int N> Dual<T, N> f_atan2(const Dual<T, N>& y, double x) { return f_atan2(y, Const<Dual<T, N>>::make(x)); }
template <class T, int N> Dual<T, N> f_atan2(double y, const Dual<T, N>& x) { return f_atan2(Const<Dual<T, N>>::make(y), x); }
template <class S> S ipow2(const S& a) { return a * a; }
template <class S> S ipow3(const S& a) { return a * a * a; }
template <class S> S ipow4(const S& a) { return a * a * a * a; }
template <class S> S ipow5(const S& a) { return a * a * a * a * a; }
template <class S> S ipow6(const S& a) { return a * a * a * a * a * a; }
template <class S> S ipow7(const S& a) { return a * a * a * a * a * a * a; }
template <class S> S ipow8(const S& a) { return a * a * a * a * a * a * a * a; }
template <class T, int N> Dual<T, N> seed1(double x, int k) {
  Dual<T, N> r = Const<Dual<T, N>>::make(x); r.d[k] = Const<T>::make(1.0); return r;
}
template <int N> Dual<Dual<double, N>, N> seed2(double x, int k) {
  Dual<Dual<double, N>, N> r = Const<Dual<Dual<double, N>, N>>::make(x);
  r.v.d[k] = 1.0; r.d[k].v = 1.0; return r;
}
)CPP";

std::string generate(const ModelSpec& s) {
  const int D = s.dim, M = s.noise_dim, N = D + 1;
  std::ostringstream o;
  o << "// Generated by sdescore " << sdescore::version << " (model-file ABI " << kAbiVersion << ") from the model file '"
    << s.name << "' (content hash " << s.hash << "). Do not edit: it is rebuilt from the file.\n"
    << kPrelude;
  auto bind = [&](std::ostringstream& b) {
    for (int i = 0; i < D; ++i) b << "  const S& v" << i << " = y[" << i << "];\n";
    for (std::size_t i = 0; i < s.params.size(); ++i) b << "  const double p" << i << " = p[" << i << "];\n";
    b << "  (void)t; (void)p;\n";
  };
  o << "template <class S> void drift_t(const S* y, const S& t, const double* p, S* out) {\n";
  bind(o);
  for (int i = 0; i < D; ++i) o << "  out[" << i << "] = lift<S>(" << to_cpp(*s.drift[std::size_t(i)].expr) << ");\n";
  o << "}\n";
  o << "template <class S> void diffusion_t(const S* y, const S& t, const double* p, S* out) {\n";
  bind(o);
  for (int i = 0; i < D * M; ++i) o << "  out[" << i << "] = lift<S>(" << to_cpp(*s.diffusion[std::size_t(i)].expr) << ");\n";
  o << "}\n";
  if (s.log_density) {
    o << "template <class S> S log_density_t(const S* y, const S& t, const double* p) {\n";
    bind(o);
    o << "  return lift<S>(" << to_cpp(*s.log_density->expr) << ");\n}\n";
  }
  o << "constexpr int D = " << D << ", M = " << M << ", N = " << N << ";\n"
    << "using D1 = Dual<double, N>;\nusing D2 = Dual<D1, N>;\n"
    << "}  // namespace\n"
    << "extern \"C\" {\n"
    << "const char* sdescore_mf_key(void) { return \"" << s.key() << "\"; }\n"
    << "void sdescore_mf_drift(const double* y, double t, const double* p, double* f) { drift_t<double>(y, t, p, f); }\n"
    << "void sdescore_mf_diffusion(const double* y, double t, const double* p, double* g) { diffusion_t<double>(y, t, p, g); }\n"
    << "void sdescore_mf_drift_jet1(const double* y, double t, const double* p, double* f, double* J) {\n"
    << "  D1 ys[D], o[D];\n  for (int i = 0; i < D; ++i) ys[i] = seed1<double, N>(y[i], i);\n"
    << "  const D1 ts = seed1<double, N>(t, D);\n  drift_t<D1>(ys, ts, p, o);\n"
    << "  for (int k = 0; k < D; ++k) { f[k] = o[k].v; for (int j = 0; j < N; ++j) J[k * N + j] = o[k].d[j]; }\n}\n"
    << "void sdescore_mf_drift_jet2(const double* y, double t, const double* p, double* f, double* J, double* H) {\n"
    << "  D2 ys[D], o[D];\n  for (int i = 0; i < D; ++i) ys[i] = seed2<N>(y[i], i);\n"
    << "  const D2 ts = seed2<N>(t, D);\n  drift_t<D2>(ys, ts, p, o);\n"
    << "  for (int k = 0; k < D; ++k) {\n    f[k] = o[k].v.v;\n"
    << "    for (int j = 0; j < N; ++j) { J[k * N + j] = o[k].d[j].v; for (int l = 0; l < N; ++l) H[(k * N + j) * N + l] = o[k].d[j].d[l]; }\n  }\n}\n"
    << "void sdescore_mf_diffusion_jet1(const double* y, double t, const double* p, double* g, double* dg) {\n"
    << "  D1 ys[D], o[D * M];\n  for (int i = 0; i < D; ++i) ys[i] = seed1<double, N>(y[i], i);\n"
    << "  const D1 ts = seed1<double, N>(t, D);\n  diffusion_t<D1>(ys, ts, p, o);\n"
    << "  for (int k = 0; k < D * M; ++k) { g[k] = o[k].v; for (int j = 0; j < N; ++j) dg[k * N + j] = o[k].d[j]; }\n}\n";
  if (s.log_density)
    o << "double sdescore_mf_log_density(const double* y, const double* p) { return log_density_t<double>(y, 0.0, p); }\n";
  // Block entry points: one call per block of paths (the engine's layout), loops GCC vectorises.
  o << "int sdescore_mf_abi(void) { return " << kAbiVersion << "; }\n"
    << "SD_CLONES void sdescore_mf_drift_block(const double* __restrict y, long ldy, double t, const double* __restrict p,\n"
    << "                                       double* __restrict f, long ldf, long n) {\n"
    << "  for (long i = 0; i < n; ++i) {\n    double ys[D], o[D];\n"
    << "    for (int d = 0; d < D; ++d) ys[d] = y[d * ldy + i];\n    drift_t<double>(ys, t, p, o);\n"
    << "    for (int d = 0; d < D; ++d) f[d * ldf + i] = o[d];\n  }\n}\n"
    << "SD_CLONES void sdescore_mf_diffusion_block(const double* __restrict y, long ldy, double t, const double* __restrict p,\n"
    << "                                           double* __restrict g, long ldg, long n) {\n"
    << "  for (long i = 0; i < n; ++i) {\n    double ys[D], o[D * M];\n"
    << "    for (int d = 0; d < D; ++d) ys[d] = y[d * ldy + i];\n    diffusion_t<double>(ys, t, p, o);\n"
    << "    for (int k = 0; k < D * M; ++k) g[k * ldg + i] = o[k];\n  }\n}\n";
  o << "}\n";
  return o.str();
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

struct RunResult {
  bool started = false;
  int status = -1;
  std::string output;
};

/// Runs argv (searched on PATH) with stdout and stderr to `log`; returns exit status.
RunResult run_command(const std::vector<std::string>& argv, const std::string& log) {
  RunResult r;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.output = std::strerror(rc);
    return r;
  }
  r.started = true;
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  std::ifstream in(log);
  std::ostringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

std::string first_lines(const std::string& s, int n) {
  std::string out;
  std::istringstream in(s);
  std::string line;
  for (int i = 0; i < n && std::getline(in, line); ++i) out += "\n    " + line;
  return out;
}

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  return std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
}

std::string compiler_command() {
  const char* cxx = std::getenv("CXX");
  return cxx && *cxx ? std::string(cxx) : std::string("c++");
}

struct Compiler {
  std::vector<std::string> argv;
  std::string identity;  ///< command and --version text
};

Compiler find_compiler(const std::string& tmp_dir) {
  Compiler c;
  const std::string cmd = compiler_command();
  c.argv = split_words(cmd);
  const std::string hint = "model files are compiled at run time by a C++17 compiler: install one (Debian: apt-get install g++) "
                           "or point $CXX at it";
  if (c.argv.empty()) throw ConfigError("the C++ compiler command $CXX is empty; " + hint);
  const std::string log = tmp_dir + "/.version." + unique_suffix() + ".log";
  auto argv = c.argv;
  argv.push_back("--version");
  const RunResult r = run_command(argv, log);
  std::error_code ec;
  fs::remove(log, ec);
  if (!r.started)
    throw ConfigError("cannot run the C++ compiler '" + cmd + "' (" + r.output + "); " + hint);
  if (r.status != 0)
    throw ConfigError("the C++ compiler '" + cmd + "' failed: '" + cmd + " --version' exited with status " +
                      std::to_string(r.status) + first_lines(r.output, 5) + "\n" + hint);
  c.identity = cmd + "\n" + r.output;
  return c;
}

std::mutex g_mutex;
std::map<std::string, std::weak_ptr<const LoadedModel>>& loaded_registry() {
  static std::map<std::string, std::weak_ptr<const LoadedModel>> m;
  return m;
}
std::map<std::string, std::shared_ptr<const LoadedModel>>& pinned() {  // keep every loaded model alive
  static std::map<std::string, std::shared_ptr<const LoadedModel>> m;
  return m;
}

template <class F>
F symbol(void* h, const char* name) {
  return reinterpret_cast<F>(dlsym(h, name));
}

/// dlopen + symbols + key check. Returns false (and a reason) if the object is unusable.
bool open_object(const std::string& path, const ModelSpec& s, LoadedModel& lm, std::string& why) {
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    why = e ? e : "dlopen failed";
    return false;
  }
  lm.handle = std::shared_ptr<void>(h, [](void* p) { dlclose(p); });
  auto key = symbol<const char* (*)()>(h, "sdescore_mf_key");
  if (!key || s.key() != key()) {
    why = "it was built for another model";
    lm.handle.reset();
    return false;
  }
  auto& c = lm.code;
  c.drift = symbol<DriftFn>(h, "sdescore_mf_drift");
  c.diffusion = symbol<DriftFn>(h, "sdescore_mf_diffusion");
  c.drift_jet1 = symbol<Jet1Fn>(h, "sdescore_mf_drift_jet1");
  c.drift_jet2 = symbol<Jet2Fn>(h, "sdescore_mf_drift_jet2");
  c.diffusion_jet1 = symbol<Jet1Fn>(h, "sdescore_mf_diffusion_jet1");
  c.log_density = s.log_density ? symbol<LogDensityFn>(h, "sdescore_mf_log_density") : nullptr;
  c.drift_block = symbol<BlockFn>(h, "sdescore_mf_drift_block");
  c.diffusion_block = symbol<BlockFn>(h, "sdescore_mf_diffusion_block");
  auto abi = symbol<int (*)()>(h, "sdescore_mf_abi");
  if (!c.drift || !c.diffusion || !c.drift_jet1 || !c.drift_jet2 || !c.diffusion_jet1 || (s.log_density && !c.log_density) ||
      !c.drift_block || !c.diffusion_block || !abi || abi() != kAbiVersion) {
    why = "entry points are missing or of another ABI version";
    lm.handle.reset();
    return false;
  }
  return true;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + unique_suffix();
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw IoError("cannot write '" + tmp + "' in the model cache (disk full or not writable?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw IoError("cannot rename a file into the model cache at '" + path + "': " + ec.message());
  }
}

void check_loaded(const LoadedModel& lm) {
  const ModelSpec& s = lm.spec;
  const auto& c = lm.code;
  const int D = s.dim, M = s.noise_dim, N = D + 1;
  std::vector<double> p;
  for (const auto& q : s.params) p.push_back(q.default_value);
  std::vector<double> f(static_cast<std::size_t>(D)), G(static_cast<std::size_t>(D * M));
  c.drift(s.initial.data(), 0.0, p.data(), f.data());
  c.diffusion(s.initial.data(), 0.0, p.data(), G.data());
  auto pos = [&](const Formula& fm) { return locate(s, fm, 0); };
  auto at_initial = [&] {
    std::string r;
    for (int i = 0; i < D; ++i) r += (i ? ", " : "") + s.variables[std::size_t(i)] + " = " + detail::fmt_double(s.initial[std::size_t(i)]);
    return r;
  };
  for (int i = 0; i < D; ++i)
    if (!std::isfinite(f[std::size_t(i)]))
      throw ConfigError(pos(s.drift[std::size_t(i)]) + s.drift[std::size_t(i)].where + " = \"" + s.drift[std::size_t(i)].text +
                        "\" is " + detail::fmt_double(f[std::size_t(i)]) + " at the initial point (" + at_initial() +
                        ", t = 0) with the default parameters: give a finite drift there (or another `initial`)");
  for (int i = 0; i < D * M; ++i)
    if (!std::isfinite(G[std::size_t(i)]))
      throw ConfigError(pos(s.diffusion[std::size_t(i)]) + s.diffusion[std::size_t(i)].where + " = \"" +
                        s.diffusion[std::size_t(i)].text + "\" is " + detail::fmt_double(G[std::size_t(i)]) +
                        " at the initial point (" + at_initial() + ", t = 0) with the default parameters");
  if (!s.linear) return;
  // linear = true: the Hessian of the drift in y must vanish. Checked at 32 states around the
  // initial point (a fixed sequence), at the defaults and at parameters moved by up to 30 %.
  std::mt19937_64 gen(20261201);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::uniform_real_distribution<double> ud(0.0, 1.0);
  std::vector<double> y(static_cast<std::size_t>(D)), J(static_cast<std::size_t>(D * N)), H(static_cast<std::size_t>(D * N * N));
  for (int trial = 0; trial < 32; ++trial) {
    std::vector<double> pt = p;
    if (trial % 2 == 1)
      for (std::size_t k = 0; k < pt.size(); ++k) {
        const double moved = pt[k] * (1.0 + 0.3 * (ud(gen) - 0.5)) + 0.1 * (ud(gen) - 0.5);
        try {
          check_param(s.params[k].info, moved);
          pt[k] = moved;
        } catch (const ConfigError&) {
        }
      }
    for (int i = 0; i < D; ++i) y[std::size_t(i)] = s.initial[std::size_t(i)] + 2.0 * nd(gen);
    const double t = ud(gen);
    c.drift_jet2(y.data(), t, pt.data(), f.data(), J.data(), H.data());
    double scale = 1.0;
    for (double v : J) scale = std::max(scale, std::abs(v));
    for (int k = 0; k < D; ++k)
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) {
          const double h = H[std::size_t((k * N + i) * N + j)];
          if (!(std::abs(h) <= 1e-9 * scale)) {
            std::string state;
            for (int q = 0; q < D; ++q) state += (q ? ", " : "") + s.variables[std::size_t(q)] + " = " + detail::fmt_double(y[std::size_t(q)]);
            throw ConfigError(s.origin + ":" + std::to_string(s.linear_line) + ":" + std::to_string(s.linear_column) +
                              ": linear = true is claimed but the drift is not affine in the state: d^2 " +
                              s.drift[std::size_t(k)].where + " / d" + s.variables[std::size_t(i)] + " d" +
                              s.variables[std::size_t(j)] + " = " + detail::fmt_double(h) + " at " + state + ", t = " +
                              detail::fmt_double(t) + " (drift: \"" + s.drift[std::size_t(k)].text +
                              "\"); remove the claim or make the drift affine");
          }
        }
  }
}

}  // namespace

std::string generate_unit(const ModelSpec& spec) { return generate(spec); }

std::string cache_dir() {
  if (const char* d = std::getenv("SDESCORE_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/sdescore/modelfiles";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/sdescore/modelfiles";
  return "/tmp/sdescore-cache-" + std::to_string(::getuid()) + "/modelfiles";
}

std::shared_ptr<const LoadedModel> compile_and_load(ModelSpec spec) {
  const auto t0 = std::chrono::steady_clock::now();
  auto lm = std::make_shared<LoadedModel>();
  const std::string unit = generate(spec);
  const std::string dir = cache_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw IoError("cannot create the model cache folder '" + dir + "': " + ec.message() +
                  " (set $XDG_CACHE_HOME or $SDESCORE_CACHE_DIR to a writable folder)");
  const Compiler cc = find_compiler(dir);
  const std::string key = content_hash(unit + "\n--\n" + sdescore::version + "\n--\n" + cc.identity + "\n--\n" + kCompileFlags);
  const std::string stem = dir + "/" + spec.name + "-" + key.substr(0, 24);
  const std::string so = stem + ".so";
  lm->spec = std::move(spec);
  lm->code.compiler = compiler_command();
  lm->code.object_path = so;
  std::string why;
  if (fs::exists(so, ec) && open_object(so, lm->spec, *lm, why)) {
    lm->code.from_cache = true;
  } else {
    if (fs::exists(so, ec)) fs::remove(so, ec);  // unusable entry (e.g. truncated by a crash): rebuild
    const std::string sfx = unique_suffix();
    const std::string src = stem + ".tmp." + sfx + ".cpp", tmp = stem + ".tmp." + sfx + ".so", log = stem + ".tmp." + sfx + ".log";
    auto cleanup = [&] {
      std::error_code e2;
      fs::remove(src, e2);
      fs::remove(tmp, e2);
      fs::remove(log, e2);
    };
    {
      std::ofstream out(src, std::ios::binary);
      out << unit;
      if (!out) {
        cleanup();
        throw IoError("cannot write '" + src + "' in the model cache (disk full or not writable?)");
      }
    }
    std::vector<std::string> argv = cc.argv;
    for (const auto& f : split_words(kCompileFlags)) argv.push_back(f);
    argv.insert(argv.end(), {"-o", tmp, src});
    std::string cmdline;
    for (const auto& a : argv) cmdline += (cmdline.empty() ? "" : " ") + a;
    const RunResult r = run_command(argv, log);
    if (!r.started || r.status != 0 || !fs::exists(tmp, ec)) {
      cleanup();
      throw ConfigError("compiling the model file '" + lm->spec.origin + "' failed: '" + cmdline + "' " +
                        (r.started ? "exited with status " + std::to_string(r.status) : "could not start (" + r.output + ")") +
                        first_lines(r.output, 8) +
                        "\nmodel files are compiled at run time by a C++17 compiler: check $CXX (now '" + compiler_command() + "')");
    }
    fs::rename(tmp, so, ec);  // atomic: concurrent builders each rename a complete object
    if (ec) {
      cleanup();
      throw IoError("cannot move the compiled model into the cache at '" + so + "': " + ec.message());
    }
    try {
      write_file_atomically(stem + ".cpp", unit);  // for inspection
    } catch (const IoError&) {
    }
    cleanup();
    if (!open_object(so, lm->spec, *lm, why))
      throw IoError("cannot load the compiled model '" + so + "': " + why);
  }
  lm->code.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  check_loaded(*lm);
  return lm;
}

namespace {
std::shared_ptr<const LoadedModel> register_loaded(ModelSpec spec) {
  const std::string key = spec.key();
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = pinned().find(key);
    if (it != pinned().end() && it->second->spec.text == spec.text) return it->second;
  }
  auto lm = compile_and_load(std::move(spec));
  std::lock_guard<std::mutex> lock(g_mutex);
  pinned()[key] = lm;
  loaded_registry()[key] = lm;
  return lm;
}
}  // namespace

std::shared_ptr<const LoadedModel> load_model_file(const std::string& path) { return register_loaded(read_model_file(path)); }

std::shared_ptr<const LoadedModel> load_model_text(const std::string& text, const std::string& origin) {
  return register_loaded(parse_model_text(text, origin));
}

std::shared_ptr<const LoadedModel> find_loaded(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = pinned().find(key);
  return it == pinned().end() ? nullptr : it->second;
}

}  // namespace sdescore::modelfile
