#include <catch2/catch.hpp>

#include <vsmmu/pcie/lspci_dump.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "pcie/fixtures.hpp"
#include <unistd.h>

// `vsmmu pcie ...` through run(), on configuration spaces written to temporary files.

namespace {

using namespace vsmmu::pcie;

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

class temp_file {
 public:
  explicit temp_file(const std::string& contents) {
    char name[] = "/tmp/vsmmu-cli-pcie-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() { std::remove(path_.c_str()); }
  [[nodiscard]] std::string_view path() const { return path_; }

 private:
  std::string path_;
};

std::string raw_bytes(const config_model& m) {
  return {reinterpret_cast<const char*>(m.config.data()), m.config.size()};
}

// A one-line error: "vsmmu: <context>: ..." and nothing on stdout.
void check_failure(const ran& r, int status, std::string_view prefix) {
  CHECK(r.status == status);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with(prefix));
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

}  // namespace

TEST_CASE("vsmmu pcie show: the list as JSON, from a dump or raw bytes") {
  const config_model m = pcie_test::device_with(
      {{0x100, ext_cap_id::aer, 2, 0x38}, {0x14C, ext_cap_id::ltr, 1, 0x08}});
  const std::string want =
      "{\"capabilities\": ["
      "{\"offset\": 256, \"id\": 1, \"version\": 2, \"next\": 332, "
      "\"name\": \"Advanced Error Reporting\", \"size\": 56}, "
      "{\"offset\": 332, \"id\": 24, \"version\": 1, \"next\": 0, "
      "\"name\": \"Latency Tolerance Reporting\", \"size\": 8}], \"end\": \"end_of_list\"}\n";
  const temp_file text(format_lspci_dump(m.config));
  const ran r = run({"pcie", "show", text.path()});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == want);
  const temp_file raw(raw_bytes(m));
  CHECK(run({"pcie", "show", raw.path()}).out == want);
}

TEST_CASE("vsmmu pcie show reports a broken list without failing") {
  config_model m = pcie_test::device_with({});
  pcie_test::put32(m, 0x100, ext_cap::make_header(ext_cap_id::aer, 1, 0x103));  // itself
  const temp_file f(format_lspci_dump(m.config));
  const ran r = run({"pcie", "show", f.path()});
  CHECK(r.status == 0);
  CHECK(r.out ==
        "{\"capabilities\": [{\"offset\": 256, \"id\": 1, \"version\": 1, \"next\": 256, \"name\": "
        "\"Advanced Error Reporting\", \"size\": 56}], \"end\": \"loop\", \"end_offset\": 256, "
        "\"reserved_next_bits\": true}\n");
  // An unnamed ID and a size that is not known.
  m = pcie_test::device_with({{0x100, static_cast<ext_cap_id>(0x7777), 1, 4}});
  const temp_file g(format_lspci_dump(m.config));
  CHECK(run({"pcie", "show", g.path()}).out ==
        "{\"capabilities\": [{\"offset\": 256, \"id\": 30583, \"version\": 1, \"next\": 0, "
        "\"name\": \"\", \"size\": null}], \"end\": \"end_of_list\"}\n");
}

TEST_CASE("vsmmu pcie insert prints the new dump") {
  const config_model m = pcie_test::nic();
  const temp_file f(format_lspci_dump(m.config, "3b:00.0 Ethernet controller: test"));
  const ran r = run({"pcie", "insert", f.path(), "--id", "0x13", "--version", "1", "--offset",
                     "0x1ec", "--size", "16"});
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out.starts_with("3b:00.0 Ethernet controller: test\n00: 86 80 72 15"));
  const dump_parse_result back = parse_lspci_dump(r.out);
  REQUIRE(back.ok());
  CHECK(find_ext_cap(back.bytes, ext_cap_id::pri)->offset == 0x1EC);
  CHECK(ext_cap::next_capability_offset(load32(back.bytes, 0x1E4)) == 0x1EC);
  CHECK(ext_cap::next_capability_offset(load32(back.bytes, 0x1EC)) == 0x2A4);
}

TEST_CASE("vsmmu pcie insert: a refusal names the capability in the way") {
  const temp_file f(format_lspci_dump(pcie_test::nic().config));
  const auto insert = [&](std::string_view offset, std::string_view size) {
    return run({"pcie", "insert", f.path(), "--id", "0x13", "--version", "1", "--offset", offset,
                "--size", size});
  };
  ran r = insert("0x1e8", "8");
  check_failure(r, 1, "vsmmu: pcie insert: ");
  CHECK(
      r.err ==
      "vsmmu: pcie insert: offset 0x1e8 size 0x8 overlaps Latency Tolerance Reporting (ID 0x0018) "
      "at 0x1e4\n");
  r = insert("0x29c", "16");
  CHECK(r.err ==
        "vsmmu: pcie insert: offset 0x29c size 0x10 overlaps the header of L1 PM Substates (ID "
        "0x001e) at 0x2a4\n");
  check_failure(insert("0x1ed", "8"), 1, "vsmmu: pcie insert: offset 0x1ed is not a multiple of 4");
  check_failure(insert("0xffc", "8"), 1, "vsmmu: pcie insert: offset 0xffc size 0x8 is not inside");
  check_failure(insert("0x1ec", "4"), 1, "vsmmu: pcie insert: size 0x4 is below 8");
  // --seed accepts the body overlap the strict rules refuse.
  CHECK(run({"pcie", "insert", f.path(), "--id", "0x13", "--version", "1", "--offset", "0x1e8",
             "--size", "8", "--seed"})
            .status == 0);
}

TEST_CASE("vsmmu pcie insert on a list that is not ascending") {
  const temp_file f(format_lspci_dump(pcie_test::unordered().config));
  const ran r = run({"pcie", "insert", f.path(), "--id", "0x1b", "--version", "1", "--offset",
                     "0x400", "--size", "8"});
  check_failure(r, 1, "vsmmu: pcie insert: the list is not ascending: ");
  CHECK(r.err.find("at 0x300 links to 0x150") != std::string::npos);
}

TEST_CASE("vsmmu pcie synth-pasid") {
  const config_model m = pcie_test::device_with({{0x100, ext_cap_id::aer, 2, 0x38},
                                                 {0x140, ext_cap_id::dsn, 1, 0x0C},
                                                 {0x150, ext_cap_id::ats, 1, 0x08}});
  const temp_file f(format_lspci_dump(m.config));
  SECTION("at the last 8 bytes by default, width min(W, SSIDSIZE)") {
    const ran r =
        run({"pcie", "synth-pasid", f.path(), "--width", "20", "--exec", "--ssidsize", "16"});
    REQUIRE(r.status == 0);
    const dump_parse_result back = parse_lspci_dump(r.out);
    REQUIRE(back.ok());
    CHECK(find_ext_cap(back.bytes, ext_cap_id::pasid)->offset == 0xFF8);
    CHECK(load16(back.bytes, 0xFFC) == 0x1002);
  }
  SECTION("at the user's offset, or where the gap finder says") {
    ran r = run({"pcie", "synth-pasid", f.path(), "--width", "8", "--priv", "--offset", "0x158"});
    REQUIRE(r.status == 0);
    CHECK(find_ext_cap(parse_lspci_dump(r.out).bytes, ext_cap_id::pasid)->offset == 0x158);
    r = run({"pcie", "synth-pasid", f.path(), "--width", "8", "--gap"});
    REQUIRE(r.status == 0);
    CHECK(find_ext_cap(parse_lspci_dump(r.out).bytes, ext_cap_id::pasid)->offset == 0xFF8);
  }
  SECTION("refusals") {
    ran r = run({"pcie", "synth-pasid", f.path(), "--width", "8", "--offset", "0x144"});
    check_failure(r, 1, "vsmmu: pcie synth-pasid: cannot place PASID at 0x144: ");
    CHECK(r.err.find("overlaps Device Serial Number (ID 0x0003) at 0x140") != std::string::npos);
    check_failure(run({"pcie", "synth-pasid", f.path(), "--width", "0"}), 1,
                  "vsmmu: pcie synth-pasid: --width 0");
    check_failure(run({"pcie", "synth-pasid", f.path(), "--width", "8", "--ssidsize", "0"}), 1,
                  "vsmmu: pcie synth-pasid: --ssidsize 0");
    check_failure(run({"pcie", "synth-pasid", f.path(), "--width", "21"}), 1,
                  "vsmmu: pcie synth-pasid: --width \"21\": larger than 0x14");
    const temp_file with_pasid(
        format_lspci_dump(pcie_test::device_with(
                              {{0x100, ext_cap_id::aer, 2, 0x38}, {0x200, ext_cap_id::pasid, 1, 8}})
                              .config));
    check_failure(run({"pcie", "synth-pasid", with_pasid.path(), "--width", "8"}), 1,
                  "vsmmu: pcie synth-pasid: the list already has a PASID capability at 0x200");
  }
}

TEST_CASE("vsmmu pcie: bad usage and bad files") {
  const temp_file f(format_lspci_dump(pcie_test::nic().config));
  check_failure(run({"pcie"}), 2, "vsmmu: pcie: missing subcommand");
  check_failure(run({"pcie", "list", f.path()}), 2, "vsmmu: pcie: unknown subcommand \"list\"");
  check_failure(run({"pcie", "show"}), 2, "vsmmu: pcie show: missing FILE");
  check_failure(run({"pcie", "show", f.path(), "extra"}), 2,
                "vsmmu: pcie show: unexpected argument \"extra\"");
  check_failure(run({"pcie", "show", f.path(), "--id", "1"}), 2,
                "vsmmu: pcie show: unknown option \"--id\"");
  check_failure(
      run({"pcie", "insert", f.path(), "--id", "1", "--version", "1", "--offset", "0x200"}), 2,
      "vsmmu: pcie insert: missing --size");
  check_failure(run({"pcie", "insert", f.path(), "--id"}), 2,
                "vsmmu: pcie insert: --id needs a value");
  check_failure(run({"pcie", "insert", f.path(), "--id", "1", "--id", "2"}), 2,
                "vsmmu: pcie insert: --id given twice");
  check_failure(
      run({"pcie", "synth-pasid", f.path(), "--width", "8", "--gap", "--offset", "0x200"}), 2,
      "vsmmu: pcie synth-pasid: --offset and --gap exclude each other");
  check_failure(run({"pcie", "insert", f.path(), "--id", "0x10000", "--version", "1", "--offset",
                     "0x200", "--size", "8"}),
                1, "vsmmu: pcie insert: --id \"0x10000\": larger than 0xffff");
  check_failure(run({"pcie", "insert", f.path(), "--id", "-1", "--version", "1", "--offset",
                     "0x200", "--size", "8"}),
                1, "vsmmu: pcie insert: --id \"-1\": negative");
  check_failure(run({"pcie", "show", "/nonexistent/vsmmu"}), 1,
                "vsmmu: pcie show: FILE \"/nonexistent/vsmmu\": cannot be opened");
  const temp_file text("00:00.0 x\n00: 00 01\n");
  check_failure(run({"pcie", "show", text.path()}), 1,
                "vsmmu: pcie show: FILE \"" + std::string{text.path()} + "\": line 2: ");
  const temp_file big(std::string(5000, '\0'));
  check_failure(run({"pcie", "show", big.path()}), 1, "vsmmu: pcie show: FILE ");
  CHECK(run({"pcie", "show", "--help"}).out == vsmmu::cli::usage());
  CHECK(vsmmu::cli::usage().find("vsmmu pcie synth-pasid FILE --width W") != std::string::npos);
}

TEST_CASE("the vsmmu pcie examples of docs/pcie.md are real output") {
  // "$ vsmmu pcie ..." lines of its sh blocks, run from the source tree; "..." in the shown
  // output stands for a part left out. Lines with a pipe are skipped.
  std::ifstream doc{VSMMU_SOURCE_DIR "/docs/pcie.md"};
  REQUIRE(doc);
  struct example {
    std::string command;
    int status = 0;
    std::string expected;
  };
  std::vector<example> examples;
  bool in_sh = false;
  std::string line;
  while (std::getline(doc, line)) {
    if (line.starts_with("```")) {
      in_sh = line == "```sh";
      continue;
    }
    if (!in_sh) continue;
    if (line.starts_with("$ vsmmu pcie ")) {
      example e;
      e.command = line.substr(8);
      if (const auto hash = e.command.find("   # status "); hash != std::string::npos) {
        e.status = std::stoi(e.command.substr(hash + 12));
        e.command.erase(hash);
      }
      while (e.command.ends_with(' ')) e.command.pop_back();
      examples.push_back(e);
    } else if (!examples.empty()) {
      examples.back().expected += line + "\n";
    }
  }
  int checked = 0;
  for (const example& e : examples) {
    if (e.command.find('|') != std::string::npos) continue;
    std::vector<std::string> owned;
    std::string_view rest = e.command;
    while (!rest.empty()) {
      const auto space = rest.find(' ');
      std::string word{rest.substr(0, space)};
      if (word.starts_with("tests/")) word = std::string{VSMMU_SOURCE_DIR} + "/" + word;
      owned.push_back(word);
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
    std::vector<std::string_view> args(owned.begin(), owned.end());
    const ran r = run(args);
    INFO(e.command);
    CHECK(r.status == e.status);
    const std::string& got = e.status == 0 ? r.out : r.err;
    const auto dots = e.expected.find(", ..., ");
    if (dots == std::string::npos) {
      CHECK(got == e.expected);
    } else {
      CHECK(got.starts_with(e.expected.substr(0, dots + 2)));
      CHECK(got.ends_with(e.expected.substr(dots + 7)));
    }
    ++checked;
  }
  CHECK(checked == 2);
}
