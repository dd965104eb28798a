# Feature conformance: each file breaks one rule and the error must name it
# (included from tests/compile_fail/CMakeLists.txt).
foreach(name
    at_least_one_stage
    hyp_requires_s1p_and_s2p
    pri_requires_ats
    sidsize_7_or_more_needs_two_level_table
    oas_reserved_for_version
    policy_aarch64_tables_required)
  vsmmu_add_compile_fail_test(${CMAKE_CURRENT_LIST_DIR}/conformance_${name}.cpp)
endforeach()
