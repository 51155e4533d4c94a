cm_unit_test(test_register SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_register.c LIBS cm_common)
# The test loads the data set the services ship, straight from the source tree.
target_compile_definitions(test_register PRIVATE DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
