# Runs the vsmmu CLI once (or twice for a round trip) and checks exit status and output.
#   -DCLI=<vsmmu> -DARGS=a|b|c [-DROUNDTRIP=decode|ste] -DSTATUS=<n> [-DSTDOUT=re] [-DSTDERR=re]
# ROUNDTRIP: the first run's stdout (dwords) is appended to these arguments for a second run,
# whose status and output are the ones checked.
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${CLI} ${args} RESULT_VARIABLE status OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(ROUNDTRIP)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "first run failed (${status}): ${err}")
  endif()
  string(STRIP "${out}" words)
  string(REPLACE " " ";" words "${words}")
  string(REPLACE "|" ";" args "${ROUNDTRIP}")
  execute_process(COMMAND ${CLI} ${args} ${words} RESULT_VARIABLE status OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
endif()
if(NOT "${status}" STREQUAL "${STATUS}")
  message(FATAL_ERROR "exit status ${status}, expected ${STATUS}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED STDOUT AND NOT "${STDOUT}" STREQUAL "" AND NOT out MATCHES "${STDOUT}")
  message(FATAL_ERROR "stdout does not match \"${STDOUT}\":\n${out}")
endif()
if(DEFINED STDERR AND NOT "${STDERR}" STREQUAL "" AND NOT err MATCHES "${STDERR}")
  message(FATAL_ERROR "stderr does not match \"${STDERR}\":\n${err}")
endif()
