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

# Access control (issue 8). pipeline_curve_test: the four services with CURVE
# on every external socket (intake submit and feed, routing feed, deadline feed
# and PUB, report queries); plain and unlisted clients get nothing, the
# allowed one everything, and the consumers between services work over CURVE.
# ~10 s. Needs python3-zmq and protoc (skipped otherwise).
if(TARGET donthu AND TARGET donthu-intake AND TARGET donthu-routing AND TARGET donthu-deadline
   AND TARGET donthu-report AND EXISTS /usr/bin/python3)
  add_test(NAME pipeline_curve_test COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/pipeline_curve_test)
  set_tests_properties(pipeline_curve_test PROPERTIES LABELS integration TIMEOUT 300
    SKIP_RETURN_CODE 77 ENVIRONMENT "BUILD=${CMAKE_BINARY_DIR}")
endif()
