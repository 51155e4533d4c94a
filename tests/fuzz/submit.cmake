cm_fuzz_target(fuzz_submit
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_submit.c ${PROJECT_SOURCE_DIR}/services/intake/validate.c
  INCLUDES ${PROJECT_SOURCE_DIR}/services/intake)
