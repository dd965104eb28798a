// Decodes an STE through the umbrella header, as an embedder would.
#include <vsmmu/vsmmu.hpp>

#include <cstdio>

int main() {
  namespace ste = vsmmu::smmuv3::ste;
  ste::value entry;
  entry.set<ste::V>(true).set<ste::Config>(vsmmu::smmuv3::ste_config::s1_trans);
  entry.set<ste::S1ContextPtr>(0x8000'0040);
  const bool ok = entry.word(0) == (0x8000'0040ULL | (0b101ULL << 1) | 1ULL) &&
                  entry.get<ste::S1ContextPtr>() == 0x8000'0040;
  std::puts(ok ? "consumer: STE decoded" : "consumer: wrong STE");
  return ok ? 0 : 1;
}
