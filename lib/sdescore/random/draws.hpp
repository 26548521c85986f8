#pragma once
/// \file
/// A sequential face over the keyed variates of normal.hpp / philox.hpp, for code that draws an
/// a-priori unknown number of variates in a fixed order (training pools and batches):
///
///   KeyedDraws d(seed, stream);   d.uniform(), d.uniform_int(n), d.normal(), ...
///
/// The k-th uniform is uniform(seed, stream, k / 2^32, k mod 2^32) (uniforms and normals use
/// disjoint Philox sub-blocks, so they never share words); normals come in blocks of 32, block b being
/// normals(seed, stream, 1 + b, ...). Every value is therefore a pure function of (seed, stream,
/// its position in the sequence): no std:: engine or distribution is involved, so a sequence is
/// bit-identical across standard libraries (within one build: see normal.hpp for the libmvec
/// caveat). uniform_int(n) = floor(u * n) with a 53-bit u: its bias is below n / 2^53.
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "sdescore/core/error.hpp"
#include "sdescore/random/normal.hpp"
#include "sdescore/random/philox.hpp"

namespace sdescore::random {

class KeyedDraws {
 public:
  /// Throws ConfigError if stream >= 2^32.
  KeyedDraws(std::uint64_t seed, std::uint64_t stream) : seed_(seed), stream_(stream) {
    if (stream >= kMaxStreams)
      throw ConfigError("random stream " + std::to_string(stream) + " is out of range: valid streams are < 2^32");
  }

  /// Uniform in [0, 1) (53 bits).
  double uniform() {
    const std::uint64_t k = nu_++;
    return random::uniform(seed_, stream_, k >> 32, static_cast<std::uint32_t>(k));
  }
  /// Uniform in [a, b).
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  /// Uniform integer in [0, n - 1]; n >= 1.
  int uniform_int(int n) {
    const int k = static_cast<int>(uniform() * n);
    return k < n ? k : n - 1;
  }
  /// Standard normal.
  double normal() {
    if (nz_ == kBlock) {
      random::normals(seed_, stream_, 1 + nb_++, std::span<double>(buf_));
      nz_ = 0;
    }
    return buf_[nz_++];
  }

  /// A fresh seed for a family of child sequences (e.g. KeyedDraws(fork(), i) for sample i,
  /// drawn in parallel): the n-th fork of (seed, stream) is a pure function of them and n.
  std::uint64_t fork() { return splitmix64(splitmix64(seed_ ^ 0x6A09E667F3BCC909ull) ^ splitmix64((stream_ << 24) + ++nf_)); }

  std::uint64_t seed() const { return seed_; }
  std::uint64_t stream() const { return stream_; }

 private:
  static constexpr int kBlock = 32;
  std::uint64_t seed_, stream_;
  std::uint64_t nu_ = 0, nb_ = 0, nf_ = 0;
  int nz_ = kBlock;
  std::array<double, kBlock> buf_{};
};

}  // namespace sdescore::random
