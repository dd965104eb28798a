// SPDX-License-Identifier: BSL-1.0
#include "cli.hpp"

#include <vsmmu/smmuv3/catalog.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/smmuv3/l1.hpp>
#include <vsmmu/smmuv3/registers.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/version.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "number.hpp"
#include "pcie_command.hpp"
#include "result.hpp"
#include "structure.hpp"
#include "translate_command.hpp"

namespace vsmmu::cli {

namespace {

using args_t = std::span<const std::string_view>;

constexpr std::string_view usage_text =
    R"(usage: vsmmu decode [--text] KIND ARGUMENTS...
       vsmmu encode KIND [NAME] [FIELD=VALUE]...
       vsmmu pcie show|insert|synth-pasid FILE [OPTIONS]...
       vsmmu translate [--mem FILE@BASE]... [--reg NAME=VALUE]... --sid N [--ssid N]
                       --iova ADDR [--access read|write|exec] [--unpriv]
       vsmmu --help | --version

decode: print every field of a structure as one JSON object (--text: a table)
  vsmmu decode ste D0 D1 D2 D3 D4 D5 D6 D7   Stream Table Entry
  vsmmu decode cd D0 D1 D2 D3 D4 D5 D6 D7    Context Descriptor
  vsmmu decode l1std D0                      Level 1 Stream Table Descriptor
  vsmmu decode l1cd D0                       Level 1 Context Descriptor
  vsmmu decode cmd D0 D1                     command (opcode in D0[7:0])
  vsmmu decode event D0 D1 D2 D3             event record (type in D0[7:0])
  vsmmu decode reg NAME VALUE                register (IDR0 or SMMU_IDR0, any case)
  D0..D7 are 64-bit dwords in hex ("0x" optional), D0 holding bytes 0-7; VALUE is hex too.

encode: build a structure from its fields; prints what decode accepts
  vsmmu encode ste|cd|l1std|l1cd FIELD=VALUE...
  vsmmu encode cmd CMD_NAME FIELD=VALUE...     opcode filled in; CMD_CFGI_ALL sets Range=31
  vsmmu encode event EVENT_NAME FIELD=VALUE... event type filled in (e.g. F_TRANSLATION)
  vsmmu encode reg NAME FIELD=VALUE...         prints the register value
  VALUEs are decimal or 0x-prefixed hex; address fields take the address (bits in place).
  Fields not given are zero (RES1 bits one).

pcie: the PCIe Extended Capability list of a configuration space (docs/pcie.md); FILE is
  lspci -xxxx text or raw bytes (a sysfs config file)
  vsmmu pcie show FILE                         the list as JSON
  vsmmu pcie insert FILE --id ID --version V --offset OFF --size N [--seed]
  vsmmu pcie synth-pasid FILE --width W [--exec] [--priv] [--ssidsize S] [--offset OFF|--gap]
                         [--seed]              PASID for a passed-through device (S: 20)
  insert and synth-pasid print the new space as lspci -xxxx text. --seed: the seed series'
  insertion rules (only headers protected) instead of the strict ones.

translate: one transaction through the SMMU model; prints the outcome as JSON
  --mem FILE@BASE    raw bytes of FILE at physical address BASE (repeatable; elsewhere aborts)
  --reg NAME=VALUE   IDR0-IDR5, CR0, CR1, CR2, GBPA, STRTAB_BASE, STRTAB_BASE_CFG (VALUE hex;
                     unset IDRs are vsmmu's defaults, the others zero: SMMUEN = 0 bypasses)
  --sid N, --ssid N  StreamID, SubstreamID (none without --ssid)
  --iova ADDR        input address; --access: read (default), write or exec; --unpriv: PnU = 0

exit status: 0 success, 1 bad data (numbers, names, values), 2 bad usage (shape of the line)
)";

constexpr std::string_view kinds = "ste, cd, l1std, l1cd, cmd, event, reg";

// The structures whose layout does not depend on their content.
struct fixed_structure {
  std::string_view kind;
  layout_info info;
  // Undeclared bits that are IMPLEMENTATION DEFINED rather than RES0, per dword.
  std::span<const std::uint64_t> implementation_defined;
};

constexpr std::array<fixed_structure, 4> fixed_structures{{
    {"ste", layout::info_of_layout<smmuv3::ste::layout>(),
     smmuv3::ste::implementation_defined_mask},
    {"cd", layout::info_of_layout<smmuv3::cd::layout>(), smmuv3::cd::implementation_defined_mask},
    {"l1std", layout::info_of_layout<smmuv3::l1std::layout>(), {}},
    {"l1cd", layout::info_of_layout<smmuv3::l1cd::layout>(), {}},
}};

// Commands and event records both carry what they are in bits [7:0] (IHI 0070 §4.1.1, §7.3).
constexpr std::size_t command_dwords = 2;
constexpr std::size_t event_dwords = 4;
// IHI 0070 §4.3.6: CMD_CFGI_ALL is CMD_CFGI_STE_RANGE with Range == 31.
constexpr std::string_view cfgi_all = "CMD_CFGI_ALL";
constexpr std::string_view cfgi_all_encoding = "CMD_CFGI_STE_RANGE";
constexpr std::uint64_t cfgi_all_range = 31;

[[nodiscard]] const fixed_structure* find_fixed(std::string_view kind) {
  for (const auto& s : fixed_structures) {
    if (s.kind == kind) return &s;
  }
  return nullptr;
}

[[nodiscard]] bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto up = [](char c) {
      return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    };
    if (up(a[i]) != up(b[i])) return false;
  }
  return true;
}

[[nodiscard]] bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equal_ignoring_case(text.substr(0, prefix.size()), prefix);
}

[[nodiscard]] std::string count_of(std::size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string{noun} + (n == 1 ? "" : "s");
}

// The structure's bytes must match its description before any field is read.
[[nodiscard]] std::optional<failure> check_size(const layout_info& info, std::size_t bytes) {
  if (info.byte_count() == bytes) return std::nullopt;
  return data_error("catalogue entry " + quoted(info.name) + " is " +
                    count_of(info.bit_count, "bit") + ", expected " + count_of(bytes * 8, "bit"));
}

[[nodiscard]] std::string dword_line(std::span<const std::byte> bytes) {
  std::string line;
  for (const std::uint64_t d : dwords_of_bytes(bytes)) {
    if (!line.empty()) line += ' ';
    line += hex(d, 16);
  }
  return line + '\n';
}

[[nodiscard]] result<std::vector<std::byte>> parse_dwords(args_t args, std::size_t count) {
  if (args.size() != count) {
    return usage_error("expected " + count_of(count, "dword") + ", got " +
                       std::to_string(args.size()));
  }
  std::vector<std::uint64_t> dwords;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto d = parse_number("D" + std::to_string(i), args[i], number_form::hex);
    if (!d) return d.error();
    dwords.push_back(*d);
  }
  return bytes_of_dwords(dwords);
}

[[nodiscard]] std::vector<std::string_view> register_names() {
  std::vector<std::string_view> names;
  for (const auto& r : smmuv3::register_catalog) names.push_back(r.name);
  return names;
}

[[nodiscard]] result<const smmuv3::register_desc*> lookup_register(std::string_view name) {
  if (const auto* r = smmuv3::find_register(name)) return r;
  std::string_view bare = name;
  if (starts_with_ignoring_case(bare, "SMMU_")) bare.remove_prefix(5);
  const auto names = register_names();
  std::string message = "unknown register " + quoted(name);
  const std::string_view hint = closest_name(bare, names);
  if (!hint.empty()) message += " (did you mean " + quoted(hint) + "?)";
  return data_error(std::move(message));
}

// A command by name, "CMD_" optional, any case; CMD_CFGI_ALL is its own name here although
// the catalogue lists its encoding, CMD_CFGI_STE_RANGE.
struct named_command {
  const smmuv3::command_desc* desc;
  bool all;  // CMD_CFGI_ALL: Range is 31
};

[[nodiscard]] result<named_command> lookup_command(std::string_view name) {
  const auto bare = [](std::string_view n) {
    return starts_with_ignoring_case(n, "CMD_") ? n.substr(4) : n;
  };
  for (const auto& c : smmuv3::command_catalog) {
    if (equal_ignoring_case(bare(c.name), bare(name))) return named_command{&c, false};
  }
  if (equal_ignoring_case(bare(cfgi_all), bare(name))) {
    for (const auto& c : smmuv3::command_catalog) {
      if (c.name == cfgi_all_encoding) return named_command{&c, true};
    }
  }
  std::vector<std::string_view> names;
  for (const auto& c : smmuv3::command_catalog) names.push_back(c.name);
  names.push_back(cfgi_all);
  const std::string typed = "CMD_" + std::string{bare(name)};
  std::string message = "unknown command " + quoted(name);
  const std::string_view hint = closest_name(typed, names);
  if (!hint.empty()) message += " (did you mean " + quoted(hint) + "?)";
  return data_error(std::move(message));
}

[[nodiscard]] result<const smmuv3::event_desc*> lookup_event(std::string_view name) {
  std::vector<std::string_view> names;
  for (const auto& e : smmuv3::event_catalog) {
    if (equal_ignoring_case(e.name, name)) return &e;
    names.push_back(e.name);
  }
  return data_error(unknown_name("event", name, names));
}

// ---- decode ------------------------------------------------------------------------------

struct decoded {
  std::string_view name;
  const layout_info* info;
  std::vector<std::byte> bytes;
  std::span<const std::uint64_t> implementation_defined = {};
};

[[nodiscard]] result<decoded> decode_structure(std::string_view kind, args_t args) {
  if (const auto* s = find_fixed(kind)) {
    auto bytes = parse_dwords(args, s->info.bit_count / 64);
    if (!bytes) return bytes.error();
    return decoded{s->info.name, &s->info, std::move(*bytes), s->implementation_defined};
  }
  if (kind == "cmd") {
    auto bytes = parse_dwords(args, command_dwords);
    if (!bytes) return bytes.error();
    const auto opcode = std::to_integer<std::uint8_t>((*bytes)[0]);
    const auto* c = smmuv3::find_command(opcode);
    if (c == nullptr) return data_error("unknown opcode " + hex(opcode, 2));
    if (auto e = check_size(c->layout, bytes->size())) return *e;
    const std::string_view name =
        smmuv3::command_name(*c, std::span<const std::byte, 16>{bytes->data(), 16});
    return decoded{name, &c->layout, std::move(*bytes)};
  }
  if (kind == "event") {
    auto bytes = parse_dwords(args, event_dwords);
    if (!bytes) return bytes.error();
    const auto type = std::to_integer<std::uint8_t>((*bytes)[0]);
    const auto* e = smmuv3::find_event(type);
    if (e == nullptr) return data_error("unknown event type " + hex(type, 2));
    if (auto bad = check_size(e->layout, bytes->size())) return *bad;
    return decoded{e->name, &e->layout, std::move(*bytes)};
  }
  // reg
  if (args.size() != 2) {
    return usage_error("expected NAME VALUE, got " + count_of(args.size(), "argument"));
  }
  const auto r = lookup_register(args[0]);
  if (!r) return r.error();
  const auto value = parse_number("VALUE", args[1], number_form::hex);
  if (!value) return value.error();
  const unsigned width = (*r)->width;
  if (width < 64 && (*value >> width) != 0) {
    return data_error("VALUE " + quoted(args[1]) + ": wider than the " + std::to_string(width) +
                      "-bit register " + std::string{(*r)->name});
  }
  return decoded{(*r)->name, &(*r)->layout, bytes_of_value(*value, (*r)->layout.byte_count())};
}

// ---- encode ------------------------------------------------------------------------------

// A command or event record: starts from its opcode or type in bits [7:0] (and `preset`, if
// any), applies the fields, and refuses fields that change bits [7:0].
[[nodiscard]] result<std::vector<std::byte>> encode_coded(const layout_info& info,
                                                          std::uint8_t code, std::string_view name,
                                                          std::size_t dwords, args_t fields,
                                                          const field_info* preset = nullptr,
                                                          std::uint64_t preset_value = 0) {
  if (auto e = check_size(info, dwords * 8)) return *e;
  auto bytes = blank(info);
  bytes[0] = static_cast<std::byte>(code);
  if (preset != nullptr) (void)layout::write_value(*preset, bytes, preset_value);
  if (auto e = apply_assignments(info, fields, bytes)) return *e;
  if (std::to_integer<std::uint8_t>(bytes[0]) != code) {
    return data_error("bits [7:0] must stay " + hex(code, 2) + " for " + std::string{name});
  }
  return bytes;
}

[[nodiscard]] result<std::string> encode_command(const named_command& c, args_t fields) {
  if (!c.all) {
    const auto bytes =
        encode_coded(c.desc->layout, c.desc->opcode, c.desc->name, command_dwords, fields);
    if (!bytes) return bytes.error();
    return dword_line(*bytes);
  }
  const field_info* range = c.desc->layout.find("Range");
  if (range == nullptr || !layout::value_fits(*range, cfgi_all_range)) {
    return data_error(quoted(c.desc->name) + " has no Range field that can hold " +
                      std::to_string(cfgi_all_range));
  }
  const auto bytes = encode_coded(c.desc->layout, c.desc->opcode, cfgi_all, command_dwords, fields,
                                  range, cfgi_all_range);
  if (!bytes) return bytes.error();
  // A Range given among the fields may have made this a plain CMD_CFGI_STE_RANGE.
  if (smmuv3::command_name(*c.desc, std::span<const std::byte, 16>{bytes->data(), 16}) !=
      cfgi_all) {
    return data_error(std::string{cfgi_all} + " needs Range=" + std::to_string(cfgi_all_range));
  }
  return dword_line(*bytes);
}

[[nodiscard]] result<std::string> encode_event(const smmuv3::event_desc& e, args_t fields) {
  const auto bytes = encode_coded(e.layout, e.type, e.name, event_dwords, fields);
  if (!bytes) return bytes.error();
  return dword_line(*bytes);
}

[[nodiscard]] result<std::string> encode_structure(std::string_view kind, args_t args) {
  if (const auto* s = find_fixed(kind)) {
    auto bytes = blank(s->info);
    if (auto e = apply_assignments(s->info, args, bytes)) return *e;
    return dword_line(bytes);
  }
  if (args.empty()) {
    const std::string_view what = kind == "cmd"     ? "command name (CMD_...)"
                                  : kind == "event" ? "event name (e.g. F_TRANSLATION)"
                                                    : "register name";
    return usage_error("missing " + std::string{what});
  }
  const std::string_view name = args[0];
  const args_t fields = args.subspan(1);
  if (kind == "cmd") {
    const auto c = lookup_command(name);
    if (!c) return c.error();
    return encode_command(*c, fields);
  }
  if (kind == "event") {
    const auto e = lookup_event(name);
    if (!e) return e.error();
    return encode_event(**e, fields);
  }
  // reg
  const auto r = lookup_register(name);
  if (!r) return r.error();
  const layout_info& info = (*r)->layout;
  auto bytes = blank(info);
  if (auto e = apply_assignments(info, fields, bytes)) return *e;
  return hex(value_of_bytes(bytes), (*r)->width / 4) + '\n';
}

// ---- the command line ----------------------------------------------------------------------

[[nodiscard]] bool is_help(std::string_view a) { return a == "--help" || a == "-h"; }

struct outcome {
  int code;
  std::string text;  // for out on success, the message for err otherwise
};

[[nodiscard]] outcome fail(std::string_view context, const failure& f) {
  return {static_cast<int>(f.code), "vsmmu: " + std::string{context} + ": " + f.message + "\n"};
}

[[nodiscard]] outcome run_command(std::string_view command, args_t rest) {
  bool text = false;
  std::vector<std::string_view> positional;
  for (const std::string_view a : rest) {
    if (is_help(a)) return {0, std::string{usage_text}};
    if (a == "--text") {
      if (command != "decode") return fail(command, usage_error("--text is an option of decode"));
      text = true;
    } else if (a.starts_with("--")) {
      return fail(command, usage_error("unknown option " + quoted(a)));
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty()) {
    return fail(command, usage_error("missing structure (" + std::string{kinds} + ")"));
  }
  const std::string_view kind = positional[0];
  if (find_fixed(kind) == nullptr && kind != "cmd" && kind != "event" && kind != "reg") {
    return fail(command, usage_error("unknown structure " + quoted(kind) + " (expected one of " +
                                     std::string{kinds} + ")"));
  }
  const std::string context = std::string{command} + " " + std::string{kind};
  const args_t args = args_t{positional}.subspan(1);

  if (command == "encode") {
    auto encoded = encode_structure(kind, args);
    if (!encoded) return fail(context, encoded.error());
    return {0, std::move(*encoded)};
  }
  const auto d = decode_structure(kind, args);
  if (!d) return fail(context, d.error());
  return {0, text ? to_text(d->name, *d->info, d->bytes, d->implementation_defined)
                  : to_json(kind, d->name, *d->info, d->bytes, d->implementation_defined) + "\n"};
}

[[nodiscard]] outcome dispatch(args_t args) {
  if (args.empty()) {
    return {static_cast<int>(status::usage), "vsmmu: missing command (try vsmmu --help)\n"};
  }
  const std::string_view command = args[0];
  if (is_help(command) || command == "help") return {0, std::string{usage_text}};
  if (command == "--version" || command == "version") {
    return {0, "vsmmu " + std::string{version()} + "\n"};
  }
  if (command == "decode" || command == "encode") return run_command(command, args.subspan(1));
  if (command == "pcie") {
    for (const std::string_view a : args) {
      if (is_help(a)) return {0, std::string{usage_text}};
    }
    auto reply = run_pcie(args.subspan(1));
    if (!reply.output) return fail(reply.context, reply.output.error());
    return {0, std::move(*reply.output)};
  }
  if (command == "translate") {
    for (const std::string_view a : args) {
      if (is_help(a)) return {0, std::string{usage_text}};
    }
    auto reply = run_translate(args.subspan(1));
    if (!reply) return fail(command, reply.error());
    return {0, std::move(*reply)};
  }
  return {static_cast<int>(status::usage),
          "vsmmu: unknown command " + quoted(command) + " (try vsmmu --help)\n"};
}

}  // namespace

int run(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) noexcept {
  try {
    const outcome o = dispatch(args);
    (o.code == 0 ? out : err) << o.text << std::flush;
    return o.code;
  } catch (const std::exception& e) {
    try {
      err << "vsmmu: internal error: " << e.what() << std::endl;
    } catch (...) {  // nothing more can be reported
    }
  } catch (...) {
    try {
      err << "vsmmu: internal error" << std::endl;
    } catch (...) {  // nothing more can be reported
    }
  }
  return static_cast<int>(status::bad_data);
}

std::string_view usage() noexcept { return usage_text; }

std::string_view version() noexcept { return VSMMU_VERSION_STRING; }

}  // namespace vsmmu::cli
