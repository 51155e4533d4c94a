cm_unit_test(test_admin SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_admin.c LIBS cm_common)
