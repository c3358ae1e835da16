# The folder walls, checked on the real tree (ctest test_walls): an include that points up the
# data flow fails to compile, one that points down compiles, and every include of ours starts at
# the repository root (a "../" or a bare "name.hpp" would step around the include roots).
#   cmake -DCXX=... -DROOT=... -DSCRATCH=... -DPLAN_FLAGS=a|b|... -DCAPTIONS_FLAGS=a|b|... -P check_walls.cmake
file(MAKE_DIRECTORY ${SCRATCH})
string(REPLACE "|" ";" plan_dirs "${PLAN_FLAGS}")
string(REPLACE "|" ";" captions_dirs "${CAPTIONS_FLAGS}")

# compile_probe(NAME INCLUDE DIRS EXPECT): EXPECT is "builds" or "fails".
function(compile_probe name header dirs expect)
  set(src ${SCRATCH}/${name}.cpp)
  file(WRITE ${src} "#include \"${header}\"\nint main() { return 0; }\n")
  set(flags)
  foreach(d IN LISTS dirs)
    if(d)
      list(APPEND flags -I${d})
    endif()
  endforeach()
  execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only ${flags} ${src}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect STREQUAL "fails")
    if(rc EQUAL 0)
      message(SEND_ERROR "${name}: `#include \"${header}\"` compiled, but it points up the data flow")
    elseif(NOT err MATCHES "${header}: No such file")
      message(SEND_ERROR "${name}: failed, but not for the wall: ${err}")
    else()
      message(STATUS "${name}: refused as it should be (${header}: No such file)")
    endif()
  elseif(NOT rc EQUAL 0)
    message(SEND_ERROR "${name}: `#include \"${header}\"` should compile: ${err}")
  else()
    message(STATUS "${name}: compiles, as it should")
  endif()
endfunction()

# plan/ uses catalog/ (below it) but not report/ (after it) nor cli/.
compile_probe(plan_includes_catalog pipeline/catalog/catalog_reader.hpp "${plan_dirs}" builds)
compile_probe(plan_includes_report pipeline/report/report_stage.hpp "${plan_dirs}" fails)
compile_probe(plan_includes_cli pipeline/cli/commands.hpp "${plan_dirs}" fails)
# captions/ uses nothing of ours.
compile_probe(captions_includes_captions captions/caption_text.hpp "${captions_dirs}" builds)
compile_probe(captions_includes_common pipeline/common/progress.hpp "${captions_dirs}" fails)

# Every include of ours in the library folders names its folder from the root.
file(GLOB_RECURSE sources RELATIVE ${ROOT}
     ${ROOT}/pipeline/*.cpp ${ROOT}/pipeline/*.hpp ${ROOT}/imagery/*.cpp ${ROOT}/imagery/*.hpp ${ROOT}/captions/*.cpp ${ROOT}/captions/*.hpp
     ${ROOT}/osm/*.cpp ${ROOT}/osm/*.hpp ${ROOT}/tag_filters/*.cpp ${ROOT}/tag_filters/*.hpp)
foreach(f IN LISTS sources)
  file(STRINGS ${ROOT}/${f} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*" "\\1" header "${line}")
    if(header MATCHES "\\.\\./" OR NOT header MATCHES "^(pipeline|imagery|captions|osm|tag_filters)/")
      message(SEND_ERROR "${f}: `#include \"${header}\"` does not start at the repository root")
    endif()
  endforeach()
endforeach()
list(LENGTH sources n)
message(STATUS "${n} files: every include of ours starts at the repository root")
