# Confidentiality (issue 8). privacy_test: a few hundred petitions with
# distinctive personal data through the four real services, every artefact a
# user can produce (reports and exports, case queries, watch, backups, logs),
# then every file searched for every datum; intake keeps them sealed. ~20 s.
if(TARGET donthu AND TARGET donthu-intake AND TARGET donthu-routing AND TARGET donthu-deadline
   AND TARGET donthu-report AND EXISTS /usr/bin/python3)
  add_test(NAME privacy_test COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/privacy_test)
  set_tests_properties(privacy_test PROPERTIES LABELS integration TIMEOUT 300
    SKIP_RETURN_CODE 77 ENVIRONMENT "BUILD=${CMAKE_BINARY_DIR}")
endif()
