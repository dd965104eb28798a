// SPDX-License-Identifier: BSL-1.0
// walk::translate over hostile guest memory and registers (issue 3; docs/translation.md).
//
// Input: a 26-byte header (SMMU features, Stream table registers, the transaction), then the
// contents of a 64KB window of guest memory. Every physical address reads the window at
// (PA mod 64KB), so that whatever pointer the guest wrote leads somewhere and walks go deep,
// except addresses with bit 40 set, which abort (the external-abort paths).
//
// Invariants:
//   - translate() returns an architected outcome: a translation within the OAS that allows the
//     access, a bypass, a silent abort, or an event of a type the walker produces;
//   - memory reads per translation stay within the architectural bound (read_bound below), and
//     with HTTU write-back within write_bound (reads and writes);
//   - the event record survives encode/decode: the 32 bytes rebuilt field by field from the
//     catalogue layout of its type equal the record (no bit outside a named field);
//   - the same translation through a policy that caches the leaf it recorded gives the same
//     answer on the hit path as the walk, for every access kind and privilege, at the input
//     address and at the last address of the recorded block.
//
// Build VSMMU_TRANSLATE_FUZZER_SEEDS with a main that writes the seed corpus:
//   clang++ -std=c++20 -Iinclude -DVSMMU_TRANSLATE_FUZZER_SEEDS fuzz/translate_fuzzer.cpp \
//     -o /tmp/seeds && /tmp/seeds fuzz/corpus/translate
#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/walk/translate.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "check.hpp"

namespace {

namespace vw = vsmmu::walk;
namespace vm = vsmmu::memory;
namespace E = vsmmu::smmuv3::evt;

constexpr std::uint64_t window_size = 0x10000;
constexpr std::uint64_t abort_bit = std::uint64_t{1} << 40;
constexpr std::size_t header_size = 26;

// Guest memory: the window, repeated over the address space; counts every access.
struct window_memory {
  std::array<std::uint8_t, window_size>* bytes;
  mutable std::uint64_t reads = 0;
  std::uint64_t writes = 0;

  [[nodiscard]] std::uint8_t at(std::uint64_t pa) const noexcept {
    return (*bytes)[pa & (window_size - 1)];
  }
  vm::read_result read64(std::uint64_t pa) const noexcept {
    ++reads;
    if ((pa & abort_bit) != 0 || ((pa + 7) & abort_bit) != 0) {
      return {0, vm::access_status::external_abort};
    }
    std::uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) v |= std::uint64_t{at(pa + i)} << (8 * i);
    return {v, vm::access_status::ok};
  }
  vm::access_status read_bytes(std::uint64_t pa, std::span<std::byte> out) const noexcept {
    ++reads;
    if ((pa & abort_bit) != 0) return vm::access_status::external_abort;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::byte{at(pa + i)};
    return vm::access_status::ok;
  }
  vm::access_status write64(std::uint64_t pa, std::uint64_t v) noexcept {
    ++writes;
    if ((pa & abort_bit) != 0) return vm::access_status::external_abort;
    for (unsigned i = 0; i < 8; ++i) {
      (*bytes)[(pa + i) & (window_size - 1)] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    return vm::access_status::ok;
  }
  vm::access_status write_bytes(std::uint64_t pa, std::span<const std::byte> in) noexcept {
    ++writes;
    if ((pa & abort_bit) != 0) return vm::access_status::external_abort;
    for (std::size_t i = 0; i < in.size(); ++i) {
      (*bytes)[(pa + i) & (window_size - 1)] = std::to_integer<std::uint8_t>(in[i]);
    }
    return vm::access_status::ok;
  }
};
static_assert(vm::guest_memory<window_memory>);

// The architectural bound on 8-byte reads for one translation (every read64 counts one):
//   STE: an L1STD (2-level) + the 8 dwords of the STE                          9
//   stage 2 walk: one descriptor per level, levels 0-3                         4
//   CD: L1CD (2-level) through stage 2 + the 8 CD dwords through stage 2      (4 + 1) + (4 + 8)
//   stage 1 walk: one descriptor per level, each through stage 2               4 x (4 + 1)
//   stage 2 of the stage 1 output                                              4
// Nested, the worst case: 9 + 5 + 12 + 20 + 4 = 50; stage 1 only 9 + 1 + 8 + 4 = 22; stage 2
// only 9 + 4 = 13. A nested walk the usual configuration's route (detail::nested_usual) declines
// is walked again by the general walk: at most usual_nested_max_reads (24) more. Nothing else
// reads: no loop revisits a level.
constexpr std::uint64_t read_bound =
    9 + (4 + 1) + (4 + 8) + 4 * (4 + 1) + 4 + vw::detail::usual_nested_max_reads;

// With HTTU write-back a stage's leaf update re-reads the descriptor to compare (1 read, 1
// write) and, when the descriptor changed meanwhile (the guest's tables may alias each other
// in this window, so an update at one stage can change a descriptor of another), walks that
// stage again, at most max_update_attempts times. A stage 2 translation is then at most
// A x (4 + 1) reads, A = max_update_attempts; a stage 1 translation A x (4 x (s2 + 1) + s2 + 1)
// with s2 = A x 5, its update being a stage 2 write translation plus the compare.
constexpr std::uint64_t attempts = vw::detail::max_update_attempts;
constexpr std::uint64_t s2_bound_w = attempts * (4 + 1);
constexpr std::uint64_t write_bound = 9 + (s2_bound_w + 1) + (s2_bound_w + 8) +
                                      attempts * (4 * (s2_bound_w + 1) + s2_bound_w + 1) +
                                      s2_bound_w;
// Writes: one per update, each stage 2 translation at most attempts updates.
constexpr std::uint64_t write_count_bound = write_bound;

struct decoded_input {
  vw::smmu_state st;
  vw::transaction t;
};

decoded_input decode_header(vsmmu::fuzz::reader& in) {
  decoded_input d;
  vw::smmu_features& f = d.st.features;
  const auto bits = in.integer<std::uint16_t>();
  f.s1p = (bits & 1U) == 0;  // mostly implemented
  f.s2p = (bits & 2U) == 0;
  f.two_level_stream_table = (bits & 4U) == 0;
  f.cd2l = (bits & 8U) == 0;
  f.ats = (bits & 16U) != 0;
  f.ns1ats = (bits & 32U) != 0;
  f.asid16 = (bits & 64U) == 0;
  f.vmid16 = (bits & 128U) == 0;
  f.hyp = (bits & 256U) != 0;
  f.aa64_tables = (bits & 512U) == 0;
  f.term_model = (bits & 1024U) != 0;
  f.gran4k = (bits & 2048U) == 0;
  f.gran16k = (bits & 4096U) == 0;
  f.gran64k = (bits & 8192U) == 0;
  f.vax52 = (bits & 16384U) != 0;
  f.ds = (bits & 32768U) != 0;
  const auto modes = in.integer<std::uint8_t>();
  f.stall_model = static_cast<vw::stall_model>((modes & 3U) % 3U);
  f.httu = static_cast<vw::httu>(((modes >> 2) & 3U) % 3U);
  constexpr vw::tt_endian endians[] = {vw::tt_endian::mixed, vw::tt_endian::mixed,
                                       vw::tt_endian::little, vw::tt_endian::big};
  f.ttendian = endians[(modes >> 4) & 3U];
  f.sidsize = in.integer<std::uint8_t>() % 33U;
  f.ssidsize = in.integer<std::uint8_t>() % 21U;
  f.oas = static_cast<vsmmu::smmuv3::address_size>(in.integer<std::uint8_t>() % 7U);

  const auto strtab = in.integer<std::uint8_t>();
  d.st.strtab.two_level = (strtab & 1U) != 0;
  d.st.strtab.split = 6U + 2U * ((strtab >> 1) & 3U);  // 6, 8, 10 and a reserved 12
  d.st.smmuen = (strtab & 8U) == 0;
  d.st.recinvsid = (strtab & 16U) == 0;
  d.st.gbpa_abort = (strtab & 32U) != 0;
  d.st.strtab.log2size = in.integer<std::uint8_t>() & 0x3fU;
  d.st.strtab.base = std::uint64_t{in.integer<std::uint16_t>()} << 6;  // within the window
  if ((strtab & 64U) != 0) d.st.strtab.base |= abort_bit;

  d.t.sid = in.integer<std::uint32_t>();
  const auto ssid = in.integer<std::uint32_t>();  // SubstreamID [19:0], flags [23:20]
  d.t.ssid = ssid & 0xfffffU;
  const auto flags = static_cast<std::uint8_t>(ssid >> 20);
  d.t.ssv = (flags & 1U) != 0;
  d.t.access = static_cast<vw::access_kind>(((flags >> 1) & 3U) % 3U);
  d.t.privileged = (flags & 8U) != 0;
  d.t.address = in.integer<std::uint64_t>();
  return d;
}

// A policy that caches the one leaf it was given and returns it for every later lookup of the
// same key and block: the hit path must agree with the walk.
struct one_leaf {
  vw::uncached inner;
  bool have = false;
  vw::leaf_key key{};
  std::uint64_t block = 0;
  vw::translation x{};
  int hits = 0;

  template <class M>
  vw::stream_lookup stream(const M& m, const vw::smmu_state& st, std::uint32_t sid) {
    return inner.stream(m, st, sid);
  }
  template <class M, class ToPa>
  vw::context_lookup context(const M& m, const vw::smmu_state& st, const vw::stream_config& c,
                             std::uint32_t sid, std::uint32_t i, ToPa&& to_pa) {
    return inner.context(m, st, c, sid, i, to_pa);
  }
  vw::leaf_hit find_leaf(const vw::leaf_key& k, std::uint64_t a) {
    if (!have || k.s1 != key.s1 || k.s2 != key.s2 || k.asid != key.asid || k.vmid != key.vmid ||
        k.el2 != key.el2 || (a >> x.size_shift) != block) {
      return {};
    }
    ++hits;
    vw::leaf_hit h{true, x};
    const std::uint64_t mask = (std::uint64_t{1} << x.size_shift) - 1;
    h.xlat.output_address = (x.output_address & ~mask) | (a & mask);
    h.xlat.ipa = (x.ipa & ~mask) | (a & mask);
    return h;
  }
  void record_leaf(const vw::leaf_key& k, std::uint64_t a, const vw::translation& t) {
    if (have) return;
    have = true;
    key = k;
    block = t.size_shift >= 64 ? 0 : a >> t.size_shift;
    x = t;
  }
};

bool produced_by_walker(E::type t) {
  using enum E::type;
  switch (t) {
    case c_bad_streamid:
    case f_ste_fetch:
    case c_bad_ste:
    case f_stream_disabled:
    case c_bad_substreamid:
    case f_cd_fetch:
    case c_bad_cd:
    case f_walk_eabt:
    case f_translation:
    case f_addr_size:
    case f_access:
    case f_permission:
      return true;
    default:
      return false;
  }
}

void check_event_round_trip(const vw::event_record& e) {
  const auto bytes = e.bytes();
  const auto type = static_cast<std::uint8_t>(e.type());
  VSMMU_FUZZ_CHECK(produced_by_walker(e.type()), "an event type the walker does not produce");
  const vsmmu::smmuv3::event_desc* d = vsmmu::smmuv3::find_event(type);
  VSMMU_FUZZ_CHECK(d != nullptr, "an event without a catalogue entry");
  std::array<std::byte, 32> rebuilt{};
  for (const vsmmu::layout::field_info& f : d->layout.fields) {
    if (f.is_reserved()) continue;
    const std::uint64_t v = vsmmu::layout::read_value(f, bytes);
    VSMMU_FUZZ_CHECK(vsmmu::layout::write_value(f, rebuilt, v),
                     "a field value read from a record does not fit the field");
  }
  VSMMU_FUZZ_CHECK(rebuilt == bytes, "an event record has bits outside its named fields");
  std::array<std::uint64_t, 4> words{};
  for (std::size_t i = 0; i < 32; ++i) {
    words[i / 8] |= std::uint64_t{std::to_integer<std::uint8_t>(bytes[i])} << (8 * (i % 8));
  }
  VSMMU_FUZZ_CHECK(words == e.words(), "event_record::bytes() is not its words, little-endian");
}

void check_outcome(const vw::result& r, const vw::smmu_state& st, const vw::transaction& t) {
  switch (r.kind) {
    case vw::outcome::translated: {
      const auto& x = r.xlat;
      VSMMU_FUZZ_CHECK((x.output_address >> st.features.oas_bits()) == 0,
                       "a translation beyond the OAS");
      VSMMU_FUZZ_CHECK(x.size_shift >= 12 && x.size_shift <= 48, "an impossible mapping size");
      const bool allowed = t.access == vw::access_kind::write ? x.perm.w : x.perm.r || x.perm.x;
      VSMMU_FUZZ_CHECK(allowed, "a translation whose permissions do not allow the access");
      VSMMU_FUZZ_CHECK(r.term == vw::termination::none, "a translation that terminated");
      break;
    }
    case vw::outcome::bypass:
      VSMMU_FUZZ_CHECK(r.xlat.output_address == t.address, "a bypass that changed the address");
      break;
    case vw::outcome::abort:
      VSMMU_FUZZ_CHECK(r.term == vw::termination::abort || r.term == vw::termination::raz_wi,
                       "an abort that neither aborts nor completes RAZ/WI");
      if (r.has_event) check_event_round_trip(r.event);
      break;
    case vw::outcome::fault:
      VSMMU_FUZZ_CHECK(r.has_event, "a recorded fault without an event");
      VSMMU_FUZZ_CHECK(r.term != vw::termination::none, "a fault that did not terminate");
      check_event_round_trip(r.event);
      break;
  }
}

bool same(const vw::result& a, const vw::result& b) {
  return a.kind == b.kind && a.term == b.term && a.event == b.event &&
         a.xlat.output_address == b.xlat.output_address && a.xlat.perm == b.xlat.perm &&
         (a.kind != vw::outcome::translated || a.xlat.size_shift == b.xlat.size_shift);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vsmmu::fuzz::reader in(data, size);
  const decoded_input d = decode_header(in);
  VSMMU_FUZZ_CHECK(size < header_size || in.remaining() == size - header_size,
                   "the header is not the documented 26 bytes");
  static std::array<std::uint8_t, window_size> window;
  std::span<std::byte> w(reinterpret_cast<std::byte*>(window.data()), window.size());
  in.bytes(w);

  // Read only: counted, within the bound, an architected outcome.
  window_memory mem{&window};
  const window_memory& ro = mem;
  const vw::result r = vw::translate(ro, d.st, d.t);
  VSMMU_FUZZ_CHECK(ro.reads <= read_bound, "more reads than the architectural bound");
  check_outcome(r, d.st, d.t);
#ifdef VSMMU_TRANSLATE_FUZZER_TRACE
  std::fprintf(stderr, "outcome %d event 0x%02x reads %llu pa 0x%llx\n", static_cast<int>(r.kind),
               static_cast<unsigned>(r.event.type()), static_cast<unsigned long long>(ro.reads),
               static_cast<unsigned long long>(r.xlat.output_address));
#endif

  // The cached leaf answers like the walk, for every kind of access and privilege.
  one_leaf p;
  const vw::result first = vw::translate(ro, d.st, d.t, p);
  VSMMU_FUZZ_CHECK(same(first, r), "a policy translation differs from the plain one");
  if (p.have) {
    // At the far end of the recorded block too: the size must be all the walk translates (a DS
    // block larger than the IPS translates only its start: fuzz/corpus/translate/
    // s1_ds_block_beyond_ips).
    const std::uint64_t last = d.t.address | ((std::uint64_t{1} << p.x.size_shift) - 1);
    for (const std::uint64_t a : {d.t.address, last}) {
      for (const auto k : {vw::access_kind::read, vw::access_kind::write, vw::access_kind::exec}) {
        for (const bool priv : {false, true}) {
          vw::transaction t = d.t;
          t.address = a;
          t.access = k;
          t.privileged = priv;
          const vw::result walked = vw::translate(ro, d.st, t);
          const vw::result cached = vw::translate(ro, d.st, t, p);
          VSMMU_FUZZ_CHECK(same(walked, cached), "the hit path differs from the walk");
        }
      }
    }
  }

  // HTTU write-back through the writable adapter: bounded, architected.
  mem.reads = 0;
  const vw::result rw = vw::translate(mem, d.st, d.t);
  VSMMU_FUZZ_CHECK(mem.reads <= write_bound, "more reads than the bound with HTTU updates");
  VSMMU_FUZZ_CHECK(mem.writes <= write_count_bound, "more writes than the bound");
  check_outcome(rw, d.st, d.t);
#ifdef VSMMU_TRANSLATE_FUZZER_TRACE
  std::fprintf(stderr, "  with HTTU: outcome %d event 0x%02x reads %llu writes %llu\n",
               static_cast<int>(rw.kind), static_cast<unsigned>(rw.event.type()),
               static_cast<unsigned long long>(mem.reads),
               static_cast<unsigned long long>(mem.writes));
#endif
  return 0;
}

#ifdef VSMMU_TRANSLATE_FUZZER_SEEDS
// Seeds: valid stage 1, stage 2 and nested set-ups (and HTTU variants) written by the table
// builder, so that the fuzzer starts from walks that reach the leaves.
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/table_builder.hpp>

#include <memory>
#include <vector>

namespace {

namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cd;
using flat = vsmmu::memory::flat_memory<window_size>;

struct seed {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

void put(std::vector<std::uint8_t>& out, std::uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// Header for: all features (HTTU as given), OAS 48, linear or 2-level table at 0, LOG2SIZE 4.
seed make(const std::string& name, const flat& mem, bool two_level, unsigned httu,
          std::uint64_t address, unsigned access, bool ssv = false, std::uint32_t ssid = 0) {
  seed s{name, {}};
  put(s.bytes, 0, 2);                  // every feature bit at its default
  put(s.bytes, (httu & 3U) << 2, 1);   // stall and terminate, mixed endian
  put(s.bytes, 16, 1);                 // SIDSIZE
  put(s.bytes, 20, 1);                 // SSIDSIZE
  put(s.bytes, 5, 1);                  // OAS 48
  put(s.bytes, two_level ? 1 : 0, 1);  // SPLIT 6, SMMUEN, RECINVSID
  put(s.bytes, two_level ? 8 : 4, 1);  // LOG2SIZE
  put(s.bytes, 0, 2);                  // STRTAB_BASE 0
  put(s.bytes, 1, 4);                  // SID 1
  put(s.bytes, (ssid & 0xfffffU) | ((ssv ? 1U : 0U) | (access << 1)) << 20, 4);
  put(s.bytes, address, 8);
  for (std::uint64_t a = 0; a < window_size; a += 8) put(s.bytes, mem.read64(a).value, 8);
  while (s.bytes.size() > header_size && s.bytes.back() == 0) s.bytes.pop_back();
  return s;
}

std::vector<seed> seeds() {
  std::vector<seed> out;
  using vsmmu::smmuv3::address_size;
  using vsmmu::smmuv3::granule;
  using vsmmu::smmuv3::ste_config;
  for (const bool two_level : {false, true}) {
    for (const unsigned mode : {0U, 1U, 2U}) {  // s1, s2, nested
      for (const unsigned g : {12U}) {          // a 64KB window has no room for 64KB tables
        auto mem = std::make_unique<flat>();
        vsmmu::testing::table_builder b(*mem, 0x2000, window_size - 0x2000);
        const vw::stream_table_config st{0, two_level, 6, two_level ? 8U : 4U};
        S::value ste;
        ste.set<S::V>(true).set<S::S1ContextPtr>(0x1000).set<S::S1CDMax>(mode == 1 ? 0 : 2);
        const granule tg = g == 12 ? granule::size_4k : granule::size_64k;
        if (mode != 0) {
          const auto s2 = vsmmu::testing::s2_format(g, 40, g == 12 ? 1 : 2);
          const auto root = b.new_root(s2);
          for (std::uint64_t pa = 0; pa < window_size; pa += std::uint64_t{1} << g) {
            b.map(s2, root, pa, pa, 3, {.af = pa != 0x1000});
          }
          const auto out = b.map(s2, root, 0x80'0000'0000 >> 2, 0x1'0000'0000, 2, {.write = false});
          b.write64(out, b.read64(out) | (std::uint64_t{1} << 51));  // writable-clean
          ste.set<S::S2T0SZ>(24)
              .set<S::S2SL0>(1)
              .set<S::S2TG>(tg)
              .set<S::S2PS>(address_size::bits48)
              .set<S::S2AA64>(true)
              .set<S::S2R>(true)
              .set<S::S2HA>(true)
              .set<S::S2HD>(true)
              .set<S::S2TTB>(root);
        }
        if (mode != 1) {
          const auto s1 = vsmmu::testing::s1_format(g, 48);
          const auto root = b.new_root(s1);
          b.map(s1, root, 0x1234'0000'0000, mode == 0 ? 0x4'0000'0000 : 0x20'0000'0000, 3,
                {.af = false});
          const auto leaf = b.descriptor_address(s1, root, 0x1234'0000'0000, 3);
          b.write64(leaf, b.read64(leaf) | (std::uint64_t{1} << 51) | (1U << 7));  // DBM, RO
          C::value cd;
          cd.set<C::V>(true)
              .set<C::AA64>(true)
              .set<C::T0SZ>(16)
              .set<C::TG0>(tg)
              .set<C::EPD1>(true)
              .set<C::IPS>(address_size::bits48)
              .set<C::A>(true)
              .set<C::R>(true)
              .set<C::HA>(true)
              .set<C::HD>(true)
              .set<C::ASID>(3)
              .set<C::TTB0>(root);
          b.install_cd(0x1000, vsmmu::smmuv3::s1_fmt::linear, 2, 1, cd);
        }
        ste.set<S::Config>(mode == 0   ? ste_config::s1_trans
                           : mode == 1 ? ste_config::s2_trans
                                       : ste_config::nested);
        b.install_ste(st, 1, ste);
        const std::uint64_t va = mode == 1 ? (0x80'0000'0000 >> 2) + 0x123 : 0x1234'0000'0123;
        const std::string name = std::string{mode == 0   ? "s1"
                                             : mode == 1 ? "s2"
                                                         : "nested"} +
                                 (g == 12 ? "_4k" : "_64k") + (two_level ? "_2l" : "_lin");
        // One access per set-up: a read with the linear table, a write with the 2-level one.
        const unsigned access = two_level ? 1U : 0U;
        out.push_back(make(name + (access ? "_write" : "_read"), *mem, two_level, 2, va, access,
                           mode != 1, 1));
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  for (const seed& s : seeds()) {
    const std::string path = std::string{argv[1]} + "/" + s.name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 1;
    std::fwrite(s.bytes.data(), 1, s.bytes.size(), f);
    std::fclose(f);
  }
  return 0;
}
#endif
