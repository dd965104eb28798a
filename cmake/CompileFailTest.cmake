# vsmmu_add_compile_fail_test(<source>): the source must fail to compile, and the compiler's
# message must match the regular expression on its "// EXPECT: <regex>" line.
function(vsmmu_add_compile_fail_test source)
  get_filename_component(name ${source} NAME_WE)
  set(target compile_fail.${name})
  file(STRINGS ${source} expect_line REGEX "^// EXPECT: ")
  if(NOT expect_line)
    message(FATAL_ERROR "${source} has no // EXPECT: line")
  endif()
  string(REGEX REPLACE "^// EXPECT: " "" expect "${expect_line}")
  add_library(${target} OBJECT EXCLUDE_FROM_ALL ${source})
  target_link_libraries(${target} PRIVATE vsmmu::vsmmu)
  add_test(NAME ${target}
    COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target ${target} --config $<CONFIG>)
  set_tests_properties(${target} PROPERTIES WILL_FAIL FALSE PASS_REGULAR_EXPRESSION "${expect}"
    LABELS compile_fail)
endfunction()
