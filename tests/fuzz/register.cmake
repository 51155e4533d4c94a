cm_fuzz_target(fuzz_register SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_register.c)
