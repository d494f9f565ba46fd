# mst_target_warnings(target): the project's warning policy, applied per target
# so third-party headers found through find_package stay out of -Werror.
function(mst_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wnon-virtual-dtor -Wimplicit-fallthrough)
  if(MST_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Third-party code whose sanitizer reports we cannot fix (clang only; see the file).
set(MST_SANITIZER_IGNORELIST ${CMAKE_CURRENT_LIST_DIR}/sanitizer-ignorelist.txt)

if(MST_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    add_compile_options(-fsanitize-ignorelist=${MST_SANITIZER_IGNORELIST})
  endif()
endif()

# Fuzzing: every target gets coverage instrumentation and the sanitizers; the
# fuzz_* binaries link libFuzzer itself (tests/fuzz/CMakeLists.txt).
if(MST_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MST_FUZZ=ON needs clang: configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined
                      -fsanitize-ignorelist=${MST_SANITIZER_IGNORELIST})
  add_link_options(-fsanitize=address,undefined)
endif()
