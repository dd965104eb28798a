// Pairs of functions: a hand-written shift/mask and the same access through vsmmu's layouts.
// compare_codegen.cmake disassembles this object (built at -O2) and requires each pair to
// compile to the same instructions.
#include <vsmmu/smmuv3/ste.hpp>

#include <cstdint>

namespace ste = vsmmu::smmuv3::ste;

extern "C" {

// STE.Config, bits [3:1]
std::uint64_t hand_get_config(const std::uint64_t* w) { return (w[0] >> 1) & 0x7; }
std::uint64_t lib_get_config(const ste::value* v) {
  return static_cast<std::uint64_t>(v->get<ste::Config>());
}

// STE.S1ContextPtr, bits [55:6], kept in place
std::uint64_t hand_get_s1contextptr(const std::uint64_t* w) { return w[0] & 0x00ff'ffff'ffff'ffc0ULL; }
std::uint64_t lib_get_s1contextptr(const ste::value* v) { return v->get<ste::S1ContextPtr>(); }

// STE.S2TTB, dword 3 bits [55:4]
std::uint64_t hand_get_s2ttb(const std::uint64_t* w) { return w[3] & 0x00ff'ffff'ffff'fff0ULL; }
std::uint64_t lib_get_s2ttb(const ste::value* v) { return v->get<ste::S2TTB>(); }

// Writing STE.S1ContextPtr
void hand_set_s1contextptr(std::uint64_t* w, std::uint64_t a) {
  w[0] = (w[0] & ~0x00ff'ffff'ffff'ffc0ULL) | (a & 0x00ff'ffff'ffff'ffc0ULL);
}
void lib_set_s1contextptr(ste::value* v, std::uint64_t a) { v->set<ste::S1ContextPtr>(a); }

// Writing STE.Config
void hand_set_config(std::uint64_t* w, std::uint64_t c) {
  w[0] = (w[0] & ~(0x7ULL << 1)) | ((c & 0x7) << 1);
}
void lib_set_config(ste::value* v, std::uint64_t c) {
  v->set<ste::Config>(static_cast<vsmmu::smmuv3::ste_config>(c));
}

}  // extern "C"
