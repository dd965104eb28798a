// SPDX-License-Identifier: BSL-1.0
// The vsmmu command line (docs/cli.md) under any argument list. Input: the arguments, separated
// by NUL bytes. Checked: run() returns 0, 1 or 2 (it is noexcept, so a throw aborts); on error
// stdout is empty and stderr is exactly one "vsmmu: " line; on success stderr is empty; a
// successful encode decodes back to the fields it was given; a successful decode encodes back
// to the same bits in every named field. Numbers are checked against the rules docs/cli.md
// states, with a parser written here from those rules, not the CLI's.
#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/smmuv3/l1.hpp>
#include <vsmmu/smmuv3/registers.hpp>
#include <vsmmu/smmuv3/ste.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check.hpp"
#include "cli.hpp"

namespace {

namespace s = vsmmu::smmuv3;
namespace vl = vsmmu::layout;
using args_t = std::vector<std::string_view>;

constexpr std::size_t max_args = 32;

struct outcome {
  int status;
  std::string out;
  std::string err;
};

// run() and the output rules every run must keep.
outcome run(const args_t& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int status = vsmmu::cli::run(std::span<const std::string_view>(args), out, err);
  outcome o{status, out.str(), err.str()};
  VSMMU_FUZZ_CHECK(o.status == 0 || o.status == 1 || o.status == 2, "exit status not 0, 1 or 2");
  if (o.status == 0) {
    VSMMU_FUZZ_CHECK(o.err.empty(), "success with something on stderr");
    VSMMU_FUZZ_CHECK(!o.out.empty() && o.out.back() == '\n', "success without a final newline");
  } else {
    VSMMU_FUZZ_CHECK(o.out.empty(), "failure with something on stdout");
    VSMMU_FUZZ_CHECK(o.err.starts_with("vsmmu: ") && o.err.back() == '\n' &&
                         o.err.find('\n') == o.err.size() - 1,
                     "a failure is not exactly one \"vsmmu: \" line on stderr");
    VSMMU_FUZZ_CHECK(!o.err.starts_with("vsmmu: internal error"),
                     "run() caught an exception: bad input must be an error value");
  }
  return o;
}

[[nodiscard]] char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

[[nodiscard]] bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

[[nodiscard]] std::string_view without_prefix(std::string_view name, std::string_view prefix) {
  if (name.size() >= prefix.size() && same_ignoring_case(name.substr(0, prefix.size()), prefix)) {
    name.remove_prefix(prefix.size());
  }
  return name;
}

[[nodiscard]] int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// docs/cli.md "Numbers": dwords and register values are hex, "0x" optional, at most 16 digits;
// field values are "0x"-prefixed hex (same digit limit) or decimal up to 2^64 - 1.
[[nodiscard]] std::optional<std::uint64_t> documented_number(std::string_view t, bool hex_only) {
  const bool prefixed = t.size() >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
  if (hex_only || prefixed) {
    if (prefixed) t.remove_prefix(2);
    if (t.empty() || t.size() > 16) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : t) {
      const int d = hex_digit(c);
      if (d < 0) return std::nullopt;
      v = v << 4 | static_cast<std::uint64_t>(d);
    }
    return v;
  }
  if (t.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : t) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (~std::uint64_t{0} - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

struct json_result {
  std::string kind;
  std::string name;
  std::vector<std::pair<std::string, std::uint64_t>> fields;
  bool reserved_nonzero = false;
};

// The one-line JSON object docs/cli.md documents, read strictly: anything else is a finding.
[[nodiscard]] json_result parse_json(std::string_view text) {
  json_result r;
  const auto expect = [&](std::string_view token) {
    VSMMU_FUZZ_CHECK(text.starts_with(token), "decode output is not the documented JSON");
    text.remove_prefix(token.size());
  };
  const auto string = [&] {
    expect("\"");
    const std::size_t end = text.find('"');
    VSMMU_FUZZ_CHECK(end != std::string_view::npos, "unterminated JSON string");
    std::string s{text.substr(0, end)};
    VSMMU_FUZZ_CHECK(s.find('\\') == std::string::npos, "an escaped name in decode output");
    text.remove_prefix(end + 1);
    return s;
  };
  expect("{\"kind\": ");
  r.kind = string();
  expect(", \"name\": ");
  r.name = string();
  expect(", \"fields\": {");
  while (!text.starts_with("}")) {
    if (!r.fields.empty()) expect(", ");
    std::string field = string();
    expect(": ");
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const auto value = documented_number(text.substr(0, digits), false);
    VSMMU_FUZZ_CHECK(value.has_value() && (digits == 1 || text[0] != '0'),
                     "a JSON field value is not a decimal integer");
    text.remove_prefix(digits);
    r.fields.emplace_back(std::move(field), *value);
  }
  expect("}");
  if (text.starts_with(", \"reserved_nonzero\": true")) {
    r.reserved_nonzero = true;
    text.remove_prefix(26);
  }
  expect("}\n");
  VSMMU_FUZZ_CHECK(text.empty(), "text after the JSON object");
  return r;
}

// "0x%016llx" dwords separated by single spaces and a final newline, or one register value
// "0x" followed by exactly `digits` hex digits.
[[nodiscard]] std::vector<std::string> printed_words(const std::string& out, unsigned digits) {
  std::vector<std::string> words;
  std::size_t at = 0;
  while (true) {
    const std::size_t end = out.find_first_of(" \n", at);
    VSMMU_FUZZ_CHECK(end != std::string::npos, "encode output does not end with a newline");
    std::string w = out.substr(at, end - at);
    VSMMU_FUZZ_CHECK(w.size() == 2 + digits && w.starts_with("0x"),
                     "encode printed a word of the wrong width");
    for (std::size_t i = 2; i < w.size(); ++i) {
      VSMMU_FUZZ_CHECK((w[i] >= '0' && w[i] <= '9') || (w[i] >= 'a' && w[i] <= 'f'),
                       "encode printed something other than lowercase hex");
    }
    words.push_back(std::move(w));
    if (out[end] == '\n') {
      VSMMU_FUZZ_CHECK(end + 1 == out.size(), "encode printed more than one line");
      return words;
    }
    at = end + 1;
  }
}

// The layout a kind (and, for a register, its name; for a command or event, its first byte)
// selects, as the catalogues describe it.
[[nodiscard]] const vl::layout_info* layout_of(std::string_view kind, std::string_view name,
                                               std::uint8_t code) {
  static constexpr vl::layout_info ste = vl::info_of_layout<s::ste::layout>();
  static constexpr vl::layout_info cd = vl::info_of_layout<s::cd::layout>();
  static constexpr vl::layout_info l1std = vl::info_of_layout<s::l1std::layout>();
  static constexpr vl::layout_info l1cd = vl::info_of_layout<s::l1cd::layout>();
  if (kind == "ste") return &ste;
  if (kind == "cd") return &cd;
  if (kind == "l1std") return &l1std;
  if (kind == "l1cd") return &l1cd;
  if (kind == "cmd") {
    const auto* c = s::find_command(code);
    return c != nullptr ? &c->layout : nullptr;
  }
  if (kind == "event") {
    const auto* e = s::find_event(code);
    return e != nullptr ? &e->layout : nullptr;
  }
  const auto* r = s::find_register(name);
  return r != nullptr ? &r->layout : nullptr;
}

[[nodiscard]] std::vector<std::byte> bytes_of_words(const std::vector<std::uint64_t>& words,
                                                    std::size_t byte_count) {
  std::vector<std::byte> bytes(byte_count);
  for (std::size_t i = 0; i < byte_count; ++i) {
    bytes[i] = static_cast<std::byte>(words[i / 8] >> (8 * (i % 8)));
  }
  return bytes;
}

[[nodiscard]] std::optional<std::uint64_t> field_in(const json_result& j, std::string_view name) {
  for (const auto& [f, v] : j.fields) {
    if (f == name) return v;
  }
  return std::nullopt;
}

// The named fields of the structure `words` hold must read as `json` reports them.
void check_fields_match(const vl::layout_info& info, const std::vector<std::byte>& bytes,
                        const json_result& json) {
  std::size_t named = 0;
  for (const auto& f : info.fields) {
    if (f.is_reserved()) continue;
    VSMMU_FUZZ_CHECK(named < json.fields.size() && json.fields[named].first == f.name &&
                         json.fields[named].second == vl::read_value(f, bytes),
                     "decode does not list every named field, in order, with its value");
    ++named;
  }
  VSMMU_FUZZ_CHECK(named == json.fields.size(), "decode lists a field the layout does not name");
}

// A successful encode: its output decodes back to every field it was given.
void check_encode(std::string_view kind, std::span<const std::string_view> rest,
                  const std::string& out) {
  const bool named = kind == "cmd" || kind == "event" || kind == "reg";
  const std::string_view name = named ? rest[0] : std::string_view{};
  const auto assignments = named ? rest.subspan(1) : rest;

  args_t decode{"decode", kind};
  std::vector<std::uint64_t> words;
  const s::register_desc* reg = kind == "reg" ? s::find_register(name) : nullptr;
  VSMMU_FUZZ_CHECK(kind != "reg" || reg != nullptr, "encode accepted an unknown register");
  const auto printed = printed_words(out, reg != nullptr ? reg->width / 4 : 16);
  if (reg != nullptr) decode.push_back(name);
  for (const auto& w : printed) {
    const auto v = documented_number(w, true);
    VSMMU_FUZZ_CHECK(v.has_value(), "encode printed a word decode's rules refuse");
    words.push_back(*v);
  }
  std::vector<std::string> storage(printed.begin(), printed.end());
  for (const auto& w : storage) decode.push_back(w);

  const outcome back = run(decode);
  VSMMU_FUZZ_CHECK(back.status == 0, "decode refused what encode printed");
  const json_result json = parse_json(back.out);
  VSMMU_FUZZ_CHECK(json.kind == kind, "decode reports another kind");

  const vl::layout_info* info =
      layout_of(kind, name, static_cast<std::uint8_t>(words.empty() ? 0 : words[0]));
  VSMMU_FUZZ_CHECK(info != nullptr, "encode printed a structure with no layout");
  VSMMU_FUZZ_CHECK(words.size() * (reg != nullptr ? reg->width : 64) == info->bit_count,
                   "encode printed the wrong number of words");
  check_fields_match(*info, bytes_of_words(words, info->byte_count()), json);

  if (kind == "cmd") {
    VSMMU_FUZZ_CHECK(
        same_ignoring_case(without_prefix(json.name, "CMD_"), without_prefix(name, "CMD_")),
        "the command decodes under another name");
  } else if (kind == "event") {
    VSMMU_FUZZ_CHECK(same_ignoring_case(json.name, name), "the event decodes under another name");
  } else if (kind == "reg") {
    VSMMU_FUZZ_CHECK(same_ignoring_case(json.name, without_prefix(name, "SMMU_")),
                     "the register decodes under another name");
  } else {
    VSMMU_FUZZ_CHECK(json.name == info->name, "the structure decodes under another name");
  }

  for (const std::string_view a : assignments) {
    const std::size_t eq = a.find('=');
    VSMMU_FUZZ_CHECK(eq != std::string_view::npos && eq != 0, "encode accepted a non-assignment");
    const auto value = documented_number(a.substr(eq + 1), false);
    VSMMU_FUZZ_CHECK(value.has_value(), "encode accepted a value docs/cli.md refuses");
    const auto got = field_in(json, a.substr(0, eq));
    VSMMU_FUZZ_CHECK(got.has_value(), "encode accepted a field decode does not list");
    VSMMU_FUZZ_CHECK(*got == *value, "a field given to encode decodes to another value");
  }
}

// A successful JSON decode: encoding every field it lists gives back the input's bits in every
// named field (reserved and IMPLEMENTATION DEFINED bits have no name, so they are not compared).
void check_decode(std::string_view kind, std::span<const std::string_view> rest,
                  const std::string& out) {
  const json_result json = parse_json(out);
  VSMMU_FUZZ_CHECK(json.kind == kind, "decode reports another kind");
  const bool reg = kind == "reg";
  std::vector<std::uint64_t> words;
  for (const std::string_view w : reg ? rest.subspan(1) : rest) {
    const auto v = documented_number(w, true);
    VSMMU_FUZZ_CHECK(v.has_value(), "decode accepted a dword or value docs/cli.md refuses");
    words.push_back(*v);
  }
  const s::register_desc* r = reg ? s::find_register(rest[0]) : nullptr;
  VSMMU_FUZZ_CHECK(!reg || r != nullptr, "decode accepted an unknown register");
  VSMMU_FUZZ_CHECK(!reg || r->width == 64 || (words[0] >> r->width) == 0,
                   "decode accepted a value wider than the register");
  const vl::layout_info* info =
      layout_of(kind, reg ? rest[0] : std::string_view{}, static_cast<std::uint8_t>(words[0]));
  VSMMU_FUZZ_CHECK(info != nullptr, "decode accepted a structure with no layout");
  VSMMU_FUZZ_CHECK(words.size() * (reg ? r->width : 64) == info->bit_count,
                   "decode accepted the wrong number of words");
  const auto bytes = bytes_of_words(words, info->byte_count());
  check_fields_match(*info, bytes, json);

  std::vector<std::string> storage;
  storage.reserve(json.fields.size());
  args_t encode{"encode", kind};
  if (kind == "cmd" || kind == "event" || reg) encode.push_back(json.name);
  for (const auto& [f, v] : json.fields) {
    storage.push_back(f + "=" + std::to_string(v));
    encode.push_back(storage.back());
  }
  const outcome again = run(encode);
  VSMMU_FUZZ_CHECK(again.status == 0, "encode refused the fields decode listed");
  std::vector<std::uint64_t> encoded;
  for (const auto& w : printed_words(again.out, reg ? r->width / 4 : 16)) {
    encoded.push_back(*documented_number(w, true));
  }
  const auto encoded_bytes = bytes_of_words(encoded, info->byte_count());
  for (const auto& f : info->fields) {
    if (f.is_reserved()) continue;
    VSMMU_FUZZ_CHECK(vl::read_value(f, encoded_bytes) == vl::read_value(f, bytes),
                     "decode then encode changed a named field");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  args_t args;
  std::size_t at = 0;
  while (at <= input.size() && args.size() < max_args) {
    const std::size_t end = std::min(input.find('\0', at), input.size());
    args.push_back(input.substr(at, end - at));
    at = end + 1;
  }
  if (size == 0) args.clear();
  // `vsmmu pcie SUB FILE [OPTIONS]` opens FILE: a path from the input could name anything
  // (a device that blocks, a huge file), so every word that could be FILE names one dump. Words
  // that look like numbers are left alone: they are the options' values.
  if (!args.empty() && args[0] == "pcie") {
    const auto numeric = [](std::string_view a) {
      return !a.empty() &&
             a.find_first_not_of("0123456789abcdefABCDEFxX") == std::string_view::npos;
    };
    for (std::size_t i = 2; i < args.size(); ++i) {
      if (!args[i].starts_with("-") && !numeric(args[i])) args[i] = VSMMU_FUZZ_PCIE_DUMP;
    }
  }

  const outcome o = run(args);
  if (o.status != 0 || o.out == vsmmu::cli::usage() || args.empty()) return 0;
  const std::string_view command = args[0];
  if (command != "encode" && command != "decode") return 0;

  // The words after the command, as run() sees them: options apart from the positionals.
  bool text = false;
  args_t positional;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--text") {
      text = true;
    } else {
      VSMMU_FUZZ_CHECK(!args[i].starts_with("--"), "an unknown option was accepted");
      positional.push_back(args[i]);
    }
  }
  VSMMU_FUZZ_CHECK(!positional.empty(), "success without a structure");
  const std::string_view kind = positional[0];
  const std::span<const std::string_view> rest = std::span(positional).subspan(1);
  if (command == "encode") {
    VSMMU_FUZZ_CHECK(!text, "encode accepted --text");
    check_encode(kind, rest, o.out);
  } else if (!text) {
    check_decode(kind, rest, o.out);
  }
  return 0;
}
