// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/value.hpp>
#include <vsmmu/smmuv3/events.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

// What a translation produces (issue 3 item 9): a translated address with what a TLB entry
// needs, a bypass, a silent abort, or a fault with the complete 32-byte event record.
namespace vsmmu::walk {

// The access a transaction makes. exec is an instruction fetch: a read with InD == 1.
enum class access_kind : std::uint8_t { read, write, exec };

// An incoming transaction, as the event records describe it (IHI 0070 §7.3).
struct transaction {
  std::uint32_t sid = 0;
  bool ssv = false;        // a SubstreamID is supplied
  std::uint32_t ssid = 0;  // SubstreamID, 20 bits
  std::uint64_t address = 0;
  access_kind access = access_kind::read;
  bool privileged = false;  // PnU
  std::uint16_t stag = 0;   // the tag a stalled transaction's event carries (CMD_RESUME)

  [[nodiscard]] constexpr bool is_read() const noexcept { return access != access_kind::write; }
  [[nodiscard]] constexpr bool is_instruction() const noexcept {
    return access == access_kind::exec;
  }
};

// Permissions of both privileges as a bit set; the same layout as tlb::perm, so that a cache
// can store it unchanged. Stage 2 grants the same to both privileges.
namespace perm_set {
inline constexpr std::uint8_t r_priv = 1U << 0;
inline constexpr std::uint8_t w_priv = 1U << 1;
inline constexpr std::uint8_t x_priv = 1U << 2;
inline constexpr std::uint8_t r_unpriv = 1U << 3;
inline constexpr std::uint8_t w_unpriv = 1U << 4;
inline constexpr std::uint8_t x_unpriv = 1U << 5;
inline constexpr std::uint8_t all = 0x3f;
// The bit an access of this kind and privilege needs.
[[nodiscard]] constexpr std::uint8_t needed(bool read, bool instruction, bool privileged) noexcept {
  const unsigned b = instruction ? 2U : read ? 0U : 1U;
  return static_cast<std::uint8_t>(1U << (b + (privileged ? 0U : 3U)));
}
}  // namespace perm_set

struct permissions {
  bool r = false;
  bool w = false;
  bool x = false;
  friend constexpr bool operator==(const permissions&, const permissions&) = default;
};

// A fault as the walker finds it, before it becomes an event record.
// The members with a default other than zero share the first 8 bytes: a default one (every
// translation makes a few, most never written) is an immediate store and a zeroed 16 bytes.
struct fault_info {
  smmuv3::evt::type type = smmuv3::evt::type::f_translation;
  bool s2 = false;                                              // stage 2 faulted
  smmuv3::evt::fault_class cls = smmuv3::evt::fault_class::in;  // what was being translated
  bool ttrnw = true;             // F_PERMISSION with CLASS == TT: descriptor read (1) or write
  int level = 0;                 // lookup level of a walk fault (not in the record)
  std::uint64_t ipa = 0;         // stage 2 faults: the IPA stage 2 was given
  std::uint64_t fetch_addr = 0;  // fetch aborts: the PA fetched
};

// A value or a fault; the walker's internal currency.
template <class T>
struct or_fault {
  T value{};
  fault_info fault{};
  bool failed = false;

  [[nodiscard]] constexpr bool ok() const noexcept { return !failed; }
  [[nodiscard]] static constexpr or_fault failure(const fault_info& f) noexcept {
    return {T{}, f, true};
  }
};

// A 32-byte event record: four little-endian dwords, the type in bits [7:0].
class event_record {
 public:
  using words_type = std::array<std::uint64_t, 4>;

  constexpr event_record() noexcept = default;
  template <vsmmu::layout::layout_type L>
  constexpr explicit event_record(const vsmmu::layout::value<L>& v) noexcept : words_(v.words()) {}

  [[nodiscard]] constexpr smmuv3::evt::type type() const noexcept {
    return static_cast<smmuv3::evt::type>(words_[0] & 0xff);
  }
  [[nodiscard]] constexpr const words_type& words() const noexcept { return words_; }
  // The record in the layout of its type, for typed field access.
  template <vsmmu::layout::layout_type L>
  [[nodiscard]] constexpr vsmmu::layout::value<L> as() const noexcept {
    return vsmmu::layout::value<L>(words_);
  }
  // The bytes the SMMU writes to the event queue.
  [[nodiscard]] constexpr std::array<std::byte, 32> bytes() const noexcept {
    std::array<std::byte, 32> out{};
    for (std::size_t i = 0; i < 32; ++i) out[i] = std::byte(words_[i / 8] >> (8 * (i % 8)));
    return out;
  }
  friend constexpr bool operator==(const event_record&, const event_record&) = default;

 private:
  words_type words_{};
};

// A successful translation: output address and what a TLB entry for it needs.
struct translation {
  std::uint64_t output_address = 0;  // PA
  std::uint64_t ipa = 0;             // stage 1 output (the input when stage 1 bypasses)
  unsigned size_shift = 0;  // log2 of the mapping size: the smaller of the stages' page/block
  permissions perm{};       // what the transaction's privilege may do at every enabled stage
  bool s1_enabled = false;
  bool s2_enabled = false;
  // Stage 1 leaf attributes (IHI 0070 §5.4, DDI 0487 D8.3).
  std::uint16_t asid = 0;
  bool global = false;             // nG == 0
  std::uint8_t s1_attr_index = 0;  // AttrIndx, indexing CD.MAIR
  std::uint8_t s1_mem_attr = 0;    // MAIR byte it selects
  std::uint8_t s1_sh = 0;
  int s1_level = -1;
  unsigned s1_size_shift = 0;
  // Stage 2 leaf attributes.
  std::uint16_t vmid = 0;
  std::uint8_t s2_mem_attr = 0;  // MemAttr[3:0]
  std::uint8_t s2_sh = 0;
  int s2_level = -1;
  unsigned s2_size_shift = 0;
  // For caches (translate.hpp leaf policies): what each stage grants to both privileges, as
  // perm_set bits; all for a stage that did not apply. `perm` above is the transaction's share.
  std::uint8_t s1_perm_set = 0x3f;
  std::uint8_t s2_perm_set = 0x3f;
  // Writable only through DBM on a descriptor still clean (AP[2] / S2AP[1] not yet updated): a
  // write must walk again so that the dirty state is recorded (HTTU, §3.13).
  bool s1_dbm_clean = false;
  bool s2_dbm_clean = false;
  std::uint8_t s1_granule_shift = 0;  // 0 for a stage that did not apply
  std::uint8_t s2_granule_shift = 0;

  // Every field: what differential checks (caches on/off, micro-TLB, walk) compare.
  friend constexpr bool operator==(const translation&, const translation&) = default;
};

enum class outcome : std::uint8_t {
  translated,  // translation.output_address
  bypass,      // global or STE bypass: output address == input address
  abort,       // terminated, nothing recorded
  fault,       // terminated or stalled, event recorded
};

// How a terminated transaction completes (IHI 0070 §5.5).
enum class termination : std::uint8_t {
  none,    // not terminated
  abort,   // abort / bus error to the client
  raz_wi,  // completes successfully: reads return zero, writes are ignored
  stall,   // held until CMD_RESUME / CMD_STALL_TERM
};

struct result {
  outcome kind = outcome::abort;
  termination term = termination::none;
  translation xlat{};  // translated; for bypass only output_address
  event_record event{};
  bool has_event = false;  // an event was produced (recorded when kind == fault; an abort
                           // keeps a suppressed translation-fault record for diagnostics)

  friend constexpr bool operator==(const result&, const result&) = default;

  [[nodiscard]] constexpr bool recorded() const noexcept { return kind == outcome::fault; }
  [[nodiscard]] constexpr std::uint64_t output_address() const noexcept {
    return xlat.output_address;
  }
};

}  // namespace vsmmu::walk
