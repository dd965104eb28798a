// Properties, ID registers, host compatibility, admission and the PASID report of the
// accelerated vSMMU (seed patches 10, 11, 20, 21, 29-33, 37; "Test cases implied" 7-27, 56, 66).
#include <catch2/catch.hpp>

#include <vsmmu/accel/admission.hpp>
#include <vsmmu/accel/host_compat.hpp>
#include <vsmmu/accel/pasid_report.hpp>
#include <vsmmu/accel/properties.hpp>

#include <string>

namespace A = vsmmu::accel;
namespace R = vsmmu::smmuv3::regs;
using vsmmu::accel::on_off_auto;
using vsmmu::smmuv3::address_size;

namespace {

// A host SMMU that satisfies the seed's accelerated vSMMU, built from its ID registers.
A::iommufd::hw_info compatible_host() {
  A::iommufd::hw_info h;
  h.type = A::iommufd::hw_info_type::arm_smmuv3;
  const auto id =
      A::seed_id_registers().with<R::idr1::SSIDSIZE>(20).with<R::idr5::OAS>(address_size::bits48);
  h.idr = {id.idr0, id.idr1, id.idr2, id.idr3, id.idr4, id.idr5};
  h.aidr = 0x2;
  return h;
}

template <class F>
A::iommufd::hw_info host_with(typename F::value_type v) {
  A::iommufd::hw_info h = compatible_host();
  const auto id = A::host_id_registers(h).with<F>(v);
  h.idr = {id.idr0, id.idr1, id.idr2, id.idr3, id.idr4, id.idr5};
  return h;
}

vsmmu::smmuv3::id_registers vidr(A::resolved_properties p = {}) {
  return A::apply(p, A::seed_id_registers());
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("accel properties: the seed's validation matrix, first failure wins", "[accel]") {
  A::properties p;
  CHECK(A::validate(false, p) == A::property_error::none);
  CHECK(A::validate(true, p) == A::property_error::none);

  // Test 7: with accel off, ril is checked first.
  A::properties many;
  many.ril = on_off_auto::off;
  many.ats = on_off_auto::on;
  many.oas = {false, 48};
  many.ssidsize = {false, 1};
  CHECK(A::validate(false, many) == A::property_error::ril_without_accel);
  many.ril = on_off_auto::on;
  CHECK(A::validate(false, many) == A::property_error::ats_without_accel);
  many.ats = on_off_auto::off;
  CHECK(A::validate(false, many) == A::property_error::oas_without_accel);
  many.oas = {false, 44};
  CHECK(A::validate(false, many) == A::property_error::ssidsize_without_accel);
  CHECK(A::message(A::property_error::ril_without_accel) == "ril can only be disabled if accel=on");
  // `auto` is an accelerated-mode feature too.
  A::properties a;
  a.oas = {true, 0};
  CHECK(A::validate(false, a) == A::property_error::oas_without_accel);
  CHECK(A::validate(true, a) == A::property_error::none);

  // Test 9.
  A::properties on;
  on.oas = {false, 52};
  CHECK(A::validate(true, on) == A::property_error::oas_value);
  CHECK(A::message(A::property_error::oas_value) == "OAS can only be set to 44 or 48 bits");
  on.oas = {false, 48};
  on.ssidsize = {false, 21};
  CHECK(A::validate(true, on) == A::property_error::ssidsize_range);
  CHECK(A::message(A::property_error::ssidsize_range) == "ssidsize must be in the range 0 to 20");
  on.ssidsize = {false, 20};
  CHECK(A::validate(true, on) == A::property_error::none);
}

TEST_CASE("accel properties: ID registers (tests 13, 14) and vIOMMU flags (test 66)", "[accel]") {
  const auto id = vidr();
  CHECK_FALSE(id.get<R::idr0::ATS>());
  CHECK(id.get<R::idr1::SSIDSIZE>() == 0);
  CHECK(id.get<R::idr3::RIL>());
  CHECK(id.get<R::idr5::OAS>() == address_size::bits44);
  CHECK(id.aidr == 0x1);
  CHECK(id.get<R::idr0::S1P>());
  CHECK_FALSE(id.get<R::idr0::S2P>());
  CHECK(id.get<R::idr1::SIDSIZE>() == 16);

  A::resolved_properties p;
  p.ril = false;
  p.ats = true;
  p.oas_bits = 48;
  p.ssidsize = 16;
  const auto o = vidr(p);
  CHECK_FALSE(o.get<R::idr3::RIL>());
  CHECK((o.idr0 & (1U << 10)) != 0);
  CHECK((o.idr5 & 7U) == 5);
  CHECK(((o.idr1 >> 6) & 0x1f) == 16);

  CHECK(A::viommu_flags(A::resolved_properties{}) == 0x1);
  CHECK(A::viommu_flags(p) == 0x3);
}

TEST_CASE("accel host compat: data type and each rule (tests 16-26)", "[accel]") {
  const auto g = vidr();
  CHECK_FALSE(A::check_host_compat(g, compatible_host()));

  auto vtd = compatible_host();
  vtd.type = A::iommufd::hw_info_type::intel_vtd;
  const auto e16 = A::check_host_compat(g, vtd);
  REQUIRE(e16);
  CHECK(e16->field == A::compat_field::data_type);
  CHECK(contains(e16->message(), "Wrong data type (1)"));

  // Test 17.
  const auto e17 = A::check_host_compat(g, host_with<R::idr0::ST_LEVEL>(R::st_level::linear));
  REQUIRE(e17);
  CHECK(e17->field == A::compat_field::st_level);
  CHECK(e17->host == 0);
  CHECK(e17->vsmmu == 1);
  CHECK(contains(e17->message(), "host STLEVEL=0"));
  CHECK(contains(e17->message(), "vSMMU STLEVEL=1"));

  // Test 18: mixed and little pass, big-endian-only fails.
  CHECK_FALSE(A::check_host_compat(g, host_with<R::idr0::TTENDIAN>(R::ttendian::mixed)));
  CHECK_FALSE(A::check_host_compat(g, host_with<R::idr0::TTENDIAN>(R::ttendian::little)));
  const auto e18 = A::check_host_compat(g, host_with<R::idr0::TTENDIAN>(R::ttendian::big));
  REQUIRE(e18);
  CHECK(contains(e18->message(), "Little-endian"));

  // Test 19.
  CHECK(A::check_host_compat(g, host_with<R::idr0::TTF>(R::ttf::aarch32_lpae))->field ==
        A::compat_field::ttf);
  CHECK_FALSE(A::check_host_compat(g, host_with<R::idr0::TTF>(R::ttf::aarch64)));
  CHECK_FALSE(A::check_host_compat(g, host_with<R::idr0::TTF>(R::ttf::aarch32_lpae_and_aarch64)));

  // Test 20.
  const auto e20 = A::check_host_compat(g, host_with<R::idr1::SIDSIZE>(15));
  REQUIRE(e20);
  CHECK(e20->host == 15);
  CHECK(e20->vsmmu == 16);
  CHECK_FALSE(A::check_host_compat(g, host_with<R::idr1::SIDSIZE>(16)));
  CHECK_FALSE(A::check_host_compat(g, host_with<R::idr1::SIDSIZE>(32)));

  // Test 21.
  A::resolved_properties s20;
  s20.ssidsize = 20;
  CHECK(A::check_host_compat(vidr(s20), host_with<R::idr1::SSIDSIZE>(16))->field ==
        A::compat_field::ssidsize);
  A::resolved_properties s16;
  s16.ssidsize = 16;
  CHECK_FALSE(A::check_host_compat(vidr(s16), host_with<R::idr1::SSIDSIZE>(20)));
  CHECK_FALSE(A::check_host_compat(vidr(), host_with<R::idr1::SSIDSIZE>(0)));

  // Test 22.
  CHECK(A::check_host_compat(g, host_with<R::idr3::RIL>(false))->field == A::compat_field::ril);
  A::resolved_properties noril;
  noril.ril = false;
  CHECK_FALSE(A::check_host_compat(vidr(noril), host_with<R::idr3::RIL>(false)));
  CHECK_FALSE(A::check_host_compat(vidr(noril), host_with<R::idr3::RIL>(true)));

  // Test 23: OAS is read outside the uAPI's field list, and says so.
  A::resolved_properties o48;
  o48.oas_bits = 48;
  const auto e23 = A::check_host_compat(vidr(o48), host_with<R::idr5::OAS>(address_size::bits44));
  REQUIRE(e23);
  CHECK(e23->field == A::compat_field::oas);
  CHECK(A::outside_uapi(e23->field));
  CHECK(contains(e23->message(), "supports only 44-bit IPA, but the vSMMU OAS implies 48-bit IPA"));
  CHECK_FALSE(A::check_host_compat(vidr(), host_with<R::idr5::OAS>(address_size::bits48)));
  CHECK_FALSE(A::check_host_compat(vidr(o48), host_with<R::idr5::OAS>(address_size::bits52)));

  // Test 24: 4K first.
  CHECK(contains(A::check_host_compat(g, host_with<R::idr5::GRAN16K>(false))->message(),
                 "16K translation granule"));
  auto no4k16k = host_with<R::idr5::GRAN16K>(false);
  no4k16k.idr[5] &= ~(1U << 4);
  CHECK(A::check_host_compat(g, no4k16k)->field == A::compat_field::gran4k);

  // Test 25: AIDR is not compared.
  auto aidr0 = compatible_host();
  aidr0.aidr = 0;
  CHECK_FALSE(A::check_host_compat(g, aidr0));
  aidr0.aidr = 3;
  CHECK_FALSE(A::check_host_compat(g, aidr0));

  // Test 26: STLEVEL and OAS wrong, only STLEVEL reported.
  auto two = host_with<R::idr0::ST_LEVEL>(R::st_level::linear);
  two.idr[5] &= ~7U;
  CHECK(A::check_host_compat(vidr(o48), two)->field == A::compat_field::st_level);
}

TEST_CASE("accel properties: auto resolves from the host, defaults without one", "[accel]") {
  A::properties p;
  p.ril = on_off_auto::automatic;
  p.ats = on_off_auto::automatic;
  p.oas = {true, 0};
  p.ssidsize = {true, 0};
  CHECK_FALSE(p.fully_specified());
  CHECK(A::resolve_without_host(p) == A::resolved_properties{true, false, 44, 0});

  auto host = host_with<R::idr3::RIL>(false);
  host.idr[1] = (host.idr[1] & ~(0x1fU << 6)) | (16U << 6);
  const auto r = A::resolve_from_host(p, host, true);
  CHECK_FALSE(r.ril);
  CHECK(r.ats);  // old kernel: the Function's ATS capability decides
  CHECK(r.oas_bits == 48);
  CHECK(r.ssidsize == 16);
  // The resolved values pass the check against the host they came from.
  CHECK_FALSE(A::check_host_compat(vidr(r), host));

  host.capabilities |= A::hw_cap_pci_ats_not_supported;
  CHECK_FALSE(A::resolve_from_host(p, host, true).ats);
  const auto h44 = host_with<R::idr5::OAS>(address_size::bits42);
  CHECK(A::resolve_from_host(p, h44, false).oas_bits == 44);
}

TEST_CASE("accel ats: per-device policy (patch 31 thread)", "[accel]") {
  auto host = compatible_host();
  CHECK_FALSE(A::device_ats(on_off_auto::off, host, true).enabled);
  CHECK(A::device_ats(on_off_auto::on, host, false).enabled);
  CHECK(A::device_ats(on_off_auto::automatic, host, true).enabled);
  CHECK_FALSE(A::device_ats(on_off_auto::automatic, host, false).enabled);
  host.capabilities |= A::hw_cap_pci_ats_not_supported;
  CHECK(A::device_ats(on_off_auto::on, host, true).refused);
  CHECK_FALSE(A::device_ats(on_off_auto::automatic, host, true).enabled);
  CHECK_FALSE(A::device_ats(on_off_auto::automatic, host, true).refused);
}

TEST_CASE("accel admission: device kinds and the seed's messages (tests 10-12)", "[accel]") {
  using A::device_kind;
  CHECK(A::admit(device_kind::vfio_iommufd) == A::admission::accelerated);
  for (auto k : {device_kind::pci_bridge, device_kind::root_port, device_kind::switch_port,
                 device_kind::expander_bridge, device_kind::host_bridge_root}) {
    CHECK(A::admit(k) == A::admission::emulated_non_endpoint);
    CHECK(A::admitted(A::admit(k)));
  }
  CHECK_FALSE(A::admitted(A::admit(device_kind::vfio_legacy)));
  CHECK(A::message(A::admit(device_kind::vfio_legacy)) ==
        "vfio-pci endpoint devices without an iommufd backend not allowed when using "
        "arm-smmuv3,accel=on");
  CHECK(A::message(A::admit(device_kind::emulated_endpoint)) ==
        "Emulated endpoint devices are not allowed when using arm-smmuv3,accel=on");
}

TEST_CASE("accel pasid: host PASID info and the synthesis request (tests 56, 58, 59)", "[accel]") {
  auto host = compatible_host();
  host.max_pasid_log2 = 20;
  host.capabilities = 0x6;
  auto p = A::host_pasid(host);
  REQUIRE(p);
  CHECK(p->width == 20);
  CHECK(p->exec);
  CHECK(p->priv);
  host.capabilities = 0x2;
  p = A::host_pasid(host);
  CHECK(p->exec);
  CHECK_FALSE(p->priv);
  host.max_pasid_log2 = 0;
  CHECK_FALSE(A::host_pasid(host));

  A::pasid_report rep;
  rep.ssidsize = 20;
  rep.host = vsmmu::pcie::pasid_params{20, true, false};
  const auto req = rep.request();
  CHECK(req.ssidsize == 20);
  CHECK(req.host.width == 20);
  CHECK(req.host.exec);
  A::pasid_report none;
  none.ssidsize = 8;
  CHECK(none.request().host.width == 0);  // synthesis says host_without_pasid
}

TEST_CASE("accel host compat: strict mode adds the fields the seed leaves out", "[accel]") {
  const auto g = vidr();
  const auto no_asid16 = host_with<R::idr0::ASID16>(false);
  CHECK_FALSE(A::check_host_compat(g, no_asid16));
  const auto e = A::check_host_compat(g, no_asid16, true);
  REQUIRE(e);
  CHECK(e->field == A::compat_field::asid16);
  CHECK(contains(e->message(), "[strict check]"));
  CHECK(A::check_host_compat(g, host_with<R::idr3::BBML>(R::bbml::level0), true)->field ==
        A::compat_field::bbml);
  CHECK(A::check_host_compat(g, host_with<R::idr0::STALL_MODEL>(R::stall_model::stall_forced), true)
            ->field == A::compat_field::stall_model);
  CHECK_FALSE(A::check_host_compat(
      g, host_with<R::idr0::STALL_MODEL>(R::stall_model::stall_and_terminate), true));
  CHECK_FALSE(A::check_host_compat(g, host_with<R::idr0::TERM_MODEL>(false), true));
  CHECK_FALSE(A::check_host_compat(g, compatible_host(), true));
}
