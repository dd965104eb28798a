# Commands, CERROR codes and event records (included from tests/smmuv3/CMakeLists.txt).
vsmmu_add_test(test_smmuv3_commands ${CMAKE_CURRENT_LIST_DIR}/commands_test.cpp)
vsmmu_add_test(test_smmuv3_events ${CMAKE_CURRENT_LIST_DIR}/events_test.cpp)
