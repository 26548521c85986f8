#pragma once
// What the machine can run, checked before the work starts (docs/cli.md, "Limits"):
//   - thread counts: 0 (the OpenMP default) or 1 .. max_threads(), where max_threads() is
//     4 x the hardware threads (std::thread::hardware_concurrency), at least 8. More threads
//     than that only oversubscribe the cores, and absurd counts (1e5) crash the OpenMP runtime
//     while it creates them, so they are refused with the limit named;
//   - memory: an allocation estimated before it is made is refused (ConfigError, with the
//     estimate and the machine's physical memory) instead of ending in std::bad_alloc.
// Free of OpenMP and HDF5: the numeric core and every app may use it.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

#include "sdescore/core/error.hpp"

namespace sdescore {

/// The largest thread count accepted: 4 x the hardware threads, at least 8.
inline int max_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  const long long m = 4LL * static_cast<long long>(hw == 0 ? 1 : hw);
  return static_cast<int>(m < 8 ? 8 : (m > 4096 ? 4096 : m));
}

/// Throws ConfigError unless n is 0 (the OpenMP default) or 1 .. max_threads(); returns n.
inline int check_threads(std::string_view what, long long n) {
  if (n < 0 || n > max_threads())
    throw ConfigError(std::string(what) + " = " + std::to_string(n) + " is invalid: valid are 0 (all cores) or 1.." +
                      std::to_string(max_threads()) + " (4 x the " + std::to_string(std::thread::hardware_concurrency()) +
                      " hardware threads, at least 8)");
  return static_cast<int>(n);
}

/// Physical memory of the machine in bytes (0 if unknown).
inline double physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size) : 0.0;
}

/// "1.5 GB", "800 MB", "12 kB".
inline std::string format_bytes(double b) {
  char buf[48];
  if (b >= 1e12)
    std::snprintf(buf, sizeof buf, "%.3g TB", b / 1e12);
  else if (b >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3g GB", b / 1e9);
  else if (b >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3g MB", b / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.3g kB", b / 1e3);
  return buf;
}

/// Throws ConfigError if `bytes` (an estimate of what `what` will allocate) exceeds the
/// physical memory of the machine; `hint` says how to make it smaller.
inline void require_memory(std::string_view what, double bytes, std::string_view hint) {
  const double phys = physical_memory_bytes();
  if (!(bytes >= 0) || (phys > 0 && bytes > phys) || bytes > 9.2e18)
    throw ConfigError(std::string(what) + " needs about " + format_bytes(bytes) + " of memory but this machine has " +
                      (phys > 0 ? format_bytes(phys) : std::string("an unknown amount")) + "; " + std::string(hint));
}

}  // namespace sdescore
