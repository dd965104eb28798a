// walk::fetch_ste and walk::fetch_cd build each outcome's result where it returns (no zeroed
// result overwritten in place): every member of every outcome, at run time and under constant
// evaluation.

#include <catch2/catch.hpp>

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/walk/cd_config.hpp>
#include <vsmmu/walk/stream_table.hpp>

#include <array>
#include <cstdint>
#include <memory>

namespace vw = vsmmu::walk;
namespace sm = vsmmu::smmuv3;

namespace {

using memory = vsmmu::memory::flat_memory<0x4000>;

// Eight distinct dwords at `pa`, also returned.
constexpr std::array<std::uint64_t, 8> put_entry(memory& m, std::uint64_t pa, std::uint64_t tag) {
  std::array<std::uint64_t, 8> w{};
  for (unsigned i = 0; i < 8; ++i) {
    w[i] = tag * 0x1'0001'0001ULL + i;
    (void)m.write64(pa + 8 * i, w[i]);
  }
  return w;
}

constexpr bool zero(const std::array<std::uint64_t, 8>& w) {
  for (auto x : w) {
    if (x != 0) return false;
  }
  return true;
}

constexpr bool default_fault(const vw::fault_info& f) {
  const vw::fault_info d{};
  return f.type == d.type && f.s2 == d.s2 && f.cls == d.cls && f.ipa == d.ipa &&
         f.fetch_addr == d.fetch_addr && f.level == d.level && f.ttrnw == d.ttrnw;
}

constexpr vw::or_fault<std::uint64_t> identity(std::uint64_t a) { return {a, {}, false}; }

// A stage 2 fault on the CD's IPA, as a nested to_pa reports it.
constexpr vw::or_fault<std::uint64_t> s2_fault(std::uint64_t a) {
  vw::fault_info f;
  f.type = sm::evt::type::f_translation;
  f.s2 = true;
  f.cls = sm::evt::fault_class::cd;
  f.ipa = a;
  f.level = 2;
  return vw::or_fault<std::uint64_t>::failure(f);
}

// fetch_cd, checked against detail::fetch_cd_words (the fetch uncached::context decodes from
// where it read): the same status, the same words when there are some, the same fault when
// there is one.
template <class ToPa>
constexpr vw::cd_fetch fetch(const memory& m, const vw::stream_config& ste,
                             const vw::smmu_features& f, std::uint32_t ssid, ToPa&& to_pa,
                             bool& ok) {
  const vw::cd_fetch r = vw::fetch_cd(m, ste, f, ssid, to_pa);
  vw::detail::cd_storage words{};
  vw::fault_info fault;
  const vw::cd_locate_status status =
      vw::detail::fetch_cd_words(m, ste, f, ssid, to_pa, words, fault);
  ok &= status == r.status;
  if (status == vw::cd_locate_status::ok) ok &= words == r.cd.words();
  if (status == vw::cd_locate_status::fault) {
    ok &= fault.type == r.fault.type && fault.s2 == r.fault.s2 && fault.cls == r.fault.cls &&
          fault.ipa == r.fault.ipa && fault.fetch_addr == r.fault.fetch_addr &&
          fault.level == r.fault.level && fault.ttrnw == r.fault.ttrnw;
  }
  return r;
}

constexpr bool ste_outcomes() {
  memory m;
  const vw::smmu_features f{};
  const vw::stream_table_config linear{0x1000, false, 6, 4};
  const auto words = put_entry(m, 0x1000 + 3 * 64, 3);
  bool ok = true;
  // Read: the words and where they are.
  const vw::ste_fetch r = vw::fetch_ste(m, f, linear, 3);
  ok &= r.status == vw::ste_fetch_status::ok && r.ste.words() == words && r.ste_addr == 0x10c0 &&
        r.fetch_addr == 0;
  // StreamID beyond LOG2SIZE.
  const vw::ste_fetch out_of_range = vw::fetch_ste(m, f, linear, 16);
  ok &= out_of_range.status == vw::ste_fetch_status::bad_streamid &&
        zero(out_of_range.ste.words()) && out_of_range.ste_addr == 0 &&
        out_of_range.fetch_addr == 0;
  // Outside the memory: F_STE_FETCH at the STE's address.
  const vw::ste_fetch abort = vw::fetch_ste(m, f, {0x10'0000, false, 6, 4}, 2);
  ok &= abort.status == vw::ste_fetch_status::fetch_abort && zero(abort.ste.words()) &&
        abort.ste_addr == 0 && abort.fetch_addr == 0x10'0080;
  // Beyond the OAS: F_STE_FETCH without a read; FetchAddr[55:OAS] are RES0 (§7.3.4).
  vw::smmu_features small = f;
  small.oas = sm::address_size::bits32;
  const vw::ste_fetch beyond = vw::fetch_ste(m, small, {std::uint64_t{1} << 32, false, 6, 4}, 2);
  ok &= beyond.status == vw::ste_fetch_status::fetch_abort && beyond.fetch_addr == 0x80 &&
        zero(beyond.ste.words());
  // 2-level: an L1STD with Span 0 makes its StreamIDs invalid; Span 2 at 0x2000 reads the STE.
  const vw::stream_table_config two_level{0x800, true, 6, 12};
  (void)m.write64(0x808, 0);
  const vw::ste_fetch invalid = vw::fetch_ste(m, f, two_level, 0x41);
  ok &= invalid.status == vw::ste_fetch_status::bad_streamid && zero(invalid.ste.words());
  (void)m.write64(0x808, 0x2000 | 2);
  const auto words2 = put_entry(m, 0x2000 + 64, 0x41);
  const vw::ste_fetch level2 = vw::fetch_ste(m, f, two_level, 0x41);
  ok &= level2.status == vw::ste_fetch_status::ok && level2.ste.words() == words2 &&
        level2.ste_addr == 0x2040;
  // An L1STD fetch abort.
  const vw::ste_fetch l1_abort = vw::fetch_ste(m, f, {0x10'0000, true, 6, 12}, 0x41);
  ok &= l1_abort.status == vw::ste_fetch_status::fetch_abort && l1_abort.fetch_addr == 0x10'0008 &&
        zero(l1_abort.ste.words());
  return ok;
}

constexpr bool cd_outcomes() {
  memory m;
  const vw::smmu_features f{};
  vw::stream_config ste;
  ste.mode = vw::stream_mode::s1;
  ste.s1_context_ptr = 0x1000;
  bool ok = true;
  // Substreams disabled: the CD at S1ContextPtr.
  const auto words = put_entry(m, 0x1000, 1);
  const vw::cd_fetch r = fetch(m, ste, f, 0, identity, ok);
  ok &= r.status == vw::cd_locate_status::ok && r.cd.words() == words && default_fault(r.fault);
  // ... whatever the SubstreamID.
  ok &= fetch(m, ste, f, 5, identity, ok).cd.words() == words;
  // A linear table: SSID 2 at S1ContextPtr + 128.
  ste.s1cdmax = 4;
  const auto words2 = put_entry(m, 0x1080, 2);
  const vw::cd_fetch linear = fetch(m, ste, f, 2, identity, ok);
  ok &= linear.status == vw::cd_locate_status::ok && linear.cd.words() == words2;
  // The stage 2 fault of to_pa, as it is.
  const vw::cd_fetch s2 = fetch(m, ste, f, 2, s2_fault, ok);
  ok &= s2.status == vw::cd_locate_status::fault && zero(s2.cd.words()) && s2.fault.s2 &&
        s2.fault.cls == sm::evt::fault_class::cd && s2.fault.ipa == 0x1080 && s2.fault.level == 2 &&
        s2.fault.type == sm::evt::type::f_translation;
  // Outside the memory: F_CD_FETCH at the CD's PA.
  ste.s1_context_ptr = 0x10'0000;
  const vw::cd_fetch abort = fetch(m, ste, f, 1, identity, ok);
  ok &= abort.status == vw::cd_locate_status::fault && zero(abort.cd.words()) &&
        abort.fault.type == sm::evt::type::f_cd_fetch && abort.fault.fetch_addr == 0x10'0040;
  // Beyond the OAS: F_CD_FETCH without a read; FetchAddr[55:OAS] are RES0 (§7.3.10).
  vw::smmu_features small = f;
  small.oas = sm::address_size::bits32;
  ste.s1_context_ptr = (std::uint64_t{1} << 32) | 0x1000;
  const vw::cd_fetch beyond = fetch(m, ste, small, 1, identity, ok);
  ok &= beyond.status == vw::cd_locate_status::fault &&
        beyond.fault.type == sm::evt::type::f_cd_fetch && beyond.fault.fetch_addr == 0x1040 &&
        zero(beyond.cd.words());
  // 2-level (4KB leaves, split 6): L1CD 1 for SSID 0x41; invalid, then valid at 0x3000.
  ste.s1_context_ptr = 0x2000;
  ste.s1fmt = sm::s1_fmt::two_level_4k;
  ste.s1cdmax = 8;
  (void)m.write64(0x2008, 0);
  const vw::cd_fetch invalid = fetch(m, ste, f, 0x41, identity, ok);
  ok &= invalid.status == vw::cd_locate_status::bad_substreamid && zero(invalid.cd.words()) &&
        default_fault(invalid.fault);
  (void)m.write64(0x2008, 0x3000 | 1);
  const auto words3 = put_entry(m, 0x3040, 3);
  const vw::cd_fetch level2 = fetch(m, ste, f, 0x41, identity, ok);
  ok &= level2.status == vw::cd_locate_status::ok && level2.cd.words() == words3 &&
        default_fault(level2.fault);
  // An L1CD fetch abort, and an L1CD whose IPA stage 2 faults.
  ste.s1_context_ptr = 0x10'0000;
  const vw::cd_fetch l1_abort = fetch(m, ste, f, 0x41, identity, ok);
  ok &= l1_abort.status == vw::cd_locate_status::fault &&
        l1_abort.fault.type == sm::evt::type::f_cd_fetch &&
        l1_abort.fault.fetch_addr == 0x10'0008 && zero(l1_abort.cd.words());
  const vw::cd_fetch l1_s2 = fetch(m, ste, f, 0x41, s2_fault, ok);
  ok &=
      l1_s2.status == vw::cd_locate_status::fault && l1_s2.fault.s2 && l1_s2.fault.ipa == 0x10'0008;
  return ok;
}

}  // namespace

TEST_CASE("fetch_ste: every member of every outcome", "[walk][fetch]") {
  CHECK(ste_outcomes());
  static_assert(ste_outcomes());
}

TEST_CASE("fetch_cd: every member of every outcome, as fetch_cd_words reads it", "[walk][fetch]") {
  CHECK(cd_outcomes());
  static_assert(cd_outcomes());
}
