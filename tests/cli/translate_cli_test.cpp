// vsmmu translate (docs/cli.md): outcomes on the documented image, and malformed arguments.

#include <catch2/catch.hpp>

#include <vsmmu/smmuv3/features.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "translate_image.hpp"

namespace {

const std::string image = std::string{VSMMU_SOURCE_DIR} + "/tests/cli/data/translate.bin";

struct run_result {
  int status;
  std::string out;
  std::string err;
};

run_result run(std::vector<std::string> words) {
  std::vector<std::string_view> args{"translate"};
  for (const auto& w : words) args.emplace_back(w);
  std::ostringstream out;
  std::ostringstream err;
  const int status = vsmmu::cli::run(args, out, err);
  return {status, out.str(), err.str()};
}

// The image at PA 0, SMMUEN, linear Stream table of 8 STEs, plus `more`.
run_result on_image(std::vector<std::string> more) {
  std::vector<std::string> w{"--mem", image + "@0", "--reg", "CR0=1", "--reg", "STRTAB_BASE_CFG=3"};
  w.insert(w.end(), more.begin(), more.end());
  return run(w);
}

std::string temp_file(const std::string& name, std::string_view bytes) {
  const std::string path = std::string{VSMMU_BINARY_DIR} + "/" + name;
  std::ofstream f{path, std::ios::binary};
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace

TEST_CASE("translate: the image file is what translate_image.hpp builds", "[cli][translate]") {
  auto mem = std::make_unique<translate_image::memory>();
  translate_image::build(*mem);
  std::ifstream f{image, std::ios::binary};
  REQUIRE(f);
  const std::string bytes{std::istreambuf_iterator<char>(f), {}};
  REQUIRE(bytes.size() == translate_image::size);
  for (std::uint64_t a = 0; a < translate_image::size; a += 8) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) {
      v |= std::uint64_t{static_cast<unsigned char>(bytes[a + i])} << (8 * i);
    }
    INFO("PA " << a);
    REQUIRE(v == mem->read64(a).value);
  }
}

TEST_CASE("translate: outcomes", "[cli][translate]") {
  SECTION("stage 1 page, privilege and access") {
    const auto r = on_image({"--sid", "1", "--iova", "0x10000abc"});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    // Privileged: user-writable memory is not privileged-executable.
    CHECK(r.out ==
          "{\"result\":\"translated\",\"pa\":\"0x800000abc\",\"page_size\":4096,"
          "\"perm\":{\"r\":1,\"w\":1,\"x\":0}}\n");
    CHECK(on_image({"--sid", "1", "--iova", "0x10000abc", "--unpriv", "--access", "exec"}).out ==
          "{\"result\":\"translated\",\"pa\":\"0x800000abc\",\"page_size\":4096,"
          "\"perm\":{\"r\":1,\"w\":1,\"x\":1}}\n");
  }
  SECTION("a recorded fault lists every field of the event") {
    const auto r = on_image({"--sid", "1", "--iova", "268439552", "--access", "write"});
    CHECK(r.status == 0);
    CHECK(
        r.out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"F_PERMISSION\","
                          "\"fields\":{\"Type\":19,"));
    CHECK(r.out.find("\"StreamID\":1,") != std::string::npos);
    CHECK(r.out.find("\"RnW\":0,") != std::string::npos);
    CHECK(r.out.find("\"InputAddr\":268439552,") != std::string::npos);
    CHECK(r.out.ends_with("}}}\n"));
  }
  SECTION("a stage 2 fault reports S2 and the IPA") {
    const auto r = on_image({"--sid", "4", "--iova", "0x80012345", "--access", "write"});
    CHECK(r.out.find("\"S2\":1,") != std::string::npos);
    CHECK(r.out.find("\"IPA\":2147557376}") != std::string::npos);  // IPA[51:12] in place
  }
  SECTION("SubstreamID without substreams: C_BAD_SUBSTREAMID") {
    const auto r = on_image({"--sid", "1", "--ssid", "5", "--iova", "0x10000000"});
    CHECK(r.out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"C_BAD_SUBSTREAMID\""));
    CHECK(r.out.find("\"SubstreamID\":5") != std::string::npos);
  }
  SECTION("RAZ/WI and silent aborts") {
    CHECK(on_image({"--sid", "3", "--iova", "0x10002000"})
              .out.ends_with("}},\"termination\":\"raz_wi\"}\n"));
    CHECK(on_image({"--sid", "2", "--iova", "0"}).out == "{\"result\":\"abort\"}\n");
    // StreamID beyond LOG2SIZE without CR2.RECINVSID: aborted, not recorded; with it, recorded.
    CHECK(on_image({"--sid", "8", "--iova", "0"}).out == "{\"result\":\"abort\"}\n");
    CHECK(on_image({"--sid", "8", "--iova", "0", "--reg", "cr2=0x2"})
              .out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"C_BAD_STREAMID\""));
  }
  SECTION("bypass") {
    CHECK(on_image({"--sid", "0", "--iova", "0xabc"}).out ==
          "{\"result\":\"bypass\",\"pa\":\"0xabc\"}\n");
    CHECK(run({"--sid", "0", "--iova", "0xabc"}).out ==
          "{\"result\":\"bypass\",\"pa\":\"0xabc\"}\n");  // SMMUEN = 0
    // GBPA.ABORT with SMMUEN = 0.
    CHECK(run({"--sid", "0", "--iova", "0xabc", "--reg", "SMMU_GBPA=0x100000"}).out ==
          "{\"result\":\"abort\"}\n");
  }
  SECTION("registers change the model: no stage 2 in IDR0 makes SID 4 ILLEGAL") {
    const auto idr0 = vsmmu::smmuv3::default_id_registers.idr0 & ~1U;  // S2P is bit 0
    std::ostringstream v;
    v << std::hex << idr0;
    const auto r = on_image({"--sid", "4", "--iova", "0x80012345", "--reg", "IDR0=" + v.str()});
    CHECK(r.out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"C_BAD_STE\""));
  }
  SECTION("the Stream table found through STRTAB_BASE, memory placed at BASE") {
    const auto r =
        run({"--mem", image + "@0x100000", "--reg", "CR0=1", "--reg", "STRTAB_BASE=100000", "--reg",
             "STRTAB_BASE_CFG=3", "--sid", "0", "--iova", "0x77"});
    CHECK(r.out == "{\"result\":\"bypass\",\"pa\":\"0x77\"}\n");
    // SID 1's CD pointer (0x800) is now outside the loaded memory: F_CD_FETCH.
    const auto cd =
        run({"--mem", image + "@0x100000", "--reg", "CR0=1", "--reg", "STRTAB_BASE=100000", "--reg",
             "STRTAB_BASE_CFG=3", "--sid", "1", "--iova", "0x77"});
    CHECK(cd.out.starts_with("{\"result\":\"fault\",\"event\":{\"name\":\"F_CD_FETCH\""));
    CHECK(cd.out.find("\"FetchAddr\":2048}") != std::string::npos);
  }
  SECTION("several --mem") {
    const std::string a = temp_file("translate_a.bin", std::string(64, '\0'));
    const auto r = run({"--mem", image + "@0", "--mem", a + "@0x100000", "--sid", "0", "--iova",
                        "0x1", "--reg", "CR0=1", "--reg", "STRTAB_BASE_CFG=3"});
    CHECK(r.status == 0);
    CHECK(r.out == "{\"result\":\"bypass\",\"pa\":\"0x1\"}\n");
  }
  SECTION("the event fields decode back to the record translate() produced") {
    const auto r = on_image({"--sid", "1", "--iova", "0x7000", "--unpriv"});
    CHECK(r.out.find("\"name\":\"F_TRANSLATION\"") != std::string::npos);
    CHECK(r.out.find("\"PnU\":0,") != std::string::npos);
    CHECK(r.out.find("\"CLASS\":2,") != std::string::npos);
    CHECK(r.out.find("\"InputAddr\":28672,") != std::string::npos);
  }
}

TEST_CASE("translate: malformed arguments", "[cli][translate]") {
  struct bad {
    std::vector<std::string> words;
    int status;
    std::string message;
  };
  const std::string missing = std::string{VSMMU_BINARY_DIR} + "/no-such-file.bin";
  const std::vector<bad> cases{
      {{"--iova", "1"}, 2, "missing --sid"},
      {{"--sid", "1"}, 2, "missing --iova"},
      {{"--sid", "1", "--iova"}, 2, "--iova needs a value"},
      {{"--sid", "1", "--sid", "2", "--iova", "0"}, 2, "--sid given twice"},
      {{"--sid", "1", "--iova", "0", "--unpriv", "--unpriv"}, 2, "--unpriv given twice"},
      {{"--sid", "1", "--iova", "0", "--verbose"}, 2, "unknown option \"--verbose\""},
      {{"--sid", "1", "--iova", "0", "stray"}, 2, "unexpected argument \"stray\""},
      {{"--sid", "1", "--iova", "0", "--mem", "file"}, 2, "--mem \"file\": expected FILE@BASE"},
      {{"--sid", "1", "--iova", "0", "--mem", "@0"}, 2, "--mem \"@0\": expected FILE@BASE"},
      {{"--sid", "1", "--iova", "0", "--mem", image + "@x"}, 1, "--mem BASE \"x\": "},
      {{"--sid", "1", "--iova", "0", "--mem", missing + "@0"}, 1, ": cannot be opened"},
      {{"--sid", "1", "--iova", "0", "--mem", image + "@0xfffffffffffff000"},
       1,
       ": extends beyond 2^64"},
      {{"--sid", "1", "--iova", "0", "--mem", image + "@0", "--mem", image + "@0x8000"},
       1,
       ": overlaps an earlier --mem at 0x0"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR0"}, 2, "--reg \"CR0\": expected NAME=VALUE"},
      {{"--sid", "1", "--iova", "0", "--reg", "=1"}, 2, "--reg \"=1\": expected NAME=VALUE"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR9=1"}, 1, "unknown register \"CR9\""},
      {{"--sid", "1", "--iova", "0", "--reg", "EVENTQ_BASE=0"},
       1,
       "register EVENTQ_BASE does not take part in a translation"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR0=1", "--reg", "smmu_cr0=1"},
       2,
       "--reg CR0 given twice"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR0=1g"}, 1, "CR0 \"1g\": not a hex number"},
      {{"--sid", "1", "--iova", "0", "--reg", "CR0=100000000"}, 1, "wider than the 32-bit"},
      {{"--sid", "0x100000000", "--iova", "0"}, 1, "--sid \"0x100000000\": larger than 32 bits"},
      {{"--sid", "-1", "--iova", "0"}, 1, "--sid \"-1\""},
      {{"--sid", "1", "--ssid", "0x100000", "--iova", "0"}, 1, "larger than 20 bits"},
      {{"--sid", "1", "--iova", "0x1_000"}, 1, "--iova \"0x1_000\""},
      {{"--sid", "1", "--iova", "0", "--access", "rw"}, 1, "expected read, write or exec"},
  };
  for (const bad& b : cases) {
    std::string line;
    for (const auto& w : b.words) line += w + " ";
    INFO(line);
    const auto r = run(b.words);
    CHECK(r.status == b.status);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("vsmmu: translate: "));
    CHECK(r.err.find(b.message) != std::string::npos);
    CHECK(r.err.ends_with("\n"));
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
}

TEST_CASE("translate: --help", "[cli][translate]") {
  const auto r = run({"--help"});
  CHECK(r.status == 0);
  CHECK(r.out.find("vsmmu translate [--mem FILE@BASE]") != std::string::npos);
}
