// SPDX-License-Identifier: BSL-1.0
// Configuration-space dumps as tools exchange them (docs/pcie.md): `lspci -xxxx` text and raw
// sysfs bytes, which come from outside the VMM. Input: the text (or the raw bytes).
#include <vsmmu/pcie/lspci_dump.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "check.hpp"

namespace {

namespace p = vsmmu::pcie;

void check_result(const p::dump_parse_result& r) {
  VSMMU_FUZZ_CHECK(p::to_string(r.error) != "unknown", "a dump_error without a name");
  VSMMU_FUZZ_CHECK(r.bytes_given <= p::config_space_size, "more bytes given than the space has");
  for (std::size_t i = r.bytes_given; i < p::config_space_size; ++i) {
    if (r.bytes[i] != std::byte{0xFF}) {
      VSMMU_FUZZ_CHECK(false, "a byte the dump does not give does not read FFh");
    }
  }
  // Whatever the dump says, the walk over it ends, within max_ext_caps steps.
  VSMMU_FUZZ_CHECK(p::walk_ext_caps(r.bytes).count <= p::max_ext_caps, "an unbounded walk");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const p::dump_parse_result r = p::parse_lspci_dump(text);
  check_result(r);
  if (!r.header.empty()) {
    VSMMU_FUZZ_CHECK(r.header.data() >= text.data() &&
                         r.header.data() + r.header.size() <= text.data() + text.size() &&
                         r.header.find('\n') == std::string_view::npos,
                     "the header is not one line of the text");
  }
  if (r.ok()) {
    VSMMU_FUZZ_CHECK(r.bytes_given % 16 == 0 && r.bytes_given > 0,
                     "a parsed dump gives a size that is not whole lines");
    // What format_lspci_dump prints reads back as the same space, header and length.
    const std::string_view header = r.header.empty() ? p::default_dump_header : r.header;
    const std::string again = p::format_lspci_dump(r.bytes, header, r.bytes_given);
    const p::dump_parse_result back = p::parse_lspci_dump(again);
    VSMMU_FUZZ_CHECK(back.ok() && back.bytes_given == r.bytes_given && back.header == header &&
                         std::memcmp(back.bytes.data(), r.bytes.data(), back.bytes.size()) == 0,
                     "format_lspci_dump does not read back as the dump it formats");
  } else {
    VSMMU_FUZZ_CHECK(r.error == p::dump_error::no_data || r.line > 0,
                     "an error without the line it is on");
  }

  const auto* raw_bytes = reinterpret_cast<const std::byte*>(data);
  const p::dump_parse_result raw = p::config_from_raw(std::span<const std::byte>(raw_bytes, size));
  check_result(raw);
  VSMMU_FUZZ_CHECK(raw.ok() == (size > 0 && size <= p::config_space_size),
                   "config_from_raw accepts the wrong sizes");
  if (raw.ok()) {
    VSMMU_FUZZ_CHECK(raw.bytes_given == size && std::memcmp(raw.bytes.data(), data, size) == 0,
                     "config_from_raw does not keep the bytes");
  }
  return 0;
}
