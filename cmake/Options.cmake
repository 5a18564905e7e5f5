# SPDX-License-Identifier: EUPL-1.2
option(CARREFOUR_BUILD_TESTS "Build the unit and integration tests" ON)
option(CARREFOUR_BUILD_BENCH "Build the benchmarks in bench/" ON)
option(CARREFOUR_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(CARREFOUR_FUZZ "Build the libFuzzer targets of fuzz/ (clang; ASan + UBSan everywhere)" OFF)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

# ccache makes the CI's fresh clone and every rebuild cheap on 2 cores.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# Warnings are on for the project's own code only (an interface target that
# every module and test links privately).
add_library(carrefour_warnings INTERFACE)
target_compile_options(carrefour_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough
  # Designated initializers leave fields at their defaults on purpose.
  -Wno-missing-field-initializers)

# Every library is instrumented for libFuzzer's coverage and both sanitizers;
# only the fuzz targets link libFuzzer's main (fuzz/CMakeLists.txt).
if(CARREFOUR_FUZZ)
  add_compile_options(-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(CARREFOUR_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
