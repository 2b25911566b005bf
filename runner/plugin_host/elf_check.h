/*
 * elf_check.h: what can be known of a plugin file before dlopen runs any of
 * its code (constructors run at load): that it is an ELF shared object for
 * this machine, and that it defines the runner's entry symbol. A file that
 * fails is refused unloaded, so `runner plugins` never runs code of a file
 * it then calls "not a runner plugin" (issue 18, item 6).
 */
#ifndef RUNNER_ELF_CHECK_H
#define RUNNER_ELF_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether the file's bytes are an ELF shared object for this machine that
 * defines the function `symbol` in its dynamic symbol table; why not in
 * why. A file without section headers (stripped of them) passes on the
 * header alone: dlsym checks the symbol after loading. */
bool elf_check_plugin(const uint8_t *data, size_t len, const char *symbol, char *why, size_t why_len);

#endif
