#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"

// docs/cli.md shows real output: every "$ vsmmu ..." line of its sh blocks is run here and its
// output compared with the lines that follow it. Lines using the shell ($(...), pipes) are
// skipped; "# status N" at the end of a command line gives the expected exit status (else 0),
// and for a failure the lines shown are what goes to stderr.

namespace {

struct example {
  std::string command;
  int status = 0;
  std::string expected;
  bool skip = false;
};

std::vector<example> examples_of(std::istream& doc) {
  std::vector<example> out;
  bool in_sh = false;
  std::string line;
  while (std::getline(doc, line)) {
    if (line.starts_with("```")) {
      in_sh = line == "```sh";
      continue;
    }
    if (!in_sh) continue;
    if (line.starts_with("$ ")) {
      example e;
      std::string command = line.substr(2);
      if (const auto hash = command.find(" #"); hash != std::string::npos) {
        const std::string comment = command.substr(hash);
        if (const auto s = comment.find("status "); s != std::string::npos) {
          e.status = std::stoi(comment.substr(s + 7));
        }
        command.erase(hash);
      }
      while (!command.empty() && command.back() == ' ') command.pop_back();
      e.skip = command.find("$(") != std::string::npos || command.find('|') != std::string::npos;
      e.command = command;
      out.push_back(e);
    } else if (!out.empty()) {
      out.back().expected += line + "\n";
    }
  }
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> w;
  while (!s.empty()) {
    const auto space = s.find(' ');
    if (space != 0) w.push_back(s.substr(0, space));
    if (space == std::string_view::npos) break;
    s.remove_prefix(space + 1);
  }
  return w;
}

}  // namespace

TEST_CASE("the examples of docs/cli.md are real output") {
  std::ifstream doc{VSMMU_CLI_DOC};
  REQUIRE(doc);
  const auto examples = examples_of(doc);
  std::size_t checked = 0;
  for (const auto& e : examples) {
    if (e.skip) continue;
    INFO(e.command);
    auto args = words(e.command);
    REQUIRE(!args.empty());
    REQUIRE(args.front() == "vsmmu");
    args.erase(args.begin());
    // Files the examples name relative to the source tree (translate's --mem images).
    std::vector<std::string> rooted;
    rooted.reserve(args.size());
    for (auto& a : args) {
      if (a.starts_with("tests/cli/data/")) {
        rooted.push_back(std::string{VSMMU_SOURCE_DIR} + "/" + std::string{a});
        a = rooted.back();
      }
    }
    std::ostringstream out;
    std::ostringstream err;
    CHECK(vsmmu::cli::run(args, out, err) == e.status);
    CHECK((e.status == 0 ? out.str() : err.str()) == e.expected);
    ++checked;
  }
  CHECK(checked >= 15);
}
