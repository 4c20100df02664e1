# Provides the target bertforge::arrow: Apache Arrow C++ and Parquet, for the HF datasets and Parquet readers.
#
# A user's own Arrow install is found through find_package(Arrow/Parquet) (CMAKE_PREFIX_PATH). Otherwise the
# libraries and headers bundled in the venv's pyarrow wheel are used, located through BERTFORGE_PYTHON (the
# same cache variable the Python tests use). The wheel ships ABI-suffixed files only (libarrow.so.2600, no
# libarrow.so), so they are imported by full path; their SONAME keeps the suffix, and CMake puts the wheel's
# folder in the build RPATH. The wheel is built with _GLIBCXX_USE_CXX11_ABI=1, as LibTorch 2.11 is.
add_library(bertforge::arrow INTERFACE IMPORTED)
# Arrow 26's headers need C++20 (std::span, <bit>); only the files that include them, src/**/arrow_*.cpp, are
# compiled as C++20, so the rest of the project (and LibTorch's headers) stays on C++17.
file(GLOB_RECURSE BERTFORGE_ARROW_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/bertforge/*/arrow_*.cpp)
set_source_files_properties(${BERTFORGE_ARROW_SOURCES} PROPERTIES COMPILE_OPTIONS -std=gnu++20)
find_package(Arrow CONFIG QUIET)
find_package(Parquet CONFIG QUIET)
if(Arrow_FOUND AND Parquet_FOUND)
  target_link_libraries(bertforge::arrow INTERFACE Arrow::arrow_shared Parquet::parquet_shared)
  message(STATUS "bertforge: Arrow ${Arrow_VERSION} from ${Arrow_DIR}")
  return()
endif()

set(BERTFORGE_PYTHON "" CACHE FILEPATH "Python of the venv holding the HF oracles (and the pyarrow wheel)")
if(NOT BERTFORGE_PYTHON)
  message(FATAL_ERROR "Arrow C++ not found: set CMAKE_PREFIX_PATH to an Arrow install, or BERTFORGE_PYTHON "
                      "to a Python with pyarrow (scripts/setup.sh does)")
endif()
execute_process(COMMAND ${BERTFORGE_PYTHON} -c
                "import pyarrow as p; print(p.get_include()); print(p.get_library_dirs()[0]); print(p.__version__)"
                OUTPUT_VARIABLE _pa OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _pa_rc)
if(NOT _pa_rc EQUAL 0)
  message(FATAL_ERROR "Arrow C++ not found and ${BERTFORGE_PYTHON} cannot import pyarrow")
endif()
string(REPLACE "\n" ";" _pa "${_pa}")
list(GET _pa 0 _pa_include)
list(GET _pa 1 _pa_libdir)
list(GET _pa 2 _pa_version)
foreach(_lib arrow parquet)
  file(GLOB _candidates "${_pa_libdir}/lib${_lib}.so.[0-9]*")
  list(FILTER _candidates INCLUDE REGEX "/lib${_lib}\\.so\\.[0-9]+$")
  if(NOT _candidates)
    message(FATAL_ERROR "no lib${_lib}.so.<N> in ${_pa_libdir}")
  endif()
  list(GET _candidates 0 _path)
  add_library(bertforge_pyarrow_${_lib} SHARED IMPORTED)
  get_filename_component(_soname "${_path}" NAME)
  set_target_properties(bertforge_pyarrow_${_lib} PROPERTIES IMPORTED_LOCATION "${_path}"
                        IMPORTED_SONAME "${_soname}")
  target_link_libraries(bertforge::arrow INTERFACE bertforge_pyarrow_${_lib})
endforeach()
target_include_directories(bertforge::arrow SYSTEM INTERFACE "${_pa_include}")
message(STATUS "bertforge: Arrow ${_pa_version} from the pyarrow wheel in ${_pa_libdir}")
