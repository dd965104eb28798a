#include <catch2/catch.hpp>

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/for_each_field.hpp>
#include <vsmmu/layout/value.hpp>

#include <string>
#include <vector>

namespace vl = vsmmu::layout;

namespace sample {
using vl::address;
using vl::bits;
using vl::dw;
using vl::field;
using vl::w32;
using enum vl::access;

enum class mode : std::uint8_t { off = 0, on = 5 };

struct Valid final : field<"Valid", bits<0, 0>, bool> {};
struct Mode final : field<"Mode", bits<3, 1>, mode> {};
struct Ptr final : field<"Ptr", bits<55, 6>, address> {};
struct Straddle final : field<"Straddle", bits<70, 60>> {};  // crosses dword 0/1
struct Table final : field<"Table", dw<3, 51, 4>, address> {};
struct Id final : field<"Id", bits<511, 448>> {};  // a whole 64-bit dword
struct ReadOnly final : field<"ReadOnly", bits<100, 96>, std::uint8_t, ro> {};
struct Res final : vl::reserved_bits<bits<59, 56>> {};
using layout = vl::layout<"Sample", 512, std::uint64_t, Valid, Mode, Ptr, Straddle, Table, Id,
                          ReadOnly, Res>;

// A 32-bit-word layout with a field crossing three words.
struct Wide final : field<"Wide", w32<0, 31, 31>> {};
struct Long final : field<"Long", bits<95, 32>> {};
struct Mid final : field<"Mid", bits<30, 1>> {};
using layout32 = vl::layout<"Sample32", 128, std::uint32_t, Wide, Long, Mid>;
}  // namespace sample

using sample_value = vl::value<sample::layout>;

TEST_CASE("fields read back what was set, at the positions declared") {
  sample_value v;
  v.set<sample::Valid>(true)
      .set<sample::Mode>(sample::mode::on)
      .set<sample::Ptr>(0x00ab'cdef'0123'4540ULL)
      .set<sample::Straddle>(0x5a5)
      .set<sample::Table>(0x000f'ffff'ffff'fff0ULL)
      .set<sample::Id>(0xfedc'ba98'7654'3210ULL);
  CHECK(v.get<sample::Valid>());
  CHECK(v.get<sample::Mode>() == sample::mode::on);
  CHECK(v.get<sample::Ptr>() == 0x00ab'cdef'0123'4540ULL);
  CHECK(v.get<sample::Straddle>() == 0x5a5);
  CHECK(v.get<sample::Table>() == 0x000f'ffff'ffff'fff0ULL);
  CHECK(v.get<sample::Id>() == 0xfedc'ba98'7654'3210ULL);
  // Positions: Valid bit 0, Mode [3:1] = 5, Ptr in place in dword 0, Straddle low 4 bits in
  // dword 0 [63:60] and the rest in dword 1 [6:0].
  CHECK(v.word(0) == (0x1ULL | (5ULL << 1) | 0x00ab'cdef'0123'4540ULL | (0x5ULL << 60)));
  CHECK(v.word(1) == (0x5a5ULL >> 4));
  CHECK(v.word(3) == 0x000f'ffff'ffff'fff0ULL);
  CHECK(v.word(7) == 0xfedc'ba98'7654'3210ULL);
}

TEST_CASE("runtime set drops bits outside the field; fits() says so first") {
  sample_value v;
  CHECK_FALSE(sample::Ptr::fits(0x1001));  // bits below [6] are not part of the address field
  CHECK(sample::Ptr::fits(0x1040));
  v.set<sample::Ptr>(0x1001);
  CHECK(v.get<sample::Ptr>() == 0x1000);
  CHECK(v.word(0) == 0x1000);
  CHECK_FALSE(sample::Straddle::fits(0x800));
  v.set<sample::Straddle>(0xfff);
  CHECK(v.get<sample::Straddle>() == 0x7ff);
  CHECK(v.get<sample::Mode>() == sample::mode::off);  // neighbours untouched
}

TEST_CASE("init writes read-only fields; set refuses them at compile time") {
  sample_value v;
  v.init<sample::ReadOnly>(0x1f);
  CHECK(v.get<sample::ReadOnly>() == 0x1f);
  CHECK(v.word(1) == (0x1fULL << 32));
}

TEST_CASE("constexpr use: layouts work in constant evaluation") {
  constexpr auto v = [] {
    sample_value x;
    x.set<sample::Mode, sample::mode::on>();
    x.set<sample::Straddle, 0x7ff>();
    return x;
  }();
  STATIC_REQUIRE(v.get<sample::Mode>() == sample::mode::on);
  STATIC_REQUIRE(v.get<sample::Straddle>() == 0x7ff);
  STATIC_REQUIRE(vl::encode(vl::decode(v)) == v);
}

TEST_CASE("views read and write little-endian bytes in place") {
  std::array<std::byte, 64> bytes{};
  bytes[0] = std::byte{0x0b};  // Valid = 1, Mode = 5
  bytes[56] = std::byte{0x10};  // Id low byte
  bytes[63] = std::byte{0x80};  // Id high byte
  vl::view<sample::layout> view(bytes);
  CHECK(view.get<sample::Valid>());
  CHECK(view.get<sample::Mode>() == sample::mode::on);
  CHECK(view.get<sample::Id>() == 0x8000'0000'0000'0010ULL);

  vl::mutable_view<sample::layout> mut(bytes);
  mut.set<sample::Straddle>(0x7ff);
  CHECK(bytes[7] == std::byte{0xf0});
  CHECK(bytes[8] == std::byte{0x7f});
  CHECK(bytes[0] == std::byte{0x0b});
  CHECK(view.copy().get<sample::Straddle>() == 0x7ff);
  CHECK(view.copy().bytes() == bytes);
}

TEST_CASE("32-bit word layouts: a field may cross three words") {
  vl::value<sample::layout32> v;
  v.set<sample::Wide>(1).set<sample::Long>(0x8000'0000'0000'0001ULL).set<sample::Mid>(0x3fff'ffff);
  CHECK(v.word(0) == 0xffff'fffeU);
  CHECK(v.word(1) == 0x0000'0001U);
  CHECK(v.word(2) == 0x8000'0000U);
  CHECK(v.get<sample::Long>() == 0x8000'0000'0000'0001ULL);
  auto bytes = v.bytes();
  CHECK(bytes[0] == std::byte{0xfe});
  CHECK(bytes[11] == std::byte{0x80});
  CHECK(vl::value<sample::layout32>::from_bytes(bytes) == v);
}

TEST_CASE("decode to a value struct and encode back") {
  sample_value v;
  v.set<sample::Mode>(sample::mode::on).set<sample::Ptr>(0x40).init<sample::ReadOnly>(3);
  auto d = vl::decode(v);
  CHECK(d.get<sample::Mode>() == sample::mode::on);
  CHECK(d.get<sample::Ptr>() == 0x40);
  CHECK(d.get<sample::ReadOnly>() == 3);
  d.get<sample::Valid>() = true;
  auto e = vl::encode(d);
  CHECK(e.get<sample::Valid>());
  CHECK(e.with<sample::Valid>(false) == v);
}

TEST_CASE("undeclared bits are reported") {
  sample_value v;
  CHECK(v.undeclared_bits_clear());
  v.words()[2] = 1;  // dword 2 bit 0 = bit 128, declared by no field
  CHECK_FALSE(v.undeclared_bits_clear());
  v.words()[2] = 0;
  v.words()[0] = 1ULL << 57;  // inside the declared RES0 range: declared, so not "undeclared"
  CHECK(v.undeclared_bits_clear());
}

TEST_CASE("field iteration (Hana) visits every field in order") {
  std::vector<std::string> names;
  vl::for_each_field<sample::layout>(
      [&](auto t) { names.emplace_back(decltype(t)::type::name); });
  CHECK(names == std::vector<std::string>{"Valid", "Mode", "Ptr", "Straddle", "Table", "Id",
                                          "ReadOnly", "RES0"});
}

TEST_CASE("run-time field access agrees with the typed accessors") {
  sample_value v;
  v.set<sample::Ptr>(0xabc0).set<sample::Straddle>(0x3c3).set<sample::Table>(0x1230);
  const auto bytes = v.bytes();
  constexpr auto info = vl::info_of_layout<sample::layout>();
  STATIC_REQUIRE(info.byte_count() == 64);
  const auto* ptr = info.find("Ptr");
  REQUIRE(ptr != nullptr);
  CHECK(vl::read_value(*ptr, bytes) == 0xabc0);
  CHECK(vl::read_raw(*ptr, bytes) == 0xabc0 >> 6);
  CHECK(vl::read_value(*info.find("Straddle"), bytes) == 0x3c3);
  CHECK(vl::read_value(*info.find("Table"), bytes) == 0x1230);
  CHECK(info.find("RES0") == nullptr);
  CHECK(info.find("Nope") == nullptr);

  std::array<std::byte, 64> out{};
  CHECK(vl::write_value(*ptr, out, 0xabc0));
  CHECK_FALSE(vl::write_value(*ptr, out, 0xabc1));  // not aligned to the field
  CHECK_FALSE(vl::write_value(*info.find("Mode"), out, 8));  // too wide for 3 bits
  CHECK(vl::write_value(*info.find("Straddle"), out, 0x3c3));
  CHECK(vl::write_value(*info.find("Table"), out, 0x1230));
  CHECK(sample_value::from_bytes(out) == v);
}

namespace alias_sample {
using vl::bits;
using vl::field;
// CMD_CFGI_ALL is CMD_CFGI_STE_RANGE with Range = 31: one field may be declared an alias.
struct Range final : field<"Range", bits<36, 32>> {};
struct RangeAll final : field<"RangeAll", bits<36, 32>, std::uint64_t, vl::access::rw, true> {};
using layout = vl::layout<"CMD", 128, std::uint64_t, Range, RangeAll>;
}  // namespace alias_sample

TEST_CASE("an alias may overlap the field it aliases") {
  STATIC_REQUIRE(alias_sample::layout::well_formed);
  vl::value<alias_sample::layout> v;
  v.set<alias_sample::RangeAll>(31);
  CHECK(v.get<alias_sample::Range>() == 31);
  CHECK(v.word(0) == (31ULL << 32));
}

TEST_CASE("ranges left undeclared on purpose (IMPLEMENTATION DEFINED) can be allowed") {
  // dword 2 is declared by no field of the sample layout.
  constexpr vl::word_mask<sample::layout> impdef{0, 0, 0xff, 0, 0, 0, 0, 0};
  STATIC_REQUIRE(vl::outside_declared_fields<sample::layout>(impdef));
  STATIC_REQUIRE_FALSE(
      vl::outside_declared_fields<sample::layout>({1, 0, 0, 0, 0, 0, 0, 0}));  // Valid's bit
  sample_value v;
  v.words()[2] = 0x80;
  CHECK_FALSE(vl::undeclared_bits_clear(v));
  CHECK(vl::undeclared_bits_clear(v, impdef));
  const auto bytes = v.bytes();
  CHECK(vl::undeclared_bits_clear(vl::view<sample::layout>(bytes), impdef));
  v.words()[2] = 0x100;  // outside the allowed range too
  CHECK_FALSE(vl::undeclared_bits_clear(v, impdef));
}
