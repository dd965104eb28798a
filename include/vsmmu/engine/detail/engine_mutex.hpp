// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <atomic>

// The engine's one lock (docs/caches.md, "Concurrency"): a mutex on one atomic word. Uncontended,
// lock() is one compare-and-swap and unlock() one exchange, both inline; std::mutex goes through
// pthread_mutex_lock/unlock, ~55 instructions a pair, which was an eighth of an engine hit.
// Contended, a thread spins briefly (the engine holds the lock for a few hundred instructions and
// never across a guest memory access) and then sleeps on the word (C++20 atomic wait: a futex on
// Linux). The states are those of Drepper's "Futexes Are Tricky" mutex: 0 free, 1 locked, 2
// locked and perhaps waited for. An unlock that finds 2 wakes one sleeper, which takes the lock
// as 2 (it cannot know whether others still sleep); every transition from 2 to 0 wakes one, so no
// sleeper is forgotten. Lock acquires and unlock releases, as std::mutex does. Meets Lockable.
namespace vsmmu::engine::detail {

class engine_mutex {
 public:
  constexpr engine_mutex() noexcept = default;
  engine_mutex(const engine_mutex&) = delete;
  engine_mutex& operator=(const engine_mutex&) = delete;

  void lock() noexcept {
    if (try_lock()) [[likely]] return;
    lock_contended();
  }

  [[nodiscard]] bool try_lock() noexcept {
    unsigned c = 0;
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) [[unlikely]] {
      state_.notify_one();
    }
  }

 private:
  static constexpr int spins = 64;

  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
  }

  [[gnu::noinline]] void lock_contended() noexcept {
    for (int i = 0; i < spins; ++i) {
      relax();
      unsigned c = state_.load(std::memory_order_relaxed);
      if (c == 0 && state_.compare_exchange_weak(c, 1, std::memory_order_acquire,
                                                 std::memory_order_relaxed)) {
        return;
      }
    }
    while (state_.exchange(2, std::memory_order_acquire) != 0) {
      state_.wait(2, std::memory_order_relaxed);
    }
  }

  std::atomic<unsigned> state_{0};
};

}  // namespace vsmmu::engine::detail
