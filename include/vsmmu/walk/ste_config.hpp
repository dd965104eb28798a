// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/walk/smmu_features.hpp>
#include <vsmmu/walk/stage2.hpp>
#include <vsmmu/walk/vmsa.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

// STE decode and validation (IHI 0070 §5.2, pseudocode SteIllegal in §5.2.2) into the
// configuration a translation uses. The model is a Non-secure SMMUv3.1+ with VMSAv8-64 only
// (IDR0.TTF == 0b10), no DS, no STT, no D128, no DPT, no MPAM/VMS, no permission indirection or
// overlays, CR2.E2H == 0.
namespace vsmmu::walk {

// STE.Config, reserved values folded into abort.
enum class stream_mode : std::uint8_t { abort, bypass, s1, s2, nested };

// Why an STE is ILLEGAL: which rule of SteIllegal fired. For diagnostics and tests; the event
// is C_BAD_STE whatever the reason.
enum class ste_error : std::uint8_t {
  none,
  not_valid,         // V == 0
  s1_not_supported,  // Config 0b1x1 without IDR0.S1P
  s2_not_supported,  // Config 0b11x without IDR0.S2P
  eats,              // EATS combination §5.2 EATS lists
  strw,              // reserved STRW
  s1stalld,          // S1STALLD == 1 with STALL_MODEL != 0b00
  s1cdmax,           // S1CDMax > IDR1.SSIDSIZE
  s1fmt,             // 2-level CD table without IDR0.CD2L
  s1contextptr,      // S1ContextPtr beyond the OAS (PA) or the IAS (IPA)
  s2s,               // S2S against STALL_MODEL
  s2aa64,            // VMSAv8-32 LPAE stage 2 (not implemented), or VMSAv8-64 without TTF[1]
  s2httu,            // S2HA / S2HD against IDR0.HTTU
  s2tg,              // unsupported or reserved granule
  s2ttb,             // S2TTB beyond the effective S2PS, or beyond 48 bits with 4KB/16KB
  s2t0sz,            // S2T0SZ out of range for the granule
  s2sl0,             // S2SL0 invalid, or inconsistent with S2T0SZ and S2TG
  s2endi,            // unimplemented endianness
  s2vmid,            // 16-bit VMID without IDR0.VMID16
};

namespace detail {
struct stream_words;
}

// The decoded, validated STE. The one-byte fields first, in eight bytes: with s1_context_ptr
// and s2 five words, which the fast path computes in registers and stores at once
// (detail::stream_words).
struct stream_config {
  constexpr stream_config() noexcept = default;
  // The fast path's decode, stored where the configuration is built (as context_config's): no
  // default members stored first, no copy of a local written byte by byte.
  constexpr explicit stream_config(const detail::stream_words& w) noexcept;

  stream_mode mode = stream_mode::abort;
  // stage 1 (mode s1 / nested)
  smmuv3::s1_fmt s1fmt = smmuv3::s1_fmt::linear;
  smmuv3::s1_dss s1dss = smmuv3::s1_dss::terminate;
  bool s1stalld = false;
  bool el2 = false;  // StreamWorld NS-EL2 (STRW == 0b10 with IDR0.Hyp, stage 1 only)
  // overrides
  std::uint8_t privcfg = 0;
  std::uint8_t instcfg = 0;
  std::uint8_t s1cdmax = 0;  // at most 20 (IDR1.SSIDSIZE)
  std::uint64_t s1_context_ptr = 0;
  // stage 2 (mode s2 / nested)
  s2_config s2{};

  [[nodiscard]] constexpr bool s1() const noexcept {
    return mode == stream_mode::s1 || mode == stream_mode::nested;
  }
  [[nodiscard]] constexpr bool s2_enabled() const noexcept {
    return mode == stream_mode::s2 || mode == stream_mode::nested;
  }
};

struct ste_decode {
  ste_error error = ste_error::none;
  stream_config config{};
  [[nodiscard]] constexpr bool illegal() const noexcept { return error != ste_error::none; }
};

// Effective output size of S2PS / CD.IPS: capped to the OAS, and to 48 bits unless the granule
// is 64KB or DS (FEAT_LPA2) is in effect for 4KB/16KB. IHI 0070 §3.4, §5.2 S2PS, §5.4 DS.
[[nodiscard]] constexpr unsigned effective_output_bits(smmuv3::address_size ps,
                                                       unsigned granule_shift,
                                                       const smmu_features& f,
                                                       bool ds = false) noexcept {
  unsigned bits = std::min(smmuv3::address_bits(ps), f.oas_bits());
  if (bits > 48 && granule_shift != 16 && !ds) bits = 48;
  return std::min(bits, 52U);  // 56-bit output is VMSAv9-128 only
}

namespace detail {
[[nodiscard]] constexpr std::uint64_t bits_55_4(std::uint64_t a) noexcept {
  return a & vmsa::mask_below(56) & ~vmsa::mask_below(4);
}

namespace walk_word_checks {
namespace W = walk_word_bytes;
using P = vmsa::walk_params;
constexpr std::size_t at = offsetof(P, granule_shift);
static_assert(std::is_trivially_copyable_v<P> && std::is_standard_layout_v<P> &&
              sizeof(P) == at + 8);
static_assert(offsetof(P, ia_bits) == at + W::ia_bits / 8 &&
              offsetof(P, start_level) == at + W::start_level / 8 &&
              offsetof(P, oa_bits) == at + W::oa_bits / 8 &&
              offsetof(P, big_endian) == at + W::big_endian / 8 &&
              offsetof(P, stage2) == at + W::stage2 / 8 && offsetof(P, ds) == at + W::ds / 8 &&
              offsetof(P, pa52_64k) == at + W::pa52_64k / 8);
}  // namespace walk_word_checks

// A default walk_params' walk word (the fast paths store it for a range or stage not in use).
inline constexpr std::uint64_t default_walk_word =
    std::uint64_t{vmsa::walk_params{}.granule_shift} << walk_word_bytes::granule_shift |
    std::uint64_t{vmsa::walk_params{}.ia_bits} << walk_word_bytes::ia_bits |
    std::uint64_t{static_cast<std::uint8_t>(vmsa::walk_params{}.start_level)}
        << walk_word_bytes::start_level |
    std::uint64_t{vmsa::walk_params{}.oa_bits} << walk_word_bytes::oa_bits |
    std::uint64_t{vmsa::walk_params{}.big_endian} << walk_word_bytes::big_endian |
    std::uint64_t{vmsa::walk_params{}.stage2} << walk_word_bytes::stage2 |
    std::uint64_t{vmsa::walk_params{}.ds} << walk_word_bytes::ds |
    std::uint64_t{vmsa::walk_params{}.pa52_64k} << walk_word_bytes::pa52_64k;

// Stores a walk word (walk_word_bytes) into `w`: every field but table_base, in one store at
// run time on a little-endian host.
constexpr void store_walk_word(vmsa::walk_params& w, std::uint64_t word) noexcept {
  namespace W = walk_word_bytes;
  if (std::is_constant_evaluated() || std::endian::native != std::endian::little) {
    w.granule_shift = static_cast<std::uint8_t>(word >> W::granule_shift);
    w.ia_bits = static_cast<std::uint8_t>(word >> W::ia_bits);
    w.start_level = static_cast<std::int8_t>(static_cast<std::uint8_t>(word >> W::start_level));
    w.oa_bits = static_cast<std::uint8_t>(word >> W::oa_bits);
    w.big_endian = ((word >> W::big_endian) & 1U) != 0;
    w.stage2 = ((word >> W::stage2) & 1U) != 0;
    w.ds = ((word >> W::ds) & 1U) != 0;
    w.pa52_64k = ((word >> W::pa52_64k) & 1U) != 0;
  } else {
    std::memcpy(reinterpret_cast<unsigned char*>(&w) + offsetof(vmsa::walk_params, granule_shift),
                &word, sizeof word);
  }
}
}  // namespace detail

namespace detail {
// The first four dwords of an STE or CD (all the fields validation reads), copied into locals:
// reads through the structure itself would be redone after every store into the decoded
// configuration, whose bool and uint8_t members may alias anything.
struct dwords4 {
  std::uint64_t w[4];

  template <class X>
  [[nodiscard]] static constexpr dwords4 of(const X& x) noexcept {
    return {{static_cast<std::uint64_t>(x.word(0)), static_cast<std::uint64_t>(x.word(1)),
             static_cast<std::uint64_t>(x.word(2)), static_cast<std::uint64_t>(x.word(3))}};
  }
  template <class F>
  [[nodiscard]] constexpr typename F::value_type get() const noexcept {
    static_assert(F::lsb / 64 == F::msb / 64 && F::msb < 256, "a field within dwords 0-3");
    return F::from_raw(w[F::lsb / 64] >> (F::lsb % 64));
  }
};

// A field within one of dwords 0-3, read from the entry where it is used: the fast paths read
// each dword where they need it (a load, often folded into its use) rather than keeping copies
// live in registers across the stores, which made g++ spill them.
template <class F, class X>
[[nodiscard, gnu::always_inline]] constexpr typename F::value_type field_at(const X& x) noexcept {
  static_assert(F::lsb / 64 == F::msb / 64 && F::msb < 256, "a field within dwords 0-3");
  return F::from_raw(static_cast<std::uint64_t>(x.word(F::lsb / 64)) >> (F::lsb % 64));
}

// The decoder, over decode_limits or detail::live_limits (the same interface).
template <class X, class Limits>
[[nodiscard]] constexpr ste_error decode_ste(const X& raw, const Limits& lim,
                                             stream_config& c) noexcept {
  namespace S = smmuv3::ste;
  const smmu_features& f = lim.features();
  const std::uint64_t w0 = static_cast<std::uint64_t>(raw.word(0));
  if ((w0 & 1U) == 0) {  // V
    return ste_error::not_valid;
  }
  const unsigned config = static_cast<unsigned>(w0 >> 1) & 7U;  // Config
  if ((config & 4U) == 0) {  // 0b0xx: abort (0b001-0b011 reserved, behave as abort)
    c.mode = stream_mode::abort;
    return ste_error::none;
  }
  const detail::dwords4 ste = detail::dwords4::of(raw);
  constexpr stream_mode modes[] = {stream_mode::bypass, stream_mode::s1, stream_mode::s2,
                                   stream_mode::nested};
  c.mode = modes[config & 3U];
  const bool s1 = (config & 1U) != 0;
  const bool s2 = (config & 2U) != 0;
  if (s1 && !f.s1p) {
    return ste_error::s1_not_supported;
  }
  if (s2 && !f.s2p) {
    return ste_error::s2_not_supported;
  }

  const bool s2s = ste.get<S::S2S>();
  // EATS is IGNORED without IDR0.ATS and for Config 0bx00 (§5.2 EATS, SteIllegal).
  if (f.ats && config != 0b100) {
    const unsigned eats = static_cast<unsigned>(ste.get<S::EATS>());
    if (eats == 0b10 && (config != 0b111 || s2s || f.ns1ats)) {
      return ste_error::eats;
    }
    if (eats == 0b01 && s2s && s2) {
      return ste_error::eats;
    }
    // 0b11 (DPT) is Reserved without IDR3.DPT and behaves as 0b00.
  }

  // STRW is used only with stage 1, stage 2 off, and IDR0.Hyp (IgnoreSTESTRW).
  const bool strw_used = f.s1p && f.hyp && !s2 && config != 0b100;
  const unsigned strw = static_cast<unsigned>(ste.get<S::STRW>());
  if (strw_used && (strw & 1U) != 0) {
    return ste_error::strw;
  }
  c.el2 = strw_used && strw == 0b10;
  c.privcfg = ste.get<S::PRIVCFG>();
  c.instcfg = ste.get<S::INSTCFG>();

  if (s1) {
    const bool s1stalld = ste.get<S::S1STALLD>();
    c.s1stalld = s1stalld;
    if (s1stalld && f.stall_model != stall_model::stall_and_terminate) {
      return ste_error::s1stalld;
    }
    const unsigned s1cdmax = f.ssidsize == 0 ? 0U : ste.get<S::S1CDMax>();
    c.s1cdmax = s1cdmax;
    if (s1cdmax > f.ssidsize) {
      return ste_error::s1cdmax;
    }
    const unsigned fmt = static_cast<unsigned>(ste.get<S::S1Fmt>());
    if (s1cdmax != 0 && !f.cd2l && (fmt == 0b01 || fmt == 0b10)) {
      return ste_error::s1fmt;
    }
    c.s1fmt = fmt == 0b11 ? smmuv3::s1_fmt::linear : static_cast<smmuv3::s1_fmt>(fmt);
    const std::uint64_t ptr = ste.get<S::S1ContextPtr>();
    c.s1_context_ptr = ptr;
    // §3.4.3 (1)/(2): beyond the OAS (PA) or the IAS (IPA) the STE is ILLEGAL in SMMUv3.1+.
    if ((ptr >> (s2 ? lim.ias_bits() : lim.oas_bits())) != 0) {
      return ste_error::s1contextptr;
    }
    const unsigned dss = static_cast<unsigned>(ste.get<S::S1DSS>());
    c.s1dss = dss == 0b11 ? smmuv3::s1_dss::terminate : static_cast<smmuv3::s1_dss>(dss);
  }

  // S2VMID is checked unless ignored (IgnoreSTES2VMID): Config 0b1x1 with STRW == EL1 uses it
  // as well, to tag stage 1 TLB entries.
  const bool vmid_used = f.s2p && config != 0b100 && !(strw_used && strw != 0);
  const std::uint16_t vmid = ste.get<S::S2VMID>();
  if (vmid_used && !f.vmid16 && (vmid >> 8) != 0) {
    return ste_error::s2vmid;
  }
  c.s2.vmid = vmid_used ? vmid : 0;

  if (!s2) return ste_error::none;

  if (lim.stall_illegal(s2s)) {
    return ste_error::s2s;
  }
  if (!ste.get<S::S2AA64>() || !f.aa64_tables) {
    return ste_error::s2aa64;
  }
  const bool ha = ste.get<S::S2HA>();
  const bool hd = ste.get<S::S2HD>();
  if (lim.httu_illegal(ha, hd)) {
    return ste_error::s2httu;
  }

  const unsigned g = detail::tg0_shift[static_cast<unsigned>(ste.get<S::S2TG>()) & 3U];
  if (!lim.granule_supported(g)) {  // also a reserved encoding (shift 0)
    return ste_error::s2tg;
  }
  const unsigned ps = lim.output_bits(static_cast<unsigned>(ste.get<S::S2PS>()), g, false);
  const std::uint64_t ttb = detail::bits_55_4(ste.get<S::S2TTB>());
  if ((ttb >> ps) != 0) {
    return ste_error::s2ttb;
  }
  if (g != 16 && (ttb >> 48) != 0) {
    return ste_error::s2ttb;
  }

  // STES2T0SZInvalid without STT: max 39; min 64 - IAS, at least 16 (12 with the 64KB granule).
  const unsigned t0sz = ste.get<S::S2T0SZ>();
  const unsigned min_t0sz = lim.s2_min_t0sz(g);
  if (t0sz < min_t0sz || t0sz > 39) {
    return ste_error::s2t0sz;
  }
  const unsigned ia_bits = 64 - t0sz;
  const int level = detail::s2_start_level(g, ste.get<S::S2SL0>(), ia_bits, lim.oas_bits());
  if (level < 0) {
    return ste_error::s2sl0;
  }

  const bool endi = ste.get<S::S2ENDI>();
  if (lim.endi_illegal(endi)) {
    return ste_error::s2endi;
  }

  vmsa::walk_params& w = c.s2.walk;
  w.granule_shift = g;
  w.ia_bits = ia_bits;
  w.start_level = level;
  w.oa_bits = ps;
  w.big_endian = endi;
  w.stage2 = true;
  // Whatever the S2PS (AArch64.S2LeafBase); `c` starts default-constructed (false), so that
  // the common case is one compare.
  if (g == 16 && lim.oas_bits() >= 52) w.pa52_64k = true;
  // Bits of S2TTB below the start table's alignment are ignored (AArch64.S2TTBaseAddress); the
  // 64-byte minimum follows the effective S2PS (§5.2 S2TTB).
  w.table_base = ttb & ~vmsa::mask_below(vmsa::start_table_shift(g, ia_bits, level, ps >= 52));
  c.s2.affd = ste.get<S::S2AFFD>();
  c.s2.ptw = ste.get<S::S2PTW>();
  c.s2.ha = ha;
  c.s2.hd = hd;
  c.s2.s = s2s;
  c.s2.r = ste.get<S::S2R>();
  return ste_error::none;
}
}  // namespace detail

namespace detail {
namespace ste_fast_checks {
namespace S = smmuv3::ste;
template <class F>
constexpr std::uint64_t bits_of = low_mask(F::msb - F::lsb + 1) << (F::lsb % 64);
static_assert(ste_bits::s1fmt == bits_of<S::S1Fmt> && S::S1Fmt::lsb < 64);
static_assert(ste_bits::s1contextptr == bits_of<S::S1ContextPtr> && S::S1ContextPtr::lsb < 64);
static_assert(ste_bits::s1stalld == bits_of<S::S1STALLD> && S::S1STALLD::lsb / 64 == 1);
static_assert(ste_bits::eats == bits_of<S::EATS> && S::EATS::lsb / 64 == 1);
static_assert(ste_bits::strw0 == std::uint64_t{1} << (S::STRW::lsb % 64) && S::STRW::lsb / 64 == 1);
static_assert(ste_bits::s2vmid_high == (bits_of<S::S2VMID> & ~low_mask(8)) &&
              S::S2VMID::lsb / 64 == 2);
static_assert(ste_bits::s2aa64 == bits_of<S::S2AA64> && S::S2AA64::lsb / 64 == 2);
static_assert(ste_bits::s2endi == bits_of<S::S2ENDI> && S::S2ENDI::lsb / 64 == 2);
static_assert(ste_bits::s2hd == bits_of<S::S2HD> && S::S2HD::lsb / 64 == 2);
static_assert(ste_bits::s2ha == bits_of<S::S2HA> && S::S2HA::lsb / 64 == 2);
static_assert(ste_bits::s2s == bits_of<S::S2S> && S::S2S::lsb / 64 == 2);
}  // namespace ste_fast_checks

// Where each field of stream_config is in its words (stream_words), in bits: the head word's
// bytes and the tail word's (s2.vmid, then the one-byte members of s2_config).
namespace stream_word_bits {
inline constexpr unsigned mode = 0, s1fmt = 8, s1dss = 16, s1stalld = 24, el2 = 32, privcfg = 40,
                          instcfg = 48, s1cdmax = 56;
inline constexpr unsigned vmid = 0, affd = 16, ptw = 24, ha = 32, hd = 40, s = 48, r = 56;
}  // namespace stream_word_bits

// A stream_config as five words, its object representation in layout order (little-endian; the
// structure has no padding): the fast path computes them in registers, after every load, and
// stores them at once. The defaults are stream_config{}'s (Config abort).
struct stream_words {
  std::uint64_t head = 0;                     // mode .. s1cdmax (stream_word_bits)
  std::uint64_t context_ptr = 0;              // s1_context_ptr
  std::uint64_t s2_base = 0;                  // s2.walk.table_base
  std::uint64_t s2_walk = default_walk_word;  // s2.walk from granule_shift on (walk_word_bytes)
  std::uint64_t s2_tail = 0;                  // s2.vmid .. s2.r (stream_word_bits)
};

namespace stream_words_checks {
namespace B = stream_word_bits;
using C = stream_config;
using T = s2_config;
static_assert(std::is_trivially_copyable_v<C> && std::is_standard_layout_v<C> &&
              sizeof(C) == sizeof(stream_words) && sizeof(T) == 24);
static_assert(offsetof(C, mode) == B::mode / 8 && offsetof(C, s1fmt) == B::s1fmt / 8 &&
              offsetof(C, s1dss) == B::s1dss / 8 && offsetof(C, s1stalld) == B::s1stalld / 8 &&
              offsetof(C, el2) == B::el2 / 8 && offsetof(C, privcfg) == B::privcfg / 8 &&
              offsetof(C, instcfg) == B::instcfg / 8 && offsetof(C, s1cdmax) == B::s1cdmax / 8 &&
              offsetof(C, s1_context_ptr) == 8 && offsetof(C, s2) == 16);
static_assert(offsetof(T, walk) == 0 && offsetof(vmsa::walk_params, table_base) == 0 &&
              sizeof(vmsa::walk_params) == 16 && offsetof(T, vmid) == 16 + B::vmid / 8 &&
              offsetof(T, affd) == 16 + B::affd / 8 && offsetof(T, ptw) == 16 + B::ptw / 8 &&
              offsetof(T, ha) == 16 + B::ha / 8 && offsetof(T, hd) == 16 + B::hd / 8 &&
              offsetof(T, s) == 16 + B::s / 8 && offsetof(T, r) == 16 + B::r / 8);
}  // namespace stream_words_checks

// Writes the configuration `w` represents into `c`, wholly: five stores at run time on a
// little-endian host, member by member in constant evaluation and on big-endian hosts.
[[gnu::always_inline]] constexpr void store_stream(stream_config& c,
                                                   const stream_words& w) noexcept {
  if (std::is_constant_evaluated() || std::endian::native != std::endian::little) {
    namespace B = stream_word_bits;
    const auto byte = [](std::uint64_t word, unsigned at) {
      return static_cast<std::uint8_t>(word >> at);
    };
    c.mode = static_cast<stream_mode>(byte(w.head, B::mode));
    c.s1fmt = static_cast<smmuv3::s1_fmt>(byte(w.head, B::s1fmt));
    c.s1dss = static_cast<smmuv3::s1_dss>(byte(w.head, B::s1dss));
    c.s1stalld = byte(w.head, B::s1stalld) != 0;
    c.el2 = byte(w.head, B::el2) != 0;
    c.privcfg = byte(w.head, B::privcfg);
    c.instcfg = byte(w.head, B::instcfg);
    c.s1cdmax = byte(w.head, B::s1cdmax);
    c.s1_context_ptr = w.context_ptr;
    c.s2.walk.table_base = w.s2_base;
    store_walk_word(c.s2.walk, w.s2_walk);
    c.s2.vmid = static_cast<std::uint16_t>(w.s2_tail >> B::vmid);
    c.s2.affd = byte(w.s2_tail, B::affd) != 0;
    c.s2.ptw = byte(w.s2_tail, B::ptw) != 0;
    c.s2.ha = byte(w.s2_tail, B::ha) != 0;
    c.s2.hd = byte(w.s2_tail, B::hd) != 0;
    c.s2.s = byte(w.s2_tail, B::s) != 0;
    c.s2.r = byte(w.s2_tail, B::r) != 0;
  } else {
    // Word by word from registers: one copy of the structure would be made on the stack and
    // read back in wider loads than its stores (store-forwarding stalls).
    unsigned char* const to = reinterpret_cast<unsigned char*>(&c);
    std::memcpy(to, &w.head, 8);
    std::memcpy(to + 8, &w.context_ptr, 8);
    std::memcpy(to + 16, &w.s2_base, 8);
    std::memcpy(to + 24, &w.s2_walk, 8);
    std::memcpy(to + 32, &w.s2_tail, 8);
  }
}

namespace ste_s2_flags {
namespace S = smmuv3::ste;
namespace B = stream_word_bits;
// S2AFFD, S2PTW, S2HD, S2HA, S2S and S2R are consecutive STE bits; s2_config has HA before HD.
inline constexpr unsigned lsb = S::S2AFFD::lsb % 64;
static_assert(S::S2AFFD::lsb / 64 == 2 && S::S2PTW::lsb == S::S2AFFD::lsb + 1 &&
              S::S2HD::lsb == S::S2AFFD::lsb + 2 && S::S2HA::lsb == S::S2AFFD::lsb + 3 &&
              S::S2S::lsb == S::S2AFFD::lsb + 4 && S::S2R::lsb == S::S2AFFD::lsb + 5);
// Bit i of the six goes to its byte of the tail word by its own shift of the multiplier: the
// partial products (6 bits each at 16, 23, 29, 38, 44 and 51) never overlap, so never carry.
inline constexpr std::uint64_t spread =
    std::uint64_t{1} << (B::affd - 0) | std::uint64_t{1} << (B::ptw - 1) |
    std::uint64_t{1} << (B::hd - 2) | std::uint64_t{1} << (B::ha - 3) |
    std::uint64_t{1} << (B::s - 4) | std::uint64_t{1} << (B::r - 5);
inline constexpr std::uint64_t keep = std::uint64_t{1} << B::affd | std::uint64_t{1} << B::ptw |
                                      std::uint64_t{1} << B::ha | std::uint64_t{1} << B::hd |
                                      std::uint64_t{1} << B::s | std::uint64_t{1} << B::r;
[[nodiscard]] constexpr std::uint64_t of(std::uint64_t dword2) noexcept {
  return ((dword2 >> lsb) & 0x3fU) * spread & keep;
}
static_assert([] {
  for (std::uint64_t x = 0; x < 64; ++x) {
    const auto bit = [x](unsigned i, unsigned at) { return ((x >> i) & 1U) << at; };
    if (of(x << lsb) != (bit(0, B::affd) | bit(1, B::ptw) | bit(2, B::hd) | bit(3, B::ha) |
                         bit(4, B::s) | bit(5, B::r)))
      return false;
  }
  return true;
}());
}  // namespace ste_s2_flags

// s1fmt and s1dss in the head word per S1Fmt << 2 | S1DSS: 0b11, reserved, behaves as 0b00
// for each.
inline constexpr auto s1fmt_s1dss_bytes = [] {
  std::array<std::uint32_t, 16> t{};
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned fmt = i >> 2 == 3 ? 0U : i >> 2;
    const unsigned dss = (i & 3U) == 3 ? 0U : i & 3U;
    t[i] = fmt << stream_word_bits::s1fmt | dss << stream_word_bits::s1dss;
  }
  return t;
}();

// Per S2TG and S2SL0 (index S2TG * 4 + S2SL0, as s2_geometry): the walk word's start level and
// stage2, with 64 in ia_bits' byte (ia_bits is 64 - S2T0SZ); and 67 - the lowest input-address
// bit the start level resolves (the start table's size is 2^(that - S2T0SZ) bytes,
// AArch64.S2TTBaseAddress).
struct s2_start_table {
  std::uint64_t walk[16];
  std::uint8_t table_bits[16];
};
inline constexpr s2_start_table s2_start = [] {
  namespace W = walk_word_bytes;
  s2_start_table t{};
  for (unsigned i = 0; i < 16; ++i) {
    const auto level = static_cast<std::uint8_t>(s2_geometry.level[i / 4][i % 4]);
    t.walk[i] = std::uint64_t{64} << W::ia_bits | std::uint64_t{level} << W::start_level |
                std::uint64_t{1} << W::stage2;
    t.table_bits[i] = static_cast<std::uint8_t>(64 + 3 - s2_geometry.lsb[i / 4][i % 4]);
  }
  return t;
}();

// The fast path: the STE checked against decode_limits' per-mode masks and tables. True with
// `w` the words of its decode, as decode_ste would write it into a default-constructed
// configuration, when the STE passes; false when it does not, which does not make it ILLEGAL
// (ste_mode_check is conservative). Computed in registers, after every load: the caller stores
// the words at once (store_stream, stream_config(const stream_words&)).
template <class X>
[[nodiscard, gnu::always_inline]] constexpr bool ste_fast_words(const X& raw,
                                                                const decode_limits& lim,
                                                                stream_words& w) noexcept {
  namespace S = smmuv3::ste;
  namespace B = stream_word_bits;
  const std::uint64_t w0 = static_cast<std::uint64_t>(raw.word(0));
  if ((w0 & 1U) == 0) return false;  // V == 0: the decoder names it
  const unsigned config = static_cast<unsigned>(w0 >> 1) & 7U;
  if ((config & 4U) == 0) {
    w = stream_words{};  // abort; 0b001-0b011 reserved, behave as abort
    return true;
  }
  const unsigned m = config & 3U;
  const ste_mode_check& k = lim.ste_check(m);
  const std::uint64_t w1 = static_cast<std::uint64_t>(raw.word(1));
  const std::uint64_t w2 = static_cast<std::uint64_t>(raw.word(2));
  const unsigned cdmax = field_at<S::S1CDMax>(raw);
  if ((((w0 ^ k.expect[0]) & k.mask[0]) | ((w1 ^ k.expect[1]) & k.mask[1]) |
       ((w2 ^ k.expect[2]) & k.mask[2])) != 0 ||
      ((k.cdmax_ok >> cdmax) & 1U) == 0) {
    return false;
  }
  // The words in the order of the dwords they come from, each dword dead once used. (The head
  // word built as two 32-bit halves made a CD decode right after it, which reads it, about 2 ns
  // slower: bench_decode ste_cd_from_buffers.)
  // STRW is 0b00 or 0b10 when used (k.mask): NS-EL2 is its upper bit.
  const std::uint64_t el2 = (w1 >> (S::STRW::msb % 64)) & std::uint64_t{k.strw_used};
  std::uint64_t head = std::uint64_t{static_cast<unsigned>(stream_mode::bypass) + m} << B::mode |
                       el2 << B::el2 | std::uint64_t{field_at<S::PRIVCFG>(raw)} << B::privcfg |
                       std::uint64_t{field_at<S::INSTCFG>(raw)} << B::instcfg;
  std::uint64_t context_ptr = 0;
  if ((m & 1U) != 0) {
    const unsigned fmt_dss = static_cast<unsigned>(field_at<S::S1Fmt>(raw)) << 2 |
                             static_cast<unsigned>(field_at<S::S1DSS>(raw));
    head |= std::uint64_t{s1fmt_s1dss_bytes[fmt_dss]} |
            std::uint64_t{field_at<S::S1STALLD>(raw)} << B::s1stalld |
            std::uint64_t{static_cast<unsigned>(cdmax & k.cdmax_keep)} << B::s1cdmax;
    context_ptr = field_at<S::S1ContextPtr>(raw);
  }
  // S2VMID unless IGNORED (IgnoreSTES2VMID): unused, or NS-EL2 (STRW != 0b00 when used).
  std::uint64_t tail =
      k.vmid_used && el2 == 0 ? std::uint64_t{field_at<S::S2VMID>(raw)} << B::vmid : 0U;
  std::uint64_t s2_base = 0;
  std::uint64_t s2_walk = default_walk_word;
  if ((m & 2U) != 0) {
    const unsigned tg = static_cast<unsigned>(field_at<S::S2TG>(raw));
    const unsigned sl0 = field_at<S::S2SL0>(raw);
    const unsigned t0sz = field_at<S::S2T0SZ>(raw);
    const unsigned ps = static_cast<unsigned>(field_at<S::S2PS>(raw)) & 7U;
    // S2TG's encoding is TG0's; without DS the effective S2PS is at most 48 bits with 4KB and
    // 16KB, so that the S2PS check is also the 48-bit limit on S2TTB.
    const cd_range_check& r = lim.cd_range(0, 0, tg);
    const std::uint64_t ttb = bits_55_4(field_at<S::S2TTB>(raw));
    if (((lim.s2_t0sz_ok(tg, sl0) >> t0sz) & 1U) == 0 || (ttb & r.beyond_oa[ps]) != 0) {
      return false;
    }
    namespace W = walk_word_bytes;
    // granule_shift, oa_bits and pa52_64k (ds 0: the entries for TG0 without DS); the start
    // level, stage2 and 64 in ia_bits' byte, less S2T0SZ (at most 39 here); S2ENDI.
    const std::uint64_t walk = r.walk[ps];
    const unsigned oa = static_cast<unsigned>(walk >> W::oa_bits) & 0xffU;
    const unsigned at = (tg & 3U) * 4 + (sl0 & 3U);
    s2_walk = walk + s2_start.walk[at] - (std::uint64_t{t0sz} << W::ia_bits) +
              (std::uint64_t{field_at<S::S2ENDI>(raw)} << W::big_endian);
    const unsigned shift = s2_start.table_bits[at] - t0sz;
    // Bits of S2TTB below the start table's alignment are ignored (AArch64.S2TTBaseAddress).
    s2_base = ttb & (~std::uint64_t{0} << (shift < 6 && oa >= 52 ? 6U : shift));
    tail |= ste_s2_flags::of(w2);
  }
  w = {head, context_ptr, s2_base, s2_walk, tail};
  return true;
}

// The fast path as one call: true with `c` the decode, false with `c` untouched.
template <class X>
[[nodiscard, gnu::always_inline]] constexpr bool decode_ste_fast(const X& raw,
                                                                 const decode_limits& lim,
                                                                 stream_config& c) noexcept {
  stream_words w;
  if (!ste_fast_words(raw, lim, w)) return false;
  store_stream(c, w);
  return true;
}

// The rule-by-rule decoder, out of line: the fast path's callers inline only the fast path.
template <class X, class Limits>
[[nodiscard, gnu::noinline]] constexpr ste_error decode_ste_rules(const X& raw, const Limits& lim,
                                                                  stream_config& c) noexcept {
  return decode_ste(raw, lim, c);
}

// decode_ste's rule-by-rule path, out of line, returning its result.
template <class X, class Limits>
[[nodiscard, gnu::noinline]] constexpr ste_decode ste_decode_by_rules(const X& raw,
                                                                      const Limits& lim) noexcept {
  ste_decode out;
  out.error = decode_ste(raw, lim, out.config);
  return out;
}
}  // namespace detail

constexpr stream_config::stream_config(const detail::stream_words& w) noexcept {
  detail::store_stream(*this, w);
}

// Decodes an STE into `c` (which must start default-constructed) and applies every SteIllegal
// rule the modelled SMMU has, with the limits derived once from the features. Writes the
// configuration where the caller keeps it: a copy of a struct written field by field costs
// store-forwarding stalls on the hot path.
template <class X>
[[nodiscard]] constexpr ste_error decode_ste_into(const X& raw, const decode_limits& lim,
                                                  stream_config& c) noexcept {
  if (detail::decode_ste_fast(raw, lim, c)) return ste_error::none;
  return detail::decode_ste_rules(raw, lim, c);
}

// As above, deriving what it needs from `f` as it goes: callers that decode many STEs under one
// feature set should keep a decode_limits.
template <class X>
[[nodiscard]] constexpr ste_error decode_ste_into(const X& ste, const smmu_features& f,
                                                  stream_config& c) noexcept {
  return detail::decode_ste(ste, detail::live_limits(f), c);
}

// Decodes an STE and applies every SteIllegal rule the modelled SMMU has. The fast path is
// inlined into the caller; the rule-by-rule decoder is a call.
template <class X>
[[nodiscard, gnu::always_inline]] constexpr ste_decode decode_ste(
    const X& raw, const decode_limits& lim) noexcept {
  detail::stream_words w;
  if (detail::ste_fast_words(raw, lim, w)) return {ste_error::none, stream_config(w)};
  return detail::ste_decode_by_rules(raw, lim);
}

// Decodes an STE and applies every SteIllegal rule the modelled SMMU has.
template <class X>
[[nodiscard]] constexpr ste_decode decode_ste(const X& ste, const smmu_features& f) noexcept {
  ste_decode out;  // built in place
  out.error = decode_ste_into(ste, f, out.config);
  return out;
}

}  // namespace vsmmu::walk
