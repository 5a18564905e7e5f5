# SPDX-License-Identifier: EUPL-1.2
# Install rules and the Debian package (docs/operations.md):
#
#   cmake --install build/release --prefix /usr        # or DESTDIR=... for a staging root
#   cpack --config build/release/CPackConfig.cmake      # carrefour_<version>_amd64.deb
#
# bin/carrefour; share/doc/carrefour (README, CHANGELOG, LICENSE, docs/*.md,
# openapi.yaml, the example network); man pages generated from --help by
# help2man; bash completion; systemd units and the sysusers file;
# /etc/carrefour/hub.toml (a conffile of the package).
include(GNUInstallDirs)

install(TARGETS carrefour RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(CARREFOUR_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/carrefour)
install(FILES README.md CHANGELOG.md LICENSE DESTINATION ${CARREFOUR_DOC_DIR})
file(GLOB CARREFOUR_DOCS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${CARREFOUR_DOCS} docs/openapi.yaml DESTINATION ${CARREFOUR_DOC_DIR})
install(FILES examples/network.toml DESTINATION ${CARREFOUR_DOC_DIR}/examples)

install(FILES packaging/carrefour-hub.service packaging/carrefour-connector@.service
        DESTINATION lib/systemd/system)
install(FILES packaging/sysusers.conf DESTINATION lib/sysusers.d RENAME carrefour.conf)
install(FILES packaging/carrefour.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME carrefour)
# /etc whatever the prefix: where the units look for it.
install(FILES packaging/hub.toml DESTINATION /etc/carrefour)

# Man pages: carrefour(1) and carrefour-COMMAND(1), from the binary's --help.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(CARREFOUR_MAN_COMMANDS hub connector demo niss network pki directory audit bis research)
  set(pages "")
  set(man_dir ${CMAKE_BINARY_DIR}/man)
  foreach(command "" ${CARREFOUR_MAN_COMMANDS})
    if(command STREQUAL "")
      set(page ${man_dir}/carrefour.1)
      set(name "a crossroads bank for social security")
    else()
      set(page ${man_dir}/carrefour-${command}.1)
      set(name "carrefour ${command}")
    endif()
    add_custom_command(
      OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -DHELP2MAN=${HELP2MAN} -DBINARY=$<TARGET_FILE:carrefour>
              -DCOMMAND=${command} -DOUT=${page} -DVERSION=${PROJECT_VERSION}
              -P ${PROJECT_SOURCE_DIR}/cmake/ManPage.cmake
      DEPENDS carrefour ${PROJECT_SOURCE_DIR}/cmake/ManPage.cmake
      COMMENT "Man page ${page}"
      VERBATIM)
    list(APPEND pages ${page})
  endforeach()
  add_custom_target(carrefour_man ALL DEPENDS ${pages})
  install(FILES ${pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man pages (scripts/setup.sh installs it)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME carrefour)
set(CPACK_PACKAGE_VENDOR "the carrefour project")
set(CPACK_PACKAGE_CONTACT "carrefour maintainers <carrefour@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "crossroads bank for social security: hub and connectors")
set(CPACK_PACKAGE_DESCRIPTION
    "The hub through which social-security institutions exchange personal data\n"
    "securely (mutual TLS, person directory, authorizations, audit), and the\n"
    "connector each institution runs next to its database.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)                 # carrefour_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)                  # Depends from the binary's libraries
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/postinst ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

# CI builds the package and checks it (scripts/package-check.sh).
if(CARREFOUR_BUILD_TESTS)
  add_test(NAME package_deb COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/package-check.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(package_deb PROPERTIES LABELS package TIMEOUT 600)
endif()
