#include <catch2/catch.hpp>

#include <vsmmu/pcie/lspci_dump.hpp>
#include <vsmmu/pcie/pasid_synthesis.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>

#include "pcie/fixtures.hpp"
#include <unistd.h>

namespace {

using namespace vsmmu::pcie;

// A temporary file removed at the end of the test.
class temp_file {
 public:
  explicit temp_file(const std::string& contents) {
    char name[] = "/tmp/vsmmu-pcie-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() { std::remove(path_.c_str()); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct command_output {
  int status;
  std::string out;
};

command_output run(const std::string& command) {
  command_output r{-1, {}};
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) r.out.append(buffer, n);
  r.status = ::pclose(p);
  return r;
}

constexpr const char* lspci = "/usr/bin/lspci";

bool have_lspci() { return ::access(lspci, X_OK) == 0; }

std::string hex3(unsigned v) {
  std::ostringstream s;
  s << std::hex << std::setw(3) << std::setfill('0') << v;
  return s.str();
}

}  // namespace

TEST_CASE("lspci -xxxx dumps: write and read back") {
  const config_model m = pcie_test::nic();
  const std::string text = format_lspci_dump(m.config);
  CHECK(text.rfind(std::string{default_dump_header} + "\n00: 86 80 72 15 ", 0) == 0);
  CHECK(text.find("\n100: 01 00 02 14 ") != std::string::npos);
  CHECK(text.find("\nff0: ") != std::string::npos);
  const dump_parse_result r = parse_lspci_dump(text);
  REQUIRE(r.ok());
  CHECK(r.bytes == m.config);
  CHECK(r.bytes_given == 4096);
  CHECK(r.header == default_dump_header);
}

TEST_CASE("lspci dumps: shorter dumps, several devices, CRLF, no device line") {
  const config_model m = pcie_test::nic();
  SECTION("256 bytes: the extended space reads as absent") {
    const std::string text = format_lspci_dump(m.config, "0000:3b:00.1 x", 256);
    const dump_parse_result r = parse_lspci_dump(text);  // r.header points into text
    REQUIRE(r.ok());
    CHECK(r.bytes_given == 256);
    CHECK(r.header == "0000:3b:00.1 x");
    CHECK(load32(r.bytes, 0x100) == 0xFFFF'FFFFu);
    CHECK(walk_ext_caps(r.bytes).end == walk_end::no_extended_space);
  }
  SECTION("only the first device is read") {
    std::string text = format_lspci_dump(m.config, "00:01.0 first", 64);
    text += format_lspci_dump(m.config, "00:02.0 second", 64);
    const dump_parse_result r = parse_lspci_dump(text);
    REQUIRE(r.ok());
    CHECK(r.bytes_given == 64);
    CHECK(r.header == "00:01.0 first");
  }
  SECTION("CRLF line ends and no device line") {
    std::string text = "00: 86 80 72 15 00 00 10 00 01 00 00 02 00 00 00 00\r\n";
    const dump_parse_result r = parse_lspci_dump(text);
    REQUIRE(r.ok());
    CHECK(r.header.empty());
    CHECK(load32(r.bytes, 0) == 0x1572'8086u);
  }
}

TEST_CASE("malformed lspci dumps are refused with the line") {
  const std::string good = "00:00.0 x\n00: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n";
  CHECK(parse_lspci_dump(good).ok());
  CHECK(parse_lspci_dump("").error == dump_error::no_data);
  CHECK(parse_lspci_dump("00:00.0 only a device line\n").error == dump_error::no_data);
  CHECK(parse_lspci_dump("hello\n").error == dump_error::bad_header);
  const dump_parse_result short_line = parse_lspci_dump("00:00.0 x\n00: 00 01 02\n");
  CHECK(short_line.error == dump_error::bad_line);
  CHECK(short_line.line == 2);
  CHECK(parse_lspci_dump(good + "10: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e zz\n").error ==
        dump_error::bad_line);
  CHECK(parse_lspci_dump(good + "20: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n").error ==
        dump_error::bad_offset);
  CHECK(
      parse_lspci_dump("00:00.0 x\n10: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n").error ==
      dump_error::bad_offset);
  // 4096 bytes and one more line.
  std::string full = format_lspci_dump(pcie_test::nic().config);
  full.pop_back();  // the blank line ending the device
  full += "ff0: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n";
  CHECK(parse_lspci_dump(full).error == dump_error::too_long);
}

TEST_CASE("raw configuration space files") {
  const config_model m = pcie_test::nic();
  const dump_parse_result r = config_from_raw(m.config);
  REQUIRE(r.ok());
  CHECK(r.bytes == m.config);
  const dump_parse_result part = config_from_raw(std::span<const std::byte>{m.config}.first(256));
  REQUIRE(part.ok());
  CHECK(load32(part.bytes, 0x100) == 0xFFFF'FFFFu);
  CHECK(config_from_raw({}).error == dump_error::no_data);
  std::array<std::byte, 4097> too_big{};
  CHECK(config_from_raw(too_big).error == dump_error::too_long);
}

TEST_CASE("lspci decodes a synthesized PASID capability and every original capability") {
  if (!have_lspci()) {
    WARN("SKIPPED: " << lspci << " is not installed (Debian package pciutils)");
    return;
  }
  config_model m = pcie_test::nic();
  pasid_synthesis_request req;
  req.ssidsize = 16;
  req.host = {20, true, false};
  req.offset = 0x1EC;  // an odd offset, between LTR at 1E4h and L1 PM Substates at 2A4h
  const pasid_synthesis_result r = synthesize_pasid(m, req);
  REQUIRE(r.ok());
  const temp_file dump(format_lspci_dump(m.config, "00:00.0 Ethernet controller: vsmmu test"));
  const command_output decoded =
      run(std::string{lspci} + " -F " + dump.path() + " -vvv 2>/dev/null");
  REQUIRE(decoded.status == 0);
  INFO(decoded.out);
  // lspci prints the width in hex: 16 is "10".
  CHECK(decoded.out.find("Capabilities: [1ec v1] Process Address Space ID (PASID)\n") !=
        std::string::npos);
  CHECK(decoded.out.find("PASIDCap: Exec+ Priv-, Max PASID Width: 10\n") != std::string::npos);
  CHECK(decoded.out.find("PASIDCtl: Enable- Exec- Priv-\n") != std::string::npos);
  for (const auto& c : pcie_test::nic_caps) {
    const std::string at =
        "Capabilities: [" + hex3(c.offset) + " v" + std::to_string(c.version) + "] ";
    // lspci 3.9 names the IDs up to 2Fh; above, it prints the number.
    std::ostringstream unnamed;
    unnamed << "Extended Capability ID 0x" << std::hex << static_cast<unsigned>(c.id);
    INFO("capability " << at);
    CHECK((decoded.out.find(at + std::string{name(c.id)}) != std::string::npos ||
           decoded.out.find(at + unnamed.str()) != std::string::npos));
  }
  // lspci's own dump of what it read is ours, byte for byte.
  const command_output hex = run(std::string{lspci} + " -F " + dump.path() + " -xxxx 2>/dev/null");
  REQUIRE(hex.status == 0);
  const dump_parse_result back = parse_lspci_dump(hex.out);
  REQUIRE(back.ok());
  CHECK(back.bytes == m.config);
}
