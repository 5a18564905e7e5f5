# SPDX-License-Identifier: EUPL-1.2
# cmake -DHELP2MAN=... -DBINARY=... -DCOMMAND=<hub|...|""> -DOUT=... -DVERSION=... -P ManPage.cmake
# One man page from `carrefour [COMMAND] --help` (help2man needs one program
# to run: a small wrapper script runs the subcommand).
get_filename_component(dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
if(COMMAND)
  set(program "${dir}/carrefour-${COMMAND}")
  set(name "carrefour ${COMMAND}")
else()
  set(program "${dir}/carrefour")
  set(name "a crossroads bank for social security")
endif()
file(WRITE "${program}" "#!/bin/sh\nexec '${BINARY}' ${COMMAND} \"$@\"\n")
file(CHMOD "${program}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
execute_process(
  COMMAND "${HELP2MAN}" --no-info --no-discard-stderr --version-string=${VERSION}
          "--name=${name}" --section=1 --source=carrefour
          "--include=${CMAKE_CURRENT_LIST_DIR}/../packaging/man-see-also.h2m"
          --output=${OUT} "${program}"
  RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "help2man failed for ${name}")
endif()
