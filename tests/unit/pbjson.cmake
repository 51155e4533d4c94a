cm_unit_test(test_pbjson SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_pbjson.c LIBS cm_common)
