# Register map and feature conformance (included from tests/smmuv3/CMakeLists.txt).
vsmmu_add_test(test_smmuv3_registers ${CMAKE_CURRENT_LIST_DIR}/registers_test.cpp)
vsmmu_add_test(test_smmuv3_conformance ${CMAKE_CURRENT_LIST_DIR}/conformance_test.cpp)
