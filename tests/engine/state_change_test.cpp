// set_state() with a feature that changes how a CD decodes drops what was cached under the old
// features (fuzz harness `engine`, finding F4: SMMU_IDR5.DS was left out of the comparison, so a
// CD decoded with CD.DS in effect went on being used after DS was withdrawn, and the reverse).

#include <catch2/catch.hpp>

#include "engine/fixture.hpp"

using namespace ex;

TEST_CASE("engine: a change of SMMU_IDR5.DS drops the cached CDs", "[engine][state]") {
  for (const bool ds_first : {true, false}) {
    world w;
    w.st.features.ds = ds_first;
    const auto root = w.b.new_root(s1_fmt);
    // SH = 3 in descriptor bits [9:8]: OA[51:50] when CD.DS is in effect (an address beyond the
    // 48-bit OAS), shareability when it is not.
    w.b.map(s1_fmt, root, 0x1000'0000, 0x4000'0000, 3, {.sh = 3});
    w.put_cd(1, 0, 0, s1_cd(root, 5).with<C::DS>(true));
    w.put_ste(1, s1_ste(cd_table(1)));
    ve::smmu_engine<memory> e(*w.mem, w.st);
    ve::micro_tlb<4> u;
    const vw::transaction t = txn(1, 0x1000'0123);
    const vw::result before = w.walk(t);
    REQUIRE(same_result(e.translate(t), before));
    REQUIRE(same_result(e.translate(t), before));  // from the caches when it translated
    REQUIRE(same_result(e.translate(t, u), before));

    w.st.features.ds = !ds_first;
    e.set_state(w.st);
    const vw::result after = w.walk(t);
    REQUIRE_FALSE(same_result(before, after));  // DS matters to this CD
    CHECK(same_result(e.translate(t), after));
    CHECK(same_result(e.translate(t, u), after));
  }
}
