# Crash storm (tests/chaos/run --short): the four real services SIGKILLed and
# restarted at random while two publishers submit ~21,000 items; every
# petition stored, routed, clocked and counted exactly once. ~40 s here.
if(TARGET donthu AND TARGET donthu-intake AND TARGET donthu-routing AND TARGET donthu-deadline
   AND TARGET donthu-report AND EXISTS /usr/bin/python3)
  add_test(NAME chaos_short COMMAND ${PROJECT_SOURCE_DIR}/tests/chaos/run --short)
  set_tests_properties(chaos_short PROPERTIES LABELS integration TIMEOUT 600
    ENVIRONMENT "BUILD=${CMAKE_BINARY_DIR}")
endif()

# Hot backup of every store under load, restore into a fresh folder, continue:
# keys in the backup answer DUPLICATE, nothing lost or applied twice. ~10 s.
if(TARGET donthu AND TARGET donthu-intake AND TARGET donthu-routing AND TARGET donthu-deadline
   AND TARGET donthu-report AND EXISTS /usr/bin/python3)
  add_test(NAME backup_restore COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/backup_test)
  set_tests_properties(backup_restore PROPERTIES LABELS integration TIMEOUT 600
    ENVIRONMENT "BUILD=${CMAKE_BINARY_DIR}")
endif()
