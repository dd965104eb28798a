// SPDX-License-Identifier: BSL-1.0
#include "structure.hpp"

#include <algorithm>
#include <utility>

#include "number.hpp"

namespace vsmmu::cli {

namespace {

[[nodiscard]] bool bit_at(std::span<const std::byte> bytes, unsigned bit) noexcept {
  return ((std::to_integer<unsigned>(bytes[bit / 8]) >> (bit % 8)) & 1U) != 0;
}

[[nodiscard]] bool overlap(const field_info& a, const field_info& b) noexcept {
  return a.lsb <= b.msb && b.lsb <= a.msb;
}

[[nodiscard]] char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<std::byte> bytes_of_dwords(std::span<const std::uint64_t> dwords) {
  std::vector<std::byte> bytes;
  bytes.reserve(dwords.size() * 8);
  for (const std::uint64_t d : dwords) {
    for (unsigned i = 0; i < 8; ++i) bytes.push_back(static_cast<std::byte>(d >> (8 * i)));
  }
  return bytes;
}

std::vector<std::uint64_t> dwords_of_bytes(std::span<const std::byte> bytes) {
  std::vector<std::uint64_t> dwords;
  for (std::size_t at = 0; at < bytes.size(); at += 8) {
    dwords.push_back(
        value_of_bytes(bytes.subspan(at, std::min<std::size_t>(8, bytes.size() - at))));
  }
  return dwords;
}

std::vector<std::byte> bytes_of_value(std::uint64_t value, std::size_t byte_count) {
  std::vector<std::byte> bytes(byte_count);
  for (std::size_t i = 0; i < byte_count && i < 8; ++i) {
    bytes[i] = static_cast<std::byte>(value >> (8 * i));
  }
  return bytes;
}

std::uint64_t value_of_bytes(std::span<const std::byte> bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = std::min<std::size_t>(bytes.size(), 8); i-- > 0;) {
    value = (value << 8) | std::to_integer<std::uint64_t>(bytes[i]);
  }
  return value;
}

std::string bit_range(unsigned msb, unsigned lsb) {
  std::string out = "[" + std::to_string(msb);
  if (msb != lsb) out += ":" + std::to_string(lsb);
  return out + "]";
}

std::vector<bit_span> reserved_bits_set(const layout_info& info, std::span<const std::byte> bytes,
                                        std::span<const std::uint64_t> ignored) {
  // What each bit may be: 0 = RES0 or undeclared, 1 = part of a named field, 2 = RES1.
  std::vector<unsigned char> role(info.bit_count, 0);
  for (const field_info& f : info.fields) {
    const unsigned char r = !f.is_reserved() ? 1 : f.access_mode == layout::access::res1 ? 2 : 0;
    for (unsigned b = f.lsb; b <= f.msb && b < role.size(); ++b) role[b] = std::max(role[b], r);
  }
  std::vector<bit_span> spans;
  for (unsigned b = 0; b < role.size(); ++b) {
    if (role[b] != 0 || !bit_at(bytes, b)) continue;
    if (b / 64 < ignored.size() && ((ignored[b / 64] >> (b % 64)) & 1U) != 0) continue;
    if (!spans.empty() && spans.back().msb + 1 == b) {
      spans.back().msb = b;
    } else {
      spans.push_back({b, b});
    }
  }
  return spans;
}

std::string to_json(std::string_view kind, std::string_view name, const layout_info& info,
                    std::span<const std::byte> bytes, std::span<const std::uint64_t> ignored) {
  std::string out =
      "{\"kind\": " + quoted(kind) + ", \"name\": " + quoted(name) + ", \"fields\": {";
  bool first = true;
  for (const field_info& f : info.fields) {
    if (f.is_reserved()) continue;
    if (!first) out += ", ";
    first = false;
    out += quoted(f.name);
    out += ": ";
    out += std::to_string(layout::read_value(f, bytes));
  }
  out += '}';
  if (!reserved_bits_set(info, bytes, ignored).empty()) out += ", \"reserved_nonzero\": true";
  out += '}';
  return out;
}

std::string to_text(std::string_view name, const layout_info& info,
                    std::span<const std::byte> bytes, std::span<const std::uint64_t> ignored) {
  std::size_t name_width = 0;
  std::size_t range_width = 0;
  for (const field_info& f : info.fields) {
    if (f.is_reserved()) continue;
    name_width = std::max(name_width, f.name.size());
    range_width = std::max(range_width, bit_range(f.msb, f.lsb).size());
  }
  std::string out{name};
  out += '\n';
  for (const field_info& f : info.fields) {
    if (f.is_reserved()) continue;
    const std::string range = bit_range(f.msb, f.lsb);
    out += f.name;
    out.append(name_width - f.name.size() + 2, ' ');
    out += range;
    out.append(range_width - range.size() + 2, ' ');
    out += hex(layout::read_value(f, bytes));
    out += '\n';
  }
  const std::vector<bit_span> reserved = reserved_bits_set(info, bytes, ignored);
  if (!reserved.empty()) {
    out += "reserved bits set:";
    for (const bit_span& s : reserved) out += " " + bit_range(s.msb, s.lsb);
    out += '\n';
  }
  return out;
}

std::vector<std::byte> blank(const layout_info& info) {
  std::vector<std::byte> bytes(info.byte_count());
  for (const field_info& f : info.fields) {
    if (f.access_mode != layout::access::res1) continue;
    for (unsigned b = f.lsb; b <= f.msb; ++b) {
      bytes[b / 8] |= static_cast<std::byte>(1U << (b % 8));
    }
  }
  return bytes;
}

std::optional<failure> apply_assignments(const layout_info& info,
                                         std::span<const std::string_view> assignments,
                                         std::span<std::byte> bytes) {
  struct done {
    const field_info* field;
    std::string_view text;
    std::uint64_t value;
  };
  std::vector<done> written;
  std::vector<std::string_view> names;
  for (const field_info& f : info.fields) {
    if (!f.is_reserved()) names.push_back(f.name);
  }

  for (const std::string_view text : assignments) {
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return usage_error("expected FIELD=VALUE, got " + quoted(text));
    }
    const std::string_view name = text.substr(0, eq);
    const field_info* f = info.find(name);
    if (f == nullptr) return data_error(unknown_name("field", name, names));
    for (const done& d : written) {
      if (d.field == f) return data_error("duplicate field " + quoted(name));
    }
    const result<std::uint64_t> value =
        parse_number(name, text.substr(eq + 1), number_form::integer);
    if (!value) return value.error();
    if (!layout::value_fits(*f, *value)) {
      std::string message{text};
      if (f->in_place) {
        const unsigned lsb = f->value_shift();
        message += " does not fit address bits " + bit_range(lsb + f->width() - 1, lsb);
      } else {
        message +=
            " does not fit " + std::to_string(f->width()) + (f->width() == 1 ? " bit" : " bits");
      }
      return data_error(std::move(message));
    }
    (void)layout::write_value(*f, bytes, *value);
    for (const done& d : written) {
      if (overlap(*d.field, *f) && layout::read_value(*d.field, bytes) != d.value) {
        return data_error(
            std::string{text} + " conflicts with " + std::string{d.text} + ": they share bits " +
            bit_range(std::min(d.field->msb, f->msb), std::max(d.field->lsb, f->lsb)));
      }
    }
    written.push_back({f, text, *value});
  }
  return std::nullopt;
}

std::string_view closest_name(std::string_view typed,
                              std::span<const std::string_view> candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (const std::string_view c : candidates) {
    const std::size_t d = edit_distance(typed, c);
    if (d < best_distance && d < typed.size()) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string unknown_name(std::string_view what, std::string_view typed,
                         std::span<const std::string_view> candidates) {
  std::string message = "unknown ";
  message += what;
  message += ' ';
  message += quoted(typed);
  const std::string_view hint = closest_name(typed, candidates);
  if (!hint.empty()) message += " (did you mean " + quoted(hint) + "?)";
  return message;
}

}  // namespace vsmmu::cli
