# ctest -R package: installs the build into a fresh prefix, then builds and runs the consumer
# project against it with find_package; with MODE=subdirectory, against the sources instead.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DMODE=install|subdirectory -P run.cmake
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
if(MODE STREQUAL "install")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "installing snapheap failed")
  endif()
  set(options -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  set(options -DSNAPHEAP_SOURCE_DIR=${SOURCE_DIR} -DSNAPHEAP_BUILD_TOOLS=OFF)
endif()
execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --build-and-test ${SOURCE_DIR}/tests/package ${WORK_DIR}/build
                        --build-generator Ninja --build-options -DCMAKE_BUILD_TYPE=Release ${options}
                        --test-command ${CMAKE_CTEST_COMMAND} --output-on-failure
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer project (${MODE}) failed to build or run")
endif()
