# cmake/EbpfvmBpf.cmake - compiling BPF C programs at build time, the way a
# libbpf user does:
#   clang -target bpf -O2 -g -mcpu=v3 -Wall [-I/usr/include/<multiarch>] -c x.c -o x.o
# Included once from the top-level CMakeLists.txt; used by tests/bpf,
# tests/xdp, examples/xdp and bench.
#
# Sets EBPFVM_BPF_CLANG (cached; false when no clang was found: callers then
# skip their objects) and provides ebpfvm_add_bpf_objects().

find_program(EBPFVM_BPF_CLANG NAMES clang clang-18 clang-17 clang-16 clang-15 clang-14)

# <asm/types.h> lives under the host's multiarch include directory.
set(EBPFVM_BPF_INCLUDES)
execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE ebpfvm_bpf_multiarch
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(ebpfvm_bpf_multiarch AND EXISTS /usr/include/${ebpfvm_bpf_multiarch})
  list(APPEND EBPFVM_BPF_INCLUDES -I/usr/include/${ebpfvm_bpf_multiarch})
endif()

# ebpfvm_add_bpf_objects(TARGET name OUTPUT_DIR dir SOURCES src...
#                        [FLAGS flag...] [DEPENDS file...] [COMMENT what])
# Compiles each source NAME.c into OUTPUT_DIR/NAME.o (FLAGS are added to the
# command line, DEPENDS are extra files every object depends on) and adds a
# custom target TARGET, built by default, that depends on all of them.
# Messages read "Compiling <COMMENT> NAME.o". Requires EBPFVM_BPF_CLANG.
function(ebpfvm_add_bpf_objects)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET;OUTPUT_DIR;COMMENT" "SOURCES;FLAGS;DEPENDS")
  if(NOT arg_TARGET OR NOT arg_OUTPUT_DIR)
    message(FATAL_ERROR "ebpfvm_add_bpf_objects: TARGET and OUTPUT_DIR are required")
  endif()
  if(NOT EBPFVM_BPF_CLANG)
    message(FATAL_ERROR "ebpfvm_add_bpf_objects(${arg_TARGET}): no clang (check EBPFVM_BPF_CLANG first)")
  endif()
  if(NOT arg_COMMENT)
    set(arg_COMMENT "BPF object")
  endif()
  file(MAKE_DIRECTORY ${arg_OUTPUT_DIR})
  set(objects)
  foreach(src ${arg_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    set(obj ${arg_OUTPUT_DIR}/${name}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${EBPFVM_BPF_CLANG} -target bpf -O2 -g -mcpu=v3 -Wall ${EBPFVM_BPF_INCLUDES} ${arg_FLAGS}
              -c ${src} -o ${obj}
      DEPENDS ${src} ${arg_DEPENDS}
      COMMENT "Compiling ${arg_COMMENT} ${name}.o"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()
  add_custom_target(${arg_TARGET} ALL DEPENDS ${objects})
endfunction()
