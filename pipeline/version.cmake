# Writes version.h with `git describe` at build time, touching it only when
# the description changed, so run.json names the commit that was built.
execute_process(
  COMMAND git describe --tags --always --dirty
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE describe
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET)
if(NOT describe)
  set(describe "unknown")
endif()
set(contents "#pragma once\n#define NEEDLE_VERSION \"${describe}\"\n")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
endif()
if(NOT "${old}" STREQUAL "${contents}")
  file(WRITE ${OUTPUT} "${contents}")
endif()
