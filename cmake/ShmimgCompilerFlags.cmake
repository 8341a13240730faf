# Warnings and sanitizers, applied per target (never through CMAKE_C_FLAGS).
#
# SHMIMG_SANITIZE selects one sanitizer build for every shmimg target:
#   ""                    none (default)
#   "address;undefined"   AddressSanitizer + UndefinedBehaviorSanitizer
#   "thread"              ThreadSanitizer

set(SHMIMG_SANITIZE "" CACHE STRING
    "Sanitizers for all shmimg targets: empty, 'address;undefined' or 'thread'")
option(SHMIMG_WERROR "Treat warnings as errors" OFF)
# SHMIMG_FUZZ (clang only) adds the libFuzzer target tests/fuzz_segment and
# builds everything with coverage for it, under ASan and UBSan.
option(SHMIMG_FUZZ "Build the libFuzzer target (needs clang)" OFF)
if(SHMIMG_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SHMIMG_FUZZ needs clang (-DCMAKE_C_COMPILER=clang-14)")
  endif()
endif()
# The sanitizers in effect: SHMIMG_SANITIZE as set, and for the fuzzer
# always ASan, UBSan and libFuzzer's coverage (the cache keeps what the
# user chose).
if(SHMIMG_FUZZ)
  set(shmimg_sanitizers "address;undefined;fuzzer-no-link")
else()
  set(shmimg_sanitizers "${SHMIMG_SANITIZE}")
endif()

function(shmimg_target_flags target)
  # Every source is written for Linux (memfd, futex, pidfd, ppoll...): one
  # feature macro for all, here rather than in each file or target.
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wformat=2 -Wvla)
  if(SHMIMG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(shmimg_sanitizers)
    list(JOIN shmimg_sanitizers "," san)
    target_compile_options(${target} PRIVATE
      -fsanitize=${san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${san})
    # GCC's ThreadSanitizer does not model atomic_thread_fence and warns
    # (-Wtsan) at the seqlock's fences (frames.c). Its readers and writers
    # are other processes, which TSan cannot see anyway; the fences stay.
    if("thread" IN_LIST shmimg_sanitizers AND CMAKE_C_COMPILER_ID STREQUAL "GNU"
       AND CMAKE_C_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
  endif()
endfunction()
