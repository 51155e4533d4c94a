cm_fuzz_target(fuzz_envelope SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_envelope.c)
