// A simulated host for the accelerated vSMMU's tests: one or more physical SMMUs, devices bound
// to the iommufd and attached by "VFIO" to a nesting-parent stage 2 (one per physical SMMU, on a
// VM-wide IOAS), and a guest stream table.
#pragma once

#include <vsmmu/accel/accelerated_vsmmu.hpp>
#include <vsmmu/accel/iommufd/simulated_kernel.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/ste.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace accel_test {

namespace A = vsmmu::accel;
namespace K = vsmmu::accel::iommufd;
namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cmd;

using vsmmu_t = A::accelerated_vsmmu<K::simulated_kernel>;

struct host {
  K::simulated_kernel k;
  std::vector<std::size_t> smmus;
  K::object_id ioas = K::no_object;
  std::map<std::size_t, K::object_id> s2;  // per physical SMMU
  std::map<std::uint32_t, A::ste_words> stes;

  explicit host(K::kernel_behaviour b = {}, K::sim_smmu smmu = {}) : k(b) {
    smmus.push_back(k.add_smmu(smmu));
    ioas = *k.alloc_ioas();
  }

  // A device bound and attached to its SMMU's nesting parent, as VFIO leaves it.
  K::device_id add(std::uint32_t group, std::uint32_t psid, std::size_t smmu = 0,
                   bool ats = false) {
    K::sim_device d;
    d.smmu = smmus.at(smmu);
    d.group = group;
    d.stream_id = psid;
    d.ats = ats;
    d.pasid_width = 20;
    d.pasid_exec = true;
    const K::device_id dev = k.add_device(d);
    if (!s2.count(smmu)) s2[smmu] = *k.alloc_s2_hwpt(dev, ioas, K::hwpt_flag::nest_parent);
    (void)k.attach(dev, s2[smmu]);
    return dev;
  }

  A::device_desc desc(K::device_id dev, std::optional<std::uint32_t> sid, std::size_t smmu = 0,
                      std::uint32_t group = 0) {
    A::device_desc d;
    d.kind = A::device_kind::vfio_iommufd;
    d.sid = sid;
    d.host.dev_id = dev;
    d.host.s2_hwpt = s2.at(smmu);
    d.host.iommu_group = group;
    return d;
  }

  auto source() {
    return [this](std::uint32_t sid) -> std::optional<A::ste_words> {
      const auto it = stes.find(sid);
      if (it == stes.end()) return std::nullopt;
      return it->second;
    };
  }

  // Calls made since `from` (trace indices), as strings.
  std::vector<std::string> calls_since(std::size_t from) const {
    std::vector<std::string> out;
    for (std::size_t i = from; i < k.trace().size(); ++i) out.push_back(k.trace()[i].to_string());
    return out;
  }
  std::vector<K::operation> ops_since(std::size_t from) const {
    std::vector<K::operation> out;
    for (std::size_t i = from; i < k.trace().size(); ++i) out.push_back(k.trace()[i].op);
    return out;
  }
};

inline A::ste_words s1_ste(std::uint64_t ctx = 0x8000'0040) {
  S::value v;
  v.set<S::V>(true).set<S::Config>(vsmmu::smmuv3::ste_config::s1_trans).set<S::S1ContextPtr>(ctx);
  return v.words();
}
inline A::ste_words config_ste(vsmmu::smmuv3::ste_config c, bool valid = true) {
  S::value v;
  v.set<S::V>(valid).set<S::Config>(c);
  return v.words();
}

inline vsmmu::queue::command cfgi_ste(std::uint32_t sid) {
  return {C::make<C::cfgi_ste::layout>().with<C::StreamID>(sid).words()};
}
inline vsmmu::queue::command cfgi_range(std::uint32_t sid, std::uint8_t range) {
  return {C::make<C::cfgi_ste_range::layout>()
              .with<C::StreamID>(sid)
              .with<C::cfgi_ste_range::Range>(range)
              .words()};
}
inline vsmmu::queue::command tlbi_asid(std::uint16_t asid) {
  return {C::make<C::tlbi_nh_asid::layout>().with<C::ASID>(asid).words()};
}
inline vsmmu::queue::command cfgi_cd(std::uint32_t sid) {
  return {C::make<C::cfgi_cd::layout>().with<C::StreamID>(sid).words()};
}
inline vsmmu::queue::command atc_inv(std::uint32_t sid) {
  return {C::make<C::atc_inv::layout>().with<C::StreamID>(sid).words()};
}
inline vsmmu::queue::command cmd_sync() { return {C::make<C::sync::layout>().words()}; }

inline constexpr std::uint32_t cr_gbpa_abort = 0x0010'1000;

}  // namespace accel_test
