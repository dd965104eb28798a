#include "number.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

using vsmmu::cli::number_form;
using vsmmu::cli::parse_number;
using vsmmu::cli::status;

namespace {

std::uint64_t ok(std::string_view text, number_form form) {
  const auto r = parse_number("X", text, form);
  INFO(std::string{text});
  REQUIRE(r.ok());
  return *r;
}

std::string error(std::string_view text, number_form form) {
  const auto r = parse_number("X", text, form);
  INFO(std::string{text});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == status::bad_data);
  return r.error().message;
}

}  // namespace

TEST_CASE("hex form: dwords and register values, with or without 0x") {
  CHECK(ok("0x1f", number_form::hex) == 0x1f);
  CHECK(ok("1f", number_form::hex) == 0x1f);
  CHECK(ok("10", number_form::hex) == 0x10);  // never decimal
  CHECK(ok("0X1F", number_form::hex) == 0x1f);
  CHECK(ok("ffffffffffffffff", number_form::hex) == 0xffff'ffff'ffff'ffffULL);
  CHECK(ok("0x0000000000000001", number_form::hex) == 1);  // 16 digits, leading zeros count
  CHECK(error("0x00000000000000001", number_form::hex) ==
        R"(X "0x00000000000000001": more than 16 hex digits)");
  CHECK(error("0xZZ", number_form::hex) == R"(X "0xZZ": not a hex number)");
  CHECK(error("", number_form::hex) == R"(X "": empty, expected a number)");
  CHECK(error("0x", number_form::hex) == R"(X "0x": no digits after 0x)");
  CHECK(error("-1", number_form::hex) == R"(X "-1": negative numbers are not accepted)");
  CHECK(error("+1", number_form::hex) == R"(X "+1": not a hex number)");
  CHECK(error(" 1", number_form::hex) == R"(X " 1": not a hex number)");
  CHECK(error("1 ", number_form::hex) == R"(X "1 ": not a hex number)");
}

TEST_CASE("integer form: 0x-prefixed hex or decimal") {
  CHECK(ok("10", number_form::integer) == 10);
  CHECK(ok("010", number_form::integer) == 10);  // no octal
  CHECK(ok("0x10", number_form::integer) == 16);
  CHECK(ok("0", number_form::integer) == 0);
  CHECK(ok("18446744073709551615", number_form::integer) == 0xffff'ffff'ffff'ffffULL);
  CHECK(error("18446744073709551616", number_form::integer) ==
        R"(X "18446744073709551616": larger than 2^64 - 1)");
  CHECK(error("1f", number_form::integer) == R"(X "1f": not a number (decimal, or hex with 0x))");
  CHECK(error("-5", number_form::integer) == R"(X "-5": negative numbers are not accepted)");
  CHECK(error("", number_form::integer) == R"(X "": empty, expected a number)");
  CHECK(error("0x1_0", number_form::integer) ==
        R"(X "0x1_0": not a number (decimal, or hex with 0x))");
}

TEST_CASE("messages quote user input so that they stay on one line") {
  CHECK(vsmmu::cli::quoted("a\"b\\c") == R"("a\"b\\c")");
  CHECK(vsmmu::cli::quoted("a\nb\x01") == R"("a\nb\u0001")");
  const std::string message = error("1\n2", number_form::integer);
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("hex() prints lowercase, padded on request") {
  CHECK(vsmmu::cli::hex(0) == "0x0");
  CHECK(vsmmu::cli::hex(0xABC) == "0xabc");
  CHECK(vsmmu::cli::hex(9, 2) == "0x09");
  CHECK(vsmmu::cli::hex(0xffff'ffff'ffff'ffffULL, 16) == "0xffffffffffffffff");
  CHECK(vsmmu::cli::hex(1, 16) == "0x0000000000000001");
}
