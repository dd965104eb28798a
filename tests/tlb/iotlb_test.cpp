// Directed IOTLB tests: lookup across sizes, each TLBI scope's rules (IHI 0070 §4.4), tag widths
// and replacement.
#include <catch2/catch.hpp>

#include <vsmmu/tlb/iotlb.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "tlb/reference_model.hpp"

using namespace vsmmu::tlb;

namespace {

entry s1(std::uint16_t vmid, std::uint16_t asid, std::uint64_t va, std::uint8_t shift = 12,
         bool global = false) {
  entry e;
  e.input = va;
  e.output = 0x80'0000'0000 + va;
  e.tag = context::stage1(vmid, asid);
  e.global = global;
  e.size_shift = shift;
  e.s1_level = shift == 12 ? 3 : shift == 21 ? 2 : 1;
  e.s1_granule_shift = 12;
  e.s1_perm = perm::read_priv | perm::write_priv;
  return e;
}

entry s2(std::uint16_t vmid, std::uint64_t ipa, std::uint8_t shift = 12) {
  entry e;
  e.input = ipa;
  e.output = 0x40'0000'0000 + ipa;
  e.tag = context::stage2(vmid);
  e.from = stages::s2_only;
  e.size_shift = shift;
  e.s2_level = 3;
  e.s2_granule_shift = 12;
  return e;
}

template <std::uint32_t N>
bool hits(iotlb<N>& t, const context& c, std::uint64_t a) {
  return t.lookup(c, a) != nullptr;
}

}  // namespace

TEST_CASE("a page, a block and a nested entry translate in one lookup each", "[tlb]") {
  auto t = std::make_unique<iotlb<256>>();
  t->insert(s1(1, 5, 0x1000));
  t->insert(s1(1, 5, 0x20'0000, 21));  // 2MB block
  entry n = s1(1, 6, 0x7000);
  n.from = stages::nested;
  n.intermediate = 0x9000;
  n.s2_perm = perm::read_priv | perm::read_unpriv;
  n.s2_level = 3;
  t->insert(n);

  const entry* p = t->lookup(context::stage1(1, 5), 0x1abc);
  REQUIRE(p != nullptr);
  CHECK(p->translate(0x1abc) == 0x80'0000'1abc);
  const entry* b = t->lookup(context::stage1(1, 5), 0x3f'f123);
  REQUIRE(b != nullptr);
  CHECK(b->size_shift == 21);
  CHECK(b->translate(0x3f'f123) == 0x80'003f'f123);
  const entry* q = t->lookup(context::stage1(1, 6), 0x7008);
  REQUIRE(q != nullptr);
  CHECK(q->from == stages::nested);
  CHECK(q->intermediate == 0x9000);
  // Both stages' permissions stay apart so that a fault names the stage that refused.
  CHECK(allows(q->s1_perm, perm::write_priv));
  CHECK_FALSE(allows(q->s2_perm, perm::write_priv));
  CHECK(q->effective_perm() == perm::read_priv);

  CHECK_FALSE(hits(*t, context::stage1(1, 5), 0x2000));  // next page
  CHECK_FALSE(hits(*t, context::stage1(1, 6), 0x1000));  // other ASID
  CHECK_FALSE(hits(*t, context::stage1(2, 5), 0x1000));  // other VMID
  CHECK_FALSE(hits(*t, context::stage2(1), 0x1000));     // IPA space is apart
  CHECK(t->size() == 3);
}

TEST_CASE("an unaligned input is stored aligned; re-inserting replaces", "[tlb]") {
  iotlb<64> t;
  t.insert(s1(1, 1, 0x5123));
  entry again = s1(1, 1, 0x5000);
  again.output = 0xdead'0000;
  t.insert(again);
  CHECK(t.size() == 1);
  const entry* e = t.lookup(context::stage1(1, 1), 0x5ff0);
  REQUIRE(e != nullptr);
  CHECK(e->input == 0x5000);
  CHECK(e->output == 0xdead'0000);
}

TEST_CASE("global entries match every ASID of their VMID", "[tlb][global]") {
  iotlb<64> t;
  t.insert(s1(1, 7, 0x4000, 12, true));
  CHECK(hits(t, context::stage1(1, 1), 0x4000));
  CHECK(hits(t, context::stage1(1, 0xffff), 0x4fff));
  CHECK_FALSE(hits(t, context::stage1(2, 7), 0x4000));

  SECTION("NH_ASID leaves global entries (non-global only, §4.4.2.2)") {
    t.nh_asid(1, 7);
    CHECK(hits(t, context::stage1(1, 7), 0x4000));
  }
  SECTION("NH_VA removes global entries whatever its ASID (§4.4.2.4)") {
    t.nh_va(1, 99, address_range::single(0x4800));
    CHECK_FALSE(hits(t, context::stage1(1, 7), 0x4000));
  }
  SECTION("NH_ALL includes global entries (§4.4.2.1)") {
    t.nh_all(1);
    CHECK(t.size() == 0);
  }
}

TEST_CASE("NH_VA and NH_VAA: ASID matters to one, not the other", "[tlb]") {
  iotlb<64> t;
  t.insert(s1(1, 1, 0x1000));
  t.insert(s1(1, 2, 0x1000));
  t.insert(s1(2, 1, 0x1000));
  t.nh_va(1, 1, address_range::single(0x1000));
  CHECK_FALSE(hits(t, context::stage1(1, 1), 0x1000));
  CHECK(hits(t, context::stage1(1, 2), 0x1000));
  t.insert(s1(1, 1, 0x1000));
  t.nh_vaa(1, address_range::single(0x1000));
  CHECK_FALSE(hits(t, context::stage1(1, 1), 0x1000));
  CHECK_FALSE(hits(t, context::stage1(1, 2), 0x1000));
  CHECK(hits(t, context::stage1(2, 1), 0x1000));  // other VMID
}

TEST_CASE("an address inside a block invalidates the block; Leaf = 1 still does", "[tlb]") {
  // The cache holds last-level entries only, so Leaf narrows nothing: a level 2 block is a leaf.
  iotlb<64> t;
  t.insert(s1(1, 1, 0x4000'0000, 21));
  t.insert(s1(1, 1, 0x8000'0000, 30));
  const auto leaf = decode_tlbi_range(tlbi_address_fields{.address = 0x4012'3000, .leaf = true},
                                      range_features{});
  REQUIRE(leaf.ok());
  t.nh_va(1, 1, leaf.value);
  CHECK_FALSE(hits(t, context::stage1(1, 1), 0x4000'0000));
  CHECK(hits(t, context::stage1(1, 1), 0x8000'0000));
  t.nh_va(1, 1, address_range::single(0xbfff'f000));  // last page of the 1GB block
  CHECK(t.size() == 0);
}

TEST_CASE("a range removes what overlaps it, and nothing else", "[tlb][ril]") {
  iotlb<1024> t;
  for (std::uint64_t p = 0; p < 64; ++p) t.insert(s1(1, 1, 0x10'0000 + p * 0x1000));
  t.insert(s1(1, 1, 0x20'0000, 21));
  // 4KB granule, NUM = 15, SCALE = 1: 32 pages from 0x11'0000, up to 0x12'ffff.
  const auto r = decode_tlbi_range(
      tlbi_address_fields{
          .address = 0x11'0000, .tg = vsmmu::smmuv3::cmd::tlbi_tg::size_4k, .num = 15, .scale = 1},
      range_features{});
  REQUIRE(r.ok());
  t.nh_va(1, 1, r.value);
  for (std::uint64_t p = 0; p < 64; ++p) {
    const std::uint64_t va = 0x10'0000 + p * 0x1000;
    CHECK(hits(t, context::stage1(1, 1), va) == (va < 0x11'0000 || va > 0x12'ffff));
  }
  CHECK(hits(t, context::stage1(1, 1), 0x20'0000));
  // A range reaching into the block takes it.
  t.nh_vaa(1, address_range{0x1f'f000, 0x20'0000});
  CHECK_FALSE(hits(t, context::stage1(1, 1), 0x20'0000));
  CHECK(t.size() == 64 - 32);
}

TEST_CASE("S2_IPA removes stage 2-only entries, not stage 1 or nested ones", "[tlb][s2]") {
  iotlb<64> t;
  t.insert(s2(3, 0x8000));
  entry n = s1(3, 1, 0x8000);
  n.from = stages::nested;
  t.insert(n);
  t.insert(s1(3, 2, 0x8000));
  t.s2_ipa(3, address_range::single(0x8000));
  CHECK_FALSE(hits(t, context::stage2(3), 0x8000));
  CHECK(hits(t, context::stage1(3, 1), 0x8000));
  CHECK(hits(t, context::stage1(3, 2), 0x8000));
  SECTION("NH_ALL removes stage 1 and nested entries but not stage 2-only ones") {
    t.insert(s2(3, 0x8000));
    t.nh_all(3);
    CHECK(t.size() == 1);
    CHECK(hits(t, context::stage2(3), 0x8000));
  }
  SECTION("S12_VMALL removes every stage of its VMID only") {
    t.insert(s2(3, 0x8000));
    t.insert(s2(4, 0x8000));
    t.s12_vmall(3);
    CHECK(t.size() == 1);
    CHECK(hits(t, context::stage2(4), 0x8000));
  }
}

TEST_CASE("NSNH_ALL keeps EL2 entries; EL2 commands keep EL1 ones", "[tlb][el2]") {
  iotlb<64> t;
  t.insert(s1(1, 1, 0x1000));
  t.insert(s2(1, 0x1000));
  entry el2 = s1(0, 0, 0x1000);
  el2.tag.world = regime::ns_el2;
  t.insert(el2);
  entry e2h = s1(0, 9, 0x1000);
  e2h.tag.world = regime::ns_el2_e2h;
  t.insert(e2h);
  t.nsnh_all();
  CHECK(t.size() == 2);
  CHECK(hits(t, {regime::ns_el2, space::va, 0, 0}, 0x1000));
  CHECK(hits(t, {regime::ns_el2_e2h, space::va, 0, 9}, 0x1000));
  CHECK_FALSE(hits(t, {regime::ns_el2_e2h, space::va, 0, 8}, 0x1000));
  t.el2_va(9, address_range::single(0x1000), /*e2h=*/false);  // EL2 only: ASID ignored
  CHECK_FALSE(hits(t, {regime::ns_el2, space::va, 0, 0}, 0x1000));
  CHECK(hits(t, {regime::ns_el2_e2h, space::va, 0, 9}, 0x1000));
  t.insert(s1(1, 1, 0x1000));
  t.el2_all();
  CHECK(t.size() == 1);
  CHECK(hits(t, context::stage1(1, 1), 0x1000));
  t.invalidate_all();
  CHECK(t.size() == 0);
}

TEST_CASE("8-bit ASIDs and VMIDs: the upper byte is not part of the tag", "[tlb][width]") {
  iotlb<64> narrow(iotlb_options{.asid_bits = 8, .vmid_bits = 8});
  iotlb<64> wide;
  for (auto* t : {&narrow, &wide}) t->insert(s1(0x0102, 0x0304, 0x1000));
  CHECK(hits(narrow, context::stage1(0x02, 0x04), 0x1000));
  CHECK_FALSE(hits(wide, context::stage1(0x02, 0x04), 0x1000));
  CHECK(hits(wide, context::stage1(0x0102, 0x0304), 0x1000));
  // A 16-bit parameter's RES0 upper byte is ignored: over-invalidation the spec allows (§4.4).
  narrow.nh_asid(0xff02, 0xff04);
  wide.nh_asid(0xff02, 0xff04);
  CHECK(narrow.size() == 0);
  CHECK(wide.size() == 1);
}

TEST_CASE("SMMU_CR0.VMW widens VMID matching for invalidation only", "[tlb][vmw]") {
  iotlb<64> t;
  t.set_vmid_wildcard(1);  // match VMID[15:1]
  for (std::uint16_t v : {0x20, 0x21, 0x22}) t.insert(s1(v, 1, 0x1000));
  CHECK_FALSE(hits(t, context::stage1(0x23, 1), 0x1000));  // lookups stay exact
  t.nh_asid(0x21, 1);
  CHECK_FALSE(hits(t, context::stage1(0x20, 1), 0x1000));
  CHECK_FALSE(hits(t, context::stage1(0x21, 1), 0x1000));
  CHECK(hits(t, context::stage1(0x22, 1), 0x1000));
  t.set_vmid_wildcard(7);  // reserved: behaves as 0b000
  t.insert(s1(0x23, 1, 0x1000));
  t.s12_vmall(0x22);
  CHECK(t.size() == 1);
  CHECK(hits(t, context::stage1(0x23, 1), 0x1000));
}

TEST_CASE("CLOCK replacement: a full TLB evicts one unreferenced entry per insert", "[tlb][lru]") {
  constexpr std::uint32_t n = 4096;
  auto t = std::make_unique<iotlb<n>>();
  for (std::uint64_t i = 0; i < n; ++i) t->insert(s1(1, 1, i << 12));
  REQUIRE(t->size() == n);
  for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(hits(*t, context::stage1(1, 1), i << 12));
  t->insert(s1(1, 1, std::uint64_t{n} << 12));
  CHECK(t->size() == n);
  // The entries used since insertion got their second chance; one unused one went. (The hand
  // sweeps the hash table's slots, so which unused entry goes follows the hash, not the age.)
  for (std::uint64_t i = 0; i < 100; ++i) CHECK(hits(*t, context::stage1(1, 1), i << 12));
  std::uint64_t gone = 0;
  for (std::uint64_t i = 100; i < n; ++i) gone += hits(*t, context::stage1(1, 1), i << 12) ? 0 : 1;
  CHECK(gone == 1);
  CHECK(hits(*t, context::stage1(1, 1), std::uint64_t{n} << 12));
  // Lookups above referenced every survivor: the next insert clears their bits in one sweep and
  // evicts the first entry it passes twice, still exactly one.
  t->insert(s1(1, 1, std::uint64_t{n + 1} << 12));
  CHECK(t->size() == n);
  CHECK(hits(*t, context::stage1(1, 1), std::uint64_t{n + 1} << 12));
}

TEST_CASE("65536 entries: pressure keeps the size bounded and every survivor exact", "[tlb][lru]") {
  constexpr std::uint32_t n = 65536;
  auto t = std::make_unique<iotlb<n>>();
  for (std::uint64_t i = 0; i < n + n / 2; ++i) {
    t->insert(s1(static_cast<std::uint16_t>(i % 7), static_cast<std::uint16_t>(i % 13), i << 12));
  }
  CHECK(t->size() == n);
  std::uint32_t survivors = 0;
  for (std::uint64_t i = 0; i < n + n / 2; ++i) {
    const auto c =
        context::stage1(static_cast<std::uint16_t>(i % 7), static_cast<std::uint16_t>(i % 13));
    if (const entry* e = t->lookup(c, i << 12)) {
      ++survivors;
      CHECK(e->translate(i << 12) == 0x80'0000'0000 + (i << 12));
    }
  }
  CHECK(survivors == n);
  for (std::uint16_t v = 0; v < 7; ++v) t->s12_vmall(v);
  CHECK(t->size() == 0);
}

// Address sets whose keys share fingerprints or form long clusters: a 256-entry TLB of 2MB blocks
// in 4 ASIDs (24% of them sat behind an entry with their fingerprint when it came from the bits
// below the home slot), 1GB blocks (clusters longer than one group of eight), and pages and
// blocks in 16 ASIDs as bench_tlb fills it. Every entry must be found at its first and last byte
// by both lookups (context and packed tag), through the inline probes and the general one alike,
// and a neighbouring unmapped address must miss.
template <std::uint32_t N>
void check_all_found(const std::vector<entry>& es) {
  auto t = std::make_unique<iotlb<N>>();
  for (const auto& e : es) t->insert(e);
  REQUIRE(t->size() == es.size());
  for (const auto& e : es) {
    for (const std::uint64_t a : {e.input, e.last()}) {
      const entry* f = t->lookup(e.tag, a);
      REQUIRE(f != nullptr);
      CHECK(f->input == e.input);
      CHECK(f->size_shift == e.size_shift);
      CHECK(f->tag == e.tag);
      CHECK(t->lookup(t->tag_for(e.tag), a) == f);
    }
    CHECK(t->lookup(e.tag, e.input + (std::uint64_t{1} << 47)) == nullptr);
  }
}

TEST_CASE("lookup finds every entry of key sets that collide on fingerprint or cluster",
          "[tlb][probe]") {
  std::vector<entry> blocks_2m;
  std::vector<entry> blocks_1g;
  for (std::uint32_t i = 0; i < 256; ++i) {
    blocks_2m.push_back(s1(1, static_cast<std::uint16_t>(i % 4), std::uint64_t{i / 4} << 21, 21));
    blocks_1g.push_back(s1(1, static_cast<std::uint16_t>(i % 4), std::uint64_t{i / 4} << 30, 30));
  }
  check_all_found<256>(blocks_2m);
  check_all_found<256>(blocks_1g);
  std::vector<entry> mixed;
  for (std::uint32_t i = 0; i < 4096; ++i) {
    const auto asid = static_cast<std::uint16_t>(i % 16);
    const std::uint64_t j = i / 16;
    mixed.push_back(j % 8 == 7 ? s1(1, asid, 0x40'0000'0000 + (j << 21), 21)
                               : s1(1, asid, 0x1000'0000 + j * 0x3000));
  }
  check_all_found<4096>(mixed);
}

// An emptied context is kept (parked) for the next insert of its tag; the pool of context records
// is only Capacity long, so a new tag must still find one when every other record is in use.
TEST_CASE("emptied contexts: reused, and never short of records", "[tlb][context]") {
  auto t = std::make_unique<iotlb<4>>();
  for (std::uint16_t a = 0; a < 4; ++a) t->insert(s1(1, a, 0x1000));
  t->nh_va(1, 0, address_range::single(0x1000));  // ASID 0 empties: parked
  CHECK(t->size() == 3);
  t->insert(s1(1, 0, 0x2000));  // its context again
  CHECK(hits(*t, context::stage1(1, 0), 0x2000));
  t->nh_asid(1, 0);  // parked again
  t->insert(s1(1, 9, 0x3000));  // a fifth tag: the parked record is freed for it
  CHECK(hits(*t, context::stage1(1, 9), 0x3000));
  t->nh_asid(1, 9);
  t->nh_asid(1, 3);  // frees 9's parked context, parks 3's
  for (std::uint16_t a = 10; a < 20; ++a) {  // evicting, new tags
    t->insert(s1(2, a, 0x4000));
    CHECK(hits(*t, context::stage1(2, a), 0x4000));
  }
  CHECK(t->size() == 4);
  std::size_t found = 0;
  t->for_each([&](const entry& e) { found += hits(*t, e.tag, e.input) ? 1U : 0U; });
  CHECK(found == 4);
  // VM-wide and regime-wide scopes free every context, parked ones too, and terminate.
  t->nh_va(2, 19, address_range::single(0x4000));
  t->nh_all(2);
  CHECK(t->size() == 0);
  t->insert(s1(1, 1, 0x1000));
  t->insert(s2(3, 0x5000));
  t->nh_asid(1, 1);
  t->invalidate_all();
  CHECK(t->size() == 0);
  t->insert(s1(1, 1, 0x1000));
  CHECK(hits(*t, context::stage1(1, 1), 0x1000));
  CHECK_FALSE(hits(*t, context::stage2(3), 0x5000));
}
