# ctest -R package_build_types: snapheap built and installed as Release and as Debug, and a host
# project built as Debug and as Release against each (all four pairs). Every pair must configure,
# link and run, and the host must see the library's check mode (Debug library: on, Release: off)
# whatever its own build type.
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -P pairs.cmake
file(REMOVE_RECURSE ${WORK_DIR})
foreach(library Release Debug)
  set(build ${WORK_DIR}/lib-${library})
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build} -G Ninja -DCMAKE_BUILD_TYPE=${library}
                          -DSNAPHEAP_BUILD_TESTS=OFF -DSNAPHEAP_BUILD_TOOLS=OFF -DSNAPHEAP_BUILD_BENCHMARKS=OFF
                          -DSNAPHEAP_BUILD_EXAMPLES=OFF -DSNAPHEAP_INSTALL=ON
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc EQUAL 0)
    execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} RESULT_VARIABLE rc OUTPUT_QUIET)
  endif()
  if(rc EQUAL 0)
    execute_process(COMMAND ${CMAKE_COMMAND} --install ${build} --prefix ${WORK_DIR}/prefix-${library}
                    RESULT_VARIABLE rc OUTPUT_QUIET)
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building and installing snapheap as ${library} failed")
  endif()
  if(library STREQUAL "Debug")
    set(expected 1)
  else()
    set(expected 0)
  endif()
  foreach(host Debug Release)
    message(STATUS "snapheap ${library} with a ${host} host")
    execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --build-and-test ${SOURCE_DIR}/tests/package
                            ${WORK_DIR}/host-${host}-on-${library} --build-generator Ninja
                            --build-options -DCMAKE_BUILD_TYPE=${host} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix-${library}
                                            -DSNAPHEAP_EXPECT_DCHECKS=${expected}
                            --test-command ${CMAKE_CTEST_COMMAND} --output-on-failure
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "a ${host} host against the ${library} snapheap failed to build or run")
    endif()
  endforeach()
endforeach()
