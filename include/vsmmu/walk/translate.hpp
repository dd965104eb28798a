// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/walk/cd_config.hpp>
#include <vsmmu/walk/fault.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/smmu_features.hpp>
#include <vsmmu/walk/stage1.hpp>
#include <vsmmu/walk/stage2.hpp>
#include <vsmmu/walk/ste_config.hpp>
#include <vsmmu/walk/stream_table.hpp>

#include <algorithm>
#include <cstdint>

// The whole translation of one transaction (IHI 0070 §3.3 steps 1-4): global bypass, Stream
// table, STE, SubstreamID and S1DSS, CD (through stage 2 when nested), stage 1, stage 2, and the
// event the architecture records when any of it fails. Generic over the memory adapter and
// usable in constant evaluation.
namespace vsmmu::walk {

namespace detail {
[[nodiscard]] constexpr or_fault<std::uint64_t> identity_pa(std::uint64_t a) noexcept {
  return {a, {}, false};
}

// InD/PnU after STE.INSTCFG / STE.PRIVCFG (§5.2); InD is 0 for writes (§13.1.2).
[[nodiscard]] constexpr event_attrs effective_attrs(const transaction& t,
                                                    const stream_config* c) noexcept {
  event_attrs a{t.is_read(), t.is_instruction(), t.privileged};
  if (c != nullptr) {
    if (c->privcfg == 0b10) a.pnu = false;
    if (c->privcfg == 0b11) a.pnu = true;
    if (c->instcfg == 0b10) a.ind = false;
    if (c->instcfg == 0b11) a.ind = true;
  }
  if (!a.rnw) a.ind = false;
  return a;
}
}  // namespace detail

template <memory::readable_memory M>
[[nodiscard]] constexpr result translate(const M& mem, const smmu_state& st,
                                         const transaction& t) noexcept {
  using enum smmuv3::evt::type;
  // Every path returns `r` itself, so that the result is built in place (a copy of a struct
  // written field by field costs store-forwarding stalls on the hot path).
  result r;
  const smmu_features& f = st.features;
  const unsigned oas = f.oas_bits();
  // A fault outside A/R/S: aborts and records.
  auto fault = [&r](const transaction& tx, smmuv3::evt::type type, const event_attrs& a,
                    std::uint64_t fetch = 0) {
    fault_info fi;
    fi.type = type;
    fi.fetch_addr = fetch;
    r = fault_result(tx, fi, a, nullptr);
  };

  // Step 1: SMMU disabled. GBPA.ABORT, or an address beyond the OAS, aborts silently (§3.4).
  if (!st.smmuen) {
    if (st.gbpa_abort || (t.address >> oas) != 0) {
      r = silent_abort();
    } else {
      r.kind = outcome::bypass;
      r.xlat.output_address = t.address;
      r.xlat.ipa = t.address;
    }
    return r;
  }

  const event_attrs incoming = detail::effective_attrs(t, nullptr);
  const ste_fetch ste = fetch_ste(mem, f, st.strtab, t.sid);
  if (ste.status == ste_fetch_status::bad_streamid) {
    if (st.recinvsid) {
      fault(t, c_bad_streamid, incoming);
    } else {
      r = silent_abort();
    }
    return r;
  }
  if (ste.status == ste_fetch_status::fetch_abort) {
    fault(t, f_ste_fetch, incoming, ste.fetch_addr);
    return r;
  }
  const ste_decode dec = decode_ste(ste.ste, f);
  if (dec.illegal()) {
    fault(t, c_bad_ste, incoming);
    return r;
  }
  const stream_config& cfg = dec.config;
  if (cfg.mode == stream_mode::abort) {  // Config abort records nothing
    r = silent_abort();
    return r;
  }

  const event_attrs attrs = detail::effective_attrs(t, &cfg);
  // A SubstreamID needs stage 1 with substreams enabled and in range (§7.3.9).
  if (t.ssv && (!cfg.s1() || cfg.s1cdmax == 0 ||
                std::uint64_t{t.ssid} >= (std::uint64_t{1} << cfg.s1cdmax))) {
    fault(t, c_bad_substreamid, attrs);
    return r;
  }

  bool use_s1 = cfg.s1();
  std::uint32_t ssid = 0;
  if (use_s1 && cfg.s1cdmax != 0) {
    // S1DSS (§5.2): transactions without a SubstreamID, and SubstreamID 0 under 0b10.
    if (!t.ssv) {
      if (cfg.s1dss == smmuv3::s1_dss::terminate) {
        fault(t, f_stream_disabled, attrs);
        return r;
      }
      if (cfg.s1dss == smmuv3::s1_dss::bypass) use_s1 = false;
    } else {
      if (cfg.s1dss == smmuv3::s1_dss::substream0 && t.ssid == 0) {
        fault(t, f_stream_disabled, attrs);
        return r;
      }
      ssid = t.ssid;
    }
  }

  translation& x = r.xlat;
  x.s1_enabled = use_s1;
  x.s2_enabled = cfg.s2_enabled();
  x.vmid = cfg.s2.vmid;

  const fault_policy s2_policy{true, cfg.s2.r, cfg.s2.s};
  auto stage2 = [&](std::uint64_t ipa, bool write, bool exec, smmuv3::evt::fault_class cls) {
    return s2_translate(mem, cfg.s2, ipa, s2_access{write, exec, cls});
  };
  // Addresses of stage 1 structures: IPAs translated by stage 2 when it is enabled.
  auto structure_pa = [&](smmuv3::evt::fault_class cls) {
    return [&, cls](std::uint64_t a) -> or_fault<std::uint64_t> {
      if (!cfg.s2_enabled()) return detail::identity_pa(a);
      const auto s2 = stage2(a, false, false, cls);
      if (!s2.ok()) return or_fault<std::uint64_t>::failure(s2.fault);
      return {s2.value.pa, {}, false};
    };
  };

  std::uint64_t ipa = t.address;
  permissions perm{true, true, true};
  if (cfg.mode == stream_mode::bypass || !use_s1) {
    // Stage 1 bypassed: the input must fit the OAS (Config bypass) or IAS (§3.4); the
    // resulting F_ADDR_SIZE is stage 1, CLASS == IN, and always aborts and records.
    const unsigned limit = cfg.mode == stream_mode::bypass ? oas : f.ias_bits();
    if ((t.address >> limit) != 0) {
      fault(t, f_addr_size, attrs);
      return r;
    }
    if (cfg.mode == stream_mode::bypass || !cfg.s2_enabled()) {
      r.kind = outcome::bypass;
      x.output_address = t.address;
      x.ipa = t.address;
      return r;
    }
  } else {
    const cd_fetch cdf = fetch_cd(mem, cfg, f, ssid, structure_pa(smmuv3::evt::fault_class::cd));
    if (cdf.status == cd_locate_status::bad_substreamid) {
      transaction used = t;  // the record carries the SubstreamID used: 0 under S1DSS == 0b10
      used.ssid = ssid;
      used.ssv = true;
      fault(used, c_bad_substreamid, attrs);
      return r;
    }
    if (cdf.status == cd_locate_status::fault) {
      r = fault_result(t, cdf.fault, attrs, cdf.fault.s2 ? &s2_policy : nullptr);
      return r;
    }
    const cd_decode cd = decode_cd(cdf.cd, cfg, f);
    if (cd.illegal()) {
      fault(t, c_bad_cd, attrs);
      return r;
    }
    const context_config& c = cd.config;
    const fault_policy s1_policy{c.a, c.r, c.s};
    const s1_request req{t.address, !attrs.rnw, attrs.ind, attrs.pnu};
    const auto s1 = s1_translate(mem, c, req, structure_pa(smmuv3::evt::fault_class::tt));
    if (!s1.ok()) {
      r = fault_result(t, s1.fault, attrs, s1.fault.s2 ? &s2_policy : &s1_policy);
      return r;
    }
    ipa = s1.value.ipa;
    perm = s1.value.perm;
    x.asid = c.asid;
    x.global = s1.value.global;
    x.s1_attr_index = s1.value.attr_index;
    x.s1_mem_attr = static_cast<std::uint8_t>(c.mair >> (8 * s1.value.attr_index));
    x.s1_sh = s1.value.sh;
    x.s1_level = s1.value.level;
    x.s1_size_shift = s1.value.size_shift;
  }

  std::uint64_t pa = ipa;
  unsigned size_shift = use_s1 ? x.s1_size_shift : 64;
  if (cfg.s2_enabled()) {
    const auto s2 = stage2(ipa, !attrs.rnw, attrs.ind, smmuv3::evt::fault_class::in);
    if (!s2.ok()) {
      r = fault_result(t, s2.fault, attrs, &s2_policy);
      return r;
    }
    pa = s2.value.pa;
    perm = {perm.r && s2.value.perm.r, perm.w && s2.value.perm.w, perm.x && s2.value.perm.x};
    x.s2_mem_attr = s2.value.mem_attr;
    x.s2_sh = s2.value.sh;
    x.s2_level = s2.value.level;
    x.s2_size_shift = s2.value.size_shift;
    size_shift = std::min(size_shift, s2.value.size_shift);
  }
  r.kind = outcome::translated;
  x.output_address = pa;
  x.ipa = ipa;
  x.size_shift = size_shift;
  x.perm = perm;
  return r;
}

}  // namespace vsmmu::walk
