# SPDX-License-Identifier: EUPL-1.2
# carrefour_module(NAME SOURCES a.cc b.cc DEPS carrefour::core ... [PRIVATE_DEPS ...])
#
# A module is one static library, carrefour::NAME, built from src/NAME. Headers
# are included from src/ ("niss/niss.h"). DEPS are the modules and libraries
# its public headers need; PRIVATE_DEPS those only its .cc files need (keep
# Beast, pqxx and other heavy headers there).
function(carrefour_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(carrefour_${name} STATIC ${M_SOURCES})
  add_library(carrefour::${name} ALIAS carrefour_${name})
  target_include_directories(carrefour_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(carrefour_${name}
    PUBLIC ${M_DEPS}
    PRIVATE ${M_PRIVATE_DEPS} carrefour_warnings)
endfunction()

# carrefour_test(NAME SOURCES x_test.cc DEPS carrefour::x [LABELS ...] [NEEDS_BINARY])
#
# A GoogleTest executable registered with CTest, one CTest test per TEST().
# Tests find the source tree in $CARREFOUR_SOURCE_DIR; with NEEDS_BINARY they
# also run the real `carrefour` binary, found in $CARREFOUR_BINARY.
function(carrefour_test name)
  if(NOT CARREFOUR_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "NEEDS_BINARY" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock
                        GTest::gtest_main carrefour_warnings)
  if(T_NEEDS_BINARY)
    add_dependencies(${name} carrefour)
  endif()
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${T_LABELS}"
    # One variable per property: gtest_discover_tests splits a list at ';'.
    ENVIRONMENT "CARREFOUR_BINARY=$<TARGET_FILE:carrefour>"
    ENVIRONMENT_MODIFICATION "CARREFOUR_SOURCE_DIR=set:${PROJECT_SOURCE_DIR}")
endfunction()
