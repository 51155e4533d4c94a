cm_fuzz_target(fuzz_pbjson SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_pbjson.c)
