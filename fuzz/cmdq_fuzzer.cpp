// SPDX-License-Identifier: BSL-1.0
// Command queue consumption (IHI 0070 §3.5, §4, §7.1) over guest memory the input fills: any
// PROD/CONS/ERR values, any queue size and base (partly or wholly outside memory), any features,
// and a handler whose answers the input chooses. Then a few event records through the producer
// with the same freedom.
//
// Input: 96 bytes for the command queue's registers, features and the handler's answers, 224
// bytes for the event queue's and its records, then the memory's bytes.
//
// Invariants: no sanitizer report; per call at most min(queue size, pending) entries consumed;
// CONS moves by exactly the entries consumed and never past PROD; the handler sees only
// commands validate() accepts, never a CMD_SYNC, and exactly `executed` of them; a command
// error leaves CONS.ERR set and CMDQ_ERR active, and nothing is consumed until GERRORN
// acknowledges it; the event producer moves PROD by at most one entry and writes only inside
// its queue.
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/command_queue.hpp>
#include <vsmmu/queue/event_queue.hpp>
#include <vsmmu/queue/recording_signals.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "check.hpp"

namespace {

namespace q = vsmmu::queue;
using vsmmu::smmuv3::cerror;

constexpr std::uint64_t memory_base = 0x10000;
constexpr std::size_t memory_bytes = 8192;
using memory_type = vsmmu::memory::flat_memory<memory_bytes>;

// The handler: answers from the input, checks what the consumer gives it.
struct fuzz_handler {
  const q::command_features* features = nullptr;
  std::array<std::uint8_t, 32> answers{};
  std::uint32_t calls = 0;
  std::uint32_t syncs = 0;
  bool sync_fails = false;

  q::command_status execute(const q::command& c) {
    VSMMU_FUZZ_CHECK(c.opcode() != vsmmu::smmuv3::cmd::opcode::sync,
                     "a CMD_SYNC reached the handler");
    VSMMU_FUZZ_CHECK(q::validate(c, *features) == cerror::none,
                     "the handler was given a command validation refuses");
    const std::uint8_t a = answers[calls++ % answers.size()];
    // Mostly ok, so that long runs of commands happen.
    if (a < 8) return q::command_status::illegal;
    if (a < 24) return q::command_status::atc_incomplete;
    return q::command_status::ok;
  }
  q::command_status synchronize() {
    ++syncs;
    return sync_fails ? q::command_status::atc_incomplete : q::command_status::ok;
  }
};
static_assert(q::synchronizing_handler<fuzz_handler>);

q::command_features features_from(std::uint16_t bits) {
  q::command_features f;
  f.s1p = (bits & 1U) != 0;
  f.s2p = (bits & 2U) != 0;
  f.hyp = (bits & 4U) != 0;
  f.ats = (bits & 8U) != 0;
  f.pri = (bits & 16U) != 0;
  f.msi = (bits & 32U) != 0;
  f.sev = (bits & 64U) != 0;
  f.stall = (bits & 128U) != 0;
  f.ril = (bits & 256U) != 0;
  f.mpam = (bits & 512U) != 0;
  f.dpt = (bits & 1024U) != 0;
  f.ds = (bits & 2048U) != 0;
  f.d128 = (bits & 4096U) != 0;
  f.v3_0 = (bits & 8192U) != 0;
  // The three revisions' PA field widths (§4.1.6), and a hand-built one wider than any field.
  constexpr unsigned pa_field_widths[] = {48, 52, 56, 64};
  f.pa_field_bits = pa_field_widths[(bits >> 14) & 3U];
  return f;
}

void fuzz_command_queue(vsmmu::fuzz::reader& in, memory_type& memory,
                        q::recording_signals& signals) {
  q::command_queue_config cfg;
  const std::uint8_t size_byte = in.integer<std::uint8_t>();
  cfg.geometry = q::ring(size_byte % 10);  // up to 512 entries: 8KB, the whole memory
  const std::uint8_t where = in.integer<std::uint8_t>();
  const std::uint64_t offset = in.integer<std::uint16_t>();
  cfg.base = (where & 3U) == 0 ? in.integer<std::uint64_t>() : memory_base + offset;
  cfg.enabled = (where & 4U) == 0;
  cfg.smmuen = (where & 8U) == 0;
  cfg.features = features_from(in.integer<std::uint16_t>());
  cfg.gerror_irq.enabled = (where & 16U) != 0;
  cfg.gerror_irq.msi_address = in.integer<std::uint64_t>();
  signals.abort_msis((where & 32U) != 0);

  q::command_queue_state st;
  st.prod = in.integer<std::uint32_t>();
  st.cons = in.integer<std::uint32_t>();
  st.atc_inv_failed = (where & 64U) != 0;
  q::global_errors errors;
  errors.gerror = in.integer<std::uint32_t>();
  errors.gerrorn = in.integer<std::uint32_t>();
  const std::uint32_t budget = (where & 128U) != 0 ? in.integer<std::uint8_t>() : ~0U;

  fuzz_handler handler;
  handler.features = &cfg.features;
  handler.sync_fails = (size_byte & 0x80U) != 0;
  for (auto& a : handler.answers) a = in.integer<std::uint8_t>();

  const q::ring& r = cfg.geometry;
  for (int kick = 0; kick < 3; ++kick) {
    const std::uint32_t prod = r.pointer(st.prod);
    const std::uint32_t cons_before = r.pointer(st.cons);
    const std::uint32_t pending = r.distance(prod, cons_before);
    const bool was_blocked = !cfg.enabled || errors.is_active(q::gerror_bit::cmdq_err);
    const std::uint32_t calls_before = handler.calls;
    const std::uint32_t errors_before = errors.gerror;
    const auto result = q::consume_commands(st, errors, cfg, memory, handler, signals, budget);

    VSMMU_FUZZ_CHECK(result.consumed <= r.size(), "more commands than the queue holds in a call");
    VSMMU_FUZZ_CHECK(result.consumed <= budget, "more commands than the budget");
    VSMMU_FUZZ_CHECK(handler.calls - calls_before == result.executed,
                     "executed does not count the handler's calls");
    VSMMU_FUZZ_CHECK(result.executed <= result.consumed + 1,
                     "the handler ran for entries that were not consumed");
    VSMMU_FUZZ_CHECK(result.syncs <= result.consumed, "more CMD_SYNCs than entries");
    if (was_blocked || pending > r.size()) {
      VSMMU_FUZZ_CHECK(result.consumed == 0 && result.executed == 0,
                       "consumed from a disabled, failed or inconsistent queue");
      VSMMU_FUZZ_CHECK(errors.gerror == errors_before, "a blocked queue raised an error");
    } else {
      VSMMU_FUZZ_CHECK(result.consumed <= pending, "consumed past PROD");
      VSMMU_FUZZ_CHECK(r.pointer(st.cons) == r.advance(cons_before, result.consumed),
                       "CONS did not move by the entries consumed");
      VSMMU_FUZZ_CHECK((st.cons & ~(q::reg::cons_err_mask | r.pointer_mask())) == 0,
                       "CMDQ_CONS has bits set the SMMU reads as zero");
    }
    if (result.stop == q::consume_stop::command_error) {
      VSMMU_FUZZ_CHECK(result.error != cerror::none, "a command error without a code");
      VSMMU_FUZZ_CHECK(st.error_code() == result.error, "CMDQ_CONS.ERR is not the error");
      VSMMU_FUZZ_CHECK(errors.is_active(q::gerror_bit::cmdq_err), "CMDQ_ERR is not active");
      // Nothing happens until the acknowledgement.
      const auto again = q::consume_commands(st, errors, cfg, memory, handler, signals);
      VSMMU_FUZZ_CHECK(again.consumed == 0 && again.stop == q::consume_stop::error_active,
                       "commands consumed while CMDQ_ERR is active");
      errors.write_gerrorn(errors.gerror);
    } else {
      VSMMU_FUZZ_CHECK(result.error == cerror::none, "an error code without a command error");
    }
    if (result.stop == q::consume_stop::empty) {
      VSMMU_FUZZ_CHECK(r.empty(st.prod, st.cons), "stopped as empty with commands left");
    }
    // Software produces more (or moves PROD anywhere).
    st.prod = in.integer<std::uint32_t>();
    cfg.enabled = true;
  }
}

void fuzz_event_queue(vsmmu::fuzz::reader& in, memory_type& memory, q::recording_signals& signals) {
  q::event_queue_config cfg;
  const std::uint8_t flags = in.integer<std::uint8_t>();
  cfg.geometry = q::ring(flags % 9);
  cfg.base = (flags & 0x10U) != 0 ? in.integer<std::uint64_t>()
                                  : memory_base + in.integer<std::uint16_t>();
  cfg.enabled = (flags & 0x20U) == 0;
  cfg.irq = {(flags & 0x40U) != 0, in.integer<std::uint64_t>(), 1, 0, 0};
  cfg.msi_supported = (flags & 0x80U) != 0;
  q::event_queue_state st{in.integer<std::uint32_t>(), in.integer<std::uint32_t>()};
  q::global_errors errors{in.integer<std::uint32_t>(), in.integer<std::uint32_t>()};
  const q::ring& r = cfg.geometry;
  const std::uint64_t base = r.aligned_base(cfg.base, q::event_bytes);

  for (int i = 0; i < 4; ++i) {
    std::array<std::byte, q::event_bytes> record{};
    in.bytes(record);
    const std::uint32_t before = r.pointer(st.prod);
    const std::uint32_t at = r.index(before);
    const bool stall = (std::to_integer<unsigned>(record[1]) & 1U) != 0;
    const auto result = q::record_event(st, errors, cfg, memory, signals,
                                        std::span<const std::byte, q::event_bytes>(record), stall);
    const std::uint32_t after = r.pointer(st.prod);
    if (result.status == q::record_status::written) {
      VSMMU_FUZZ_CHECK(after == r.advance(before), "a written record did not move PROD by one");
      std::array<std::byte, q::event_bytes> back{};
      VSMMU_FUZZ_CHECK(memory.read_bytes(base + std::uint64_t{at} * q::event_bytes, back) ==
                           vsmmu::memory::access_status::ok,
                       "a record was written outside memory");
      VSMMU_FUZZ_CHECK(back == record, "the record is not where PROD was");
    } else {
      VSMMU_FUZZ_CHECK(after == before, "PROD moved without a written record");
      VSMMU_FUZZ_CHECK(!(stall && result.overflowed), "a stall record overflowed the queue");
    }
    st.cons = in.integer<std::uint32_t>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vsmmu::fuzz::reader in(data, size);
  // One memory for every run, every word rewritten: a fresh allocation per run costs more
  // (page faults, ASan's quarantine) than the harness itself.
  static const auto memory = std::make_unique<memory_type>(memory_base);
  q::recording_signals signals;
  // The header and the handler's answers first, memory contents last (what is left, up to
  // the memory's size), so that mutations of the queue entries do not shift the header.
  std::array<std::byte, 96> cmdq_header{};
  std::array<std::byte, 224> evtq_header{};
  in.bytes(cmdq_header);
  in.bytes(evtq_header);
  // The rest of the input fills memory from its start, word by word (flat_memory's
  // write_bytes goes byte by byte, which would dominate the run); the remainder is zero.
  const std::size_t header_bytes = cmdq_header.size() + evtq_header.size();
  const std::size_t filled =
      size > header_bytes ? std::min(size - header_bytes, memory_bytes) : std::size_t{0};
  std::array<std::uint64_t, memory_bytes / 8> words{};
  if (filled != 0) std::memcpy(words.data(), data + header_bytes, filled);  // host order is fine
  for (std::size_t i = 0; i < words.size(); ++i)
    (void)memory->write64(memory_base + 8 * i, words[i]);

  vsmmu::fuzz::reader cmdq_in(reinterpret_cast<const std::uint8_t*>(cmdq_header.data()),
                              cmdq_header.size());
  fuzz_command_queue(cmdq_in, *memory, signals);
  vsmmu::fuzz::reader evtq_in(reinterpret_cast<const std::uint8_t*>(evtq_header.data()),
                              evtq_header.size());
  fuzz_event_queue(evtq_in, *memory, signals);
  return 0;
}
