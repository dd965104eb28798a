// SPDX-License-Identifier: BSL-1.0
#pragma once

// The one place the version is written; CMakeLists.txt reads it for project(VERSION).
#define VSMMU_VERSION_MAJOR 0
#define VSMMU_VERSION_MINOR 1
#define VSMMU_VERSION_PATCH 0

#define VSMMU_VERSION_STRING "0.1.0"

namespace vsmmu {
inline constexpr int version_major = VSMMU_VERSION_MAJOR;
inline constexpr int version_minor = VSMMU_VERSION_MINOR;
inline constexpr int version_patch = VSMMU_VERSION_PATCH;
}  // namespace vsmmu
