# The version of gonet's CMake package. Any 0.x release after the one asked
# for will do (the soname stays libgonet.so.0 while the ABI stays
# compatible, which tests/abi.rs checks); a 64-bit build is required.
# tests/install.rs checks that the version below is Cargo.toml's.
set(PACKAGE_VERSION "0.1.0")

if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif(NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "0")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()

if(NOT "${CMAKE_SIZEOF_VOID_P}" STREQUAL "" AND NOT "${CMAKE_SIZEOF_VOID_P}" STREQUAL "8")
  math(EXPR _gonet_bits "${CMAKE_SIZEOF_VOID_P} * 8")
  set(PACKAGE_VERSION "${PACKAGE_VERSION} (64-bit, not ${_gonet_bits}-bit)")
  set(PACKAGE_VERSION_UNSUITABLE TRUE)
endif()
