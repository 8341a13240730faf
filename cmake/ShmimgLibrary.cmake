# libshmimg and libshmimg-sdl: the installed C libraries, their headers,
# shmimg.pc, the CMake config package (shmimg::shmimg, shmimg::sdl) and the
# Python module. Included by the top-level CMakeLists.txt after the internal
# targets (shmimg_core's objects are libshmimg's core).
#
# Public headers live in src/libshmimg/include (PUBLIC include directory,
# installed); src/core and src/libshmimg are PRIVATE: layout.h, segment.h
# and the rest of src/core are never installed nor seen by a consumer;
# src/core/private (futex.h, guard.h, shlock.h) is private even to the
# executables.

option(SHMIMG_STATIC_LIBRARY
  "Build libshmimg and libshmimg-sdl as static libraries instead of shared" OFF)
# The ABI version: the SONAME is libshmimg.so.${SHMIMG_SOVERSION}.
set(SHMIMG_SOVERSION 1)
if(SHMIMG_STATIC_LIBRARY)
  set(shmimg_lib_type STATIC)
else()
  set(shmimg_lib_type SHARED)
endif()

add_library(libshmimg ${shmimg_lib_type}
  src/libshmimg/api.c src/libshmimg/json.c $<TARGET_OBJECTS:shmimg_core>)
add_library(shmimg::shmimg ALIAS libshmimg)
set_target_properties(libshmimg PROPERTIES
  OUTPUT_NAME shmimg EXPORT_NAME shmimg
  VERSION ${SHMIMG_SOVERSION}.${PROJECT_VERSION_MINOR}.${PROJECT_VERSION_PATCH}
  SOVERSION ${SHMIMG_SOVERSION}
  C_VISIBILITY_PRESET hidden POSITION_INDEPENDENT_CODE ON
  PUBLIC_HEADER src/libshmimg/include/shmimg.h)
target_include_directories(libshmimg
  PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/src/libshmimg/include>
         $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE src/core src/libshmimg)
target_compile_definitions(libshmimg PRIVATE SHMIMG_BUILDING
  SHMIMG_VERSION="${PROJECT_VERSION}")
target_link_libraries(libshmimg PRIVATE Threads::Threads)

shmimg_target_flags(libshmimg)

# The optional SDL part: surfaces and image files in and out, over the
# public API, with the command line's decoder (shmimg_decode's objects, and
# its own hidden copies of errors.c and fd.c, which they call).
add_library(shmimg_sdl ${shmimg_lib_type} src/libshmimg/sdl.c
  src/core/errors.c src/core/fd.c $<TARGET_OBJECTS:shmimg_decode>)
add_library(shmimg::sdl ALIAS shmimg_sdl)
set_target_properties(shmimg_sdl PROPERTIES
  OUTPUT_NAME shmimg-sdl EXPORT_NAME sdl
  VERSION ${SHMIMG_SOVERSION}.${PROJECT_VERSION_MINOR}.${PROJECT_VERSION_PATCH}
  SOVERSION ${SHMIMG_SOVERSION}
  C_VISIBILITY_PRESET hidden POSITION_INDEPENDENT_CODE ON
  PUBLIC_HEADER src/libshmimg/include/shmimg_sdl.h)
target_include_directories(shmimg_sdl
  PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/src/libshmimg/include>
         $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_include_directories(shmimg_sdl PRIVATE src/image src/core)
target_compile_definitions(shmimg_sdl PRIVATE SHMIMG_BUILDING)
target_link_libraries(shmimg_sdl PUBLIC libshmimg SDL2::SDL2
  PRIVATE SDL2_image::SDL2_image TIFF::TIFF)
shmimg_target_flags(shmimg_sdl)
# A static libshmimg.a would carry the segment's global names (seg_*,
# shlock_*...) into the program that links it, and libshmimg-sdl.a the
# decoder's (image_*, probe_*...). One relocatable object per library, its
# hidden symbols made local, keeps only the shmimg_ names global there too.
if(SHMIMG_STATIC_LIBRARY)
  foreach(t libshmimg shmimg_sdl)
    add_custom_command(TARGET ${t} POST_BUILD
      COMMAND ${CMAKE_LINKER} -r --whole-archive $<TARGET_FILE:${t}>
        -o ${CMAKE_CURRENT_BINARY_DIR}/${t}-all.o
      COMMAND ${CMAKE_OBJCOPY} --localize-hidden
        ${CMAKE_CURRENT_BINARY_DIR}/${t}-all.o
      COMMAND ${CMAKE_COMMAND} -E rm -f $<TARGET_FILE:${t}>
      COMMAND ${CMAKE_AR} qcs $<TARGET_FILE:${t}>
        ${CMAKE_CURRENT_BINARY_DIR}/${t}-all.o
      VERBATIM)
  endforeach()
endif()
if(NOT SHMIMG_STATIC_LIBRARY)
  foreach(t libshmimg shmimg_sdl)
    target_link_options(${t} PRIVATE
      LINKER:--version-script=${CMAKE_CURRENT_SOURCE_DIR}/cmake/libshmimg.map)
    # clang leaves a sanitizer's runtime to the executable: undefined here.
    if(NOT shmimg_sanitizers)
      target_link_options(${t} PRIVATE LINKER:--no-undefined)
    endif()
    set_property(TARGET ${t} APPEND PROPERTY LINK_DEPENDS
      ${CMAKE_CURRENT_SOURCE_DIR}/cmake/libshmimg.map)
  endforeach()
endif()

install(TARGETS libshmimg shmimg_sdl EXPORT shmimgTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT shmimgTargets NAMESPACE shmimg::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shmimg)
include(CMakePackageConfigHelpers)
configure_package_config_file(cmake/shmimgConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/shmimgConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shmimg)
# 0.x: a minor version may change the API, so only the same minor matches.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/shmimgConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/shmimgConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/shmimgConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shmimg)
# Relocatable .pc files: the prefix is found from the file's own place, so
# that cmake --install --prefix P gives files right for P.
file(RELATIVE_PATH shmimg_pc_to_prefix
  ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" shmimg_pc_to_prefix "${shmimg_pc_to_prefix}")
configure_file(cmake/shmimg.pc.in ${CMAKE_CURRENT_BINARY_DIR}/shmimg.pc @ONLY)
configure_file(cmake/shmimg-sdl.pc.in ${CMAKE_CURRENT_BINARY_DIR}/shmimg-sdl.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/shmimg.pc
  ${CMAKE_CURRENT_BINARY_DIR}/shmimg-sdl.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Python module (ctypes over libshmimg.so.1, NumPy). Debian's python3
# is the one with python3-numpy; another python3 earlier in PATH (pyenv)
# does not see it.
if(EXISTS /usr/bin/python3)
  set(shmimg_default_python /usr/bin/python3)
else()
  set(shmimg_default_python python3)
endif()
set(SHMIMG_PYTHON ${shmimg_default_python} CACHE FILEPATH
  "The Python interpreter of the module's tests and install directory")
# Where `import shmimg` finds the module under the install prefix: Debian's
# python reads PREFIX/lib/python3.X/dist-packages, others site-packages.
execute_process(COMMAND ${SHMIMG_PYTHON} -c
  "import sys; d = 'dist-packages' if any(p.endswith('dist-packages') for p in sys.path) else 'site-packages'; print('lib/python%d.%d/%s' % (sys.version_info[0], sys.version_info[1], d))"
  OUTPUT_VARIABLE shmimg_python_dir OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE shmimg_python_rc)
if(NOT shmimg_python_rc EQUAL 0)
  set(shmimg_python_dir lib/python3/dist-packages)
endif()
set(SHMIMG_PYTHON_DIR ${shmimg_python_dir} CACHE STRING
  "Where cmake --install puts the Python module, relative to the prefix")

set(shmimg_py_sources __init__.py _lib.py)
# The build tree's copy: PYTHONPATH=BUILD/python finds it, and its
# _paths.py names the library just built.
set(shmimg_py_build ${CMAKE_CURRENT_BINARY_DIR}/python/shmimg)
set(shmimg_py_outputs)
foreach(f ${shmimg_py_sources})
  add_custom_command(OUTPUT ${shmimg_py_build}/${f}
    COMMAND ${CMAKE_COMMAND} -E copy_if_different
      ${CMAKE_CURRENT_SOURCE_DIR}/python/shmimg/${f} ${shmimg_py_build}/${f}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/python/shmimg/${f})
  list(APPEND shmimg_py_outputs ${shmimg_py_build}/${f})
endforeach()
add_custom_target(shmimg_python ALL DEPENDS ${shmimg_py_outputs})
file(GENERATE OUTPUT ${shmimg_py_build}/_paths.py CONTENT
  "# Generated by CMake: the library of this build tree.\nLIBRARY = '$<TARGET_FILE:libshmimg>'\n")
# The installed module finds the library from its own place, too.
file(RELATIVE_PATH shmimg_py_to_libdir
  ${CMAKE_INSTALL_PREFIX}/${SHMIMG_PYTHON_DIR}/shmimg ${CMAKE_INSTALL_FULL_LIBDIR})
configure_file(python/shmimg/_paths.py.in
  ${CMAKE_CURRENT_BINARY_DIR}/python-install/_paths.py @ONLY)
if(NOT SHMIMG_STATIC_LIBRARY)
  list(TRANSFORM shmimg_py_sources PREPEND python/shmimg/)
  install(FILES ${shmimg_py_sources}
    ${CMAKE_CURRENT_BINARY_DIR}/python-install/_paths.py
    DESTINATION ${SHMIMG_PYTHON_DIR}/shmimg)
endif()
