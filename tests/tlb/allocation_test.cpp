// After construction the IOTLB never allocates: lookups, inserts that evict and every
// invalidation run with a counting global operator new watching.
#include <catch2/catch.hpp>

#include <vsmmu/tlb/iotlb.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace {
std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};
}  // namespace

// Every non-aligned form is replaced, so that no allocation pairs one of ours with a library one.
// g++ -O2 inlines these and then warns that free() meets a pointer from operator new, which is
// what a malloc-based replacement is.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
void* counted_alloc(std::size_t n) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n != 0 ? n : 1);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

using namespace vsmmu::tlb;

TEST_CASE("no allocation after construction", "[tlb][alloc]") {
  constexpr std::uint32_t n = 1024;
  auto t = std::make_unique<iotlb<n>>();
  entry e;
  e.tag = context::stage1(1, 1);
  allocations = 0;
  counting = true;
  for (std::uint64_t i = 0; i < 4 * n; ++i) {  // fills, then evicts on every insert
    e.input = i << 12;
    e.tag.asid = static_cast<std::uint16_t>(i % 50);
    e.global = i % 97 == 0;
    e.size_shift = i % 8 == 0 ? 21 : 12;
    t->insert(e);
    (void)t->lookup(context::stage1(1, static_cast<std::uint16_t>(i % 50)), i << 12);
    (void)t->lookup(context::stage1(1, 3), 0x7000'0000'0000);
  }
  t->nh_va(1, 3, address_range{0, 0x100'0000});
  t->nh_vaa(1, address_range::single(0x40'0000));
  t->nh_asid(1, 4);
  t->s2_ipa(1, address_range::everything());
  t->nh_all(1);
  t->s12_vmall(1);
  t->nsnh_all();
  t->el2_all();
  t->invalidate_all();
  counting = false;
  CHECK(allocations == 0);
  CHECK(t->size() == 0);
}
