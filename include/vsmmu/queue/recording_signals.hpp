// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/queue/signals.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

// A signal sink that records every wired pulse and MSI, in order, for tests and for embedders
// that want to replay signals later (for example from another thread). MSIs to addresses the
// test marks as aborting report an external abort.
namespace vsmmu::queue {

class recording_signals {
 public:
  struct record {
    signal source = signal::eventq;
    bool msi = false;       // false: a wired pulse / wake-up event
    msi_message message{};  // when msi
    friend bool operator==(const record&, const record&) = default;
  };

  void raise(signal source) noexcept { push({source, false, {}}); }
  memory::access_status write_msi(signal source, const msi_message& m) noexcept {
    push({source, true, m});
    return abort_msis_ ? memory::access_status::external_abort : memory::access_status::ok;
  }

  // Every following MSI aborts (or completes again).
  void abort_msis(bool abort) noexcept { abort_msis_ = abort; }

  [[nodiscard]] const std::vector<record>& records() const noexcept { return records_; }
  [[nodiscard]] std::size_t count(signal source, bool msi) const noexcept {
    std::size_t n = 0;
    for (const auto& r : records_) n += (r.source == source && r.msi == msi) ? 1 : 0;
    return n;
  }
  void clear() noexcept { records_.clear(); }

 private:
  void push(const record& r) noexcept {
    // Recording must not throw through the noexcept seam; a test that fills memory fails anyway.
    try {
      records_.push_back(r);
    } catch (...) {
    }
  }

  std::vector<record> records_;
  bool abort_msis_ = false;
};
static_assert(signal_sink<recording_signals>);

}  // namespace vsmmu::queue
