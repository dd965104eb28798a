// The engine's lock (engine/detail/engine_mutex.hpp): mutual exclusion under contention (threads
// incrementing a plain counter; under ThreadSanitizer a missing acquire/release is a report),
// sleepers woken (more threads than cores, long critical sections), try_lock.

#include <catch2/catch.hpp>

#include <vsmmu/engine/detail/engine_mutex.hpp>

#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

using vsmmu::engine::detail::engine_mutex;

TEST_CASE("engine mutex: excludes under contention and wakes every sleeper", "[engine]") {
  engine_mutex m;
  std::uint64_t counter = 0;  // plain: only the lock orders its accesses
  constexpr unsigned threads = 4;
  constexpr unsigned rounds = 20000;
  std::vector<std::thread> ts;
  for (unsigned i = 0; i < threads; ++i) {
    ts.emplace_back([&m, &counter, i] {
      for (unsigned r = 0; r < rounds; ++r) {
        std::lock_guard<engine_mutex> g(m);
        // Now and then a long critical section, so that waiters exhaust their spins and sleep.
        const unsigned work = (r + i) % 64 == 0 ? 2000 : 1;
        for (unsigned w = 0; w < work; ++w) {
          const std::uint64_t v = counter;
          counter = v + 1;
        }
        counter -= work - 1;
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(counter == std::uint64_t{threads} * rounds);
}

TEST_CASE("engine mutex: try_lock fails while held, succeeds when free", "[engine]") {
  engine_mutex m;
  CHECK(m.try_lock());
  bool other = true;
  std::thread([&] { other = m.try_lock(); }).join();
  CHECK_FALSE(other);
  m.unlock();
  std::thread([&] {
    other = m.try_lock();
    if (other) m.unlock();
  }).join();
  CHECK(other);
}
