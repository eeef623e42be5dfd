# Third-party dependencies: Debian packages, plus DuckDB's official prebuilt library that
# scripts/setup puts in third_party/duckdb (or DUCKDB_ROOT).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(SQLite3 REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

if(DEFINED ENV{DUCKDB_ROOT})
  set(PLUTO_DUCKDB_ROOT "$ENV{DUCKDB_ROOT}")
else()
  set(PLUTO_DUCKDB_ROOT "${CMAKE_SOURCE_DIR}/third_party/duckdb")
endif()
if(NOT EXISTS "${PLUTO_DUCKDB_ROOT}/include/duckdb.h" OR NOT EXISTS "${PLUTO_DUCKDB_ROOT}/lib/libduckdb.so")
  message(FATAL_ERROR "DuckDB not found in ${PLUTO_DUCKDB_ROOT}. Run scripts/setup (or make setup) first.")
endif()
add_library(duckdb SHARED IMPORTED GLOBAL)
set_target_properties(duckdb PROPERTIES
  IMPORTED_LOCATION "${PLUTO_DUCKDB_ROOT}/lib/libduckdb.so"
  INTERFACE_INCLUDE_DIRECTORIES "${PLUTO_DUCKDB_ROOT}/include")
# The binary finds libduckdb.so next to the checkout without LD_LIBRARY_PATH.
set(CMAKE_BUILD_RPATH "${PLUTO_DUCKDB_ROOT}/lib")
set(CMAKE_INSTALL_RPATH "${PLUTO_DUCKDB_ROOT}/lib")
set(PLUTO_EXTENSION_DIR "${PLUTO_DUCKDB_ROOT}/extensions")

# CLI11 is header-only; Debian ships it without a CMake config on some releases.
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
add_library(cli11 INTERFACE)
target_include_directories(cli11 SYSTEM INTERFACE ${CLI11_INCLUDE_DIR})
