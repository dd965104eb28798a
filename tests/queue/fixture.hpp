// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/queue/command_checks.hpp>
#include <vsmmu/queue/command_queue.hpp>
#include <vsmmu/queue/global_errors.hpp>
#include <vsmmu/queue/recording_signals.hpp>
#include <vsmmu/smmuv3/commands.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace vsmmu::queue::test {

// A handler that records what it is given and answers what the test tells it to.
struct recording_handler {
  std::vector<command> seen;
  std::function<command_status(const command&)> answer;

  command_status execute(const command& c) {
    seen.push_back(c);
    return answer ? answer(c) : command_status::ok;
  }
  [[nodiscard]] std::vector<smmuv3::cmd::opcode> opcodes() const {
    std::vector<smmuv3::cmd::opcode> ops;
    for (const auto& c : seen) ops.push_back(c.opcode());
    return ops;
  }
};
static_assert(command_handler<recording_handler>);
static_assert(!synchronizing_handler<recording_handler>);

// One that also hears about CMD_SYNCs.
struct synchronizing_recorder : recording_handler {
  int syncs = 0;
  command_status sync_answer = command_status::ok;
  command_status synchronize() {
    ++syncs;
    return sync_answer;
  }
};
static_assert(synchronizing_handler<synchronizing_recorder>);

// Whether validate() accepts x under f.
inline bool legal(const command& x, const command_features& f = {}) {
  return validate(x, f) == smmuv3::cerror::none;
}

// Every optional feature that changes what a command may carry, on an SMMUv3.4.
inline command_features everything() {
  command_features f;
  f.ats = f.pri = f.sev = f.stall = f.ril = f.mpam = f.dpt = f.ds = f.d128 = true;
  f.v3_0 = false;
  f.pa_field_bits = 56;
  return f;
}

template <class L>
command to_command(const vsmmu::layout::value<L>& v) {
  return command{v.words()};
}
template <class L>
command plain() {
  return to_command(smmuv3::cmd::make<L>());
}
inline command tlbi_va(std::uint64_t va) {
  namespace c = smmuv3::cmd;
  return to_command(c::make<c::tlbi_nh_va::layout>().with<c::ASID>(1).with<c::Address>(va));
}
inline command make_sync(smmuv3::cmd::cs cs = smmuv3::cmd::cs::sig_none,
                         std::uint64_t msi_address = 0, std::uint32_t msi_data = 0) {
  namespace c = smmuv3::cmd;
  return to_command(c::make<c::sync::layout>()
                        .with<c::sync::CS>(cs)
                        .with<c::sync::MSIAddress>(msi_address)
                        .with<c::sync::MSIData>(msi_data));
}

// Guest memory of 64KB at PA 0, a command queue at 0x1000.
template <class Handler = recording_handler>
struct cmdq_fixture {
  static constexpr std::uint64_t queue_base = 0x1000;
  using memory_type = memory::flat_memory<0x10000>;

  std::unique_ptr<memory_type> memory = std::make_unique<memory_type>();
  command_queue_config cfg;
  command_queue_state st;
  global_errors errors;
  recording_signals signals;
  Handler handler;

  explicit cmdq_fixture(unsigned log2size = 3) {
    cfg.base = queue_base;
    cfg.geometry = ring(log2size);
    cfg.enabled = true;
  }

  void put(std::uint32_t index, const command& c) {
    const std::uint64_t at = queue_base + std::uint64_t{index} * command_bytes;
    (void)memory->write64(at, c.words[0]);
    (void)memory->write64(at + 8, c.words[1]);
  }
  // Software producing one command at PROD.
  void produce(const command& c) {
    put(cfg.geometry.index(st.prod), c);
    st.prod = cfg.geometry.advance(st.prod);
  }
  consume_result run(std::uint32_t budget = ~std::uint32_t{0}) {
    return consume_commands(st, errors, cfg, *memory, handler, signals, budget);
  }
  [[nodiscard]] std::uint32_t cons_pointer() const { return cfg.geometry.pointer(st.cons); }
  [[nodiscard]] bool cmdq_error_active() const { return errors.is_active(gerror_bit::cmdq_err); }
};

}  // namespace vsmmu::queue::test
