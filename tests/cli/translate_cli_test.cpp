// vsmmu translate (docs/cli.md): outcomes on the documented image, and malformed arguments.

#include <catch2/catch.hpp>

#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/smmuv3/features.hpp>
#include <vsmmu/walk/from_registers.hpp>
#include <vsmmu/walk/translate.hpp>

#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "translate_image.hpp"

namespace {

const std::string image = std::string{VSMMU_SOURCE_DIR} + "/tests/cli/data/translate.bin";

struct run_result {
  int status;
  std::string out;
  std::string err;
};

run_result run(std::vector<std::string> words) {
  std::vector<std::string_view> args{"translate"};
  for (const auto& w : words) args.emplace_back(w);
  std::ostringstream out;
  std::ostringstream err;
  const int status = vsmmu::cli::run(args, out, err);
  return {status, out.str(), err.str()};
}

// The image at PA 0, SMMUEN, linear Stream table of 8 STEs, plus `more`.
run_result on_image(std::vector<std::string> more) {
  std::vector<std::string> w{"--mem", image + "@0", "--reg", "CR0=1", "--reg", "STRTAB_BASE_CFG=3"};
  w.insert(w.end(), more.begin(), more.end());
  return run(w);
}

std::string temp_file(const std::string& name, std::string_view bytes) {
  const std::string path = std::string{VSMMU_BINARY_DIR} + "/" + name;
  std::ofstream f{path, std::ios::binary};
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace

TEST_CASE("translate: the image file is what translate_image.hpp builds", "[cli][translate]") {
  auto mem = std::make_unique<translate_image::memory>();
  translate_image::build(*mem);
  std::ifstream f{image, std::ios::binary};
  REQUIRE(f);
  const std::string bytes{std::istreambuf_iterator<char>(f), {}};
  REQUIRE(bytes.size() == translate_image::size);
  for (std::uint64_t a = 0; a < translate_image::size; a += 8) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) {
      v |= std::uint64_t{static_cast<unsigned char>(bytes[a + i])} << (8 * i);
    }
    INFO("PA " << a);
    REQUIRE(v == mem->read64(a).value);
  }
}

TEST_CASE("translate: outcomes", "[cli][translate]") {
  SECTION("stage 1 page, privilege and access") {
    const auto r = on_image({"--sid", "1", "--iova", "0x10000abc"});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    // Privileged: user-writable memory is not privileged-executable.
    CHECK(r.out ==
          "{\"result\":\"translated\",\"pa\":\"0x800000abc\",\"page_size\":4096,"
          "\"perm\":{\"r\":1,\"w\":1,\"x\":0}}\n");
    CHECK(on_image({"--sid", "1", "--iova", "0x10000abc", "--unpriv", "--access", "exec"}).out ==
          "{\"result\":\"translated\",\"pa\":\"0x800000abc\",\"page_size\":4096,"
          "\"perm\":{\"r\":1,\"w\":1,\"x\":1}}\n");
  }
  SECTION("a recorded fault lists every field of the event") {
    const auto r = on_image({"--sid", "1", "--iova", "268439552", "--access", "write"});
    CHECK(r.status == 0);
    CHECK(
        r.out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"F_PERMISSION\","
                          "\"fields\":{\"Type\":19,"));
    CHECK(r.out.find("\"StreamID\":1,") != std::string::npos);
    CHECK(r.out.find("\"RnW\":0,") != std::string::npos);
    CHECK(r.out.find("\"InputAddr\":268439552,") != std::string::npos);
    CHECK(r.out.ends_with("}}}\n"));
  }
  SECTION("a stage 2 fault reports S2 and the IPA") {
    const auto r = on_image({"--sid", "4", "--iova", "0x80012345", "--access", "write"});
    CHECK(r.out.find("\"S2\":1,") != std::string::npos);
    CHECK(r.out.find("\"IPA\":2147557376}") != std::string::npos);  // IPA[51:12] in place
  }
  SECTION("SubstreamID without substreams: C_BAD_SUBSTREAMID") {
    const auto r = on_image({"--sid", "1", "--ssid", "5", "--iova", "0x10000000"});
    CHECK(r.out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"C_BAD_SUBSTREAMID\""));
    CHECK(r.out.find("\"SubstreamID\":5") != std::string::npos);
  }
  SECTION("RAZ/WI and silent aborts") {
    CHECK(on_image({"--sid", "3", "--iova", "0x10002000"})
              .out.ends_with("}},\"termination\":\"raz_wi\"}\n"));
    CHECK(on_image({"--sid", "2", "--iova", "0"}).out == "{\"result\":\"abort\"}\n");
    // StreamID beyond LOG2SIZE without CR2.RECINVSID: aborted, not recorded; with it, recorded.
    CHECK(on_image({"--sid", "8", "--iova", "0"}).out == "{\"result\":\"abort\"}\n");
    CHECK(on_image({"--sid", "8", "--iova", "0", "--reg", "cr2=0x2"})
              .out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"C_BAD_STREAMID\""));
  }
  SECTION("bypass") {
    CHECK(on_image({"--sid", "0", "--iova", "0xabc"}).out ==
          "{\"result\":\"bypass\",\"pa\":\"0xabc\"}\n");
    CHECK(run({"--sid", "0", "--iova", "0xabc"}).out ==
          "{\"result\":\"bypass\",\"pa\":\"0xabc\"}\n");  // SMMUEN = 0
    // GBPA.ABORT with SMMUEN = 0.
    CHECK(run({"--sid", "0", "--iova", "0xabc", "--reg", "SMMU_GBPA=0x100000"}).out ==
          "{\"result\":\"abort\"}\n");
  }
  SECTION("registers change the model: no stage 2 in IDR0 makes SID 4 ILLEGAL") {
    const auto idr0 = vsmmu::smmuv3::default_id_registers.idr0 & ~1U;  // S2P is bit 0
    std::ostringstream v;
    v << std::hex << idr0;
    const auto r = on_image({"--sid", "4", "--iova", "0x80012345", "--reg", "IDR0=" + v.str()});
    CHECK(r.out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"C_BAD_STE\""));
  }
  SECTION("the Stream table found through STRTAB_BASE, memory placed at BASE") {
    const auto r =
        run({"--mem", image + "@0x100000", "--reg", "CR0=1", "--reg", "STRTAB_BASE=100000", "--reg",
             "STRTAB_BASE_CFG=3", "--sid", "0", "--iova", "0x77"});
    CHECK(r.out == "{\"result\":\"bypass\",\"pa\":\"0x77\"}\n");
    // SID 1's CD pointer (0x800) is now outside the loaded memory: F_CD_FETCH.
    const auto cd =
        run({"--mem", image + "@0x100000", "--reg", "CR0=1", "--reg", "STRTAB_BASE=100000", "--reg",
             "STRTAB_BASE_CFG=3", "--sid", "1", "--iova", "0x77"});
    CHECK(cd.out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"F_CD_FETCH\""));
    CHECK(cd.out.find("\"FetchAddr\":2048}") != std::string::npos);
  }
  SECTION("several --mem") {
    const std::string a = temp_file("translate_a.bin", std::string(64, '\0'));
    const auto r = run({"--mem", image + "@0", "--mem", a + "@0x100000", "--sid", "0", "--iova",
                        "0x1", "--reg", "CR0=1", "--reg", "STRTAB_BASE_CFG=3"});
    CHECK(r.status == 0);
    CHECK(r.out == "{\"result\":\"bypass\",\"pa\":\"0x1\"}\n");
  }
  SECTION("the event fields decode back to the record translate() produced") {
    const auto r = on_image({"--sid", "1", "--iova", "0x7000", "--unpriv"});
    CHECK(r.out.find("\"name\":\"F_TRANSLATION\"") != std::string::npos);
    CHECK(r.out.find("\"PnU\":0,") != std::string::npos);
    CHECK(r.out.find("\"CLASS\":2,") != std::string::npos);
    CHECK(r.out.find("\"InputAddr\":28672,") != std::string::npos);
  }
}

TEST_CASE("translate: malformed arguments", "[cli][translate]") {
  struct bad {
    std::vector<std::string> words;
    int status;
    std::string message;
  };
  const std::string missing = std::string{VSMMU_BINARY_DIR} + "/no-such-file.bin";
  const std::vector<bad> cases{
      {{"--iova", "1"}, 2, "missing --sid"},
      {{"--sid", "1"}, 2, "missing --iova"},
      {{"--sid", "1", "--iova"}, 2, "--iova needs a value"},
      {{"--sid", "1", "--sid", "2", "--iova", "0"}, 2, "--sid given twice"},
      {{"--sid", "1", "--iova", "0", "--unpriv", "--unpriv"}, 2, "--unpriv given twice"},
      {{"--sid", "1", "--iova", "0", "--verbose"}, 2, "unknown option \"--verbose\""},
      {{"--sid", "1", "--iova", "0", "stray"}, 2, "unexpected argument \"stray\""},
      {{"--sid", "1", "--iova", "0", "--mem", "file"}, 2, "--mem \"file\": expected FILE@BASE"},
      {{"--sid", "1", "--iova", "0", "--mem", "@0"}, 2, "--mem \"@0\": expected FILE@BASE"},
      {{"--sid", "1", "--iova", "0", "--mem", image + "@x"}, 1, "--mem BASE \"x\": "},
      {{"--sid", "1", "--iova", "0", "--mem", missing + "@0"}, 1, ": cannot be opened"},
      {{"--sid", "1", "--iova", "0", "--mem", image + "@0xfffffffffffff000"},
       1,
       ": extends beyond 2^64"},
      {{"--sid", "1", "--iova", "0", "--mem", image + "@0", "--mem", image + "@0x8000"},
       1,
       ": overlaps an earlier --mem at 0x0"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR0"}, 2, "--reg \"CR0\": expected NAME=VALUE"},
      {{"--sid", "1", "--iova", "0", "--reg", "=1"}, 2, "--reg \"=1\": expected NAME=VALUE"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR9=1"}, 1, "unknown register \"CR9\""},
      {{"--sid", "1", "--iova", "0", "--reg", "EVENTQ_BASE=0"},
       1,
       "register EVENTQ_BASE does not take part in a translation"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR0=1", "--reg", "smmu_cr0=1"},
       2,
       "--reg CR0 given twice"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR0=1g"}, 1, "CR0 \"1g\": not a hex number"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR0=100000000"}, 1, "wider than the 32-bit"},
      {{"--sid", "0x100000000", "--iova", "0"}, 1, "--sid \"0x100000000\": larger than 32 bits"},
      {{"--sid", "-1", "--iova", "0"}, 1, "--sid \"-1\""},
      {{"--sid", "1", "--ssid", "0x100000", "--iova", "0"}, 1, "larger than 20 bits"},
      {{"--sid", "1", "--iova", "0x1_000"}, 1, "--iova \"0x1_000\""},
      {{"--sid", "1", "--iova", "0", "--access", "rw"}, 1, "expected read, write or exec"},
  };
  for (const bad& b : cases) {
    std::string line;
    for (const auto& w : b.words) line += w + " ";
    INFO(line);
    const auto r = run(b.words);
    CHECK(r.status == b.status);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("vsmmu: translate: "));
    CHECK(r.err.find(b.message) != std::string::npos);
    CHECK(r.err.ends_with("\n"));
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
}

TEST_CASE("translate: --help", "[cli][translate]") {
  const auto r = run({"--help"});
  CHECK(r.status == 0);
  CHECK(r.out.find("vsmmu translate [--mem FILE@BASE]") != std::string::npos);
}

namespace {

// A nested stream (SID 1) in a 128KB image at PA 0: linear Stream table of 8 STEs at 0, CD at
// IPA 0x800, stage 2 identity-mapping IPA [0, 2MB) with one block. Stage 1: VA 0x1000'0000 ->
// IPA 0x40'0000, which stage 2 does not map; VA 0x2000'0000 through a stage 1 table at IPA
// 0x60'0000, which stage 2 does not map either; VA 0x3000'0000 through one beyond the image.
struct nested_image {
  using memory = vsmmu::memory::flat_memory<0x20000>;
  std::unique_ptr<memory> mem = std::make_unique<memory>();
  std::string path;

  nested_image() {
    namespace S = vsmmu::smmuv3::ste;
    using vsmmu::smmuv3::address_size;
    using vsmmu::smmuv3::granule;
    vsmmu::testing::table_builder b(*mem, 0x1000, 0x1f000);
    const auto s2 = vsmmu::testing::s2_format(12, 40, 1);
    const std::uint64_t s2root = b.new_root(s2);
    b.map(s2, s2root, 0, 0, 2);
    const auto s1 = vsmmu::testing::s1_format(12, 48);
    const std::uint64_t s1root = b.new_root(s1);
    b.map(s1, s1root, 0x1000'0000, 0x40'0000, 3);
    b.map(s1, s1root, 0x2000'0000, 0x40'0000, 3);
    b.write64(b.descriptor_address(s1, s1root, 0x2000'0000, 2), 0x60'0000 | 3);
    // VA 0x3000'0000 through a stage 1 table at IPA = PA 0x10'0000, beyond the image.
    b.map(s1, s1root, 0x3000'0000, 0x40'0000, 3);
    b.write64(b.descriptor_address(s1, s1root, 0x3000'0000, 2), 0x10'0000 | 3);
    namespace C = vsmmu::smmuv3::cd;
    const C::value cd = translate_image::stage1_cd(s1root);
    b.install_cd(0x800, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd);
    S::value ste;
    ste.set<S::V>(true)
        .set<S::Config>(vsmmu::smmuv3::ste_config::nested)
        .set<S::S1ContextPtr>(0x800)
        .set<S::S2T0SZ>(24)
        .set<S::S2SL0>(1)
        .set<S::S2TG>(granule::size_4k)
        .set<S::S2PS>(address_size::bits48)
        .set<S::S2AA64>(true)
        .set<S::S2R>(true)
        .set<S::S2VMID>(3)
        .set<S::S2TTB>(s2root);
    b.install_ste({0, false, 6, 3}, 1, ste);
    std::string bytes(memory::size_bytes, '\0');
    for (std::uint64_t a = 0; a < memory::size_bytes; ++a) {
      bytes[a] = static_cast<char>(mem->read64(a & ~std::uint64_t{7}).value >> (8 * (a & 7)));
    }
    path = temp_file("translate_nested.bin", bytes);
  }

  // The CLI's answer, and the record walk::translate() gives for the same transaction.
  struct answer {
    run_result cli;
    vsmmu::walk::result walk;
  };
  answer translate(std::vector<std::string> more, const vsmmu::walk::transaction& t) const {
    std::vector<std::string> w{"--mem", path + "@0", "--reg", "CR0=1",
                               "--reg", "CR2=2",     "--reg", "STRTAB_BASE_CFG=3"};
    vsmmu::walk::control_registers c;
    c.cr0 = 1;
    c.cr2 = 2;
    c.strtab_base_cfg = 3;
    w.insert(w.end(), more.begin(), more.end());
    const auto st = vsmmu::walk::state_from(vsmmu::smmuv3::default_id_registers, c);
    const memory& read_only = *mem;
    return {run(w), vsmmu::walk::translate(read_only, st, t)};
  }
};

// The "fields" object of a fault's JSON, in order.
std::vector<std::pair<std::string, std::uint64_t>> event_fields(const std::string& json) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  auto at = json.find("\"fields\":{");
  REQUIRE(at != std::string::npos);
  at += 10;
  while (json[at] == '"') {
    const auto close = json.find('"', at + 1);
    const std::string name = json.substr(at + 1, close - at - 1);
    std::size_t used = 0;
    const std::uint64_t value = std::stoull(json.substr(close + 2), &used);
    out.emplace_back(name, value);
    at = close + 2 + used;
    if (json[at] == ',') ++at;
  }
  CHECK(json.compare(at, 2, "}}") == 0);
  return out;
}

// The JSON lists every field of the record's layout, in the layout's order and by its §7.3 name,
// and nothing else: written back into a record by name, the fields rebuild the walk's record.
std::map<std::string, std::uint64_t> check_event_json(const std::string& json,
                                                      const vsmmu::walk::event_record& record) {
  const auto* d = vsmmu::smmuv3::find_event(static_cast<std::uint8_t>(record.type()));
  REQUIRE(d != nullptr);
  CHECK(json.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"" + std::string{d->name} +
                         "\",\"fields\":{"));
  const auto fields = event_fields(json);
  std::vector<std::string> expected_names;
  for (const auto& f : d->layout.fields) {
    if (!f.is_reserved()) expected_names.emplace_back(f.name);
  }
  std::vector<std::string> names;
  std::array<std::byte, 32> rebuilt{};
  std::map<std::string, std::uint64_t> by_name;
  for (const auto& [name, value] : fields) {
    names.push_back(name);
    by_name[name] = value;
    const auto* f = d->layout.find(name);
    REQUIRE(f != nullptr);
    CHECK(vsmmu::layout::write_value(*f, rebuilt, value));
  }
  CHECK(names == expected_names);
  CHECK(rebuilt == record.bytes());
  return by_name;
}

vsmmu::walk::transaction transaction_at(std::uint32_t sid, std::uint64_t iova) {
  vsmmu::walk::transaction t;
  t.sid = sid;
  t.address = iova;
  t.privileged = true;  // the CLI's default (--unpriv clears it)
  return t;
}

}  // namespace

TEST_CASE("translate: event JSON against the record, for each kind of fault",
          "[cli][translate][events]") {
  const nested_image image;
  SECTION("a stage 2 fault on the input of a nested walk: S2, CLASS IN, the IPA") {
    // IHI 0070 §7.3.13 "If translating an IPA for a transaction (... after successful stage 1
    // translation), CLASS == IN, and IPA is provided."
    auto t = transaction_at(1, 0x1000'0abc);
    t.access = vsmmu::walk::access_kind::write;
    const auto a = image.translate({"--sid", "1", "--iova", "0x10000abc", "--access", "write"}, t);
    CHECK(a.cli.status == 0);
    REQUIRE(a.walk.event.type() == vsmmu::smmuv3::evt::type::f_translation);
    const auto f = check_event_json(a.cli.out, a.walk.event);
    CHECK(f.at("Type") == 0x10);
    CHECK(f.at("StreamID") == 1);
    CHECK(f.at("S2") == 1);
    CHECK(f.at("CLASS") == 2);
    CHECK(f.at("IPA") == 0x40'0000);
    CHECK(f.at("InputAddr") == 0x1000'0abc);
    CHECK(f.at("RnW") == 0);
    CHECK(f.at("PnU") == 1);
    CHECK(f.at("Stall") == 0);
  }
  SECTION("a stage 2 fault on a stage 1 table of a nested walk: CLASS TT, IPA the descriptor's") {
    // §7.3.13 "If walking stage 1 translation table, CLASS == TT, IPA is the stage 1
    // translation table descriptor address".
    const auto a = image.translate({"--sid", "1", "--iova", "0x20000000", "--unpriv"}, [] {
      auto t = transaction_at(1, 0x2000'0000);
      t.privileged = false;
      return t;
    }());
    const auto f = check_event_json(a.cli.out, a.walk.event);
    CHECK(f.at("S2") == 1);
    CHECK(f.at("CLASS") == 1);
    CHECK(f.at("IPA") == 0x60'0000);
    CHECK(f.at("PnU") == 0);
  }
  SECTION("a stage 1 descriptor fetch abort in a nested walk: F_WALK_EABT, S2 0, CLASS TT") {
    // §7.3.12 "a stage 1 walk can encounter EABT accessing the physical address of a stage 1
    // descriptor having successfully translated the IPA of the descriptor to a PA through
    // stage 2: S2 == 0 (stage 1), CLASS == TT ... S1 descriptor fetch PA (FetchAddr)".
    const auto a =
        image.translate({"--sid", "1", "--iova", "0x30000000"}, transaction_at(1, 0x3000'0000));
    REQUIRE(a.walk.event.type() == vsmmu::smmuv3::evt::type::f_walk_eabt);
    const auto f = check_event_json(a.cli.out, a.walk.event);
    CHECK(f.at("Type") == 0x0b);
    CHECK(f.at("S2") == 0);
    CHECK(f.at("CLASS") == 1);
    CHECK(f.at("FetchAddr") == 0x10'0000);
    CHECK(f.at("InputAddr") == 0x3000'0000);
  }
  SECTION("C_BAD_STREAMID: SSV and SubstreamID of the transaction") {
    // §7.3.3 (CR2.RECINVSID == 1) "Incoming StreamID >= 2^LOG2SIZE".
    auto t = transaction_at(9, 0x1000);
    t.ssv = true;
    t.ssid = 0x12345;
    const auto a = image.translate({"--sid", "9", "--ssid", "0x12345", "--iova", "0x1000"}, t);
    const auto f = check_event_json(a.cli.out, a.walk.event);
    CHECK(f.at("Type") == 2);
    CHECK(f.at("StreamID") == 9);
    CHECK(f.at("SSV") == 1);
    CHECK(f.at("SubstreamID") == 0x12345);
    CHECK(f.size() == 4);  // Type, SSV, SubstreamID, StreamID: the rest is RES0
  }
  SECTION("F_STE_FETCH: FetchAddr the STE's PA") {
    const auto r = run({"--mem", image.path + "@0", "--reg", "CR0=1", "--reg", "STRTAB_BASE=40000",
                        "--reg", "STRTAB_BASE_CFG=3", "--sid", "2", "--iova", "0"});
    const auto f = event_fields(r.out);
    REQUIRE(r.out.find("\"name\":\"F_STE_FETCH\"") != std::string::npos);
    REQUIRE(f.size() == 7);
    CHECK(f[4] == std::pair<std::string, std::uint64_t>{"Reason", 0});
    CHECK(f[5] == std::pair<std::string, std::uint64_t>{"GPCF", 0});
    CHECK(f[6] == std::pair<std::string, std::uint64_t>{"FetchAddr", 0x4'0000 + 2 * 64});
  }
}

TEST_CASE("translate: every fault of the documented image, JSON against the record",
          "[cli][translate][events]") {
  auto mem = std::make_unique<translate_image::memory>();
  translate_image::build(*mem);
  vsmmu::walk::control_registers c;
  c.cr0 = 1;
  c.cr2 = 2;
  c.strtab_base_cfg = 3;
  const auto st = vsmmu::walk::state_from(vsmmu::smmuv3::default_id_registers, c);
  struct input {
    std::uint32_t sid;
    std::uint64_t iova;
    vsmmu::walk::access_kind access;
    bool ssv;
  };
  using vsmmu::walk::access_kind;
  const input inputs[] = {
      {1, 0x1000'1000, access_kind::write, false},   // stage 1 F_PERMISSION
      {1, 0x7000, access_kind::read, false},         // stage 1 F_TRANSLATION
      {1, 0x1000'0000, access_kind::read, true},     // C_BAD_SUBSTREAMID
      {3, 0x1000'2000, access_kind::exec, false},    // RAZ/WI, still recorded (CD.R == 1)
      {4, 0x8001'2345, access_kind::write, false},   // stage 2 F_PERMISSION, CLASS IN
      {4, 0x1'0000'0000, access_kind::read, false},  // stage 2 F_TRANSLATION
      {9, 0x1000, access_kind::read, true},          // C_BAD_STREAMID
  };
  const char* const access_names[] = {"read", "write", "exec"};
  for (const auto& in : inputs) {
    auto t = transaction_at(in.sid, in.iova);
    t.access = in.access;
    t.ssv = in.ssv;
    t.ssid = in.ssv ? 5 : 0;
    std::vector<std::string> w{"--reg",    "CR2=2",
                               "--sid",    std::to_string(in.sid),
                               "--iova",   std::to_string(in.iova),
                               "--access", access_names[static_cast<unsigned>(in.access)]};
    if (in.ssv) w.insert(w.end(), {"--ssid", "5"});
    const auto r = on_image(w);
    const auto walked = vsmmu::walk::translate(std::as_const(*mem), st, t);
    INFO(r.out);
    REQUIRE(walked.recorded());
    check_event_json(r.out, walked.event);
  }
}
