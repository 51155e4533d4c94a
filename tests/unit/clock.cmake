cm_unit_test(test_clock SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_clock.c LIBS cm_common)
