#include "structure.hpp"

#include <catch2/catch.hpp>

#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/layout.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cli = vsmmu::cli;
namespace vl = vsmmu::layout;

// Small layouts of our own, so that the printer and the encoder are tested apart from the
// SMMUv3 catalogues (cli_test.cpp covers those).
namespace sample {
using vl::address;
using vl::bits;
using vl::field;
using enum vl::access;

struct En final : field<"En", bits<0, 0>, bool> {};
struct Mode final : field<"Mode", bits<3, 1>, std::uint8_t> {};
struct Res0 final : vl::reserved_bits<bits<5, 4>> {};
struct Ptr final : field<"Ptr", bits<55, 6>, address> {};
struct Res1 final : vl::reserved_bits<bits<57, 56>, res1> {};
// bits [59:58] undeclared
struct Wide final : field<"Wide", bits<63, 60>, std::uint8_t, rw, true> {};
struct Narrow final : field<"Narrow", bits<61, 60>, std::uint8_t, rw, true> {};
using layout = vl::layout<"Sample", 64, std::uint64_t, En, Mode, Res0, Ptr, Res1, Wide, Narrow>;

struct Lo final : field<"Lo", bits<15, 0>, std::uint16_t, ro> {};
struct Hi final : field<"Hi", bits<95, 64>, std::uint32_t> {};  // crosses into word 2
using layout3 = vl::layout<"Three", 128, std::uint32_t, Lo, Hi>;
}  // namespace sample

namespace {

const vl::layout_info info = vl::info_of_layout<sample::layout>();
const vl::layout_info info3 = vl::info_of_layout<sample::layout3>();

std::vector<std::byte> bytes_of(std::uint64_t d0) {
  const std::array<std::uint64_t, 1> d{d0};
  return cli::bytes_of_dwords(d);
}

std::uint64_t encode(std::vector<std::string_view> assignments) {
  auto bytes = cli::blank(info);
  const auto error = cli::apply_assignments(info, assignments, bytes);
  INFO((error ? error->message : std::string{}));
  REQUIRE_FALSE(error);
  return cli::value_of_bytes(bytes);
}

std::string encode_error(std::vector<std::string_view> assignments,
                         cli::status expected = cli::status::bad_data) {
  auto bytes = cli::blank(info);
  const auto error = cli::apply_assignments(info, assignments, bytes);
  REQUIRE(error);
  CHECK(error->code == expected);
  return error->message;
}

}  // namespace

TEST_CASE("dwords are little-endian, D0 first") {
  const std::array<std::uint64_t, 2> d{0x0807'0605'0403'0201ULL, 0x1011'1213'1415'1617ULL};
  const auto bytes = cli::bytes_of_dwords(d);
  REQUIRE(bytes.size() == 16);
  CHECK(std::to_integer<int>(bytes[0]) == 0x01);
  CHECK(std::to_integer<int>(bytes[7]) == 0x08);
  CHECK(std::to_integer<int>(bytes[8]) == 0x17);
  CHECK(cli::dwords_of_bytes(bytes) == std::vector<std::uint64_t>{d.begin(), d.end()});
  const auto reg = cli::bytes_of_value(0x1234'5678, 4);
  REQUIRE(reg.size() == 4);
  CHECK(std::to_integer<int>(reg[0]) == 0x78);
  CHECK(cli::value_of_bytes(reg) == 0x1234'5678);
}

TEST_CASE("JSON lists every named field in layout order, addresses in place") {
  // En=1, Mode=5, Ptr=0x12340 (in place: bits [55:6] of the address), Wide=0xd (Narrow=1).
  const auto bytes = bytes_of(0xd000'0000'0001'234bULL);
  CHECK(cli::to_json("k", "Sample", info, bytes) ==
        R"({"kind": "k", "name": "Sample", "fields": )"
        R"({"En": 1, "Mode": 5, "Ptr": 74560, "Wide": 13, "Narrow": 1}})");
  CHECK(cli::to_json("k", "Sample", info, bytes_of(0)) ==
        R"({"kind": "k", "name": "Sample", "fields": )"
        R"({"En": 0, "Mode": 0, "Ptr": 0, "Wide": 0, "Narrow": 0}})");
  CHECK(cli::to_json("k\"", "a\\b", info, bytes_of(0))
            .starts_with(R"({"kind": "k\"", "name": "a\\b", )"));
}

TEST_CASE("JSON flags RES0 and undeclared bits that are set, not RES1 bits") {
  const std::string flag = R"(, "reserved_nonzero": true})";
  CHECK(cli::to_json("k", "S", info, bytes_of(1ULL << 4)).ends_with(flag));   // RES0
  CHECK(cli::to_json("k", "S", info, bytes_of(1ULL << 59)).ends_with(flag));  // undeclared
  CHECK(
      cli::to_json("k", "S", info, bytes_of(3ULL << 56)).ends_with("}}"));  // RES1 as it should be
  CHECK(cli::to_json("k", "S", info, bytes_of(0)).ends_with("}}"));  // RES1 clear: not checked

  const std::array<std::uint64_t, 1> implementation_defined{1ULL << 59};
  CHECK(cli::to_json("k", "S", info, bytes_of(1ULL << 59), implementation_defined).ends_with("}}"));

  const auto spans = cli::reserved_bits_set(info, bytes_of((3ULL << 4) | (3ULL << 58)));
  REQUIRE(spans.size() == 2);
  CHECK((spans[0].msb == 5 && spans[0].lsb == 4));
  CHECK((spans[1].msb == 59 && spans[1].lsb == 58));
}

TEST_CASE("text: name, then one line per field with bit range and hex value") {
  CHECK(cli::to_text("Sample", info, bytes_of(0xd000'0000'0001'234bULL)) ==
        "Sample\n"
        "En      [0]      0x1\n"
        "Mode    [3:1]    0x5\n"
        "Ptr     [55:6]   0x12340\n"
        "Wide    [63:60]  0xd\n"
        "Narrow  [61:60]  0x1\n");
  CHECK(cli::to_text("Sample", info, bytes_of((1ULL << 4) | (3ULL << 58)))
            .ends_with("reserved bits set: [4] [59:58]\n"));
}

TEST_CASE("a field crossing 32-bit words reads whole") {
  const std::array<std::uint64_t, 2> d{0xabcd, 0x1234'5678};
  CHECK(cli::to_json("reg", "Three", info3, cli::bytes_of_dwords(d)) ==
        R"({"kind": "reg", "name": "Three", "fields": {"Lo": 43981, "Hi": 305419896}})");
}

TEST_CASE("encode writes fields, RES1 bits start as one") {
  CHECK(encode({}) == (3ULL << 56));
  CHECK(encode({"En=1", "Mode=5", "Ptr=0x12340"}) == ((3ULL << 56) | 0x1234bULL));
  CHECK(encode({"Mode=0x7"}) == ((3ULL << 56) | 0xe));
  // Aliases may both be given when they agree on their shared bits.
  CHECK(encode({"Wide=0xd", "Narrow=1"}) == ((3ULL << 56) | (0xdULL << 60)));
  // Read-only fields can be encoded too: building an ID register value is a use of encode.
  auto bytes = cli::blank(info3);
  const std::array<std::string_view, 2> a{"Lo=0xffff", "Hi=0x80000001"};
  REQUIRE_FALSE(cli::apply_assignments(info3, a, bytes));
  CHECK(cli::dwords_of_bytes(bytes) == std::vector<std::uint64_t>{0xffff, 0x8000'0001});
}

TEST_CASE("encode refuses what it cannot write faithfully") {
  CHECK(encode_error({"Mode=8"}) == "Mode=8 does not fit 3 bits");
  CHECK(encode_error({"En=2"}) == "En=2 does not fit 1 bit");
  CHECK(encode_error({"Ptr=0x12341"}) == "Ptr=0x12341 does not fit address bits [55:6]");
  CHECK(encode_error({"Ptr=0x100000000000000"}) ==
        "Ptr=0x100000000000000 does not fit address bits [55:6]");
  CHECK(encode_error({"Mode=1", "Mode=1"}) == R"(duplicate field "Mode")");
  CHECK(encode_error({"Mdoe=1"}) == R"(unknown field "Mdoe" (did you mean "Mode"?))");
  CHECK(encode_error({"mode=1"}) == R"(unknown field "mode" (did you mean "Mode"?))");
  CHECK(encode_error({"Zzzzzz=1"}) == R"(unknown field "Zzzzzz")");
  CHECK(encode_error({"RES0=1"}) == R"(unknown field "RES0")");  // reserved bits have no name
  CHECK(encode_error({"Mode=x"}) == R"(Mode "x": not a number (decimal, or hex with 0x))");
  CHECK(encode_error({"Wide=0xf", "Narrow=1"}) ==
        "Narrow=1 conflicts with Wide=0xf: they share bits [61:60]");
  CHECK(encode_error({"Mode"}, cli::status::usage) == R"(expected FIELD=VALUE, got "Mode")");
  CHECK(encode_error({"=1"}, cli::status::usage) == R"(expected FIELD=VALUE, got "=1")");
}

TEST_CASE("closest_name suggests only near misses") {
  const std::array<std::string_view, 3> names{"Config", "S1ContextPtr", "V"};
  CHECK(cli::closest_name("Confg", names) == "Config");
  CHECK(cli::closest_name("CONFIG", names) == "Config");
  CHECK(cli::closest_name("S1ContxtPtr", names) == "S1ContextPtr");
  CHECK(cli::closest_name("X", names).empty());  // one edit from "V", but as long as the typo
  CHECK(cli::closest_name("Cfg", names).empty());
  CHECK(cli::bit_range(0, 0) == "[0]");
  CHECK(cli::bit_range(55, 6) == "[55:6]");
}
