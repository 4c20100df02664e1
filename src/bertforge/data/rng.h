// The random number generator of the data pipeline: xoshiro256** seeded through splitmix64.
//
// Promises: the same (seed, stream) gives the same sequence on every machine and compiler (no std::
// distributions, whose output is implementation-defined); the whole state is four integers, so pair building,
// shuffling and masking can save and restore it exactly. below(n) is unbiased (Lemire's method).
#pragma once
#include <array>
#include <cstdint>

namespace bertforge::data {

class Rng {
 public:
  using State = std::array<std::uint64_t, 4>;
  // Independent streams from one user seed: stream numbers name the purpose (chunk index, epoch, batch).
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0);

  std::uint64_t next();
  std::uint64_t below(std::uint64_t n);  // uniform in [0, n); n > 0
  double uniform();                      // uniform in [0, 1), 53 bits
  bool bernoulli(double p) { return uniform() < p; }

  const State& state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  State s_;
};

// A 64-bit mix of several values (seed derivation, hashing positions): splitmix64's finaliser.
std::uint64_t mix64(std::uint64_t x);

}  // namespace bertforge::data
