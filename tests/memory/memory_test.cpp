#include <catch2/catch.hpp>

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/memory/sparse.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace vm = vsmmu::memory;

static_assert(vm::guest_memory<vm::flat_memory<64>>);
static_assert(vm::guest_memory<vm::sparse_memory>);
static_assert(vm::readable_memory<const vm::flat_memory<64>>);

// Constant evaluation: little-endian words, unaligned access, bounds as aborts.
static_assert([] {
  vm::flat_memory<32> m(0x1000);
  if (m.write64(0x1008, 0x1122334455667788) != vm::access_status::ok) return false;
  // Byte 0x1008 is the least significant byte.
  std::array<std::byte, 2> b{};
  if (m.read_bytes(0x1008, b) != vm::access_status::ok) return false;
  if (b[0] != std::byte{0x88} || b[1] != std::byte{0x77}) return false;
  // Unaligned read straddling two words.
  if (m.read64(0x100c).value != 0x0000000011223344) return false;
  (void)m.write64(0x1011, 0xaabbccddeeff0011);
  if (m.read64(0x1010).value != 0xbbccddeeff001100) return false;
  return true;
}());

static_assert([] {
  const vm::flat_memory<16> m(0x2000);
  return !m.read64(0x1ff8).ok() &&               // below
         !m.read64(0x2009).ok() &&               // last byte outside
         m.read64(0x2008).ok() &&                // last word inside
         !m.read64(0xffff'ffff'ffff'fffc).ok();  // would wrap
}());

static_assert(vm::range_within(0, 0, 0, 0));
static_assert(!vm::range_within(0xfff0, 0x20, 0xfff0, 0x10));
static_assert(!vm::range_within(0xfff8, ~std::uint64_t{0}, 0xfff0, 0x10));

TEST_CASE("flat_memory: an abort writes nothing", "[memory]") {
  vm::flat_memory<16> m(0x100);
  const std::array<std::byte, 4> in{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  CHECK(m.write_bytes(0x10e, in) == vm::access_status::external_abort);
  CHECK(m.read64(0x108).value == 0);
  CHECK(m.write_bytes(0x10c, in) == vm::access_status::ok);
  CHECK(m.read64(0x108).value == 0x0403020100000000);
}

TEST_CASE("sparse_memory: pages, holes and page-crossing accesses", "[memory]") {
  vm::sparse_memory m;
  CHECK_FALSE(m.read64(0x1000).ok());
  CHECK(m.write64(0x1000, 1) == vm::access_status::external_abort);

  m.map(0x8000'0000'0000, 0x2000);  // two pages far up
  CHECK(m.page_count() == 2);
  CHECK(m.write64(0x8000'0000'0ffc, 0x0102030405060708) == vm::access_status::ok);
  CHECK(m.read64(0x8000'0000'0ffc).value == 0x0102030405060708);
  CHECK(m.read64(0x8000'0000'1000).value == 0x01020304);

  // Accesses touching an unmapped page abort as a whole and write nothing.
  CHECK_FALSE(m.read64(0x8000'0000'1ffc).ok());
  CHECK(m.write64(0x8000'0000'1ffc, ~0ULL) == vm::access_status::external_abort);
  CHECK(m.read64(0x8000'0000'1ff8).value == 0);

  m.unmap(0x8000'0000'1000, 1);
  CHECK(m.page_count() == 1);
  CHECK_FALSE(m.read64(0x8000'0000'1000).ok());
  CHECK(m.read64(0x8000'0000'0ff8).ok());

  // The top of the address space: no wrap.
  m.map(0xffff'ffff'ffff'f000, 0x1000);
  CHECK(m.read64(0xffff'ffff'ffff'fff8).ok());
  CHECK_FALSE(m.read64(0xffff'ffff'ffff'fffc).ok());
}
