# The iommufd layer: adapter concept and result type, our uAPI definitions, the Linux ioctl
# adapter, the kernel's nesting rules, the simulated kernel.
vsmmu_add_test(accel_iommufd_api
  iommufd_adapter_test.cpp
  iommufd_uapi_test.cpp
  iommufd_linux_test.cpp
  iommufd_kernel_rules_test.cpp)
vsmmu_add_test(accel_iommufd_sim
  iommufd_sim_objects_test.cpp
  iommufd_sim_attach_test.cpp
  iommufd_sim_invalidate_test.cpp
  iommufd_sim_veventq_test.cpp
  iommufd_sim_faults_test.cpp
  iommufd_sim_random_test.cpp)
