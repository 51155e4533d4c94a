# Routing: the decision table, the duplicate detector and the engine. They
# link routing_core and read the shipped data straight from the source tree.
if(TARGET routing_core)
  cm_unit_test(test_routing_rules
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_routing_rules.c LIBS routing_core)
  target_compile_definitions(test_routing_rules PRIVATE
    DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
endif()
if(TARGET routing_core)
  cm_unit_test(test_routing_dedup
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_routing_dedup.c
            ${CMAKE_CURRENT_SOURCE_DIR}/routing_corpus.c
    LIBS routing_core cm_testsupport)
  target_compile_definitions(test_routing_dedup PRIVATE
    DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
endif()
if(TARGET routing_core)
  cm_unit_test(test_routing_apply
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_routing_apply.c
            ${CMAKE_CURRENT_SOURCE_DIR}/routing_corpus.c
    LIBS routing_core cm_testsupport)
  target_compile_definitions(test_routing_apply PRIVATE
    DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
endif()
