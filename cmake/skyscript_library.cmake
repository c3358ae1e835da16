# skyscript_library(TARGET FOLDER SOURCES ... USES <our libraries> LINK <other libraries>)
#
# One library per folder. Includes start at the repository root ("pipeline/plan/x.hpp"), but
# the compiler is not given the root itself: each library gets an include root of its own
# (build/include_roots/TARGET/) holding symbolic links to its own folder and to the folders of
# the libraries it USES, transitively, and nothing else. An include of a folder the library
# does not use (one further down the data flow, or a stage beside it) is then "No such file"
# at compile time: the walls of docs/architecture.md are the build's, not a convention's.
function(skyscript_library target folder)
  cmake_parse_arguments(L "" "" "SOURCES;USES;LINK" ${ARGN})
  add_library(${target} STATIC ${L_SOURCES})
  set(folders ${folder})
  foreach(dep IN LISTS L_USES)
    get_property(dep_folders GLOBAL PROPERTY SKYSCRIPT_FOLDERS_${dep})
    if(NOT dep_folders)
      message(FATAL_ERROR "${target} uses ${dep}, which is not declared yet: declare libraries in the order of the data flow")
    endif()
    list(APPEND folders ${dep_folders})
  endforeach()
  list(REMOVE_DUPLICATES folders)
  set_property(GLOBAL PROPERTY SKYSCRIPT_FOLDERS_${target} ${folders})
  set(root ${PROJECT_BINARY_DIR}/include_roots/${target})
  file(REMOVE_RECURSE ${root})
  foreach(f IN LISTS folders)
    get_filename_component(parent ${root}/${f} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${f} ${root}/${f} SYMBOLIC)
  endforeach()
  target_include_directories(${target} PUBLIC ${root})
  target_link_libraries(${target} PUBLIC ${L_USES} ${L_LINK})
endfunction()
