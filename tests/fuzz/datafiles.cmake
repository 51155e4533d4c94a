# Operators' data files: calendar, deadline policy, routing rules, report forms.
cm_fuzz_target(fuzz_calendar SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_calendar.c
  LIBS deadline_core INCLUDES ${PROJECT_SOURCE_DIR}/services/deadline)
cm_fuzz_target(fuzz_policy SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_policy.c
  LIBS deadline_core INCLUDES ${PROJECT_SOURCE_DIR}/services/deadline)
cm_fuzz_target(fuzz_routing_rules SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_routing_rules.c
  LIBS routing_core INCLUDES ${PROJECT_SOURCE_DIR}/services/routing)
cm_fuzz_target(fuzz_forms SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_forms.c
  LIBS report_core INCLUDES ${PROJECT_SOURCE_DIR}/services/report)
