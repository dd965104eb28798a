// Shared by the engine's concurrency tests (stress_test.cpp, micro_tlb_stress_test.cpp,
// limits_stress_test.cpp): guest memory that may change under a walk, and the device threads.
#pragma once

#include <vsmmu/memory/adapter.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

namespace engine_test {

using vsmmu::memory::access_status;
using vsmmu::memory::read_result;

// Guest memory that tolerates concurrent readers and a writer: atomic 64-bit words (a
// real guest's memory changes under a walk; a plain array here would be a data race).
class atomic_memory {
 public:
  explicit atomic_memory(std::size_t bytes) : words_(bytes / 8) {}

  [[nodiscard]] read_result read64(std::uint64_t pa) const noexcept {
    if (pa % 8 != 0 || pa / 8 >= words_.size()) return {0, access_status::external_abort};
    return {words_[pa / 8].load(std::memory_order_acquire), access_status::ok};
  }
  access_status read_bytes(std::uint64_t pa, std::span<std::byte> out) const noexcept {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::uint64_t a = pa + i;
      if (a / 8 >= words_.size()) return access_status::external_abort;
      out[i] = std::byte(words_[a / 8].load(std::memory_order_relaxed) >> (8 * (a % 8)));
    }
    return access_status::ok;
  }
  access_status write64(std::uint64_t pa, std::uint64_t v) noexcept {
    if (pa % 8 != 0 || pa / 8 >= words_.size()) return access_status::external_abort;
    words_[pa / 8].store(v, std::memory_order_release);
    return access_status::ok;
  }
  access_status write_bytes(std::uint64_t pa, std::span<const std::byte> in) noexcept {
    for (std::size_t i = 0; i < in.size(); ++i) {
      const std::uint64_t a = pa + i;
      if (a / 8 >= words_.size()) return access_status::external_abort;
      const std::uint64_t shift = 8 * (a % 8);
      const std::uint64_t w = words_[a / 8].load(std::memory_order_relaxed);
      words_[a / 8].store((w & ~(std::uint64_t{0xff} << shift)) | (std::uint64_t(in[i]) << shift),
                          std::memory_order_relaxed);
    }
    return access_status::ok;
  }

 private:
  std::vector<std::atomic<std::uint64_t>> words_;
};
static_assert(vsmmu::memory::guest_memory<atomic_memory>);

// Page p of the stress tests maps to pa_of(p, generation): increasing with the generation, so
// that a stale or a not-yet-written mapping is recognisable.
inline std::uint64_t pa_of(unsigned p, std::uint64_t gen) {
  return 0x1'0000'0000ULL + (std::uint64_t{p} << 32) + (gen << 12);
}

// Waits (20 s at most) until `count` has grown by `more`: on a loaded machine a command thread
// could otherwise finish all its changes before a translating thread ran at all.
inline void wait_for_progress(const std::atomic<std::uint64_t>& count, std::uint64_t more) {
  const std::uint64_t target = count.load(std::memory_order_relaxed) + more;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (count.load(std::memory_order_relaxed) < target &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
}

// A stress test's device threads: thread `id` calls step(id, x), x its own xorshift64 value, one
// translation a call, until stop(). The command thread calls wait() now and then: on a loaded
// machine it could otherwise finish all its changes before a translator ran at all.
class translator_threads {
 public:
  template <class Step>
  translator_threads(unsigned count, Step step) {
    for (unsigned id = 0; id < count; ++id) {
      threads_.emplace_back([this, id, step]() mutable {
        std::uint64_t x = 0x9e3779b97f4a7c15ULL * (id + 1);
        while (!done_.load(std::memory_order_acquire)) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          step(id, x);
          translated_.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
  }
  translator_threads(const translator_threads&) = delete;
  translator_threads& operator=(const translator_threads&) = delete;
  ~translator_threads() { stop(0); }

  // Waits (bounded) for `more` translations.
  void wait(std::uint64_t more) const { wait_for_progress(translated_, more); }
  // Lets the translators make `more` translations more (bounded), then stops and joins them.
  void stop(std::uint64_t more) {
    if (more != 0) wait(more);
    done_.store(true, std::memory_order_release);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  [[nodiscard]] std::uint64_t translated() const noexcept {
    return translated_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> translated_{0};
  std::vector<std::thread> threads_;
};

}  // namespace engine_test
