# The deadline service's pure policy arithmetic (vectors worked out by hand
# over the shipped calendars) and its clock engine over a temporary store.
if(TARGET deadline_core)
  cm_unit_test(test_deadline_policy
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_deadline_policy.c
    LIBS deadline_core cm_testsupport)
  target_compile_definitions(test_deadline_policy PRIVATE
    CAL_DATA_DIR="${PROJECT_SOURCE_DIR}/data/calendar"
    POLICY_FILE="${PROJECT_SOURCE_DIR}/data/policy/deadline-policy.json")

  cm_unit_test(test_deadline_timers
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_deadline_timers.c
    LIBS deadline_core cm_testsupport)
  target_compile_definitions(test_deadline_timers PRIVATE
    CAL_DATA_DIR="${PROJECT_SOURCE_DIR}/data/calendar"
    POLICY_FILE="${PROJECT_SOURCE_DIR}/data/policy/deadline-policy.json")
endif()
