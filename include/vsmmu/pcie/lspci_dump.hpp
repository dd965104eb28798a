// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/config_space.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

// Configuration spaces as tools exchange them: the text `lspci -xxxx` prints (and `lspci -F`
// reads back), and raw bytes (sysfs `config` files). Bytes a dump does not give read as FFh,
// as absent configuration space does, so a 256-byte dump walks as "no extended space".
namespace vsmmu::pcie {

enum class dump_error : std::uint8_t {
  none,
  no_data,     // no hex line at all
  bad_header,  // the device line does not start with a slot, [DDDD:]BB:DD.F
  bad_line,    // a line that is neither "OFF: 16 bytes" nor the end of the device
  bad_offset,  // a line's offset is not the next 16 bytes (dumps run from 0, in order)
  too_long,    // more than 4096 bytes
};

[[nodiscard]] constexpr std::string_view to_string(dump_error e) noexcept {
  switch (e) {
    case dump_error::none:
      return "none";
    case dump_error::no_data:
      return "no_data";
    case dump_error::bad_header:
      return "bad_header";
    case dump_error::bad_line:
      return "bad_line";
    case dump_error::bad_offset:
      return "bad_offset";
    case dump_error::too_long:
      return "too_long";
  }
  return "unknown";
}

struct dump_parse_result {
  dump_error error = dump_error::none;
  std::size_t line = 0;         // 1-based line of the error
  config_bytes bytes{};         // the space, FFh where the dump gives nothing
  std::size_t bytes_given = 0;  // 64, 256, 4096, ... (16 per line)
  std::string_view header;      // the device line, a view into the text ("" if none)

  [[nodiscard]] constexpr bool ok() const noexcept { return error == dump_error::none; }
};

namespace detail {

[[nodiscard]] constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

[[nodiscard]] constexpr bool all_hex(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return hex_value(c) >= 0; });
}

// [DDDD:]BB:DD.F followed by a space or the end of the line, as lspci prints a device.
[[nodiscard]] constexpr bool is_device_line(std::string_view line) noexcept {
  const std::size_t space = line.find(' ');
  std::string_view slot = line.substr(0, space);
  if (slot.size() == 12) {
    if (!all_hex(slot.substr(0, 4)) || slot[4] != ':') return false;
    slot.remove_prefix(5);
  }
  return slot.size() == 7 && all_hex(slot.substr(0, 2)) && slot[2] == ':' &&
         all_hex(slot.substr(3, 2)) && slot[5] == '.' && all_hex(slot.substr(6, 1));
}

// "OFF:" then 16 " XX" bytes. Returns false if the line has another shape.
[[nodiscard]] constexpr bool parse_hex_line(std::string_view line, std::size_t& offset,
                                            std::array<std::byte, 16>& out) noexcept {
  const std::size_t colon = line.find(':');
  if (colon < 2 || colon > 3 || colon == std::string_view::npos) return false;
  if (!all_hex(line.substr(0, colon))) return false;
  offset = 0;
  for (std::size_t i = 0; i < colon; ++i) {
    offset = offset * 16 + static_cast<std::size_t>(hex_value(line[i]));
  }
  std::string_view rest = line.substr(colon + 1);
  if (rest.size() != 16 * 3) return false;
  for (std::size_t i = 0; i < 16; ++i) {
    const std::string_view b = rest.substr(i * 3, 3);
    if (b[0] != ' ' || hex_value(b[1]) < 0 || hex_value(b[2]) < 0) return false;
    out[i] = static_cast<std::byte>(hex_value(b[1]) * 16 + hex_value(b[2]));
  }
  return true;
}

}  // namespace detail

// Reads the first device of an `lspci -xxxx` (or -x, -xxx) dump: an optional device line, then
// hex lines from offset 0, up to a blank line, the next device line or the end of the text.
[[nodiscard]] constexpr dump_parse_result parse_lspci_dump(std::string_view text) noexcept {
  dump_parse_result r;
  std::fill(r.bytes.begin(), r.bytes.end(), std::byte{0xFF});
  std::size_t line_no = 0;
  bool started = false;  // the device line or a hex line was seen
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (r.bytes_given > 0) break;
      continue;
    }
    if (detail::is_device_line(line)) {
      if (r.bytes_given > 0 || started) break;
      r.header = line;
      started = true;
      continue;
    }
    std::size_t offset = 0;
    std::array<std::byte, 16> row{};
    if (!detail::parse_hex_line(line, offset, row)) {
      r.error = started || r.bytes_given > 0 ? dump_error::bad_line : dump_error::bad_header;
      r.line = line_no;
      return r;
    }
    started = true;
    if (r.bytes_given >= config_space_size || offset != r.bytes_given) {
      r.error = r.bytes_given >= config_space_size ? dump_error::too_long : dump_error::bad_offset;
      r.line = line_no;
      return r;
    }
    std::copy(row.begin(), row.end(), r.bytes.begin() + static_cast<std::ptrdiff_t>(offset));
    r.bytes_given += 16;
  }
  if (r.bytes_given == 0) {
    r.error = dump_error::no_data;
    r.line = line_no;
  }
  return r;
}

// Raw bytes (a sysfs config file, 256 or 4096 bytes): the rest reads FFh.
[[nodiscard]] constexpr dump_parse_result config_from_raw(std::span<const std::byte> raw) noexcept {
  dump_parse_result r;
  std::fill(r.bytes.begin(), r.bytes.end(), std::byte{0xFF});
  if (raw.size() > config_space_size) {
    r.error = dump_error::too_long;
    return r;
  }
  if (raw.empty()) {
    r.error = dump_error::no_data;
    return r;
  }
  std::copy(raw.begin(), raw.end(), r.bytes.begin());
  r.bytes_given = raw.size();
  return r;
}

inline constexpr std::string_view default_dump_header =
    "00:00.0 Non-VGA unclassified device: vsmmu configuration space";

// The text `lspci -xxxx` prints for one device: the device line, 16 bytes per line ("00:" for
// the first 256 bytes, "100:" above), and a blank line. `lspci -F` reads it back.
[[nodiscard]] inline std::string format_lspci_dump(config_span c,
                                                   std::string_view header = default_dump_header,
                                                   std::size_t length = config_space_size) {
  constexpr std::string_view digits = "0123456789abcdef";
  length = std::min(length, config_space_size) / 16 * 16;
  std::string out;
  out.reserve(header.size() + 1 + length / 16 * 53 + 1);
  out += header;
  out += '\n';
  for (std::size_t offset = 0; offset < length; offset += 16) {
    if (offset >= 0x100) out += digits[(offset >> 8) & 0xF];
    out += digits[(offset >> 4) & 0xF];
    out += digits[offset & 0xF];
    out += ':';
    for (std::size_t i = 0; i < 16; ++i) {
      const auto b = std::to_integer<unsigned>(c[offset + i]);
      out += ' ';
      out += digits[b >> 4];
      out += digits[b & 0xF];
    }
    out += '\n';
  }
  out += '\n';
  return out;
}

}  // namespace vsmmu::pcie
