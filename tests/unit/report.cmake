# The report service: pure logic and hand-computed scenarios for every shipped
# form (test_report), and the incremental-versus-rebuild check on a generated
# year of province data (test_report_model).
if(TARGET report_core)
  cm_unit_test(test_report SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_report.c
    LIBS report_core cm_testsupport)
  target_compile_definitions(test_report PRIVATE DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
  cm_unit_test(test_report_model SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_report_model.c
    ${CMAKE_CURRENT_SOURCE_DIR}/report_gen.c LIBS report_core cm_testsupport)
  target_compile_definitions(test_report_model PRIVATE
    DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
endif()
