# Warnings for snapheap's own targets only (PRIVATE): a project that consumes snapheap keeps its
# own flags. SNAPHEAP_WARNINGS_AS_ERRORS turns them into errors (CI does).
function(snapheap_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wcast-align
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  if(SNAPHEAP_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
