# `donthu admin backup` against copies slower than --rpc-timeout (backup_fake,
# a stand-in admin socket that answers when told to), a copy that outlives
# --backup-timeout, a silent service, and a real donthu-intake. ~10 s.
if(NOT TARGET donthu OR NOT TARGET donthu-intake)
  return()
endif()

add_executable(backup_fake backup_fake.c)
cm_target_warnings(backup_fake)
target_link_libraries(backup_fake PRIVATE cm_common)

add_test(NAME backup_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/backup_cli.sh
  $<TARGET_FILE:donthu> $<TARGET_FILE:donthu-intake> $<TARGET_FILE:backup_fake>
  ${PROJECT_SOURCE_DIR})
set_tests_properties(backup_cli PROPERTIES LABELS integration TIMEOUT 120)
