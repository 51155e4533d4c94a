cm_unit_test(test_zwatch SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_zwatch.c LIBS cm_common)
cm_unit_test(test_zsock SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_zsock.c LIBS cm_common)
