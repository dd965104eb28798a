# The vSMMU's accelerated mode (include/vsmmu/accel/*.hpp): the pure policy (properties, host
# compatibility, admission, STE install decisions, MSI doorbells, IORT RMR, PASID report,
# command classification) and the accelerated vSMMU against the simulated kernel.
vsmmu_add_test(accel_policy
  ${CMAKE_CURRENT_LIST_DIR}/accel_properties_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/accel_ste_install_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/accel_msi_test.cpp)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../../include/vsmmu/accel/iommufd/simulated_kernel.hpp)
  vsmmu_add_test(accel_vsmmu
    ${CMAKE_CURRENT_LIST_DIR}/accel_lifecycle_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/accel_install_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/accel_forward_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/accel_fault_injection_test.cpp)
endif()
