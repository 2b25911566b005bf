/* elf_check.c: an ELF64 shared object's header and dynamic symbols, read with every offset bounds-checked. */
#include "plugin_host/elf_check.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#define HOST_MACHINE EM_NONE /* not checked */
#endif

/* [off, off + size) lies within len bytes (no overflow). */
static bool inside(uint64_t off, uint64_t size, size_t len) { return off <= len && size <= len - off; }

static bool fail(char *why, size_t len, const char *msg)
{
    snprintf(why, len, "%s", msg);
    return false;
}

bool elf_check_plugin(const uint8_t *data, size_t len, const char *symbol, char *why, size_t why_len)
{
    Elf64_Ehdr eh;
    if (len < sizeof eh || memcmp(data, ELFMAG, SELFMAG))
        return fail(why, why_len, "not an ELF shared object (a plugin is a .so built for this machine)");
    memcpy(&eh, data, sizeof eh);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return fail(why, why_len, "an ELF file of another word size or byte order than this machine's");
    if (eh.e_type != ET_DYN) return fail(why, why_len, "an ELF file, but not a shared object (build it with -shared)");
    if (HOST_MACHINE != EM_NONE && eh.e_machine != HOST_MACHINE) {
        snprintf(why, why_len, "a shared object for another machine (ELF e_machine %u)", (unsigned)eh.e_machine);
        return false;
    }
    if (eh.e_shnum == 0 || eh.e_shoff == 0) return true; /* nothing more to read before loading */
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || !inside(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), len))
        return fail(why, why_len, "a damaged ELF file (its section headers lie outside it)");
    const uint8_t *sh = data + eh.e_shoff;
    for (uint16_t i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr s, strtab;
        memcpy(&s, sh + (size_t)i * sizeof s, sizeof s);
        if (s.sh_type != SHT_DYNSYM) continue;
        if (s.sh_entsize != sizeof(Elf64_Sym) || !inside(s.sh_offset, s.sh_size, len) || s.sh_link >= eh.e_shnum)
            return fail(why, why_len, "a damaged ELF file (its dynamic symbol table lies outside it)");
        memcpy(&strtab, sh + (size_t)s.sh_link * sizeof strtab, sizeof strtab);
        if (!inside(strtab.sh_offset, strtab.sh_size, len))
            return fail(why, why_len, "a damaged ELF file (its symbol names lie outside it)");
        const char *names = (const char *)data + strtab.sh_offset;
        size_t want = strlen(symbol);
        for (uint64_t k = 0; k < s.sh_size / sizeof(Elf64_Sym); k++) {
            Elf64_Sym sym;
            memcpy(&sym, data + s.sh_offset + k * sizeof sym, sizeof sym);
            if (sym.st_shndx == SHN_UNDEF || ELF64_ST_TYPE(sym.st_info) != STT_FUNC) continue;
            if (sym.st_name >= strtab.sh_size || strtab.sh_size - sym.st_name <= want) continue;
            if (!memcmp(names + sym.st_name, symbol, want + 1)) return true;
        }
        snprintf(why, why_len, "defines no function '%s': not a runner plugin (not loaded, so none of its code ran)",
                 symbol);
        return false;
    }
    snprintf(why, why_len, "has no dynamic symbols, so no '%s': not a runner plugin (not loaded)", symbol);
    return false;
}
