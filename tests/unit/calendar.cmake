# Working-day calendar and lunar conversion of the deadline service. They are
# pure logic, so the tests compile the sources straight from services/deadline
# and need no service target.
cm_unit_test(test_calendar
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_calendar.c
          ${PROJECT_SOURCE_DIR}/services/deadline/calendar.c
          ${PROJECT_SOURCE_DIR}/services/deadline/lunar.c
  LIBS cm_common)
target_include_directories(test_calendar PRIVATE ${PROJECT_SOURCE_DIR}/services/deadline)
# The shipped year files are part of what is tested.
target_compile_definitions(test_calendar PRIVATE
  CAL_DATA_DIR="${PROJECT_SOURCE_DIR}/data/calendar")

cm_unit_test(test_lunar
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_lunar.c
          ${PROJECT_SOURCE_DIR}/services/deadline/lunar.c
  LIBS cm_common)
target_include_directories(test_lunar PRIVATE ${PROJECT_SOURCE_DIR}/services/deadline)
