#include "cli.hpp"

#include <catch2/catch.hpp>

#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/smmuv3/registers.hpp>
#include <vsmmu/smmuv3/ste.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// run() end to end against the library's catalogues. Expected values are computed by hand from
// the bit positions IHI 0070 gives, not from the catalogues under test.

namespace {

struct ran {
  int status;
  std::string out;
  std::string err;
};

ran run(std::vector<std::string_view> args) {
  std::ostringstream out;
  std::ostringstream err;
  const int status = vsmmu::cli::run(args, out, err);
  return {status, out.str(), err.str()};
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> words;
  while (!line.empty()) {
    const std::size_t end = line.find_first_of(" \n");
    if (end != 0) words.push_back(line.substr(0, end));
    if (end == std::string_view::npos) break;
    line.remove_prefix(end + 1);
  }
  return words;
}

// A JSON checker for the one shape decode prints; any other text fails to parse.
//   {"kind": S, "name": S, "fields": {S: N, ...}[, "reserved_nonzero": true]}\n
struct decoded {
  std::string kind;
  std::string name;
  std::vector<std::pair<std::string, std::uint64_t>> fields;
  bool reserved_nonzero = false;

  [[nodiscard]] std::optional<std::uint64_t> field(std::string_view n) const {
    for (const auto& [k, v] : fields) {
      if (k == n) return v;
    }
    return std::nullopt;
  }
  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& f : fields) out.push_back(f.first);
    return out;
  }
};

class json_checker {
 public:
  explicit json_checker(std::string_view text) : text_(text) {}

  std::optional<decoded> parse() {
    decoded d;
    if (!literal("{\"kind\": ") || !string(d.kind) || !literal(", \"name\": ") || !string(d.name) ||
        !literal(", \"fields\": {")) {
      return std::nullopt;
    }
    if (!literal("}")) {
      do {
        std::string key;
        std::uint64_t value = 0;
        if (!string(key) || !literal(": ") || !number(value)) return std::nullopt;
        d.fields.emplace_back(std::move(key), value);
      } while (literal(", "));
      if (!literal("}")) return std::nullopt;
    }
    if (literal(", \"reserved_nonzero\": true")) d.reserved_nonzero = true;
    if (!literal("}\n") || !text_.empty()) return std::nullopt;
    return d;
  }

 private:
  bool literal(std::string_view s) {
    if (!text_.starts_with(s)) return false;
    text_.remove_prefix(s.size());
    return true;
  }
  bool string(std::string& out) {
    if (!literal("\"")) return false;
    while (!text_.empty() && text_[0] != '"') {
      if (text_[0] == '\\' || static_cast<unsigned char>(text_[0]) < 0x20) return false;
      out += text_[0];
      text_.remove_prefix(1);
    }
    return literal("\"");
  }
  bool number(std::uint64_t& out) {
    if (text_.empty() || text_[0] < '0' || text_[0] > '9') return false;
    if (text_[0] == '0' && text_.size() > 1 && text_[1] >= '0' && text_[1] <= '9') return false;
    out = 0;
    while (!text_.empty() && text_[0] >= '0' && text_[0] <= '9') {
      out = out * 10 + static_cast<std::uint64_t>(text_[0] - '0');
      text_.remove_prefix(1);
    }
    return true;
  }
  std::string_view text_;
};

decoded decode(std::vector<std::string_view> args) {
  args.insert(args.begin(), "decode");
  const ran r = run(args);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.err.empty());
  auto d = json_checker{r.out}.parse();
  INFO(r.out);
  REQUIRE(d);
  return *d;
}

// encode, then decode what it printed.
decoded round_trip(std::string_view kind, std::vector<std::string_view> args, std::size_t dwords) {
  args.insert(args.begin(), {"encode", kind});
  const ran e = run(args);
  INFO(e.err);
  REQUIRE(e.status == 0);
  const auto words = split(e.out);
  REQUIRE(words.size() == dwords);
  for (const auto w : words) {
    CHECK(w.size() == 18);
    CHECK(w.starts_with("0x"));
  }
  std::vector<std::string_view> d{kind};
  d.insert(d.end(), words.begin(), words.end());
  return decode(d);
}

// The names of a layout's non-reserved fields, in layout order.
std::vector<std::string> names_of(const vsmmu::layout::layout_info& info) {
  std::vector<std::string> out;
  for (const auto& f : info.fields) {
    if (!f.is_reserved()) out.emplace_back(f.name);
  }
  return out;
}

void check_error(std::vector<std::string_view> args, int status, std::string_view message) {
  const ran r = run(std::move(args));
  CHECK(r.status == status);
  CHECK(r.out.empty());
  CHECK(r.err == std::string{message} + "\n");
}

}  // namespace

TEST_CASE("decode l1std and l1cd: exact output") {
  // L1STD: Span [4:0] = 2, L2Ptr [55:6] = 0x1234567840 (IHI 0070 §5.1).
  const ran a = run({"decode", "l1std", "0x1234567842"});
  CHECK(a.status == 0);
  CHECK(a.out ==
        R"({"kind": "l1std", "name": "L1STD", "fields": {"Span": 2, "L2Ptr": 78187493440}})"
        "\n");
  CHECK(a.err.empty());
  // L1CD: V [0] = 1, L2Ptr [55:12] = 0x12345000 (§5.3); no "0x" is the same number.
  const ran b = run({"decode", "l1cd", "12345001"});
  CHECK(b.out == R"({"kind": "l1cd", "name": "L1CD", "fields": {"V": 1, "L2Ptr": 305418240}})"
                 "\n");
  // Bits [11:1] are RES0.
  CHECK(run({"decode", "l1cd", "0x12345003"}).out ==
        R"({"kind": "l1cd", "name": "L1CD", "fields": {"V": 1, "L2Ptr": 305418240}, )"
        R"("reserved_nonzero": true})"
        "\n");
}

TEST_CASE("decode ste: every spec field, in layout order, addresses in place") {
  // V=1, Config=0b101, S1ContextPtr=0x80000040, S1CDMax=3 | S1DSS=2, EATS=1 | S2VMID=0x1234 |
  // S2TTB=0x400001000 | - | VMSPtr=0x12345000 | - | S2POI15=0xf
  const decoded d = decode({"ste", "0x180000008000004b", "0x10000002", "0x1234", "0x400001000", "0",
                            "0x12345000", "0", "0xf000000000000000"});
  CHECK(d.kind == "ste");
  CHECK(d.name == "STE");
  CHECK(d.field("V") == 1);
  CHECK(d.field("Config") == 5);
  CHECK(d.field("S1Fmt") == 0);
  CHECK(d.field("S1ContextPtr") == 0x8000'0040);
  CHECK(d.field("S1CDMax") == 3);
  CHECK(d.field("S1DSS") == 2);
  CHECK(d.field("EATS") == 1);
  CHECK(d.field("S2VMID") == 0x1234);
  CHECK(d.field("S2TTB") == 0x4'0000'1000);
  CHECK(d.field("VMSPtr") == 0x1234'5000);
  CHECK(d.field("S2POI15") == 0xf);
  CHECK_FALSE(d.reserved_nonzero);
  std::uint64_t set = 0;
  for (const auto& f : d.fields) set += f.second != 0 ? 1 : 0;
  CHECK(set == 10);  // and nothing else is non-zero
  CHECK(d.names() == names_of(vsmmu::layout::info_of_layout<vsmmu::smmuv3::ste::layout>()));
  // The field headings of IHI 0070 §5.2 (IMPLEMENTATION DEFINED ranges have no field).
  for (const std::string_view name :
       {"V",           "Config",  "S1Fmt",  "S1ContextPtr", "S1CDMax",  "S1DSS",
        "S1CIR",       "S1COR",   "S1CSH",  "S2HWU59",      "S2HWU60",  "S2HWU61",
        "S2HWU62",     "DRE",     "CONT",   "DCP",          "PPAR",     "MEV",
        "SW_RESERVED", "S1PIE",   "S2FWB",  "S1MPAM",       "S1STALLD", "EATS",
        "STRW",        "MemAttr", "MTCFG",  "ALLOCCFG",     "SHCFG",    "NSCFG",
        "PRIVCFG",     "INSTCFG", "S2VMID", "S2T0SZ",       "S2SL0",    "S2IR0",
        "S2OR0",       "S2SH0",   "S2TG",   "S2PS",         "S2AA64",   "S2ENDI",
        "S2AFFD",      "S2PTW",   "S2HD",   "S2HA",         "S2S",      "S2R",
        "S2HAFT",      "S2PIE",   "S2POE",  "DPT_VMATCH",   "S2NSW",    "S2NSA",
        "S2SL0_2",     "S2DS",    "S2TTB",  "S2SKL",        "PARTID",   "S_S2T0SZ",
        "S_S2SL0",     "S_S2TG",  "MECID",  "PMG",          "MPAM_NS",  "AssuredOnly",
        "TL0",         "TL1",     "VMSPtr", "S2SW",         "S2SA",     "S_S2SL0_2",
        "S_S2TTB",     "S_S2SKL", "S2POI0", "S2POI7",       "S2POI15"}) {
    INFO(name);
    CHECK(d.field(name).has_value());
  }
}

TEST_CASE("decode ste: RES0 bits are flagged, IMPLEMENTATION DEFINED ones are not") {
  const std::vector<std::string_view> zero{"0", "0", "0", "0", "0", "0", "0", "0"};
  auto with = [&](std::size_t dword, std::string_view value) {
    auto args = zero;
    args.insert(args.begin(), "ste");
    args[dword + 1] = value;
    return decode(args);
  };
  CHECK_FALSE(with(0, "0").reserved_nonzero);
  CHECK(with(0, "0x0400000000000000").reserved_nonzero);        // bits [58:56] are RES0
  CHECK_FALSE(with(1, "0xfff0000000000000").reserved_nonzero);  // [127:116] IMPLEMENTATION DEFINED
  CHECK_FALSE(with(4, "0xffff").reserved_nonzero);              // [271:256] too
  CHECK(with(3, "0x0800000000000000").reserved_nonzero);        // bit 251 is RES0
}

TEST_CASE("decode cd: fields and the aliases at bit 65") {
  // T0SZ=16, EPD1=1, V=1, IPS=5, AA64=1, ASID=1 | TTB0=0x81000000, HAD0/DisCH0 (bit 65) = 1 |
  // - | MAIR0=0xff44
  const decoded d =
      decode({"cd", "0x00010205c0000010", "0x81000002", "0", "0xff44", "0", "0", "0", "0"});
  CHECK(d.name == "CD");
  CHECK(d.field("T0SZ") == 16);
  CHECK(d.field("EPD1") == 1);
  CHECK(d.field("V") == 1);
  CHECK(d.field("IPS") == 5);
  CHECK(d.field("AA64") == 1);
  CHECK(d.field("ASID") == 1);
  CHECK(d.field("TTB0") == 0x8100'0000);
  CHECK(d.field("HAD0") == 1);
  CHECK(d.field("DisCH0") == 1);
  CHECK(d.field("MAIR0") == 0xff44);
  CHECK(d.names() == names_of(vsmmu::layout::info_of_layout<vsmmu::smmuv3::cd::layout>()));
}

TEST_CASE("decode cmd: named by opcode, CMD_CFGI_ALL by Range") {
  // CMD_CFGI_STE (0x03): StreamID [63:32] = 0x10, Leaf [64] = 1 (IHI 0070 §4.3.1).
  const decoded a = decode({"cmd", "0x0000001000000003", "0x1"});
  CHECK(a.kind == "cmd");
  CHECK(a.name == "CMD_CFGI_STE");
  CHECK(a.field("StreamID") == 0x10);
  CHECK(a.field("Leaf") == 1);
  CHECK(a.field("SSec") == 0);
  // CMD_CFGI_STE_RANGE (0x04) with Range [68:64] == 31 is CMD_CFGI_ALL (§4.3.2).
  CHECK(decode({"cmd", "0x4", "0x1f"}).name == "CMD_CFGI_ALL");
  const decoded r = decode({"cmd", "0x4", "0x1e"});
  CHECK(r.name == "CMD_CFGI_STE_RANGE");
  CHECK(r.field("Range") == 30);
  // CMD_SYNC (0x46): CS [13:12], MSIData [63:32], MSIAddress [119:66] = address [55:2].
  const decoded s = decode({"cmd", "0x0000000100001046", "0x8000f000"});
  CHECK(s.name == "CMD_SYNC");
  CHECK(s.field("CS") == 1);
  CHECK(s.field("MSIData") == 1);
  CHECK(s.field("MSIAddress") == 0x8000'f000);
}

TEST_CASE("decode event: named by type") {
  // F_TRANSLATION (0x10): StreamID [63:32], RnW [99], CLASS [105:104], InputAddr [191:128]
  // (IHI 0070 §7.3.13).
  const decoded d = decode({"event", "0x0000001000000010", "0x0000010800000000", "0x1234000", "0"});
  CHECK(d.kind == "event");
  CHECK(d.name == "F_TRANSLATION");
  CHECK(d.field("StreamID") == 0x10);
  CHECK(d.field("RnW") == 1);
  CHECK(d.field("CLASS") == 1);
  CHECK(d.field("InputAddr") == 0x123'4000);
  CHECK(d.names() == names_of(vsmmu::smmuv3::find_event(0x10)->layout));
}

TEST_CASE("decode reg: 32- and 64-bit registers, any spelling of the name") {
  // SMMU_IDR0 = 0x0c0cafff: ST_LEVEL [28:27] = 1, TERM_MODEL, CD2L, VMID16, ATOS, MSI, NS1ATS,
  // ATS, Hyp, DORMHINT, HTTU [7:6] = 3, BTM, COHACC, TTF [3:2] = 3, S1P, S2P (§6.3.1).
  const decoded d = decode({"reg", "IDR0", "0x0c0cafff"});
  CHECK(d.kind == "reg");
  CHECK(d.name == "IDR0");
  CHECK(d.field("ST_LEVEL") == 1);
  CHECK(d.field("TERM_MODEL") == 1);
  CHECK(d.field("STALL_MODEL") == 0);
  CHECK(d.field("CD2L") == 1);
  CHECK(d.field("VMID16") == 1);
  CHECK(d.field("PRI") == 0);
  CHECK(d.field("SEV") == 0);
  CHECK(d.field("MSI") == 1);
  CHECK(d.field("ASID16") == 0);
  CHECK(d.field("ATS") == 1);
  CHECK(d.field("Hyp") == 1);
  CHECK(d.field("DORMHINT") == 1);
  CHECK(d.field("HTTU") == 3);
  CHECK(d.field("TTF") == 3);
  CHECK(d.field("S2P") == 1);
  CHECK(d.names() == names_of(vsmmu::smmuv3::find_register("IDR0")->layout));
  CHECK_FALSE(d.reserved_nonzero);
  CHECK(decode({"reg", "smmu_idr0", "c0cafff"}).fields == d.fields);
  CHECK(decode({"reg", "IDR0", "0x8c0cafff"}).reserved_nonzero);  // bit 31 is RES0

  // SMMU_STRTAB_BASE: RA [62], ADDR [55:6] in place (§6.3.24).
  const decoded b = decode({"reg", "SMMU_STRTAB_BASE", "0x4000000012345640"});
  CHECK(b.name == "STRTAB_BASE");
  CHECK(b.field("RA") == 1);
  CHECK(b.field("ADDR") == 0x1234'5640);
}

TEST_CASE("decode --text prints name, bit range and hex value per field") {
  // SMMU_CR0 fields, IHI 0070 §6.3.9.
  const ran r = run({"decode", "reg", "CR0", "0x9", "--text"});
  CHECK(r.status == 0);
  CHECK(r.out ==
        "CR0\n"
        "DPT_WALK_EN  [10]   0x0\n"
        "VMW          [8:6]  0x0\n"
        "ATSCHK       [4]    0x0\n"
        "CMDQEN       [3]    0x1\n"
        "EVENTQEN     [2]    0x0\n"
        "PRIQEN       [1]    0x0\n"
        "SMMUEN       [0]    0x1\n");
  // Anywhere after "decode"; addresses in place, in hex.
  const ran s = run({"decode", "--text", "l1std", "0x1234567842"});
  CHECK(s.out ==
        "L1STD\n"
        "Span   [4:0]   0x2\n"
        "L2Ptr  [55:6]  0x1234567840\n");
  const ran t = run({"decode", "l1cd", "--text", "0x12345803"});
  CHECK(t.out ==
        "L1CD\n"
        "V      [0]      0x1\n"
        "L2Ptr  [55:12]  0x12345000\n"
        "reserved bits set: [1] [11]\n");
}

TEST_CASE("encode prints what decode reads back, for every kind") {
  const decoded ste = round_trip(
      "ste", {"V=1", "Config=5", "S1ContextPtr=0x80000040", "S1CDMax=3", "S2TTB=0x400001000"}, 8);
  CHECK(ste.field("V") == 1);
  CHECK(ste.field("Config") == 5);
  CHECK(ste.field("S1ContextPtr") == 0x8000'0040);
  CHECK(ste.field("S1CDMax") == 3);
  CHECK(ste.field("S2TTB") == 0x4'0000'1000);
  CHECK_FALSE(ste.reserved_nonzero);

  const decoded cd = round_trip("cd", {"V=1", "T0SZ=16", "ASID=0xffff", "TTB0=0x81000000"}, 8);
  CHECK(cd.field("V") == 1);
  CHECK(cd.field("T0SZ") == 16);
  CHECK(cd.field("ASID") == 0xffff);
  CHECK(cd.field("TTB0") == 0x8100'0000);

  CHECK(round_trip("l1std", {"Span=8", "L2Ptr=0xfff000"}, 1).field("L2Ptr") == 0xff'f000);
  CHECK(round_trip("l1cd", {"V=1", "L2Ptr=4096"}, 1).field("L2Ptr") == 4096);

  const decoded c = round_trip("cmd", {"CMD_CFGI_STE", "StreamID=0x10", "Leaf=1"}, 2);
  CHECK(c.name == "CMD_CFGI_STE");
  CHECK(c.field("Opcode") == 3);
  CHECK(c.field("StreamID") == 0x10);
  const decoded all = round_trip("cmd", {"CMD_CFGI_ALL", "SSec=1"}, 2);
  CHECK(all.name == "CMD_CFGI_ALL");
  CHECK(all.field("Range") == 31);
  CHECK(all.field("SSec") == 1);
  CHECK(round_trip("cmd", {"cfgi_all"}, 2).name == "CMD_CFGI_ALL");  // CMD_ optional, any case
  const decoded sync = round_trip("cmd", {"CMD_SYNC", "CS=1", "MSIAddress=0x8000f004"}, 2);
  CHECK(sync.name == "CMD_SYNC");
  CHECK(sync.field("MSIAddress") == 0x8000'f004);

  const decoded e =
      round_trip("event", {"F_TRANSLATION", "StreamID=0x10", "InputAddr=0x1234000"}, 4);
  CHECK(e.name == "F_TRANSLATION");
  CHECK(e.field("StreamID") == 0x10);
  CHECK(e.field("InputAddr") == 0x123'4000);

  // Encoding a register prints its value, as wide as the register.
  CHECK(run({"encode", "reg", "CR0", "SMMUEN=1", "CMDQEN=1"}).out == "0x00000009\n");
  CHECK(run({"encode", "reg", "STRTAB_BASE", "RA=1", "ADDR=0x12345640"}).out ==
        "0x4000000012345640\n");
  CHECK(run({"encode", "reg", "IDR0", "ST_LEVEL=1", "S1P=1"}).out == "0x08000002\n");  // RO too
  CHECK(decode({"reg", "CR0", "0x00000009"}).field("CMDQEN") == 1);
  CHECK(run({"encode", "ste"}).out ==
        "0x0000000000000000 0x0000000000000000 0x0000000000000000 0x0000000000000000 "
        "0x0000000000000000 0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
}

TEST_CASE("help and version") {
  for (const std::string_view h : {"--help", "-h", "help"}) {
    const ran r = run({h});
    CHECK(r.status == 0);
    CHECK(r.out.starts_with("usage: vsmmu decode"));
    CHECK(r.err.empty());
  }
  CHECK(run({"decode", "ste", "--help"}).out == vsmmu::cli::usage());
  const ran v = run({"--version"});
  CHECK(v.status == 0);
  CHECK(v.out == "vsmmu " VSMMU_EXPECTED_VERSION "\n");
}

TEST_CASE("bad usage: exit status 2 and one line") {
  check_error({}, 2, "vsmmu: missing command (try vsmmu --help)");
  check_error({"decod"}, 2, R"(vsmmu: unknown command "decod" (try vsmmu --help))");
  check_error({"decode"}, 2,
              "vsmmu: decode: missing structure (ste, cd, l1std, l1cd, cmd, event, reg)");
  check_error({"decode", "stee", "0"}, 2,
              R"(vsmmu: decode: unknown structure "stee" (expected one of ste, cd, l1std, )"
              "l1cd, cmd, event, reg)");
  check_error({"decode", "ste", "0", "0", "0", "0", "0", "0", "0"}, 2,
              "vsmmu: decode ste: expected 8 dwords, got 7");
  check_error({"decode", "l1std", "0", "0"}, 2, "vsmmu: decode l1std: expected 1 dword, got 2");
  check_error({"decode", "cmd", "0x3"}, 2, "vsmmu: decode cmd: expected 2 dwords, got 1");
  check_error({"decode", "event", "0x10"}, 2, "vsmmu: decode event: expected 4 dwords, got 1");
  check_error({"decode", "reg", "IDR0"}, 2,
              "vsmmu: decode reg: expected NAME VALUE, got 1 argument");
  check_error({"decode", "--json", "ste"}, 2, R"(vsmmu: decode: unknown option "--json")");
  check_error({"encode", "--text", "ste"}, 2, "vsmmu: encode: --text is an option of decode");
  check_error({"encode", "ste", "Config"}, 2,
              R"(vsmmu: encode ste: expected FIELD=VALUE, got "Config")");
  check_error({"encode", "cmd"}, 2, "vsmmu: encode cmd: missing command name (CMD_...)");
  check_error({"encode", "event"}, 2,
              "vsmmu: encode event: missing event name (e.g. F_TRANSLATION)");
  check_error({"encode", "reg"}, 2, "vsmmu: encode reg: missing register name");
}

TEST_CASE("bad data: exit status 1 and one line saying what and where") {
  check_error({"decode", "cmd", "0x1", "0xZZ"}, 1,
              R"(vsmmu: decode cmd: D1 "0xZZ": not a hex number)");
  check_error({"decode", "l1std", "0x12345678123456789"}, 1,
              R"(vsmmu: decode l1std: D0 "0x12345678123456789": more than 16 hex digits)");
  check_error({"decode", "l1std", ""}, 1,
              R"(vsmmu: decode l1std: D0 "": empty, expected a number)");
  check_error({"decode", "l1std", "-1"}, 1,
              R"(vsmmu: decode l1std: D0 "-1": negative numbers are not accepted)");
  check_error({"decode", "cmd", "0x09", "0"}, 1, "vsmmu: decode cmd: unknown opcode 0x09");
  check_error({"decode", "cmd", "0x8f", "0"}, 1, "vsmmu: decode cmd: unknown opcode 0x8f");
  check_error({"decode", "event", "0xff", "0", "0", "0"}, 1,
              "vsmmu: decode event: unknown event type 0xff");
  check_error({"decode", "reg", "IDR9", "0"}, 1,
              R"(vsmmu: decode reg: unknown register "IDR9" (did you mean "IDR0"?))");
  check_error({"decode", "reg", "CR0", "0x100000000"}, 1,
              R"(vsmmu: decode reg: VALUE "0x100000000": wider than the 32-bit register CR0)");
  check_error({"decode", "reg", "CR0", "12g"}, 1,
              R"(vsmmu: decode reg: VALUE "12g": not a hex number)");
  check_error({"encode", "ste", "Confg=5"}, 1,
              R"(vsmmu: encode ste: unknown field "Confg" (did you mean "Config"?))");
  check_error({"encode", "ste", "Config=9"}, 1, "vsmmu: encode ste: Config=9 does not fit 3 bits");
  check_error({"encode", "ste", "S1ContextPtr=0x80000020"}, 1,
              "vsmmu: encode ste: S1ContextPtr=0x80000020 does not fit address bits [55:6]");
  check_error({"encode", "ste", "Config=5", "Config=5"}, 1,
              R"(vsmmu: encode ste: duplicate field "Config")");
  check_error({"encode", "ste", "Config=-1"}, 1,
              R"(vsmmu: encode ste: Config "-1": negative numbers are not accepted)");
  check_error({"encode", "ste", "Config="}, 1,
              R"(vsmmu: encode ste: Config "": empty, expected a number)");
  check_error({"encode", "ste", "S2VMID=ff"}, 1,
              R"(vsmmu: encode ste: S2VMID "ff": not a number (decimal, or hex with 0x))");
  check_error({"encode", "cd", "HAD0=1", "DisCH0=0"}, 1,
              "vsmmu: encode cd: DisCH0=0 conflicts with HAD0=1: they share bits [65]");
  check_error(
      {"encode", "cmd", "CMD_CFGI_STEE"}, 1,
      R"(vsmmu: encode cmd: unknown command "CMD_CFGI_STEE" (did you mean "CMD_CFGI_STE"?))");
  check_error({"encode", "cmd", "CMD_CFGI_STE", "Opcode=4"}, 1,
              "vsmmu: encode cmd: bits [7:0] must stay 0x03 for CMD_CFGI_STE");
  check_error({"encode", "cmd", "CMD_CFGI_ALL", "Range=3"}, 1,
              "vsmmu: encode cmd: CMD_CFGI_ALL needs Range=31");
  check_error(
      {"encode", "event", "F_TRANSLATON"}, 1,
      R"(vsmmu: encode event: unknown event "F_TRANSLATON" (did you mean "F_TRANSLATION"?))");
  check_error({"encode", "reg", "CR0", "SMMUEN=2"}, 1,
              "vsmmu: encode reg: SMMUEN=2 does not fit 1 bit");
  // Whatever the user typed, the message stays on one line.
  check_error({"encode", "ste", "Con\nfig=1"}, 1,
              R"(vsmmu: encode ste: unknown field "Con\nfig" (did you mean "Config"?))");
}

TEST_CASE("random command lines never crash and always answer in one line") {
  const std::vector<std::string_view> pool{"decode",
                                           "encode",
                                           "ste",
                                           "cd",
                                           "l1std",
                                           "l1cd",
                                           "cmd",
                                           "event",
                                           "reg",
                                           "--text",
                                           "--x",
                                           "0",
                                           "0x",
                                           "0x1f",
                                           "ffffffffffffffffff",
                                           "-1",
                                           "",
                                           "IDR0",
                                           "CR0",
                                           "CMD_SYNC",
                                           "CMD_CFGI_ALL",
                                           "F_TRANSLATION",
                                           "V=1",
                                           "Config=9",
                                           "Range=31",
                                           "=",
                                           "X=1",
                                           "Opcode=0x46",
                                           "S1ContextPtr=64",
                                           "0x46",
                                           "0x10",
                                           "0x4",
                                           "\n",
                                           "\xff"};
  std::mt19937 random{12345};
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string_view> args;
    const auto n = std::uniform_int_distribution<std::size_t>{0, 10}(random);
    for (std::size_t k = 0; k < n; ++k) {
      args.push_back(pool[std::uniform_int_distribution<std::size_t>{0, pool.size() - 1}(random)]);
    }
    const ran r = run(args);
    INFO(i);
    REQUIRE((r.status == 0 || r.status == 1 || r.status == 2));
    if (r.status != 0) {
      REQUIRE(r.out.empty());
      REQUIRE(r.err.starts_with("vsmmu: "));
      REQUIRE(r.err.find('\n') == r.err.size() - 1);
    } else {
      REQUIRE(r.err.empty());
      REQUIRE_FALSE(r.out.empty());
    }
  }
}
