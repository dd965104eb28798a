// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

// What every harness shares: the invariant check that aborts (libFuzzer and the replayer both
// report an abort as a finding, with the input that caused it), and a reader that turns the
// fuzzer's bytes into the values a harness needs. FuzzedDataProvider is not used because the
// harnesses also build with g++ as corpus replayers, and g++ does not ship it.
namespace vsmmu::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* condition,
                              std::string_view what) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n  %.*s\n", file, line, condition,
               static_cast<int>(what.size()), what.data());
  std::abort();
}

// VSMMU_FUZZ_CHECK(cond, "what it means"): the message should say which rule broke.
#define VSMMU_FUZZ_CHECK(cond, what)                                     \
  do {                                                                   \
    if (!(cond)) ::vsmmu::fuzz::fail(__FILE__, __LINE__, #cond, (what)); \
  } while (false)

// Consumes the fuzzer's input from the front. Past the end it yields zeros, so that a short
// input still drives every path (as a guest's all-zero descriptor would).
class reader {
 public:
  reader(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

  [[nodiscard]] std::size_t remaining() const noexcept { return size_ - at_; }

  // Copies up to out.size() bytes and zero-fills the rest.
  void bytes(std::span<std::byte> out) noexcept {
    const std::size_t n = out.size() < remaining() ? out.size() : remaining();
    if (n != 0) std::memcpy(out.data(), data_ + at_, n);
    if (n < out.size()) std::memset(out.data() + n, 0, out.size() - n);
    at_ += n;
  }

  template <class T>
  [[nodiscard]] T integer() noexcept {
    static_assert(sizeof(T) <= 8);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T) && at_ < size_; ++i) {
      v |= static_cast<std::uint64_t>(data_[at_++]) << (8 * i);
    }
    return static_cast<T>(v);
  }

  [[nodiscard]] bool boolean() noexcept { return (integer<std::uint8_t>() & 1U) != 0; }

  // The rest of the input, as text.
  [[nodiscard]] std::string_view rest_as_text() noexcept {
    const std::string_view s(reinterpret_cast<const char*>(data_) + at_, remaining());
    at_ = size_;
    return s;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

// A value to write into a field `width` bits wide at value shift `shift`: most of the time one
// that fits (so that the write paths run), sometimes anything (so that refusals run too).
[[nodiscard]] inline std::uint64_t field_candidate(reader& in, unsigned width, unsigned shift) {
  const std::uint8_t mode = in.integer<std::uint8_t>();
  std::uint64_t v = in.integer<std::uint64_t>();
  if ((mode & 3U) != 0) {
    const std::uint64_t mask = (width >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1)
                               << shift;
    v &= mask;
  }
  return v;
}

}  // namespace vsmmu::fuzz
