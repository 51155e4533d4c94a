cm_unit_test(test_text SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_text.c LIBS cm_common)
