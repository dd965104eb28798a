// SPDX-License-Identifier: BSL-1.0
#include "translate_command.hpp"

#include <vsmmu/memory/sparse.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/smmuv3/registers.hpp>
#include <vsmmu/walk/from_registers.hpp>
#include <vsmmu/walk/translate.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "number.hpp"
#include "structure.hpp"

namespace vsmmu::cli {

namespace {

using args_t = std::span<const std::string_view>;

// A memory image larger than this is refused (the whole file is held in memory).
constexpr std::uint64_t max_image_size = std::uint64_t{256} << 20;

// The registers a translation depends on (IHI 0070 §6.3), as the catalogue names them.
// CR1 only sets the cacheability of structure fetches: accepted, without effect here.
constexpr std::array<std::string_view, 12> translation_registers{
    "IDR0", "IDR1", "IDR2", "IDR3", "IDR4",        "IDR5",
    "CR0",  "CR1",  "CR2",  "GBPA", "STRTAB_BASE", "STRTAB_BASE_CFG"};

struct options {
  std::vector<std::string_view> mems;
  std::vector<std::string_view> regs;
  std::optional<std::string_view> sid, ssid, iova, access;
  bool unpriv = false;
};

[[nodiscard]] result<options> parse(args_t args) {
  options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--unpriv") {
      if (o.unpriv) return usage_error("--unpriv given twice");
      o.unpriv = true;
      continue;
    }
    std::optional<std::string_view>* single = a == "--sid"      ? &o.sid
                                              : a == "--ssid"   ? &o.ssid
                                              : a == "--iova"   ? &o.iova
                                              : a == "--access" ? &o.access
                                                                : nullptr;
    if (single == nullptr && a != "--mem" && a != "--reg") {
      if (a.starts_with("-")) return usage_error("unknown option " + quoted(a));
      return usage_error("unexpected argument " + quoted(a));
    }
    if (i + 1 >= args.size()) return usage_error(std::string{a} + " needs a value");
    const std::string_view v = args[++i];
    if (a == "--mem") {
      o.mems.push_back(v);
    } else if (a == "--reg") {
      o.regs.push_back(v);
    } else {
      if (single->has_value()) return usage_error(std::string{a} + " given twice");
      *single = v;
    }
  }
  if (!o.sid) return usage_error("missing --sid");
  if (!o.iova) return usage_error("missing --iova");
  return o;
}

// ---- memory ----------------------------------------------------------------------------------

struct loaded_range {
  std::uint64_t base;
  std::uint64_t size;
};

[[nodiscard]] std::optional<failure> load(std::string_view spec, memory::sparse_memory& mem,
                                          std::vector<loaded_range>& loaded) {
  const auto at = spec.rfind('@');
  if (at == std::string_view::npos || at == 0) {
    return usage_error("--mem " + quoted(spec) + ": expected FILE@BASE");
  }
  const std::string_view path = spec.substr(0, at);
  const auto base = parse_number("--mem BASE", spec.substr(at + 1), number_form::integer);
  if (!base) return base.error();
  const std::string where = "--mem FILE " + quoted(path);
  std::ifstream in{std::string{path}, std::ios::binary};
  if (!in) return data_error(where + ": cannot be opened");
  std::vector<std::byte> bytes;
  std::array<char, 65536> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    if (bytes.size() + n > max_image_size) return data_error(where + ": larger than 256 MiB");
    const auto* p = reinterpret_cast<const std::byte*>(chunk.data());
    bytes.insert(bytes.end(), p, p + n);
  }
  if (in.bad()) return data_error(where + ": read error");
  const std::uint64_t size = bytes.size();
  if (size == 0) return std::nullopt;
  if (*base + (size - 1) < *base) {
    return data_error(where + " at " + hex(*base) + ": extends beyond 2^64");
  }
  for (const loaded_range& r : loaded) {
    if (*base <= r.base + (r.size - 1) && r.base <= *base + (size - 1)) {
      return data_error(where + " at " + hex(*base) + ": overlaps an earlier --mem at " +
                        hex(r.base));
    }
  }
  loaded.push_back({*base, size});
  mem.map(*base, size);
  if (mem.write_bytes(*base, bytes) != memory::access_status::ok) {
    return data_error(where + ": could not be placed at " + hex(*base));
  }
  return std::nullopt;
}

// ---- registers -------------------------------------------------------------------------------

struct registers {
  smmuv3::id_registers id = smmuv3::default_id_registers;
  walk::control_registers control{};
};

[[nodiscard]] std::optional<failure> apply_register(std::string_view assignment, registers& regs,
                                                    std::vector<std::string_view>& seen) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return usage_error("--reg " + quoted(assignment) + ": expected NAME=VALUE");
  }
  const std::string_view name = assignment.substr(0, eq);
  const std::string_view text = assignment.substr(eq + 1);
  const smmuv3::register_desc* r = smmuv3::find_register(name);
  std::vector<std::string_view> names(translation_registers.begin(), translation_registers.end());
  if (r == nullptr) return data_error(unknown_name("register", name, names));
  if (std::find(names.begin(), names.end(), r->name) == names.end()) {
    return data_error("register " + std::string{r->name} +
                      " does not take part in a translation (expected one of IDR0-IDR5, CR0, "
                      "CR1, CR2, GBPA, STRTAB_BASE, STRTAB_BASE_CFG)");
  }
  if (std::find(seen.begin(), seen.end(), r->name) != seen.end()) {
    return usage_error("--reg " + std::string{r->name} + " given twice");
  }
  seen.push_back(r->name);
  const auto value = parse_number(r->name, text, number_form::hex);
  if (!value) return value.error();
  if (r->width < 64 && (*value >> r->width) != 0) {
    return data_error(std::string{r->name} + " " + quoted(text) + ": wider than the " +
                      std::to_string(r->width) + "-bit register");
  }
  const auto v32 = static_cast<std::uint32_t>(*value);
  const std::string_view n = r->name;
  if (n == "IDR0") regs.id.idr0 = v32;
  if (n == "IDR1") regs.id.idr1 = v32;
  if (n == "IDR2") regs.id.idr2 = v32;
  if (n == "IDR3") regs.id.idr3 = v32;
  if (n == "IDR4") regs.id.idr4 = v32;
  if (n == "IDR5") regs.id.idr5 = v32;
  if (n == "CR0") regs.control.cr0 = v32;
  if (n == "CR2") regs.control.cr2 = v32;
  if (n == "GBPA") regs.control.gbpa = v32;
  if (n == "STRTAB_BASE") regs.control.strtab_base = *value;
  if (n == "STRTAB_BASE_CFG") regs.control.strtab_base_cfg = v32;
  return std::nullopt;
}

// ---- output ----------------------------------------------------------------------------------

[[nodiscard]] std::string event_json(const walk::event_record& e) {
  const auto bytes = e.bytes();
  const smmuv3::event_desc* d = smmuv3::find_event(static_cast<std::uint8_t>(e.type()));
  if (d == nullptr) return "{\"name\":" + quoted(hex(static_cast<unsigned>(e.type()), 2)) + "}";
  std::string out = "{\"name\":" + quoted(d->name) + ",\"fields\":{";
  bool first = true;
  for (const layout::field_info& f : d->layout.fields) {
    if (f.is_reserved()) continue;
    if (!first) out += ',';
    first = false;
    out += quoted(f.name) + ':' + std::to_string(layout::read_value(f, bytes));
  }
  return out + "}}";
}

[[nodiscard]] std::string result_json(const walk::result& r) {
  std::string out;
  switch (r.kind) {
    case walk::outcome::translated: {
      const auto& x = r.xlat;
      out = "{\"result\":\"translated\",\"pa\":" + quoted(hex(x.output_address)) +
            ",\"page_size\":" + std::to_string(std::uint64_t{1} << x.size_shift) +
            ",\"perm\":{\"r\":" + (x.perm.r ? "1" : "0") + ",\"w\":" + (x.perm.w ? "1" : "0") +
            ",\"x\":" + (x.perm.x ? "1" : "0") + "}";
      break;
    }
    case walk::outcome::bypass:
      out = "{\"result\":\"bypass\",\"pa\":" + quoted(hex(r.xlat.output_address));
      break;
    case walk::outcome::abort:
      out = "{\"result\":\"abort\"";
      break;
    case walk::outcome::fault:
      out = "{\"result\":\"fault\",\"event\":" + event_json(r.event);
      break;
  }
  if (r.term == walk::termination::raz_wi) out += ",\"termination\":\"raz_wi\"";
  if (r.term == walk::termination::stall) out += ",\"termination\":\"stall\"";
  return out + "}\n";
}

}  // namespace

result<std::string> run_translate(args_t args) {
  const auto o = parse(args);
  if (!o) return o.error();

  walk::transaction t;
  const auto sid = parse_number("--sid", *o->sid, number_form::integer);
  if (!sid) return sid.error();
  if (*sid > 0xffff'ffffU) return data_error("--sid " + quoted(*o->sid) + ": larger than 32 bits");
  t.sid = static_cast<std::uint32_t>(*sid);
  if (o->ssid) {
    const auto ssid = parse_number("--ssid", *o->ssid, number_form::integer);
    if (!ssid) return ssid.error();
    if (*ssid > 0xfffffU) return data_error("--ssid " + quoted(*o->ssid) + ": larger than 20 bits");
    t.ssv = true;
    t.ssid = static_cast<std::uint32_t>(*ssid);
  }
  const auto iova = parse_number("--iova", *o->iova, number_form::integer);
  if (!iova) return iova.error();
  t.address = *iova;
  if (o->access) {
    if (*o->access == "read") {
      t.access = walk::access_kind::read;
    } else if (*o->access == "write") {
      t.access = walk::access_kind::write;
    } else if (*o->access == "exec") {
      t.access = walk::access_kind::exec;
    } else {
      return data_error("--access " + quoted(*o->access) + ": expected read, write or exec");
    }
  }
  t.privileged = !o->unpriv;

  registers regs;
  std::vector<std::string_view> seen;
  for (const std::string_view a : o->regs) {
    if (auto e = apply_register(a, regs, seen)) return *e;
  }
  memory::sparse_memory mem;
  std::vector<loaded_range> loaded;
  for (const std::string_view m : o->mems) {
    if (auto e = load(m, mem, loaded)) return *e;
  }
  const walk::smmu_state st = walk::state_from(regs.id, regs.control);
  const memory::sparse_memory& read_only = mem;  // no HTTU write-back from the inspector
  return result_json(walk::translate(read_only, st, t));
}

}  // namespace vsmmu::cli
