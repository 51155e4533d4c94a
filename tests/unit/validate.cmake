cm_unit_test(test_validate
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_validate.c ${PROJECT_SOURCE_DIR}/services/intake/validate.c
  LIBS cm_common)
target_include_directories(test_validate PRIVATE ${PROJECT_SOURCE_DIR}/services/intake)
