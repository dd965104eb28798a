// SPDX-License-Identifier: BSL-1.0
#include "pcie_command.hpp"

#include <vsmmu/pcie/capability_size.hpp>
#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/ext_cap.hpp>
#include <vsmmu/pcie/insert.hpp>
#include <vsmmu/pcie/lspci_dump.hpp>
#include <vsmmu/pcie/pasid_synthesis.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "number.hpp"

namespace vsmmu::cli {

namespace {

using args_t = std::span<const std::string_view>;

// A file larger than this is neither a dump nor a configuration space.
constexpr std::size_t max_file_size = 1 << 20;

// ---- options -------------------------------------------------------------------------------

struct option_spec {
  std::string_view name;
  bool takes_value;
};

struct parsed_args {
  std::vector<std::string_view> positional;
  std::vector<std::pair<std::string_view, std::string_view>> options;  // flag -> "" for flags

  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const {
    for (const auto& [n, v] : options) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
  [[nodiscard]] bool has(std::string_view name) const { return get(name).has_value(); }
};

[[nodiscard]] result<parsed_args> parse_args(args_t args, std::span<const option_spec> specs) {
  parsed_args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (!a.starts_with("--")) {
      out.positional.push_back(a);
      continue;
    }
    const auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const option_spec& s) { return s.name == a; });
    if (spec == specs.end()) return usage_error("unknown option " + quoted(a));
    if (out.has(spec->name)) return usage_error(std::string{a} + " given twice");
    if (!spec->takes_value) {
      out.options.emplace_back(spec->name, std::string_view{});
      continue;
    }
    if (i + 1 >= args.size()) return usage_error(std::string{a} + " needs a value");
    out.options.emplace_back(spec->name, args[++i]);
  }
  if (out.positional.empty()) return usage_error("missing FILE");
  if (out.positional.size() > 1) {
    return usage_error("unexpected argument " + quoted(out.positional[1]) + " after FILE");
  }
  return out;
}

// A number option that must be given, at most `max`.
[[nodiscard]] result<std::uint32_t> number_option(const parsed_args& p, std::string_view name,
                                                  std::uint64_t max, bool required,
                                                  std::uint32_t fallback = 0) {
  const auto text = p.get(name);
  if (!text) {
    if (required) return usage_error("missing " + std::string{name});
    return fallback;
  }
  const auto value = parse_number(name, *text, number_form::integer);
  if (!value) return value.error();
  if (*value > max) {
    return data_error(std::string{name} + " " + quoted(*text) + ": larger than " + hex(max));
  }
  return static_cast<std::uint32_t>(*value);
}

// ---- the configuration space file ----------------------------------------------------------

struct loaded_space {
  pcie::config_model model;
  std::string header;  // the dump's device line, or the default one for raw files
};

[[nodiscard]] bool looks_binary(std::string_view bytes) {
  return std::any_of(bytes.begin(), bytes.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x7F || (u < 0x20 && c != '\n' && c != '\r' && c != '\t');
  });
}

[[nodiscard]] result<loaded_space> load(std::string_view path) {
  const std::string where = "FILE " + quoted(path);
  std::ifstream in{std::string{path}, std::ios::binary};
  if (!in) return data_error(where + ": cannot be opened");
  std::string bytes;
  std::array<char, 4096> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    bytes.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > max_file_size) return data_error(where + ": larger than 1 MiB");
  }
  if (in.bad()) return data_error(where + ": read error");

  loaded_space out;
  const pcie::dump_parse_result text = pcie::parse_lspci_dump(bytes);
  if (text.ok()) {
    out.model.config = text.bytes;
    out.header =
        text.header.empty() ? std::string{pcie::default_dump_header} : std::string{text.header};
    return out;
  }
  if (looks_binary(bytes)) {
    const auto* data = reinterpret_cast<const std::byte*>(bytes.data());
    const pcie::dump_parse_result raw = pcie::config_from_raw({data, bytes.size()});
    if (!raw.ok()) {
      return data_error(where + ": " + std::to_string(bytes.size()) +
                        " bytes, more than a 4096-byte configuration space");
    }
    out.model.config = raw.bytes;
    out.header = std::string{pcie::default_dump_header};
    return out;
  }
  std::string why;
  switch (text.error) {
    case pcie::dump_error::no_data:
      why = "no lspci -xxxx hex lines";
      break;
    case pcie::dump_error::bad_header:
      why = "not a device line (BB:DD.F ...) or hex line";
      break;
    case pcie::dump_error::bad_line:
      why = "not a hex line (OFF: then 16 bytes)";
      break;
    case pcie::dump_error::bad_offset:
      why = "offset out of sequence";
      break;
    case pcie::dump_error::too_long:
      why = "more than 4096 bytes";
      break;
    case pcie::dump_error::none:
      break;
  }
  if (text.line > 0) return data_error(where + ": line " + std::to_string(text.line) + ": " + why);
  return data_error(where + ": " + why);
}

// ---- messages ------------------------------------------------------------------------------

[[nodiscard]] std::string describe(const pcie::ext_cap_entry& e) {
  const std::string_view n = pcie::name(e.id);
  std::string out = n.empty() ? std::string{"capability"} : std::string{n};
  out += " (ID " + hex(static_cast<std::uint16_t>(e.id), 4) + ") at " + hex(e.offset);
  return out;
}

[[nodiscard]] std::string refusal(const pcie::insert_result& r, std::uint32_t offset,
                                  std::uint32_t size) {
  const std::string range = "offset " + hex(offset) + " size " + hex(size);
  switch (r.error) {
    case pcie::insert_error::none:
      return {};
    case pcie::insert_error::misaligned:
      return "offset " + hex(offset) + " is not a multiple of 4";
    case pcie::insert_error::too_small:
      return "size " + hex(size) + " is below 8 (a header and a register)";
    case pcie::insert_error::out_of_range:
      return range + " is not inside [0x100, 0x1000)";
    case pcie::insert_error::bad_version:
      return "the version does not fit 4 bits";
    case pcie::insert_error::no_extended_space:
      return "no extended configuration space (0xffffffff at 0x100)";
    case pcie::insert_error::empty_list_not_at_head:
      return "the list is empty: a capability can only go at 0x100, not " + hex(offset);
    case pcie::insert_error::broken_list:
      return "the capability list is broken (" + std::string{to_string(r.walk)} + ")";
    case pcie::insert_error::overlaps_header:
      return range + " overlaps the header of " + describe(*r.conflict);
    case pcie::insert_error::overlaps_body:
      return range + " overlaps " + describe(*r.conflict);
    case pcie::insert_error::null_header:
      return "a Null capability (ID 0) of version 0 would read as no capability";
    case pcie::insert_error::not_ascending:
      return "the list is not ascending: " + describe(*r.conflict) + " links to " +
             hex(r.conflict->next) + " (--seed inserts in list order)";
  }
  return "refused";
}

// ---- subcommands ---------------------------------------------------------------------------

[[nodiscard]] result<std::string> show(const parsed_args& p) {
  const auto loaded = load(p.positional[0]);
  if (!loaded) return loaded.error();
  const pcie::config_span c = loaded->model.config;
  std::string json = "{\"capabilities\": [";
  bool first = true;
  for (const pcie::ext_cap_entry& e : pcie::ext_caps(c)) {
    if (!first) json += ", ";
    first = false;
    json += "{\"offset\": " + std::to_string(e.offset) +
            ", \"id\": " + std::to_string(static_cast<unsigned>(e.id)) +
            ", \"version\": " + std::to_string(e.version) +
            ", \"next\": " + std::to_string(e.next) + ", \"name\": " + quoted(pcie::name(e.id));
    const auto extent = pcie::ext_cap_extent(c, e);
    json += ", \"size\": " + (extent ? std::to_string(*extent) : std::string{"null"}) + "}";
  }
  const pcie::walk_outcome o = pcie::walk_ext_caps(c);
  json += "], \"end\": " + quoted(to_string(o.end));
  if (!o.ok()) json += ", \"end_offset\": " + std::to_string(o.end_offset);
  if (o.reserved_next_bits) json += ", \"reserved_next_bits\": true";
  return json + "}\n";
}

constexpr std::array<option_spec, 5> insert_options{{
    {"--id", true},
    {"--version", true},
    {"--offset", true},
    {"--size", true},
    {"--seed", false},
}};

[[nodiscard]] result<std::string> insert(const parsed_args& p) {
  const auto id = number_option(p, "--id", 0xFFFF, true);
  if (!id) return id.error();
  const auto version = number_option(p, "--version", 0xF, true);
  if (!version) return version.error();
  const auto offset = number_option(p, "--offset", 0xFFFF'FFFF, true);
  if (!offset) return offset.error();
  const auto size = number_option(p, "--size", 0xFFFF'FFFF, true);
  if (!size) return size.error();
  auto loaded = load(p.positional[0]);
  if (!loaded) return loaded.error();
  const pcie::insert_mode mode =
      p.has("--seed") ? pcie::insert_mode::seed : pcie::insert_mode::strict;
  pcie::config_model& m = (*loaded).model;
  const pcie::insert_result r =
      pcie::insert_ext_cap(m, static_cast<pcie::ext_cap_id>(*id),
                           static_cast<std::uint8_t>(*version), *offset, *size, mode);
  if (!r) return data_error(refusal(r, *offset, *size));
  return pcie::format_lspci_dump(m.config, loaded->header);
}

constexpr std::array<option_spec, 7> synth_options{{
    {"--width", true},
    {"--exec", false},
    {"--priv", false},
    {"--ssidsize", true},
    {"--offset", true},
    {"--gap", false},
    {"--seed", false},
}};

[[nodiscard]] result<std::string> synth_pasid(const parsed_args& p) {
  const auto width = number_option(p, "--width", pcie::pasid::max_pasid_width, true);
  if (!width) return width.error();
  const auto ssidsize = number_option(p, "--ssidsize", pcie::pasid::max_pasid_width, false,
                                      pcie::pasid::max_pasid_width);
  if (!ssidsize) return ssidsize.error();
  const auto offset = number_option(p, "--offset", 0xFFFF, false);
  if (!offset) return offset.error();
  if (p.has("--offset") && p.has("--gap"))
    return usage_error("--offset and --gap exclude each other");
  auto loaded = load(p.positional[0]);
  if (!loaded) return loaded.error();

  pcie::pasid_synthesis_request req;
  req.ssidsize = static_cast<std::uint8_t>(*ssidsize);
  req.host = {static_cast<std::uint8_t>(*width), p.has("--exec"), p.has("--priv")};
  if (p.has("--offset")) req.offset = static_cast<std::uint16_t>(*offset);
  req.use_gap_finder = p.has("--gap");
  req.mode = p.has("--seed") ? pcie::insert_mode::seed : pcie::insert_mode::strict;
  pcie::config_model& m = (*loaded).model;
  const pcie::pasid_synthesis_result r = pcie::synthesize_pasid(m, req);
  using status = pcie::pasid_synthesis_status;
  switch (r.status) {
    case status::synthesized:
      return pcie::format_lspci_dump(m.config, loaded->header);
    case status::viommu_without_pasid:
      return data_error("--ssidsize 0: the vSMMU has no SubstreamIDs, so no PASID");
    case status::host_without_pasid:
      return data_error("--width 0: the host reports no PASID support");
    case status::already_present:
      return data_error("the list already has a PASID capability at " + hex(r.offset));
    case status::invalid_ssidsize:
      return data_error("--ssidsize above 20");
    case status::placement_failed:
      if (req.use_gap_finder) {
        if (r.gap == pcie::gap_error::broken_list) {
          return data_error("no place for PASID: the capability list is broken");
        }
        return data_error("no place for PASID: no free 8 bytes (" + std::string{to_string(r.gap)} +
                          ")");
      }
      return data_error("cannot place PASID at " + hex(r.offset) + ": " +
                        refusal(r.insert, r.offset, pcie::pasid::size_bytes));
  }
  return data_error("refused");
}

}  // namespace

pcie_reply run_pcie(args_t args) {
  if (args.empty()) {
    return {"pcie", usage_error("missing subcommand (show, insert, synth-pasid)")};
  }
  const std::string_view sub = args[0];
  const std::string context = "pcie " + std::string{sub};
  const args_t rest = args.subspan(1);
  static constexpr std::array<option_spec, 0> no_options{};
  if (sub == "show") {
    const auto p = parse_args(rest, no_options);
    if (!p) return {context, p.error()};
    return {context, show(*p)};
  }
  if (sub == "insert") {
    const auto p = parse_args(rest, insert_options);
    if (!p) return {context, p.error()};
    return {context, insert(*p)};
  }
  if (sub == "synth-pasid") {
    const auto p = parse_args(rest, synth_options);
    if (!p) return {context, p.error()};
    return {context, synth_pasid(*p)};
  }
  return {"pcie", usage_error("unknown subcommand " + quoted(sub) +
                              " (expected show, insert or synth-pasid)")};
}

}  // namespace vsmmu::cli
