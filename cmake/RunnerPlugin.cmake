# runner_add_plugin(NAME SOURCES src.c ... [INSTALL])
#
# Build NAME.so, a runner plugin: a MODULE library (what dlopen wants) with
# no "lib" prefix, compiled as C11 against the public header only
# (target Runner::plugin), every symbol hidden except the RUNNER_EXPORT
# entry point. The runner finds it with --plugin-path DIR,
# RUNNER_PLUGIN_PATH, or, with INSTALL, in the runner's own plugin
# directory (RUNNER_PLUGIN_DIR), where `cmake --install` puts it.
#
# Shared by the runner's own build (plugins/) and the installed SDK
# (find_package(Runner)), so bundled and third-party plugins are built alike.
function(runner_add_plugin name)
  cmake_parse_arguments(ARG "INSTALL" "" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "runner_add_plugin(${name}): give the sources: runner_add_plugin(${name} SOURCES ${name}.c)")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Runner::plugin)
  set_target_properties(${name} PROPERTIES PREFIX "" C_STANDARD 11 C_STANDARD_REQUIRED ON C_VISIBILITY_PRESET hidden)
  # runner/fixed_math.h gives the same bits on every CPU only if the
  # compiler does not fuse a*b+c into an FMA on its own
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${name} PRIVATE -ffp-contract=off)
  endif()
  if(ARG_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION "${RUNNER_PLUGIN_DIR}")
  endif()
endfunction()
