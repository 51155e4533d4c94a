cm_unit_test(test_envelope SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_envelope.c)
