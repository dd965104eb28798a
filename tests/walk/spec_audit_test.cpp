// Spec-conformance audit of the walk: each test checks one rule of IHI 0070 (and the Arm ARM,
// DDI 0487, where IHI 0070 defers to it), cited with its section and the words it rests on.
// Translations run through both STE/CD decoders (rule by rule, and the decode_limits fast path
// the engine uses); decodes are checked on both.

#include <catch2/catch.hpp>

#include <algorithm>
#include <utility>

#include "walk/fixture.hpp"

using namespace fx;
using vw::access_kind;
using vw::outcome;

namespace {

vw::transaction access(std::uint64_t a, access_kind k = access_kind::read, bool priv = false) {
  return with_access(read_at(a), k, priv);
}

// The translation of `t` with the rule-by-rule decoders (what w.run uses) and with the fast path
// (uncached with decode_limits): the same result either way.
vw::result run_both(const world& w, const vw::transaction& t) {
  const vw::result plain = w.run(t);
  const vw::decode_limits limits(w.st.features);
  vw::uncached fast{&limits};
  CHECK(vw::translate(std::as_const(w.mem), w.st, t, fast) == plain);
  return plain;
}

vw::ste_error ste_verdict(const S::value& ste, const vw::smmu_features& f) {
  const vw::ste_error rules = vw::decode_ste(ste, f).error;
  CHECK(vw::decode_ste(ste, vw::decode_limits(f)).error == rules);
  return rules;
}

vw::cd_error cd_verdict(const C::value& cd, const vw::smmu_features& f) {
  vw::stream_config ste;
  ste.mode = vw::stream_mode::s1;
  const vw::cd_error rules = vw::decode_cd(cd, ste, f).error;
  CHECK(vw::decode_cd(cd, ste, vw::decode_limits(f)).error == rules);
  return rules;
}

// A translation-related record of `type` with S2 and CLASS as given (the four layouts place
// S2, CLASS, IPA, RnW, InD and PnU alike: read through F_TRANSLATION's).
vsmmu::layout::value<E::f_translation::layout> fault_of(const vw::result& r, E::type type, bool s2,
                                                        E::fault_class cls) {
  REQUIRE(r.has_event);
  REQUIRE(r.event.type() == type);
  const auto e = r.event.as<E::f_translation::layout>();
  CHECK(e.get<E::S2>() == s2);
  CHECK(e.get<E::CLASS>() == cls);
  return e;
}

constexpr std::uint64_t beyond_40_bits = 0x100'0000'0000;  // 2^40: needs a 41-bit address
constexpr std::uint64_t table_desc = 3;                    // valid, table

}  // namespace

// IHI 0070 §3.4, stage 2 check 2: "The address output from the translation causes a stage 2
// Address Size fault if it exceeds the effective PA output range ... the effective value
// configured in the S2PS field of the STE (which is capped to the OAS)". §7.3.14 F_ADDR_SIZE:
// "this fault occurs when an intermediate or leaf translation table descriptor outputs an address
// outside of the effective xPS"; §3.4.3: addresses "derived from intermediate translation table
// descriptors ... after the first level translation table descriptor fetch" -> "Stage 1/2
// Address Size fault"; §7.3.22: "F_ADDR_SIZE (for output of descriptor, indicating next
// descriptor or walk output address)". CLASS and IPA as §7.3.13 F_TRANSLATION: CD (IPA = CD
// address), TT (IPA = the stage 1 descriptor address) or IN (the IPA translated).
TEST_CASE("audit: a stage 2 table descriptor beyond the effective S2PS is F_ADDR_SIZE, S2 = 1",
          "[walk][audit][addr_size]") {
  auto w = make_world();
  const auto fmt = vt::s2_format(12, 40, 1);
  const auto root = w->b.new_root(fmt);
  w->b.map(fmt, root, 0x1000, 0x2000, 3);
  w->put_ste(s2_only(root, 40, 1, granule::size_4k, address_size::bits40));
  REQUIRE(run_both(*w, access(0x1234)).output_address() == 0x2234);
  const int level = GENERATE(1, 2);  // the start level's descriptor, and the next one
  const auto desc = w->b.descriptor_address(fmt, root, 0x1000, level);
  SECTION("next-level table at 2^40 with S2PS 40") {
    w->b.write64(desc, beyond_40_bits | table_desc);
    const auto r = run_both(*w, access(0x1234));
    const auto e = fault_of(r, E::type::f_addr_size, true, E::fault_class::in);
    CHECK(e.get<E::IPA>() == 0x1000);
    CHECK(r.kind == outcome::fault);
  }
  SECTION("S2PS 48 capped to an OAS of 40 bits") {
    w->st.features.oas = address_size::bits40;
    w->put_ste(s2_only(root, 40, 1));
    w->b.write64(desc, beyond_40_bits | table_desc);
    fault_of(run_both(*w, access(0x1234)), E::type::f_addr_size, true, E::fault_class::in);
  }
  SECTION("the last address within S2PS is walked (and aborts: no memory there)") {
    w->b.write64(desc, (beyond_40_bits - 0x1000) | table_desc);
    fault_of(run_both(*w, access(0x1234)), E::type::f_walk_eabt, true, E::fault_class::in);
  }
}

// IHI 0070 §3.4, stage 1 check 2: "The address output from the translation causes a stage 1
// Address Size fault if it exceeds the range of the effective IPA size for the given CD ... the
// effective value of the IPS field of the CD, which is capped to the OAS"; a table descriptor's
// output counts (§7.3.14 F_ADDR_SIZE, "intermediate or leaf"). Stage 1: S2 == 0, CLASS == IN.
TEST_CASE("audit: a stage 1 table descriptor beyond the effective IPS is F_ADDR_SIZE, S2 = 0",
          "[walk][audit][addr_size]") {
  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt, s1_cd(0, 48, granule::size_4k, address_size::bits40));
  w->b.map(fmt, root, 0x1000, 0x2000, 3);
  REQUIRE(run_both(*w, access(0x1234)).output_address() == 0x2234);
  const int level = GENERATE(0, 1, 2);
  const auto desc = w->b.descriptor_address(fmt, root, 0x1000, level);
  w->b.write64(desc, beyond_40_bits | table_desc);
  SECTION("IPS 40") {
    fault_of(run_both(*w, access(0x1234)), E::type::f_addr_size, false, E::fault_class::in);
  }
  SECTION("IPS 48 capped to an OAS of 40 bits") {
    w->st.features.oas = address_size::bits40;
    w->put_cd(s1_cd(root));
    fault_of(run_both(*w, access(0x1234)), E::type::f_addr_size, false, E::fault_class::in);
  }
}

// IHI 0070 §3.4, stage 1 check 2, is on the walk's output: DDI 0487 J1 AArch64.S1Walk checks
// StageOA (the block's base with the input's offset in it, "Detect Address Size Fault by final
// output"), not only the descriptor's base. With DS a 4KB level 0 block (512GB) or a 16KB level
// 1 block (64GB) can be larger than the effective IPS (32 or 36 bits): an offset beyond it is
// F_ADDR_SIZE although the base is within it. Found by the translate fuzzer
// (fuzz/corpus/translate/s1_ds_block_beyond_ips).
TEST_CASE("audit: a DS block larger than the effective IPS: its offset is checked too",
          "[walk][audit][addr_size][lpa2]") {
  auto w = make_world();
  w->st.features.ds = true;
  const unsigned g = GENERATE(12U, 14U);
  const auto ips = GENERATE(address_size::bits32, address_size::bits36);
  const unsigned ips_bits = vsmmu::smmuv3::address_bits(ips);
  const int level = g == 12 ? 0 : 1;
  const unsigned block_shift = vw::vmsa::level_lsb(g, level);  // 39 or 36
  const auto fmt = vt::s1_format(g, 48, ips_bits, true);
  const auto root = w->stage1(fmt, s1_cd(0, 48, tg(g), ips).with<C::DS>(true));
  const std::uint64_t va = std::uint64_t{3} << block_shift;
  w->b.map(fmt, root, va, 0, level);
  const std::uint64_t last_in_ips = (std::uint64_t{1} << ips_bits) - 1;
  const vw::result in_range = run_both(*w, access(va + last_in_ips));
  REQUIRE(in_range.kind == outcome::translated);
  CHECK(in_range.output_address() == last_in_ips);
  CHECK(in_range.xlat.s1_level == level);
  // What the leaf translates, for caches: the block, or its part within the IPS.
  CHECK(in_range.xlat.size_shift == std::min(block_shift, ips_bits));
  if (ips_bits < block_shift) {
    const std::uint64_t beyond = va + last_in_ips + 1;
    const auto e =
        fault_of(run_both(*w, access(beyond)), E::type::f_addr_size, false, E::fault_class::in);
    CHECK(e.get<E::InputAddr>() == beyond);
    const std::uint64_t last_in_block = va + (std::uint64_t{1} << block_shift) - 1;
    fault_of(run_both(*w, access(last_in_block)), E::type::f_addr_size, false, E::fault_class::in);
  }
}

// Nested, the same stage 1 check comes before stage 2 sees the IPA (§7.3.22, nested order:
// stage 1's F_ADDR_SIZE, S2 == 0, rather than a stage 2 fault on an IPA beyond the IPS).
TEST_CASE("audit: nested, a DS block's offset beyond the IPS is a stage 1 F_ADDR_SIZE",
          "[walk][audit][addr_size][lpa2]") {
  nested_world n;
  auto& w = *n.w;
  w.st.features.ds = true;
  const auto fmt = vt::s1_format(12, 48, 32, true);
  const auto root = w.b.new_root(fmt);
  w.put_cd(s1_cd(root, 48, granule::size_4k, address_size::bits32).with<C::DS>(true));
  const std::uint64_t va = std::uint64_t{1} << 39;
  w.b.map(fmt, root, va, 0, 0);  // IPA 0 - 512GB; stage 2 maps IPA 0 - 1GB
  CHECK(run_both(w, access(va + 0x5abc)).output_address() == 0x5abc);
  const auto e = fault_of(run_both(w, access(va + 0x1'0000'5abc)), E::type::f_addr_size, false,
                          E::fault_class::in);
  CHECK(e.get<E::InputAddr>() == va + 0x1'0000'5abc);
}

// The same rules in a nested walk (IHI 0070 §3.4; CLASS per §7.3.13): stage 2's table
// descriptors are checked against the effective S2PS whatever stage 2 translates (the CD, a stage
// 1 table descriptor, the stage 1 output), and stage 1's against the effective IPS before its
// table address goes to stage 2 (§7.3.22, nested order: "3. ... c. F_ADDR_SIZE (For output of
// stage 1 descriptor)" before the next level's stage 2 translation).
TEST_CASE("audit: nested, table descriptors beyond S2PS or IPS", "[walk][audit][addr_size]") {
  nested_world n;
  auto& w = *n.w;
  // VA 0x5000 -> IPA 0x40'0000'5000 -> PA 0x7'0000'5000.
  w.b.map(n.s1fmt, n.s1root, 0x5000, 0x40'0000'5000, 3);
  w.b.map(n.s2fmt, n.s2root, 0x40'0000'5000, 0x7'0000'5000, 3);
  w.put_ste(n.ste.with<S::S2PS>(address_size::bits40));
  REQUIRE(run_both(w, access(0x5abc)).output_address() == 0x7'0000'5abc);
  SECTION("stage 2, translating the stage 1 output: CLASS IN, IPA = the output") {
    const int level = GENERATE(1, 2);
    w.b.write64(w.b.descriptor_address(n.s2fmt, n.s2root, 0x40'0000'5000, level),
                beyond_40_bits | table_desc);
    const auto e =
        fault_of(run_both(w, access(0x5abc)), E::type::f_addr_size, true, E::fault_class::in);
    CHECK(e.get<E::IPA>() == 0x40'0000'5000);
  }
  SECTION("stage 2, translating a stage 1 table descriptor: CLASS TT, IPA = its address") {
    // The stage 1 level 2 table moved to IPA 0x40'0010'0000 (PA 0x3'0000), whose stage 2
    // level 2 descriptor then points beyond S2PS.
    n.move_s1_table();
    REQUIRE(run_both(w, access(0x5abc)).output_address() == 0x7'0000'5abc);
    w.b.write64(w.b.descriptor_address(n.s2fmt, n.s2root, 0x40'0010'0000, 2),
                beyond_40_bits | table_desc);
    const auto e =
        fault_of(run_both(w, access(0x5abc)), E::type::f_addr_size, true, E::fault_class::tt);
    CHECK(e.get<E::IPA>() == 0x40'0010'0000);
  }
  SECTION("stage 2, translating the CD address: CLASS CD, IPA = the CD address") {
    // The CD at IPA 0x40'0020'0000 (PA 0x3'1000), reached through stage 2 tables.
    w.put_ste(n.move_cd(n.ste.with<S::S2PS>(address_size::bits40)));
    REQUIRE(run_both(w, access(0x5abc)).output_address() == 0x7'0000'5abc);
    w.b.write64(w.b.descriptor_address(n.s2fmt, n.s2root, 0x40'0020'0000, 1),
                beyond_40_bits | table_desc);
    const auto e =
        fault_of(run_both(w, access(0x5abc)), E::type::f_addr_size, true, E::fault_class::cd);
    CHECK(e.get<E::IPA>() == 0x40'0020'0000);
  }
  SECTION("stage 1 table beyond IPS: stage 1 F_ADDR_SIZE, stage 2 never sees the address") {
    w.b.write64(w.b.descriptor_address(n.s1fmt, n.s1root, 0x5000, 1), beyond_40_bits | table_desc);
    w.put_cd(s1_cd(n.s1root, 48, granule::size_4k, address_size::bits40));
    fault_of(run_both(w, access(0x5abc)), E::type::f_addr_size, false, E::fault_class::in);
    // Within IPS 48 the IPA goes to stage 2, beyond its 40-bit input range (§3.4 stage 2
    // check 1): a stage 2 Translation fault on the stage 1 walk.
    w.put_cd(s1_cd(n.s1root));
    const auto e =
        fault_of(run_both(w, access(0x5abc)), E::type::f_translation, true, E::fault_class::tt);
    CHECK(e.get<E::IPA>() == beyond_40_bits);
  }
}

// IHI 0070 §7.3.22, nested order: "4. For the final level stage 1 descriptor, the following
// might then occur: a. F_ACCESS b. F_PERMISSION 5. The IPA relating to the input VA has been
// determined and permissions have been checked, but the following might occur for each level of
// the stage 2 translation of that final IPA"; "if any event occurs, events prior to that event in
// this list cannot have occurred". §13.4.4 pseudocode: check_perms_and_httu() at stage 1 before
// s2_translation(). DDI 0487 J1.1 AArch64.FullTranslate returns S1Translate's fault (which
// includes the permission check) before AArch64.S2Translate. So a stage 1 Permission (or Access
// flag) fault is the one reported, whatever stage 2 would have said about the output.
TEST_CASE("audit: nested, a stage 1 permission fault wins over a stage 2 fault on its output",
          "[walk][audit][nested]") {
  nested_world n;
  auto& w = *n.w;
  // Read-only at stage 1; the IPA is unmapped at stage 2 (a stage 2 Translation fault).
  w.b.map(n.s1fmt, n.s1root, 0x5000, 0x40'0000'5000, 3, {.write = false});
  // Read-only at stage 1; the IPA (within IPS 48) is beyond the 40-bit stage 2 input range.
  w.b.map(n.s1fmt, n.s1root, 0x6000, 0x100'0000'6000, 3, {.write = false});
  // AF == 0 at stage 1; the IPA unmapped at stage 2.
  w.b.map(n.s1fmt, n.s1root, 0x7000, 0x40'0000'7000, 3, {.af = false});
  SECTION("reads pass stage 1: the stage 2 fault is reported") {
    const auto e =
        fault_of(run_both(w, access(0x5000)), E::type::f_translation, true, E::fault_class::in);
    CHECK(e.get<E::IPA>() == 0x40'0000'5000);
    fault_of(run_both(w, access(0x6000)), E::type::f_translation, true, E::fault_class::in);
  }
  SECTION("writes fault at stage 1: F_PERMISSION, S2 = 0") {
    const auto e = fault_of(run_both(w, access(0x5000, access_kind::write)), E::type::f_permission,
                            false, E::fault_class::in);
    CHECK_FALSE(e.get<E::RnW>());
    fault_of(run_both(w, access(0x6000, access_kind::write)), E::type::f_permission, false,
             E::fault_class::in);
  }
  SECTION("a stage 1 Access flag fault also comes first") {
    fault_of(run_both(w, access(0x7000)), E::type::f_access, false, E::fault_class::in);
  }
  SECTION("CD.R == 0: the stage 1 fault is not recorded, and no stage 2 fault replaces it") {
    // §5.5: with CD.R == 0 a stage 1 translation-related fault terminates without an event.
    w.put_cd(s1_cd(n.s1root).with<C::R>(false));
    const auto r = run_both(w, access(0x5000, access_kind::write));
    CHECK(r.kind == outcome::abort);
    CHECK(r.term == vw::termination::abort);
  }
}

// IHI 0070 §5.2 PRIVCFG: "0b00 Use incoming PRIV attribute, 0b01 Reserved, behaves as 0b00, 0b10
// Unprivileged, 0b11 Privileged"; INSTCFG: "0b10 Data, 0b11 Instruction ... INSTCFG only affects
// translations for reads, the SMMU considers incoming writes to be Data regardless of this
// field". §7.3.13-§7.3.16 (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION): "The InD/PnU
// attributes are the post-STE override values. InD == 0 when RnW == 0." The model has
// SMMU_IDR1.ATTR_PERMS_OVR == 1 (the overrides are always implemented).
TEST_CASE("audit: STE.PRIVCFG and INSTCFG decide the permission check and the event's PnU/InD",
          "[walk][audit][overrides]") {
  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  w->b.map(fmt, root, 0x1000, 0x1000, 3, {.user = false});                  // privileged RWX
  w->b.map(fmt, root, 0x2000, 0x2000, 3, {.exec = false});                  // RW, never X
  w->b.map(fmt, root, 0x3000, 0x3000, 3, {.write = false, .exec = false});  // R only
  auto with = [&](unsigned privcfg, unsigned instcfg) {
    w->put_ste(s1_ste()
                   .with<S::PRIVCFG>(static_cast<std::uint8_t>(privcfg))
                   .with<S::INSTCFG>(static_cast<std::uint8_t>(instcfg)));
  };
  auto perm_fault = [&](const vw::transaction& t) {
    return fault_of(run_both(*w, t), E::type::f_permission, false, E::fault_class::in);
  };
  SECTION("PRIVCFG: the privilege checked and reported") {
    with(0b00, 0);
    CHECK(perm_fault(access(0x1000)).get<E::PnU>() == false);
    CHECK(run_both(*w, access(0x1000, access_kind::read, true)).kind == outcome::translated);
    with(0b01, 0);  // reserved: as 0b00
    CHECK(perm_fault(access(0x1000)).get<E::PnU>() == false);
    CHECK(run_both(*w, access(0x1000, access_kind::read, true)).kind == outcome::translated);
    with(0b11, 0);  // privileged
    CHECK(run_both(*w, access(0x1000)).kind == outcome::translated);
    with(0b10, 0);  // unprivileged
    const auto e = perm_fault(access(0x1000, access_kind::read, true));
    CHECK_FALSE(e.get<E::PnU>());
    CHECK(e.get<E::RnW>());
    CHECK_FALSE(e.get<E::InD>());
  }
  SECTION("INSTCFG: reads become instruction fetches or data") {
    with(0, 0b00);
    CHECK(perm_fault(access(0x2000, access_kind::exec)).get<E::InD>());
    with(0, 0b01);  // reserved: as 0b00
    CHECK(perm_fault(access(0x2000, access_kind::exec)).get<E::InD>());
    CHECK(run_both(*w, access(0x2000)).kind == outcome::translated);
    with(0, 0b10);  // data: an instruction fetch of an XN page is allowed
    CHECK(run_both(*w, access(0x2000, access_kind::exec)).kind == outcome::translated);
    with(0, 0b11);  // instruction: a data read of an XN page faults, InD = 1
    const auto e = perm_fault(access(0x2000));
    CHECK(e.get<E::InD>());
    CHECK(e.get<E::RnW>());
  }
  SECTION("INSTCFG 0b11 leaves writes Data: checked as data, reported with InD = 0") {
    with(0b11, 0b11);
    CHECK(run_both(*w, access(0x2000, access_kind::write)).kind == outcome::translated);
    const auto e = perm_fault(access(0x3000, access_kind::write));
    CHECK_FALSE(e.get<E::RnW>());
    CHECK_FALSE(e.get<E::InD>());
    CHECK(e.get<E::PnU>());
  }
  SECTION("other records carry the overridden attributes too (F_TRANSLATION)") {
    with(0b11, 0b11);
    const auto e =
        fault_of(run_both(*w, access(0x9000)), E::type::f_translation, false, E::fault_class::in);
    CHECK(e.get<E::PnU>());
    CHECK(e.get<E::InD>());
    const auto wr = fault_of(run_both(*w, access(0x9000, access_kind::write)),
                             E::type::f_translation, false, E::fault_class::in);
    CHECK(wr.get<E::PnU>());
    CHECK_FALSE(wr.get<E::InD>());
  }
  SECTION("stage 2: INSTCFG decides the S2 XN check, PRIVCFG the reported PnU") {
    const auto s2fmt = vt::s2_format(12, 40, 1);
    const auto s2root = w->b.new_root(s2fmt);
    w->b.map(s2fmt, s2root, 0x1000, 0x1000, 3, {.write = false, .exec = false});
    const auto ste = s2_only(s2root, 40, 1);
    w->put_ste(ste);
    CHECK(run_both(*w, access(0x1000)).kind == outcome::translated);
    w->put_ste(ste.with<S::INSTCFG>(0b11).with<S::PRIVCFG>(0b11));
    auto e =
        fault_of(run_both(*w, access(0x1000)), E::type::f_permission, true, E::fault_class::in);
    CHECK(e.get<E::InD>());
    CHECK(e.get<E::PnU>());
    e = fault_of(run_both(*w, access(0x1000, access_kind::write)), E::type::f_permission, true,
                 E::fault_class::in);
    CHECK_FALSE(e.get<E::InD>());
    CHECK(e.get<E::PnU>());
  }
}

// IHI 0070 §5.2 S2SL0: "the encoding of STE.{S2SL0_2, S2SL0} is the same as for the
// VTCR_EL2.{SL2, SL0} fields ... it is ILLEGAL for the configuration of STE.{S2SL0_2, S2SL0} to
// be inconsistent with STE.S2T0SZ and STE.S2TG". DDI 0487 J1.1.4.40 AArch64.S2InvalidSL: 4KB
// "when '010' return AArch64.PAMax() < 44"; 16KB "when '10' return AArch64.PAMax() < 42"; 64KB
// "when '10' return AArch64.PAMax() < 44". PAMax, the implemented PA size, is the SMMU's OAS
// (not the STE's S2PS: VTCR_EL2.PS does not enter S2InvalidSL either).
TEST_CASE("audit: S2SL0 against the PA size (PAMax = OAS)", "[walk][audit][s2sl0]") {
  vw::smmu_features f;
  const auto s2 = [](unsigned ia, unsigned sl0, granule g, address_size ps) {
    return s2_only(0x10000, ia, sl0, g, ps);
  };
  SECTION("4KB, S2SL0 0b10 (level 0): OAS 44 or more") {
    f.oas = address_size::bits42;
    CHECK(ste_verdict(s2(42, 2, granule::size_4k, address_size::bits42), f) ==
          vw::ste_error::s2sl0);
    CHECK(ste_verdict(s2(42, 1, granule::size_4k, address_size::bits42), f) ==
          vw::ste_error::none);  // level 1 with 4 concatenated tables
    f.oas = address_size::bits44;
    CHECK(ste_verdict(s2(44, 2, granule::size_4k, address_size::bits44), f) == vw::ste_error::none);
    CHECK(ste_verdict(s2(40, 2, granule::size_4k, address_size::bits44), f) == vw::ste_error::none);
    // S2PS 40 with OAS 44: PAMax is the OAS, level 0 stays legal.
    CHECK(ste_verdict(s2(40, 2, granule::size_4k, address_size::bits40), f) == vw::ste_error::none);
    CHECK(ste_verdict(s2(39, 2, granule::size_4k, address_size::bits44), f) ==
          vw::ste_error::s2sl0);  // level 0 must resolve at least one bit
  }
  SECTION("16KB, S2SL0 0b10 (level 1): OAS 42 or more") {
    f.oas = address_size::bits40;
    CHECK(ste_verdict(s2(40, 2, granule::size_16k, address_size::bits40), f) ==
          vw::ste_error::s2sl0);
    CHECK(ste_verdict(s2(40, 1, granule::size_16k, address_size::bits40), f) ==
          vw::ste_error::none);  // level 2 with 16 concatenated tables
    f.oas = address_size::bits42;
    CHECK(ste_verdict(s2(42, 2, granule::size_16k, address_size::bits42), f) ==
          vw::ste_error::none);
    CHECK(ste_verdict(s2(37, 2, granule::size_16k, address_size::bits42), f) ==
          vw::ste_error::none);
    CHECK(ste_verdict(s2(36, 2, granule::size_16k, address_size::bits42), f) ==
          vw::ste_error::s2sl0);
  }
  SECTION("64KB, S2SL0 0b10 (level 1): OAS 44 or more") {
    f.oas = address_size::bits44;
    CHECK(ste_verdict(s2(44, 2, granule::size_64k, address_size::bits44), f) ==
          vw::ste_error::none);
    CHECK(ste_verdict(s2(43, 2, granule::size_64k, address_size::bits44), f) ==
          vw::ste_error::none);
    CHECK(ste_verdict(s2(42, 2, granule::size_64k, address_size::bits44), f) ==
          vw::ste_error::s2sl0);
  }
  SECTION("in a translation: C_BAD_STE with OAS 40, a walk from level 1 with OAS 42") {
    auto w = make_world();
    const auto fmt = vt::s2_format(14, 42, 1);
    const auto root = w->b.new_root(fmt);
    w->b.map(fmt, root, 0x3ff'ffff'c000, 0x8000, 3);
    w->st.features.oas = address_size::bits42;
    w->put_ste(s2_only(root, 42, 2, granule::size_16k, address_size::bits42));
    const auto r = run_both(*w, access(0x3ff'ffff'c123));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == 0x8123);
    CHECK(r.xlat.s2_level == 3);
    w->st.features.oas = address_size::bits40;
    w->put_ste(s2_only(root, 40, 2, granule::size_16k, address_size::bits40));
    const auto bad = run_both(*w, access(0x1000));
    CHECK(bad.kind == outcome::fault);
    CHECK(bad.event.type() == E::type::c_bad_ste);
  }
}

// DDI 0487 D8.2.2 I_TDMHR: "For the initial lookup of a stage 2 address translation, up to 16
// translation tables can be concatenated"; R_JKZFY: "Up to four additional IA bits are resolved
// by the initial lookup"; J1.1.4.38 AArch64.S2InconsistentSL: "sl_max_iasize = sl_min_iasize +
// (stride-1) + 4". IHI 0070 §5.2 S2T0SZ: "Use of a value of STE.S2T0SZ that is inconsistent with
// the permitted range (given STE.S2SL0 and STE.S2TG) is ILLEGAL". A size that would need a 17th
// (in fact a 32nd) table is C_BAD_STE.
TEST_CASE("audit: at most 16 concatenated stage 2 start tables", "[walk][audit][s2sl0]") {
  const vw::smmu_features f;
  struct limit {
    granule g;
    unsigned sl0;
    unsigned max_ia;  // 16 tables at the start level
  };
  const limit l = GENERATE(values<limit>({{granule::size_4k, 0, 34},
                                          {granule::size_4k, 1, 43},
                                          {granule::size_16k, 0, 29},
                                          {granule::size_16k, 1, 40},
                                          {granule::size_64k, 0, 33},
                                          {granule::size_64k, 1, 46}}));
  CAPTURE(static_cast<unsigned>(l.g), l.sl0, l.max_ia);
  CHECK(ste_verdict(s2_only(0x100000, l.max_ia, l.sl0, l.g), f) == vw::ste_error::none);
  CHECK(ste_verdict(s2_only(0x100000, l.max_ia + 1, l.sl0, l.g), f) == vw::ste_error::s2sl0);
}

TEST_CASE("audit: a walk through the 16th concatenated table; one bit more is C_BAD_STE",
          "[walk][audit][s2sl0]") {
  auto w = make_world();
  // 4KB from level 2 with a 34-bit IPA: 16 tables of 512 entries (64KB), IPA[33:21].
  const auto fmt = vt::s2_format(12, 34, 2);
  REQUIRE(fmt.start_table_bytes() == 0x10000);
  const auto root = w->b.new_root(fmt);
  const auto leaf = w->b.map(fmt, root, 0x3'ffff'f000, 0x5000, 3);
  CHECK(w->b.descriptor_address(fmt, root, 0x3'ffff'f000, 2) == root + 0xfff8);
  CHECK(leaf != 0);
  w->put_ste(s2_only(root, 34, 0));
  CHECK(run_both(*w, access(0x3'ffff'f010)).output_address() == 0x5010);
  w->put_ste(s2_only(root, 35, 0));
  CHECK(run_both(*w, access(0x3'ffff'f010)).event.type() == E::type::c_bad_ste);
}

// IHI 0070 §5.4 T0SZ (T1SZ alike): "If SMMU_IDR5.VAX indicates support for 52-bit VAs and either
// of the following also hold, the minimum permitted value is 12: The corresponding CD.TGx selects
// a 64KB granule size. CD.DS == 1 and the corresponding CD.TGx selects a 4KB or 16KB granule size.
// Otherwise, the minimum valid value is 16." "In implementations of SMMUv3.1 and later, a CD is
// treated as ILLEGAL if it contains a TxSZ value outside the range". CD.DS is RES0 without
// SMMU_IDR5.DS (§5.4 DS), so it is not in effect there.
TEST_CASE("audit: CD TxSZ minimum with 52-bit VAs", "[walk][audit][txsz]") {
  vw::smmu_features f;
  const auto cd = s1_cd(0x10000);
  const auto t0 = [&](granule g, unsigned txsz) {
    return cd.with<C::TG0>(g).with<C::T0SZ>(static_cast<std::uint8_t>(txsz));
  };
  const auto t1 = [&](granule_tg1 g, unsigned txsz) {
    return cd.with<C::EPD1>(false).with<C::TTB1>(0x20000).with<C::TG1>(g).with<C::T1SZ>(
        static_cast<std::uint8_t>(txsz));
  };
  SECTION("VAX 48-bit: 16 is the minimum for every granule") {
    CHECK(cd_verdict(t0(granule::size_64k, 12), f) == vw::cd_error::txsz);
    CHECK(cd_verdict(t0(granule::size_64k, 15), f) == vw::cd_error::txsz);
    CHECK(cd_verdict(t0(granule::size_64k, 16), f) == vw::cd_error::none);
    CHECK(cd_verdict(t1(granule_tg1::size_64k, 12), f) == vw::cd_error::txsz);
  }
  SECTION("VAX 52-bit: 12 with the 64KB granule, 16 with 4KB/16KB without DS") {
    f.vax52 = true;
    CHECK(cd_verdict(t0(granule::size_64k, 12), f) == vw::cd_error::none);
    CHECK(cd_verdict(t0(granule::size_64k, 11), f) == vw::cd_error::txsz);
    CHECK(cd_verdict(t1(granule_tg1::size_64k, 12), f) == vw::cd_error::none);
    CHECK(cd_verdict(t0(granule::size_4k, 12), f) == vw::cd_error::txsz);
    CHECK(cd_verdict(t0(granule::size_4k, 15), f) == vw::cd_error::txsz);
    CHECK(cd_verdict(t0(granule::size_16k, 12), f) == vw::cd_error::txsz);
    CHECK(cd_verdict(t1(granule_tg1::size_4k, 12), f) == vw::cd_error::txsz);
    // CD.DS without SMMU_IDR5.DS is RES0: not in effect.
    CHECK(cd_verdict(t0(granule::size_4k, 12).with<C::DS>(true), f) == vw::cd_error::txsz);
  }
  SECTION("VAX 52-bit with DS: 12 with 4KB and 16KB too") {
    f.vax52 = true;
    f.ds = true;
    CHECK(cd_verdict(t0(granule::size_4k, 12).with<C::DS>(true), f) == vw::cd_error::none);
    CHECK(cd_verdict(t0(granule::size_16k, 12).with<C::DS>(true), f) == vw::cd_error::none);
    CHECK(cd_verdict(t1(granule_tg1::size_16k, 12).with<C::DS>(true), f) == vw::cd_error::none);
    CHECK(cd_verdict(t0(granule::size_4k, 12), f) == vw::cd_error::txsz);  // CD.DS == 0
    CHECK(cd_verdict(t0(granule::size_4k, 11).with<C::DS>(true), f) == vw::cd_error::txsz);
    f.vax52 = false;
    CHECK(cd_verdict(t0(granule::size_4k, 12).with<C::DS>(true), f) == vw::cd_error::txsz);
  }
  SECTION("in a translation: a 52-bit VA with 64KB, C_BAD_CD for 4KB") {
    auto w = make_world();
    w->st.features.vax52 = true;
    const auto fmt = vt::s1_format(16, 52);
    const auto root = w->stage1(fmt);
    w->b.map(fmt, root, 0xf'ffff'fff0'0000, 0x20'0000, 3);
    const auto r = run_both(*w, access(0xf'ffff'fff0'1234));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == 0x20'1234);
    CHECK(r.xlat.s1_level == 3);
    w->put_cd(s1_cd(root, 52, granule::size_4k));
    const auto bad = run_both(*w, access(0x1000));
    CHECK(bad.kind == outcome::fault);
    CHECK(bad.event.type() == E::type::c_bad_cd);
  }
}

// DDI 0487 J1.1.4.9 AArch64.NextTableBase, AArch64.S1LeafBase and AArch64.S2LeafBase: "elsif
// tgx == TGx_64KB && (AArch64.PAMax() >= 52 || ...) then tablebase<51:48> = descriptor<15:12>"
// (leafbase alike), whatever the configured PS; the Address size check (AArch64.OAOutOfRange)
// is then against the effective IPS / S2PS. An SMMU's PAMax is its OAS (IHI 0070 §3.4: the OAS
// "must match the system physical address size", translation "consistent with Armv8-A"). So
// with the 64KB granule and an OAS of 52 bits, descriptor bits [15:12] set are an output beyond
// an effective IPS / S2PS of 48: a stage 1 / stage 2 Address Size fault (§3.4 check 2 of each
// stage), in a table descriptor or a leaf. With an OAS of 48 bits the model takes the
// IMPLEMENTATION DEFINED choice "descriptor[15:12] for 64KB granule are OA[51:48]" as FALSE:
// the bits are not part of the address.
TEST_CASE("audit: 64KB with OAS 52 and S2PS 48: descriptor bits [15:12] are OA[51:48]",
          "[walk][audit][addr_size]") {
  auto w = make_world();
  w->st.features.oas = address_size::bits52;
  const auto fmt = vt::s2_format(16, 42, 2);
  const auto root = w->b.new_root(fmt);
  const auto leaf = w->b.map(fmt, root, 0x1'0000, 0x2'0000, 3);
  w->put_ste(s2_only(root, 42, 1, granule::size_64k, address_size::bits48));
  REQUIRE(run_both(*w, access(0x1'0010)).output_address() == 0x2'0010);
  const auto table = w->b.descriptor_address(fmt, root, 0x1'0000, 2);
  const auto desc = GENERATE_COPY(table, leaf);
  w->b.write64(desc, w->b.read64(desc) | std::uint64_t{1} << 12);  // OA[48]
  SECTION("OAS 52: an output beyond S2PS, stage 2 F_ADDR_SIZE") {
    const auto r = run_both(*w, access(0x1'0010));
    CHECK(r.kind == outcome::fault);
    const auto e = fault_of(r, E::type::f_addr_size, true, E::fault_class::in);
    CHECK(e.get<E::IPA>() == 0x1'0000);
  }
  SECTION("OAS 48: the bits are not OA[51:48]") {
    w->st.features.oas = address_size::bits48;
    CHECK(run_both(*w, access(0x1'0010)).output_address() == 0x2'0010);
  }
}

TEST_CASE("audit: 64KB with OAS 52 and IPS 48: descriptor bits [15:12] are OA[51:48]",
          "[walk][audit][addr_size]") {
  auto w = make_world();
  w->st.features.oas = address_size::bits52;
  const auto fmt = vt::s1_format(16, 48);
  const auto root = w->stage1(fmt, s1_cd(0, 48, granule::size_64k, address_size::bits48));
  // A 512MB level 2 block under a level 1 table descriptor.
  const auto leaf = w->b.map(fmt, root, 0x2000'0000, 0x4000'0000, 2);
  REQUIRE(run_both(*w, access(0x2000'0010)).output_address() == 0x4000'0010);
  const auto table = w->b.descriptor_address(fmt, root, 0x2000'0000, 1);
  const auto desc = GENERATE_COPY(table, leaf);
  const int bit = GENERATE(12, 15);  // OA[48], OA[51]
  w->b.write64(desc, w->b.read64(desc) | std::uint64_t{1} << bit);
  SECTION("OAS 52: an output beyond IPS, stage 1 F_ADDR_SIZE") {
    fault_of(run_both(*w, access(0x2000'0010)), E::type::f_addr_size, false, E::fault_class::in);
  }
  SECTION("OAS 52, IPS 52: OA[51:48] is the output's") {
    w->put_cd(s1_cd(root, 48, granule::size_64k, address_size::bits52));
    if (desc == leaf) {
      CHECK(run_both(*w, access(0x2000'0010)).output_address() ==
            (std::uint64_t{1} << (bit + 36) | 0x4000'0010));
    } else {  // the level 2 table at a PA beyond memory: an abort on the walk (CLASS TT)
      fault_of(run_both(*w, access(0x2000'0010)), E::type::f_walk_eabt, false,
               E::fault_class::tt);
    }
  }
  SECTION("OAS 48: the bits are not OA[51:48]") {
    w->st.features.oas = address_size::bits48;
    CHECK(run_both(*w, access(0x2000'0010)).output_address() == 0x4000'0010);
  }
}

// The same in a nested walk: stage 2 (64KB, S2PS 48) translates the CD address (CLASS CD), the
// stage 1 table addresses (CLASS TT) and the output (CLASS IN) through a descriptor with bit
// [12] set; stage 1 (64KB, IPS 48) outputs beyond its IPS before stage 2 sees the address.
TEST_CASE("audit: nested, 64KB with OAS 52: descriptor bits [15:12] against S2PS and IPS",
          "[walk][audit][addr_size][nested]") {
  auto w = make_world();
  w->st.features.oas = address_size::bits52;
  // Stage 2: IPA 0-512MB identity-mapped by a level 2 block (the CD and stage 1 tables), IPA
  // 0x40'0000'0000 -> PA 0x7'0000'0000 by another.
  const auto s2fmt = vt::s2_format(16, 40, 2);
  const auto s2root = w->b.new_root(s2fmt);
  const auto low = w->b.map(s2fmt, s2root, 0, 0, 2);
  const auto out = w->b.map(s2fmt, s2root, 0x40'0000'0000, 0x7'0000'0000, 2);
  const auto s1fmt = vt::s1_format(16, 48);
  const auto s1root = w->b.new_root(s1fmt);
  const auto s1leaf = w->b.map(s1fmt, s1root, 0x2000'0000, 0x40'0000'0000, 2);
  w->put_ste(with_s2(s1_ste().with<S::Config>(ste_config::nested), s2root, 40, 1,
                     granule::size_64k, address_size::bits48));
  w->put_cd(s1_cd(s1root, 48, granule::size_64k, address_size::bits48));
  REQUIRE(run_both(*w, access(0x2000'0010)).output_address() == 0x7'0000'0010);
  SECTION("stage 2, the output: CLASS IN") {
    w->b.write64(out, w->b.read64(out) | std::uint64_t{1} << 12);
    const auto e =
        fault_of(run_both(*w, access(0x2000'0010)), E::type::f_addr_size, true, E::fault_class::in);
    CHECK(e.get<E::IPA>() == 0x40'0000'0000);
  }
  SECTION("stage 2, the CD address: CLASS CD") {
    w->b.write64(low, w->b.read64(low) | std::uint64_t{1} << 12);
    const auto e =
        fault_of(run_both(*w, access(0x2000'0010)), E::type::f_addr_size, true, E::fault_class::cd);
    CHECK(e.get<E::IPA>() == (cd_ptr & ~std::uint64_t{0xfff}));  // IPA[51:12]
  }
  SECTION("stage 1 output beyond IPS: stage 1 F_ADDR_SIZE") {
    w->b.write64(s1leaf, w->b.read64(s1leaf) | std::uint64_t{1} << 12);
    fault_of(run_both(*w, access(0x2000'0010)), E::type::f_addr_size, false, E::fault_class::in);
  }
}

// DDI 0487 J1.1.4.65 AArch64.BlockDescSupported: "when TGx_64KB return ((level == 1 && (d128 ==
// '1' || AArch64.PAMax() >= 52)) || level == 2)": a 4TB level 1 block with the 64KB granule is
// valid on an SMMU whose OAS is 52 bits, whatever the effective IPS / S2PS; with an OAS of 48
// bits it is an invalid descriptor, a Translation fault at level 1.
TEST_CASE("audit: 64KB level 1 block with OAS 52 and IPS / S2PS 48", "[walk][audit][blocks]") {
  constexpr std::uint64_t va = 0x0400'0000'1234;  // in the 4TB block at 2^42
  constexpr std::uint64_t oa = 0x0800'0000'0000;
  auto w = make_world();
  w->st.features.oas = address_size::bits52;
  const bool stage2 = GENERATE(false, true);
  CAPTURE(stage2);
  const auto fmt = stage2 ? vt::s2_format(16, 48, 1) : vt::s1_format(16, 48);
  REQUIRE(fmt.start_level == 1);
  std::uint64_t root = 0;
  if (stage2) {
    root = w->b.new_root(fmt);
    w->put_ste(s2_only(root, 48, 2, granule::size_64k, address_size::bits48));
  } else {
    root = w->stage1(fmt, s1_cd(0, 48, granule::size_64k, address_size::bits48));
  }
  w->b.map(fmt, root, va, oa, 1);
  SECTION("OAS 52: translated by the block") {
    const auto r = run_both(*w, access(va));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == (oa | (va & 0x3ff'ffff'ffff)));
    CHECK(r.xlat.size_shift == 42);
    CHECK((stage2 ? r.xlat.s2_level : r.xlat.s1_level) == 1);
  }
  SECTION("OAS 48: not a block, a level 1 Translation fault") {
    w->st.features.oas = address_size::bits48;
    fault_of(run_both(*w, access(va)), E::type::f_translation, stage2, E::fault_class::in);
  }
}

// A walk plan is a row of a table computed at compile time: every field of every row against
// the primitives it stands for (level_lsb, AArch64.BlockDescSupported, the output formats), for
// every granule encoding and start level a walk_params can hold, valid or not.
TEST_CASE("walk plans agree with the granule primitives", "[walk][audit]") {
  namespace vm = vw::vmsa;
  using vm::detail::oa_format;
  for (unsigned g = 10; g <= 18; ++g) {
    for (int level = -3; level <= 5; ++level) {
      for (const bool ds : {false, true}) {
        for (const bool pa52 : {false, true}) {
          vm::walk_params p;
          p.table_base = 0x4000;
          p.granule_shift = static_cast<std::uint8_t>(g);
          p.start_level = static_cast<std::int8_t>(level);
          p.ia_bits = 40;
          p.oa_bits = 44;
          p.ds = ds;
          p.pa52_64k = pa52;
          const vm::walk_plan plan(p);
          INFO("granule " << g << " level " << level << " ds " << ds << " pa52 " << pa52);
          const bool granule_ok = g == 12 || g == 14 || g == 16;
          const bool level_ok = level >= -1 && level <= 3;
          if (!granule_ok || !level_ok || vm::level_lsb(g, level) >= 64) {
            CHECK(plan.format == oa_format::invalid);
            continue;
          }
          const bool lpa2 = ds && g != 16;
          const bool more = g == 16 ? pa52 : ds;
          CHECK(plan.format == (lpa2                ? oa_format::lpa2
                                : more && g == 16 ? oa_format::pa52_64k
                                                  : oa_format::bits48));
          CHECK(plan.start_level == level);
          CHECK(plan.level_stride == vm::stride(g));
          CHECK(plan.start_lsb == vm::level_lsb(g, level));
          CHECK(plan.index_mask == (vm::mask_below(vm::stride(g)) << 3));
          CHECK(plan.first_index_mask == (vm::mask_below(40 - vm::level_lsb(g, level)) << 3));
          CHECK(plan.table_oa_mask == (vm::mask_below(lpa2 ? 50 : 48) & ~vm::mask_below(g)));
          CHECK(plan.beyond_oa == ~vm::mask_below(44));
          CHECK(plan.table_beyond_oa == (plan.table_oa_mask & ~vm::mask_below(44)));
          CHECK(plan.table_base == 0x4000);
          for (int l = -1; l <= 3; ++l) {
            const bool block = l < 3 && vm::block_supported(g, l, more && g == 16 ? 52 : 48, lpa2);
            CHECK((((plan.block_levels >> (l + 1)) & 1U) != 0) == block);
          }
        }
      }
    }
  }
}
