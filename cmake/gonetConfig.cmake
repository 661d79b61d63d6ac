# gonet's CMake package: find_package(gonet) defines
#   gonet::gonet         the shared library (libgonet.so, soname libgonet.so.0)
#   gonet::gonet_static  the static library (libgonet.a and the system
#                        libraries it needs)
# both with the directory of gonet.h and gonet.hpp as their include path.
#
# Installed by `make install` and by `cargo cinstall`; every path is found
# from this file's own place, so the installed tree may be moved (DESTDIR
# staging included).

cmake_minimum_required(VERSION 3.11)

# This file is <prefix>/lib/cmake/gonet/gonetConfig.cmake. The library is in
# <prefix>/lib (make install), or in Debian's multiarch directory
# <prefix>/lib/<triplet> (cargo cinstall's default there).
get_filename_component(_gonet_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(_gonet_includedir "${_gonet_prefix}/include")
set(_gonet_libdir "")
set(_gonet_candidates "${_gonet_prefix}/lib")
if(CMAKE_LIBRARY_ARCHITECTURE)
  list(APPEND _gonet_candidates "${_gonet_prefix}/lib/${CMAKE_LIBRARY_ARCHITECTURE}")
endif()
file(GLOB _gonet_multiarch LIST_DIRECTORIES true "${_gonet_prefix}/lib/*-linux-*")
list(APPEND _gonet_candidates ${_gonet_multiarch})
foreach(_gonet_dir IN LISTS _gonet_candidates)
  if(EXISTS "${_gonet_dir}/libgonet.so" AND EXISTS "${_gonet_dir}/libgonet.a")
    set(_gonet_libdir "${_gonet_dir}")
    break()
  endif()
endforeach()
if(_gonet_libdir STREQUAL "" OR NOT EXISTS "${_gonet_includedir}/gonet.h")
  set(gonet_FOUND FALSE)
  set(gonet_NOT_FOUND_MESSAGE
      "gonet's package under ${_gonet_prefix} is incomplete: no libgonet.so and libgonet.a in ${_gonet_candidates}, or no include/gonet.h")
  return()
endif()

find_package(Threads REQUIRED)

if(NOT TARGET gonet::gonet)
  add_library(gonet::gonet SHARED IMPORTED)
  set_target_properties(gonet::gonet PROPERTIES
    IMPORTED_LOCATION "${_gonet_libdir}/libgonet.so"
    IMPORTED_SONAME "libgonet.so.0"
    INTERFACE_INCLUDE_DIRECTORIES "${_gonet_includedir}"
    INTERFACE_LINK_LIBRARIES "Threads::Threads")
endif()

if(NOT TARGET gonet::gonet_static)
  add_library(gonet::gonet_static STATIC IMPORTED)
  # The system libraries from
  #   cargo rustc --release --lib --crate-type staticlib -- --print native-static-libs
  set_target_properties(gonet::gonet_static PROPERTIES
    IMPORTED_LOCATION "${_gonet_libdir}/libgonet.a"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C"
    INTERFACE_INCLUDE_DIRECTORIES "${_gonet_includedir}"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;gcc_s;util;rt;m;dl;c")
endif()

unset(_gonet_candidates)
unset(_gonet_multiarch)
unset(_gonet_dir)
unset(_gonet_libdir)
unset(_gonet_prefix)
unset(_gonet_includedir)
