// SPDX-License-Identifier: BSL-1.0
// An Event queue in 32KB of guest memory at 0x2000, for the producer's tests.
#pragma once

#include <vsmmu/layout/value.hpp>
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/event_queue.hpp>
#include <vsmmu/queue/global_errors.hpp>
#include <vsmmu/queue/recording_signals.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/walk/result.hpp>

#include <cstdint>
#include <memory>

namespace vsmmu::queue::test {

inline constexpr std::uint64_t evtq_base = 0x2000;

// An F_TRANSLATION record whose StreamID tells records apart.
inline walk::event_record make_record(std::uint32_t sid) {
  namespace evt = smmuv3::evt;
  auto v = layout::value<evt::f_translation::layout>();
  v.init<evt::Type>(evt::type::f_translation).init<evt::StreamID>(sid);
  return walk::event_record(v);
}

struct evtq_fixture {
  using memory_type = memory::flat_memory<0x8000>;
  std::unique_ptr<memory_type> memory = std::make_unique<memory_type>();
  event_queue_config cfg;
  event_queue_state st;
  global_errors errors;
  recording_signals signals;

  explicit evtq_fixture(unsigned log2size = 2) {
    cfg.base = evtq_base;
    cfg.geometry = ring(log2size);
    cfg.enabled = true;
  }
  record_result record(std::uint32_t sid, bool stall = false) {
    return record_event(st, errors, cfg, *memory, signals, make_record(sid), stall);
  }
  // The StreamID of the record at queue index i.
  [[nodiscard]] std::uint32_t sid_at(std::uint32_t i) const {
    return static_cast<std::uint32_t>(memory->read64(evtq_base + i * 32).value >> 32);
  }
  [[nodiscard]] std::uint32_t prod_pointer() const { return cfg.geometry.pointer(st.prod); }
  [[nodiscard]] bool ovflg() const { return (st.prod & reg::ovflg) != 0; }
  // Software consuming n records.
  void consume(std::uint32_t n) {
    st.cons = (st.cons & reg::ovackflg) | cfg.geometry.advance(cfg.geometry.pointer(st.cons), n);
  }
  void acknowledge_overflow() { st.cons = (st.cons & ~reg::ovackflg) | (st.prod & reg::ovflg); }
};

}  // namespace vsmmu::queue::test
