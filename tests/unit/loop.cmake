cm_unit_test(test_loop SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_loop.c LIBS cm_common)
