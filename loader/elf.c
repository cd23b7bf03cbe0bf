/*
 * loader/elf.c - ELF objects (ET_REL, EM_BPF, little-endian) built with
 * libbpf's conventions, turned into ebpfvm maps and linked programs
 * (include/ebpfvm/loader.h is the contract).
 *
 * Opening runs in stages, each on fully validated input from the last:
 *   1. read_sections / read_symbols: the section table (names, bounds
 *      checked against the image before libelf reads any data) and the
 *      symbol table (section indices checked);
 *   2. read_funcs: STT_FUNC symbols in executable sections, 8-byte aligned,
 *      inside their section, not overlapping; functions outside `.text` are
 *      programs, those in `.text` subprograms;
 *   3. read_relocs: `.rel<sec>` of executable sections (offsets aligned and
 *      in range, symbol indices valid, types R_BPF_64_64 / R_BPF_64_32);
 *      relocations of data and legacy map sections are rejected, those of
 *      `.maps` wait for stage 7;
 *   4. BTF (`.BTF` parsed and validated whenever present, `.BTF.ext` checked
 *      for CO-RE relocations), map declarations (`.maps`, `maps`, data
 *      sections), license and version;
 *   5. create the maps (all of them, or none: a failure destroys the ones
 *      this call created, which are the last entries of the vm's table);
 *   6. link each program: discover the functions it reaches (calls and
 *      function addresses, transitively), lay them out after it, then copy
 *      and patch every instruction; remember where each function starts
 *      (ebpfvm_object_program_func_at);
 *   7. read_slots: `.rel.maps`, the pointers of prog_array `.values`
 *      initialisers, each checked to be an aligned slot < max_entries of a
 *      map declaring 'values' and to point at a program (not data, not a
 *      .text subprogram); kept as (map, slot, program) in obj->slots and
 *      stored by the first ebpfvm_object_load_program (fill_slots), which
 *      loads each such program once (obj_prog.slot_prog).
 *      Map-in-map `.values` point at maps of `.maps` instead: stored at
 *      once (fill_map_slot), the update checking them against the template
 *      that `__array(values, struct {...})` defined (stage 4; created with
 *      the outer map, not as a map of its own, as libbpf discards it).
 * Messages are "<object>: section <name>: ..." so the user can find the
 * place in the object; every malformed input is EBPFVM_ERR_FORMAT.
 *
 * Memory: everything the object keeps comes from the vm's allocator;
 * libelf allocates its own descriptors, released with elf_end() before
 * open returns. The object keeps no pointer into the image.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebpfvm/loader.h"
#include "loader/btf.h"
#include "maps/map.h"
#include "vm/internal.h"
#include "vm/progtype.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif
#define R_BPF_64_64 1
#define R_BPF_64_ABS64 2
#define R_BPF_64_32 10

#define OPC_CALL (EBPF_CLASS_JMP | EBPF_JMP_CALL)                      /* 0x85 */
#define OPC_LD_IMM64 (EBPF_CLASS_LD | EBPF_MODE_IMM | EBPF_SIZE_DW)    /* 0x18 */
#define MAX_FILE_SIZE (1ull << 30)
#define LEGACY_MAP_DEF_SIZE 20u /* struct bpf_map_def: five u32 */
#define DEFAULT_MAX_MAP_BYTES (1ull << 30)

/* ----------------------------------------------------------- the object */

struct obj_func {
    size_t start; /* first word in the linked instructions */
    char *name;
    bool nonint;  /* BTF says it does not return an integer (LD_ABS/LD_IND refused in it) */
};

struct obj_prog {
    char *name;
    char *section;
    bool type_known;
    enum ebpfvm_prog_type type;
    struct ebpf_insn *insns;
    size_t count;
    struct obj_func *funcs; /* the program (funcs[0]) and its subprograms, by start */
    size_t nfuncs;
    ebpfvm_prog *slot_prog; /* loaded for prog_array `.values` slots (vm-owned) */
    char *unsupported;      /* why the program cannot load (a kfunc or extern it uses), or NULL */
};

/* A prog_array slot initialised in `.maps` (`.values = { [i] = &prog }`). */
struct obj_slot {
    size_t map;   /* index in maps[] */
    uint32_t index;
    size_t prog;  /* index in progs[] */
};

struct obj_map {
    char *name;
    int fd;
};

struct ebpfvm_object {
    struct ebpfvm_vm *vm;
    char *name;
    char *license;
    uint32_t kversion;
    struct obj_prog *progs;
    size_t nprogs;
    struct obj_map *maps;
    size_t nmaps;
    struct obj_slot *slots;
    size_t nslots;
    bool slots_filled; /* every slot holds its program */
};

/* ------------------------------------------------------ the open context */

struct elf_sec {
    const char *name;
    uint32_t type;
    uint64_t flags;
    uint64_t size;
    uint32_t link, info;
    const uint8_t *data; /* NULL for NOBITS or until fetched */
    bool fetched;
    int32_t *rel_of; /* executable sections: relocation index per word, or -1 */
    int map_kind;    /* MAPSEC_* */
};

enum { MAPSEC_NONE = 0, MAPSEC_BTF, MAPSEC_LEGACY, MAPSEC_DATA };

struct elf_sym {
    const char *name;
    unsigned type, bind;
    uint32_t shndx;
    uint64_t value, size;
};

struct elf_func {
    uint32_t shndx;
    uint64_t off, size; /* bytes */
    const char *name;
};

struct elf_rel {
    uint32_t shndx;    /* the .rel section, for messages */
    uint32_t index;    /* its number inside that section */
    uint64_t offset;
    uint32_t sym;
    uint32_t type;
};

struct map_decl {
    const char *name;
    uint32_t shndx;
    uint64_t off, size;   /* the variable in its section */
    bool has_values;      /* `__array(values, ...)` (prog_array, map-in-map) */
    uint32_t values_off;  /* its byte offset in the variable */
    struct ebpfvm_map_def def;
    bool has_inner;       /* map-in-map: the template from `__array(values, struct {...})` */
    struct ebpfvm_map_def inner;
    const uint8_t *init; /* data sections: initial value (NULL: zero) */
    int fd;
};

struct ctx {
    struct ebpfvm_vm *vm;
    const char *name;
    uint8_t *image;
    size_t image_size;
    Elf *elf;
    struct elf_sec *secs;
    size_t nsecs;
    size_t shstrndx;
    struct elf_sym *syms;
    size_t nsyms;
    size_t symtab;
    struct elf_func *funcs;
    size_t nfuncs;
    struct elf_rel *rels;
    size_t nrels;
    struct map_decl *maps;
    size_t nmaps;
    struct ebpfvm_btf btf;
    bool have_btf;
    uint32_t first_fd;
    uint32_t maps_created;
    uint64_t max_map_bytes;
    struct ebpfvm_object *obj;
    /* link_program: the first reference of the program being linked that
     * ebpfvm cannot resolve (a kfunc, an extern): it keeps that program
     * from loading, not the object from opening. */
    char unsupported[400];
};

static int oerr(struct ctx *c, int status, const char *fmt, ...) EBPFVM_PRINTF(3, 4);
static int oerr(struct ctx *c, int status, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ebpfvm__error(c->vm, status, "%s: %s", c->name, buf);
}

static int nomem(struct ctx *c)
{
    return oerr(c, EBPFVM_ERR_NOMEM, "out of memory");
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_exec(const struct elf_sec *s)
{
    return s->type == SHT_PROGBITS && (s->flags & SHF_EXECINSTR);
}

static bool is_data_name(const char *name)
{
    return !strcmp(name, ".data") || !strcmp(name, ".rodata") || !strcmp(name, ".bss") ||
           has_prefix(name, ".data.") || has_prefix(name, ".rodata.") || has_prefix(name, ".bss.");
}

/* The section's bytes (borrowed from libelf); NULL for NOBITS or empty. */
static int sec_data(struct ctx *c, size_t i, const uint8_t **out)
{
    struct elf_sec *s = &c->secs[i];
    if (!s->fetched) {
        s->fetched = true;
        if (s->type != SHT_NOBITS && s->size > 0) {
            Elf_Scn *scn = elf_getscn(c->elf, i);
            Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
            if (!d || !d->d_buf || d->d_size != s->size)
                return oerr(c, EBPFVM_ERR_FORMAT, "section %s: cannot read its %llu bytes: %s", s->name,
                            (unsigned long long)s->size, elf_errmsg(-1));
            s->data = d->d_buf;
        }
    }
    *out = s->data;
    return 0;
}

static const char *sym_name(const struct ctx *c, const struct elf_sym *sym)
{
    if (sym->type == STT_SECTION && sym->shndx < c->nsecs)
        return c->secs[sym->shndx].name;
    return sym->name;
}

static int find_sec(const struct ctx *c, const char *name)
{
    for (size_t i = 1; i < c->nsecs; i++)
        if (!strcmp(c->secs[i].name, name))
            return (int)i;
    return -1;
}

/* -------------------------------------------------- stage 1: sections */

static int read_header(struct ctx *c)
{
    if (c->image_size < EI_NIDENT || memcmp(c->image, ELFMAG, SELFMAG) != 0)
        return oerr(c, EBPFVM_ERR_FORMAT, "not an ELF file");
    if (c->image[EI_CLASS] != ELFCLASS64)
        return oerr(c, EBPFVM_ERR_FORMAT, "not a 64-bit ELF object (class %u)", c->image[EI_CLASS]);
    if (c->image[EI_DATA] != ELFDATA2LSB)
        return oerr(c, EBPFVM_ERR_FORMAT, "not a little-endian ELF object (only little-endian BPF is supported)");
    elf_version(EV_CURRENT);
    c->elf = elf_memory((char *)c->image, c->image_size);
    if (!c->elf || elf_kind(c->elf) != ELF_K_ELF)
        return oerr(c, EBPFVM_ERR_FORMAT, "not a valid ELF file: %s", elf_errmsg(-1));
    GElf_Ehdr eh;
    if (!gelf_getehdr(c->elf, &eh))
        return oerr(c, EBPFVM_ERR_FORMAT, "bad ELF header: %s", elf_errmsg(-1));
    if (eh.e_machine != EM_BPF)
        return oerr(c, EBPFVM_ERR_FORMAT, "not a BPF object (e_machine %u, expected EM_BPF %u)", eh.e_machine,
                    EM_BPF);
    if (eh.e_type != ET_REL)
        return oerr(c, EBPFVM_ERR_FORMAT, "not a relocatable object (e_type %u, expected ET_REL)", eh.e_type);
    size_t n = 0;
    if (elf_getshdrnum(c->elf, &n) != 0 || n == 0)
        return oerr(c, EBPFVM_ERR_FORMAT, "no section table: %s", elf_errmsg(-1));
    if (n > 65535)
        return oerr(c, EBPFVM_ERR_FORMAT, "%zu sections is too many", n);
    if (elf_getshdrstrndx(c->elf, &c->shstrndx) != 0 || c->shstrndx == 0 || c->shstrndx >= n)
        return oerr(c, EBPFVM_ERR_FORMAT, "bad section name table index: %s", elf_errmsg(-1));
    c->nsecs = n;
    return 0;
}

static int read_sections(struct ctx *c)
{
    c->secs = ebpfvm__calloc(c->vm, c->nsecs, sizeof *c->secs);
    if (!c->secs)
        return nomem(c);
    c->secs[0].name = "";
    for (size_t i = 1; i < c->nsecs; i++) {
        struct elf_sec *s = &c->secs[i];
        Elf_Scn *scn = elf_getscn(c->elf, i);
        GElf_Shdr sh;
        if (!scn || !gelf_getshdr(scn, &sh))
            return oerr(c, EBPFVM_ERR_FORMAT, "section %zu: bad section header: %s", i, elf_errmsg(-1));
        s->name = elf_strptr(c->elf, c->shstrndx, sh.sh_name);
        if (!s->name)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %zu: name offset %u is invalid", i, sh.sh_name);
        s->type = sh.sh_type;
        s->flags = sh.sh_flags;
        s->size = sh.sh_size;
        s->link = sh.sh_link;
        s->info = sh.sh_info;
        if (s->type != SHT_NOBITS && s->type != SHT_NULL &&
            (sh.sh_offset > c->image_size || sh.sh_size > c->image_size - sh.sh_offset))
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: offset 0x%llx size 0x%llx is outside the file (%zu bytes)",
                        s->name, (unsigned long long)sh.sh_offset, (unsigned long long)sh.sh_size, c->image_size);
        if (s->type == SHT_NOBITS && s->size > MAX_FILE_SIZE)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: size 0x%llx is absurd", s->name,
                        (unsigned long long)s->size);
        if (is_exec(s) && s->size % sizeof(struct ebpf_insn) != 0)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: size %llu is not a multiple of 8", s->name,
                        (unsigned long long)s->size);
        if (s->type == SHT_SYMTAB) {
            if (c->symtab)
                return oerr(c, EBPFVM_ERR_FORMAT, "section %s: more than one symbol table", s->name);
            c->symtab = i;
        }
    }
    if (!c->symtab)
        return oerr(c, EBPFVM_ERR_FORMAT, "no symbol table (.symtab)");
    return 0;
}

static int read_symbols(struct ctx *c)
{
    struct elf_sec *st = &c->secs[c->symtab];
    if (st->link == 0 || st->link >= c->nsecs || c->secs[st->link].type != SHT_STRTAB)
        return oerr(c, EBPFVM_ERR_FORMAT, "section %s: string table index %u is invalid", st->name, st->link);
    Elf_Data *d = elf_getdata(elf_getscn(c->elf, c->symtab), NULL);
    if (!d)
        return oerr(c, EBPFVM_ERR_FORMAT, "section %s: cannot read symbols: %s", st->name, elf_errmsg(-1));
    size_t n = d->d_size / sizeof(Elf64_Sym);
    c->syms = ebpfvm__calloc(c->vm, n ? n : 1, sizeof *c->syms);
    if (!c->syms)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        GElf_Sym gs;
        if (!gelf_getsym(d, (int)i, &gs))
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: symbol %zu is unreadable", st->name, i);
        struct elf_sym *sym = &c->syms[i];
        sym->name = elf_strptr(c->elf, st->link, gs.st_name);
        if (!sym->name)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: symbol %zu name offset %u is invalid", st->name, i,
                        gs.st_name);
        sym->type = GELF_ST_TYPE(gs.st_info);
        sym->bind = GELF_ST_BIND(gs.st_info);
        sym->shndx = gs.st_shndx;
        sym->value = gs.st_value;
        sym->size = gs.st_size;
        if (sym->shndx == SHN_XINDEX || sym->shndx == SHN_COMMON)
            return oerr(c, EBPFVM_ERR_UNSUPP, "symbol '%s': %s symbols are not supported", sym->name,
                        sym->shndx == SHN_COMMON ? "common" : "extended-index");
        if (sym->shndx != SHN_UNDEF && sym->shndx != SHN_ABS && sym->shndx >= c->nsecs)
            return oerr(c, EBPFVM_ERR_FORMAT, "symbol %zu ('%s'): section index %u is out of range", i, sym->name,
                        sym->shndx);
    }
    c->nsyms = n;
    return 0;
}

/* ---------------------------------------------------- stage 2: functions */

static int func_cmp(const void *a, const void *b)
{
    const struct elf_func *x = a, *y = b;
    if (x->shndx != y->shndx)
        return x->shndx < y->shndx ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static int read_funcs(struct ctx *c)
{
    c->funcs = ebpfvm__calloc(c->vm, c->nsyms ? c->nsyms : 1, sizeof *c->funcs);
    if (!c->funcs)
        return nomem(c);
    for (size_t i = 0; i < c->nsyms; i++) {
        const struct elf_sym *sym = &c->syms[i];
        if (sym->type != STT_FUNC || sym->shndx == SHN_UNDEF || sym->shndx == SHN_ABS)
            continue;
        const struct elf_sec *s = &c->secs[sym->shndx];
        if (!is_exec(s))
            return oerr(c, EBPFVM_ERR_FORMAT, "function '%s' is in section %s, which is not executable", sym->name,
                        s->name);
        if (sym->value % 8 || sym->size % 8 || sym->size == 0 || sym->value > s->size ||
            sym->size > s->size - sym->value)
            return oerr(c, EBPFVM_ERR_FORMAT,
                        "section %s: function '%s' at offset 0x%llx size 0x%llx is misaligned or out of range",
                        s->name, sym->name, (unsigned long long)sym->value, (unsigned long long)sym->size);
        c->funcs[c->nfuncs++] = (struct elf_func){sym->shndx, sym->value, sym->size, sym->name};
    }
    qsort(c->funcs, c->nfuncs, sizeof *c->funcs, func_cmp);
    for (size_t i = 1; i < c->nfuncs; i++) {
        const struct elf_func *a = &c->funcs[i - 1], *b = &c->funcs[i];
        if (a->shndx == b->shndx && a->off + a->size > b->off)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: functions '%s' and '%s' overlap",
                        c->secs[a->shndx].name, a->name, b->name);
    }
    for (size_t i = 1; i < c->nsecs; i++) {
        if (!is_exec(&c->secs[i]) || c->secs[i].size == 0)
            continue;
        bool any = false;
        for (size_t f = 0; f < c->nfuncs && !any; f++)
            any = c->funcs[f].shndx == i;
        if (!any)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: code without a function symbol", c->secs[i].name);
    }
    return 0;
}

static const struct elf_func *find_func(const struct ctx *c, uint32_t shndx, uint64_t off)
{
    for (size_t i = 0; i < c->nfuncs; i++)
        if (c->funcs[i].shndx == shndx && c->funcs[i].off == off)
            return &c->funcs[i];
    return NULL;
}

/* --------------------------------------------------- stage 3: relocations */


/* The data of relocation section i (r): NULL only when it is empty. */
static int rel_data(struct ctx *c, size_t i, const struct elf_sec *r, Elf_Data **d)
{
    *d = elf_getdata(elf_getscn(c->elf, i), NULL);
    if (!*d && r->size > 0)
        return oerr(c, EBPFVM_ERR_FORMAT, "section %s: cannot read relocations: %s", r->name, elf_errmsg(-1));
    return 0;
}

/* Relocation k of section r: the entry, its symbol index (checked) and type. */
static int rel_get(struct ctx *c, const struct elf_sec *r, Elf_Data *d, size_t k, GElf_Rel *gr, uint32_t *sym,
                   uint32_t *type)
{
    if (!gelf_getrel(d, (int)k, gr))
        return oerr(c, EBPFVM_ERR_FORMAT, "section %s: relocation %zu is unreadable", r->name, k);
    *sym = (uint32_t)GELF_R_SYM(gr->r_info);
    *type = (uint32_t)GELF_R_TYPE(gr->r_info);
    if (*sym == 0 || *sym >= c->nsyms)
        return oerr(c, EBPFVM_ERR_FORMAT, "section %s: relocation %zu: symbol index %u is invalid", r->name, k,
                    *sym);
    return 0;
}
static int read_relocs(struct ctx *c)
{
    size_t total = 0;
    for (size_t i = 1; i < c->nsecs; i++) {
        const struct elf_sec *r = &c->secs[i];
        if (r->type != SHT_REL && r->type != SHT_RELA)
            continue;
        if (r->info == 0 || r->info >= c->nsecs)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: target section index %u is invalid", r->name, r->info);
        const struct elf_sec *t = &c->secs[r->info];
        bool code = is_exec(t);
        bool data = is_data_name(t->name) || !strcmp(t->name, ".maps") || !strcmp(t->name, "maps");
        if (!code && !data)
            continue; /* .rel.BTF, .rel.debug_*: not needed */
        if (r->type == SHT_RELA)
            return oerr(c, EBPFVM_ERR_UNSUPP, "section %s: RELA relocations are not supported", r->name);
        if (data && t->map_kind == MAPSEC_BTF)
            continue; /* prog_array `.values`: read_slots() */
        if (data)
            return oerr(c, EBPFVM_ERR_UNSUPP,
                        "section %s: relocations in section %s (pointers in data, map-in-map) are not supported",
                        r->name, t->name);
        if (r->link != c->symtab)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: symbol table index %u is not .symtab", r->name, r->link);
        total += r->size / sizeof(Elf64_Rel);
    }
    c->rels = ebpfvm__calloc(c->vm, total ? total : 1, sizeof *c->rels);
    if (!c->rels)
        return nomem(c);
    for (size_t i = 1; i < c->nsecs; i++) {
        const struct elf_sec *r = &c->secs[i];
        if (r->type != SHT_REL || r->info == 0 || r->info >= c->nsecs || !is_exec(&c->secs[r->info]))
            continue;
        struct elf_sec *t = &c->secs[r->info];
        size_t words = t->size / 8;
        if (!t->rel_of) {
            t->rel_of = ebpfvm__alloc(c->vm, (words ? words : 1) * sizeof *t->rel_of);
            if (!t->rel_of)
                return nomem(c);
            for (size_t w = 0; w < words; w++)
                t->rel_of[w] = -1;
        }
        Elf_Data *d;
        int rc = rel_data(c, i, r, &d);
        if (rc)
            return rc;
        size_t n = r->size / sizeof(Elf64_Rel);
        for (size_t k = 0; k < n; k++) {
            GElf_Rel gr;
            uint32_t sym, type;
            if ((rc = rel_get(c, r, d, k, &gr, &sym, &type)) != 0)
                return rc;
            if (gr.r_offset % 8 != 0 || gr.r_offset >= t->size)
                return oerr(c, EBPFVM_ERR_FORMAT, "section %s: relocation %zu offset 0x%llx out of range", r->name,
                            k, (unsigned long long)gr.r_offset);
            if (type != R_BPF_64_64 && type != R_BPF_64_32)
                return oerr(c, EBPFVM_ERR_UNSUPP, "section %s: relocation %zu (symbol '%s'): type %u is not supported",
                            r->name, k, sym_name(c, &c->syms[sym]), type);
            size_t w = gr.r_offset / 8;
            if (t->rel_of[w] >= 0)
                return oerr(c, EBPFVM_ERR_FORMAT, "section %s: relocation %zu: offset 0x%llx is relocated twice",
                            r->name, k, (unsigned long long)gr.r_offset);
            if (c->nrels >= total)
                return oerr(c, EBPFVM_ERR_FORMAT, "section %s: too many relocations", r->name);
            t->rel_of[w] = (int32_t)c->nrels;
            c->rels[c->nrels++] = (struct elf_rel){(uint32_t)i, (uint32_t)k, gr.r_offset, sym, type};
        }
    }
    return 0;
}

/* ---------------------------------------------------------- stage 4: maps */

static int add_map(struct ctx *c, size_t cap, const struct map_decl *m)
{
    if (c->nmaps >= cap)
        return oerr(c, EBPFVM_ERR_RANGE, "too many maps");
    c->maps[c->nmaps++] = *m;
    return 0;
}

/* `__uint(name, N)`: a pointer to an array of N elements. */
static int btf_uint(struct ctx *c, const char *map, const char *attr, uint32_t type, uint32_t *value)
{
    struct ebpfvm_btf_type t;
    if (ebpfvm__btf_skip_mods(&c->btf, type, &t) != 0 || t.kind != EBPFVM_BTF_KIND_PTR ||
        ebpfvm__btf_skip_mods(&c->btf, t.size_or_type, &t) != 0 || t.kind != EBPFVM_BTF_KIND_ARRAY)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s': attribute '%s' is not __uint(%s, N)", map, attr,
                    attr);
    uint32_t elem;
    ebpfvm__btf_array(&t, &elem, value);
    return 0;
}

/* `__type(name, T)`: a pointer to T; the size of T. */
static int btf_type_attr(struct ctx *c, const char *map, const char *attr, uint32_t type, uint32_t *size)
{
    struct ebpfvm_btf_type t;
    char why[160];
    if (ebpfvm__btf_skip_mods(&c->btf, type, &t) != 0 || t.kind != EBPFVM_BTF_KIND_PTR)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s': attribute '%s' is not __type(%s, T)", map, attr,
                    attr);
    if (ebpfvm__btf_type_size(&c->btf, t.size_or_type, size, why, sizeof why) != 0)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s': attribute '%s': %s", map, attr, why);
    return 0;
}

#define MAP_ARRAY_OF_MAPS 12u
#define MAP_HASH_OF_MAPS 13u

static bool is_map_in_map(uint32_t type)
{
    return type == MAP_ARRAY_OF_MAPS || type == MAP_HASH_OF_MAPS;
}

static const char *map_in_map_name(uint32_t type)
{
    return type == MAP_ARRAY_OF_MAPS ? "BPF_MAP_TYPE_ARRAY_OF_MAPS" : "BPF_MAP_TYPE_HASH_OF_MAPS";
}

static int parse_def(struct ctx *c, const char *name, const struct ebpfvm_btf_type *def, uint32_t bitbase,
                     struct ebpfvm_map_def *d, struct map_decl *m);

/*
 * `__array(values, struct { __uint(type, ...); ... })` in a map-in-map, as
 * libbpf: the struct (a type, no variable) defines the template of the
 * inner maps, named "<map>.inner" in messages; the outer value is a map fd
 * (4 bytes). `.values = { [i] = &map }` pointers fill slot i (read_slots).
 * A template that is itself a map-in-map, or has 'values', is rejected.
 */
static int btf_inner_map(struct ctx *c, const char *map, uint32_t mtype, uint32_t bitoff, uint32_t type,
                         struct map_decl *m)
{
    struct ebpfvm_btf_type t;
    uint32_t elem, n;
    if (ebpfvm__btf_skip_mods(&c->btf, mtype, &t) != 0 || t.kind != EBPFVM_BTF_KIND_ARRAY ||
        (ebpfvm__btf_array(&t, &elem, &n), ebpfvm__btf_skip_mods(&c->btf, elem, &t) != 0) ||
        t.kind != EBPFVM_BTF_KIND_PTR || ebpfvm__btf_skip_mods(&c->btf, t.size_or_type, &t) != 0 ||
        t.kind != EBPFVM_BTF_KIND_STRUCT)
        return oerr(c, EBPFVM_ERR_FORMAT,
                    "section .maps: map '%s': 'values' of a %s is not __array(values, struct {...}) (the inner map "
                    "definition)",
                    map, map_in_map_name(type));
    if (m->def.value_size != 0 && m->def.value_size != 4)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s': value_size %u conflicts with 'values' (4)", map,
                    m->def.value_size);
    char iname[160];
    snprintf(iname, sizeof iname, "%s.inner", map);
    memset(&m->inner, 0, sizeof m->inner);
    int rc = parse_def(c, iname, &t, 0, &m->inner, NULL);
    if (rc)
        return rc;
    if (is_map_in_map((uint32_t)m->inner.type))
        return oerr(c, EBPFVM_ERR_UNSUPP,
                    "section .maps: map '%s': inner map '%s' is a %s: map-in-map inside map-in-map is not supported",
                    map, iname, map_in_map_name((uint32_t)m->inner.type));
    m->inner.sz = sizeof m->inner;
    m->inner.inner_map_fd = -1;
    m->def.value_size = 4;
    m->has_inner = true;
    m->has_values = true;
    m->values_off = bitoff / 8;
    return 0;
}

/*
 * `__array(values, int (void *))` in a prog_array, as libbpf: an array of
 * pointers to functions (C makes it the last member: a flexible array),
 * whose initialiser (pointers to programs, relocated by `.rel.maps`) fills
 * the slots. The value size is 4 (a program fd in the kernel). Its offset
 * is only used to turn relocation offsets into slots, which read_slots()
 * checks are 8-byte aligned and inside the variable.
 */
static int btf_values(struct ctx *c, const char *map, uint32_t mtype, uint32_t bitoff, uint32_t type,
                      struct map_decl *m)
{
    struct ebpfvm_btf_type t;
    uint32_t elem, n;
    if (type != EBPFVM_MAP_PROG_ARRAY)
        return oerr(c, EBPFVM_ERR_FORMAT,
                    "section .maps: map '%s': 'values' is only for BPF_MAP_TYPE_PROG_ARRAY (and map-in-map), not type "
                    "%u (or 'type' comes after it)",
                    map, type);
    if (ebpfvm__btf_skip_mods(&c->btf, mtype, &t) != 0 || t.kind != EBPFVM_BTF_KIND_ARRAY ||
        (ebpfvm__btf_array(&t, &elem, &n), ebpfvm__btf_skip_mods(&c->btf, elem, &t) != 0) ||
        t.kind != EBPFVM_BTF_KIND_PTR || ebpfvm__btf_skip_mods(&c->btf, t.size_or_type, &t) != 0 ||
        t.kind != EBPFVM_BTF_KIND_FUNC_PROTO)
        return oerr(c, EBPFVM_ERR_FORMAT,
                    "section .maps: map '%s': 'values' is not __array(values, <function type>) (an array of "
                    "pointers to programs)",
                    map);
    if (m->def.value_size != 0 && m->def.value_size != 4)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s': value_size %u conflicts with 'values' (4)", map,
                    m->def.value_size);
    m->def.value_size = 4;
    m->has_values = true;
    m->values_off = bitoff / 8;
    return 0;
}

/*
 * The members of a map definition struct: d is filled; m is the map
 * (NULL: an inner map template, which may not have 'values').
 */
static int parse_def(struct ctx *c, const char *name, const struct ebpfvm_btf_type *def, uint32_t bitbase,
                     struct ebpfvm_map_def *d, struct map_decl *m)
{
    uint32_t key_type_size = 0, value_type_size = 0, type = 0;
    bool have_key_type = false, have_value_type = false, have_key_size = false, have_value_size = false;
    for (unsigned i = 0; i < def->vlen; i++) {
        const char *attr;
        uint32_t mtype, bitoff, v = 0;
        ebpfvm__btf_member(def, &c->btf, i, &attr, &mtype, &bitoff);
        bitoff += bitbase;
        int rc = 0;
        if (!strcmp(attr, "type")) {
            rc = btf_uint(c, name, attr, mtype, &type);
        } else if (!strcmp(attr, "max_entries")) {
            rc = btf_uint(c, name, attr, mtype, &d->max_entries);
        } else if (!strcmp(attr, "map_flags")) {
            rc = btf_uint(c, name, attr, mtype, &d->map_flags);
        } else if (!strcmp(attr, "key_size")) {
            rc = btf_uint(c, name, attr, mtype, &d->key_size);
            have_key_size = true;
        } else if (!strcmp(attr, "value_size")) {
            rc = btf_uint(c, name, attr, mtype, &d->value_size);
            have_value_size = true;
        } else if (!strcmp(attr, "key")) {
            rc = btf_type_attr(c, name, attr, mtype, &key_type_size);
            have_key_type = true;
        } else if (!strcmp(attr, "value")) {
            rc = btf_type_attr(c, name, attr, mtype, &value_type_size);
            have_value_type = true;
        } else if (!strcmp(attr, "values")) {
            if (!m)
                return oerr(c, EBPFVM_ERR_UNSUPP,
                            "section .maps: inner map '%s': 'values' in an inner map definition is not supported",
                            name);
            if (is_map_in_map(type))
                rc = btf_inner_map(c, name, mtype, bitoff, type, m);
            else
                rc = btf_values(c, name, mtype, bitoff, type, m);
            have_value_size = true;
        } else if (!strcmp(attr, "pinning")) {
            rc = btf_uint(c, name, attr, mtype, &v); /* no bpffs here: pinning has no effect */
        } else if (!strcmp(attr, "numa_node") || !strcmp(attr, "map_extra")) {
            rc = btf_uint(c, name, attr, mtype, &v);
            if (!rc && v != 0)
                return oerr(c, EBPFVM_ERR_UNSUPP, "section .maps: map '%s': attribute '%s' = %u is not supported",
                            name, attr, v);
        } else {
            return oerr(c, EBPFVM_ERR_UNSUPP, "section .maps: map '%s': unknown attribute '%s'", name, attr);
        }
        if (rc)
            return rc;
    }
    if (type == 0)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s' has no type", name);
    if (m && is_map_in_map(type) && !m->has_inner)
        return oerr(c, EBPFVM_ERR_FORMAT,
                    "section .maps: map '%s': a %s needs its inner map definition: __array(values, struct {...})",
                    name, map_in_map_name(type));
    d->type = (enum ebpfvm_map_type)type;
    if (have_key_type) {
        if (have_key_size && d->key_size != key_type_size)
            return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s': key_size %u does not match key type size %u",
                        name, d->key_size, key_type_size);
        d->key_size = key_type_size;
    }
    if (have_value_type) {
        if (have_value_size && d->value_size != value_type_size)
            return oerr(c, EBPFVM_ERR_FORMAT,
                        "section .maps: map '%s': value_size %u does not match value type size %u", name,
                        d->value_size, value_type_size);
        d->value_size = value_type_size;
    }
    return 0;
}

static int read_btf_map(struct ctx *c, uint32_t shndx, uint32_t var_id, uint32_t off, uint32_t size,
                        struct map_decl *m)
{
    struct ebpfvm_btf_type var, def;
    if (ebpfvm__btf_type(&c->btf, var_id, &var) != 0 || var.kind != EBPFVM_BTF_KIND_VAR)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: entry type %u is not a variable", var_id);
    const char *name = var.name;
    /* clang leaves DATASEC offsets for the loader to fill in (libbpf does it
     * from the symbol table): the ELF symbol of the same name is the truth. */
    for (size_t i = 0; i < c->nsyms; i++) {
        if (c->syms[i].shndx == shndx && c->syms[i].type != STT_SECTION && !strcmp(c->syms[i].name, name)) {
            if (c->syms[i].value > UINT32_MAX || c->syms[i].size > UINT32_MAX)
                return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s': symbol value or size is absurd", name);
            off = (uint32_t)c->syms[i].value;
            size = (uint32_t)c->syms[i].size;
            break;
        }
    }
    if ((uint64_t)off + size > c->secs[shndx].size)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s' at [%u, +%u) is outside the section", name, off,
                    size);
    if (ebpfvm__btf_skip_mods(&c->btf, var.size_or_type, &def) != 0 || def.kind != EBPFVM_BTF_KIND_STRUCT)
        return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: map '%s' is not a struct", name);
    memset(m, 0, sizeof *m);
    m->name = name;
    m->shndx = shndx;
    m->off = off;
    m->size = size;
    m->def.sz = sizeof m->def;
    m->def.name = name;
    m->def.inner_map_fd = -1;
    return parse_def(c, name, &def, 0, &m->def, m);
}

static int map_off_cmp(const void *a, const void *b)
{
    const struct map_decl *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static int read_maps(struct ctx *c)
{
    size_t cap = c->nsyms + c->nsecs;
    c->maps = ebpfvm__calloc(c->vm, cap, sizeof *c->maps);
    if (!c->maps)
        return nomem(c);
    int rc;
    /* BTF-defined maps. */
    int btf_maps = find_sec(c, ".maps");
    if (btf_maps > 0) {
        struct elf_sec *s = &c->secs[btf_maps];
        s->map_kind = MAPSEC_BTF;
        if (!c->have_btf)
            return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: BTF-defined maps need a .BTF section");
        struct ebpfvm_btf_type sec;
        if (ebpfvm__btf_find_datasec(&c->btf, ".maps", &sec) != 0) {
            if (s->size > 0)
                return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: no DATASEC .maps in .BTF");
            sec.vlen = 0;
        }
        for (unsigned i = 0; i < sec.vlen; i++) {
            uint32_t var, off, size;
            struct map_decl m;
            ebpfvm__btf_datasec_entry(&sec, i, &var, &off, &size);
            if ((rc = read_btf_map(c, (uint32_t)btf_maps, var, off, size, &m)) || (rc = add_map(c, cap, &m)))
                return rc;
        }
        qsort(c->maps, c->nmaps, sizeof *c->maps, map_off_cmp); /* source order, as the symbols */
        for (size_t i = 1; i < c->nmaps; i++)
            if (c->maps[i].off == c->maps[i - 1].off)
                return oerr(c, EBPFVM_ERR_FORMAT, "section .maps: maps '%s' and '%s' share offset 0x%llx",
                            c->maps[i - 1].name, c->maps[i].name, (unsigned long long)c->maps[i].off);
    }
    /* Legacy struct bpf_map_def maps: one per symbol. */
    int legacy = find_sec(c, "maps");
    if (legacy > 0) {
        struct elf_sec *s = &c->secs[legacy];
        s->map_kind = MAPSEC_LEGACY;
        const uint8_t *data;
        if ((rc = sec_data(c, (size_t)legacy, &data)))
            return rc;
        size_t nsym = 0;
        for (size_t i = 0; i < c->nsyms; i++)
            nsym += c->syms[i].shndx == (uint32_t)legacy && c->syms[i].type != STT_SECTION;
        if (nsym == 0 && s->size > 0)
            return oerr(c, EBPFVM_ERR_FORMAT, "section maps: no map symbols");
        if (!data && s->size > 0)
            return oerr(c, EBPFVM_ERR_FORMAT, "section maps: has no contents");
        uint64_t def_size = nsym ? s->size / nsym : 0;
        if (nsym && (s->size % nsym != 0 || def_size < 16))
            return oerr(c, EBPFVM_ERR_FORMAT, "section maps: %llu bytes for %zu maps is not a map definition size",
                        (unsigned long long)s->size, nsym);
        for (size_t i = 0; i < c->nsyms; i++) {
            const struct elf_sym *sym = &c->syms[i];
            if (sym->shndx != (uint32_t)legacy || sym->type == STT_SECTION)
                continue;
            if (sym->value % def_size != 0 || sym->value > s->size - def_size)
                return oerr(c, EBPFVM_ERR_FORMAT, "section maps: map '%s' at offset 0x%llx is misplaced", sym->name,
                            (unsigned long long)sym->value);
            uint32_t f[5] = {0};
            const uint8_t *p = data + sym->value;
            memcpy(f, p, def_size < LEGACY_MAP_DEF_SIZE ? def_size : LEGACY_MAP_DEF_SIZE);
            for (uint64_t b = LEGACY_MAP_DEF_SIZE; b < def_size; b++)
                if (p[b] != 0)
                    return oerr(c, EBPFVM_ERR_UNSUPP,
                                "section maps: map '%s': fields after map_flags (byte %llu) are not supported",
                                sym->name, (unsigned long long)b);
            struct map_decl m = {.name = sym->name, .shndx = (uint32_t)legacy, .off = sym->value};
            m.def = (struct ebpfvm_map_def){sizeof m.def, (enum ebpfvm_map_type)f[0], f[1], f[2], f[3], f[4],
                                            sym->name, -1};
            if ((rc = add_map(c, cap, &m)))
                return rc;
        }
    }
    /* Global data: one-entry arrays holding the section. */
    for (size_t i = 1; i < c->nsecs; i++) {
        struct elf_sec *s = &c->secs[i];
        if (!is_data_name(s->name) || is_exec(s) || (s->type != SHT_PROGBITS && s->type != SHT_NOBITS))
            continue;
        s->map_kind = MAPSEC_DATA;
        if (s->size == 0)
            continue;
        if (s->size > UINT32_MAX)
            return oerr(c, EBPFVM_ERR_RANGE, "section %s: %llu bytes is too large for a map value", s->name,
                        (unsigned long long)s->size);
        const uint8_t *data;
        if ((rc = sec_data(c, i, &data)))
            return rc;
        struct map_decl m = {.name = s->name, .shndx = (uint32_t)i, .off = 0, .init = data};
        m.def = (struct ebpfvm_map_def){sizeof m.def, EBPFVM_MAP_ARRAY, 4, (uint32_t)s->size, 1, 0, s->name, -1};
        if (has_prefix(s->name, ".rodata"))
            m.def.map_flags = 0x80u; /* BPF_F_RDONLY_PROG, as libbpf */
        if ((rc = add_map(c, cap, &m)))
            return rc;
    }
    return 0;
}

static const struct map_decl *find_map(const struct ctx *c, uint32_t shndx, uint64_t off)
{
    for (size_t i = 0; i < c->nmaps; i++)
        if (c->maps[i].shndx == shndx && c->maps[i].off == off)
            return &c->maps[i];
    return NULL;
}

static int read_btf(struct ctx *c)
{
    char why[200];
    const uint8_t *data;
    int rc;
    int btf = find_sec(c, ".BTF");
    if (btf > 0) {
        if ((rc = sec_data(c, (size_t)btf, &data)))
            return rc;
        rc = ebpfvm__btf_parse(c->vm, data, data ? c->secs[btf].size : 0, &c->btf, why, sizeof why);
        if (rc)
            return oerr(c, rc, "section .BTF: %s", why);
        c->have_btf = true;
    }
    int ext = find_sec(c, ".BTF.ext");
    if (ext > 0) {
        uint32_t core = 0;
        if ((rc = sec_data(c, (size_t)ext, &data)))
            return rc;
        rc = ebpfvm__btf_ext_core_relos(data, data ? c->secs[ext].size : 0, &core, why, sizeof why);
        if (rc)
            return oerr(c, rc, "section .BTF.ext: %s", why);
        if (core > 0)
            return oerr(c, EBPFVM_ERR_UNSUPP, "section .BTF.ext: CO-RE relocations are not supported (%u found)",
                        core);
    }
    return 0;
}

static int read_license(struct ctx *c)
{
    struct ebpfvm_object *obj = c->obj;
    const uint8_t *data = NULL;
    int rc;
    int lic = find_sec(c, "license");
    if (lic > 0) {
        if ((rc = sec_data(c, (size_t)lic, &data)))
            return rc;
        size_t size = data ? c->secs[lic].size : 0;
        if (size == 0 || !memchr(data, '\0', size))
            return oerr(c, EBPFVM_ERR_FORMAT, "section license: not a NUL-terminated string");
        obj->license = ebpfvm__strdup(c->vm, (const char *)data);
    } else {
        obj->license = ebpfvm__strdup(c->vm, "");
    }
    if (!obj->license)
        return nomem(c);
    int ver = find_sec(c, "version");
    if (ver > 0) {
        if ((rc = sec_data(c, (size_t)ver, &data)))
            return rc;
        if (!data || c->secs[ver].size != sizeof(uint32_t))
            return oerr(c, EBPFVM_ERR_FORMAT, "section version: %llu bytes, expected 4",
                        (unsigned long long)c->secs[ver].size);
        memcpy(&obj->kversion, data, sizeof obj->kversion);
    }
    return 0;
}

/* ------------------------------------------------- stage 5: create maps */

static void destroy_created_maps(struct ctx *c)
{
    struct ebpfvm_vm *vm = c->vm;
    while (c->maps_created > 0 && vm->nmaps > c->first_fd) {
        uint32_t fd = --vm->nmaps;
        ebpfvm__map_destroy(vm, vm->maps[fd]);
        vm->maps[fd] = NULL;
        c->maps_created--;
    }
}

/*
 * libbpf's size for a ring buffer (adjust_ringbuf_sz): a power-of-two
 * multiple of the page size stays; any other size becomes the smallest
 * such multiple above it. 0 stays 0 (the map type's check reports it), and
 * so does a size no multiple fits in a u32 (the check rejects it too).
 */
static uint32_t ringbuf_size(uint32_t size)
{
    const uint32_t page = 4096; /* libbpf uses the host's; the ring's rules use 4096 */
    if (size == 0)
        return 0;
    if (size % page == 0 && ((size / page) & (size / page - 1)) == 0)
        return size;
    for (uint64_t bytes = page; bytes <= UINT32_MAX; bytes <<= 1)
        if (bytes > size)
            return (uint32_t)bytes;
    return size;
}

static int create_maps(struct ctx *c)
{
    struct ebpfvm_object *obj = c->obj;
    c->first_fd = c->vm->nmaps;
    obj->maps = ebpfvm__calloc(c->vm, c->nmaps ? c->nmaps : 1, sizeof *obj->maps);
    if (!obj->maps)
        return nomem(c);
    for (size_t i = 0; i < c->nmaps; i++) {
        struct map_decl *m = &c->maps[i];
        /* libbpf: a perf event array without max_entries gets one slot per
         * possible CPU; here, per vm CPU (the vm's ncpus now). */
        if (m->def.type == EBPFVM_MAP_PERF_EVENT_ARRAY && m->def.max_entries == 0)
            m->def.max_entries = c->vm->ncpus;
        if (m->def.type == EBPFVM_MAP_RINGBUF || m->def.type == EBPFVM_MAP_USER_RINGBUF)
            m->def.max_entries = ringbuf_size(m->def.max_entries);
        bool percpu = m->def.type == EBPFVM_MAP_PERCPU_ARRAY || m->def.type == EBPFVM_MAP_PERCPU_HASH ||
                      m->def.type == EBPFVM_MAP_LRU_PERCPU_HASH;
        uint64_t bytes = (uint64_t)m->def.max_entries * ((uint64_t)m->def.key_size + m->def.value_size) *
                         (percpu ? c->vm->ncpus : 1u); /* < 2^32 * 2^33 * 2^8: no overflow */
        if (bytes > c->max_map_bytes)
            return oerr(c, EBPFVM_ERR_RANGE,
                        "section %s: map '%s': max_entries %u x (key_size %u + value_size %u) is over the limit of "
                        "%llu bytes",
                        c->secs[m->shndx].name, m->name, m->def.max_entries, m->def.key_size, m->def.value_size,
                        (unsigned long long)c->max_map_bytes);
        int fd = -1, rc = m->has_inner ? ebpfvm__map_create_in_map(c->vm, &m->def, &m->inner, &fd)
                                       : ebpfvm_map_create(c->vm, &m->def, &fd);
        if (rc) {
            char why[sizeof c->vm->errmsg];
            snprintf(why, sizeof why, "%s", c->vm->errmsg);
            return oerr(c, rc, "section %s: %s", c->secs[m->shndx].name, why);
        }
        c->maps_created++;
        m->fd = fd;
        if (m->init) {
            uint32_t key = 0;
            rc = ebpfvm_map_update(c->vm, fd, &key, m->init, EBPFVM_ANY);
            if (rc) {
                char why[sizeof c->vm->errmsg];
                snprintf(why, sizeof why, "%s", c->vm->errmsg);
                return oerr(c, rc, "section %s: initial value: %s", m->name, why);
            }
        }
        obj->maps[i].name = ebpfvm__strdup(c->vm, m->name);
        obj->maps[i].fd = fd;
        obj->nmaps = i + 1;
        if (!obj->maps[i].name)
            return nomem(c);
    }
    return 0;
}

/* ------------------------------------------------ stage 6: link programs */

struct link {
    const struct elf_func **funcs; /* funcs[0] is the program */
    size_t *start;                 /* output index of each function */
    size_t n, cap;
    size_t total; /* words */
};

static int link_index(const struct link *L, const struct elf_func *f)
{
    for (size_t i = 0; i < L->n; i++)
        if (L->funcs[i] == f)
            return (int)i;
    return -1;
}

static int link_add(struct ctx *c, struct link *L, const struct elf_func *f)
{
    if (link_index(L, f) >= 0)
        return 0;
    if (L->n == L->cap)
        return nomem(c); /* cap is the number of functions: cannot happen */
    if (L->total + f->size / 8 > EBPFVM_MAX_INSNS)
        return oerr(c, EBPFVM_ERR_RANGE, "program '%s' with its subprograms exceeds %d instructions", L->funcs[0]->name,
                    EBPFVM_MAX_INSNS);
    L->funcs[L->n] = f;
    L->start[L->n] = L->total;
    L->n++;
    L->total += f->size / 8;
    return 0;
}

/*
 * Resolve word j of function f: apply its relocation (if any) into *insn
 * (and insn[1] for LD_IMM64), and report a function it refers to in
 * *target (NULL: none). The caller fixes the relative offset.
 */
static int resolve_insn(struct ctx *c, const struct elf_func *f, size_t j, struct ebpf_insn *insn,
                        const struct elf_func **target)
{
    const struct elf_sec *s = &c->secs[f->shndx];
    size_t w = (size_t)(f->off / 8) + j;
    size_t fend = (size_t)((f->off + f->size) / 8);
    int32_t ri = s->rel_of ? s->rel_of[w] : -1;
    bool is_call = insn->opcode == OPC_CALL, is_ld = insn->opcode == OPC_LD_IMM64;
    int64_t tw = -1; /* target word in tsec */
    uint32_t tsec = f->shndx;
    *target = NULL;
    if (is_ld && w + 1 >= fend)
        return oerr(c, EBPFVM_ERR_FORMAT, "section %s: function '%s': ld_imm64 at offset 0x%zx is truncated",
                    s->name, f->name, w * 8);
    /* A map reference the compiler wrote without a relocation names a
     * file descriptor the object cannot know (ebpfvm's fds are its own). */
    if (is_ld && ri < 0 &&
        (insn->src_reg == EBPF_PSEUDO_MAP_FD || insn->src_reg == EBPF_PSEUDO_MAP_VALUE ||
         insn->src_reg == EBPF_PSEUDO_MAP_IDX || insn->src_reg == EBPF_PSEUDO_MAP_IDX_VALUE))
        return oerr(c, EBPFVM_ERR_FORMAT,
                    "section %s: function '%s': insn %zu: fd %d is not pointing to valid bpf_map (a map reference "
                    "without a relocation)",
                    s->name, f->name, j, insn->imm);
    if (ri >= 0) {
        const struct elf_rel *r = &c->rels[ri];
        const struct elf_sym *sym = &c->syms[r->sym];
        const char *rsec = c->secs[r->shndx].name, *sname = sym_name(c, sym);
        if (!is_call && !is_ld)
            return oerr(c, EBPFVM_ERR_FORMAT,
                        "section %s: relocation %u (symbol '%s'): offset 0x%llx is neither ld_imm64 nor call", rsec,
                        r->index, sname, (unsigned long long)r->offset);
        if (sym->shndx == SHN_UNDEF) {
            /* A call to one of ebpfvm's built-in kfuncs (vm/kfuncs.c). */
            int kfunc = is_call ? ebpfvm__kfunc_by_name(sname) : 0;
            if (kfunc) {
                insn->src_reg = EBPF_PSEUDO_CALL_KFUNC;
                insn->imm = kfunc;
                insn->off = 0;
                return 0;
            }
            /* Like libbpf's kernel-side resolution, it concerns only the
             * programs that use it: recorded for load time. */
            const char *where = c->have_btf ? ebpfvm__btf_extern_section(&c->btf, sym->name) : NULL;
            if (c->unsupported[0])
                return 0;
            if (is_call)
                snprintf(c->unsupported, sizeof c->unsupported,
                         "section %s: relocation %u (symbol '%s'): kfunc calls are not supported", rsec, r->index,
                         sname);
            else
                snprintf(c->unsupported, sizeof c->unsupported,
                         "section %s: relocation %u (symbol '%s'): extern symbols (%s) are not supported", rsec,
                         r->index, sname, where ? where : ".kconfig/.ksyms");
            return 0;
        }
        if (sym->shndx == SHN_ABS)
            return oerr(c, EBPFVM_ERR_UNSUPP,
                        "section %s: relocation %u (symbol '%s'): absolute symbols are not supported", rsec, r->index,
                        sname);
        const struct elf_sec *ts = &c->secs[sym->shndx];
        tsec = sym->shndx;
        if (is_call) {
            if (r->type != R_BPF_64_32)
                return oerr(c, EBPFVM_ERR_UNSUPP,
                            "section %s: relocation %u (symbol '%s'): type %u on a call is not supported", rsec,
                            r->index, sname, r->type);
            if (insn->src_reg != EBPF_PSEUDO_CALL_LOCAL || !is_exec(ts) || sym->value % 8)
                return oerr(c, EBPFVM_ERR_FORMAT,
                            "section %s: relocation %u (symbol '%s'): call is not a bpf-to-bpf call into code", rsec,
                            r->index, sname);
            tw = (int64_t)(sym->value / 8) + insn->imm + 1;
        } else {
            if (r->type != R_BPF_64_64)
                return oerr(c, EBPFVM_ERR_UNSUPP,
                            "section %s: relocation %u (symbol '%s'): type %u on ld_imm64 is not supported", rsec,
                            r->index, sname, r->type);
            if (is_exec(ts)) {
                int64_t off = (int64_t)sym->value + insn->imm;
                if (off % 8)
                    return oerr(c, EBPFVM_ERR_FORMAT,
                                "section %s: relocation %u (symbol '%s'): function address 0x%llx is misaligned",
                                rsec, r->index, sname, (long long)off);
                tw = off / 8;
                insn->src_reg = EBPF_PSEUDO_FUNC;
            } else if (ts->map_kind == MAPSEC_BTF || ts->map_kind == MAPSEC_LEGACY) {
                uint64_t off = sym->value + (sym->type == STT_SECTION ? (uint64_t)(int64_t)insn->imm : 0);
                const struct map_decl *m = find_map(c, sym->shndx, off);
                if (!m)
                    return oerr(c, EBPFVM_ERR_FORMAT,
                                "section %s: relocation %u (symbol '%s'): offset 0x%llx of %s is not a map", rsec,
                                r->index, sname, (unsigned long long)off, ts->name);
                insn[0].src_reg = EBPF_PSEUDO_MAP_FD;
                insn[0].imm = m->fd;
                insn[1].imm = 0;
            } else if (ts->map_kind == MAPSEC_DATA && ts->size > 0) {
                int64_t off = (int64_t)sym->value + insn->imm;
                const struct map_decl *m = find_map(c, sym->shndx, 0);
                if (!m || off < 0 || (uint64_t)off >= ts->size)
                    return oerr(c, EBPFVM_ERR_FORMAT,
                                "section %s: relocation %u (symbol '%s'): offset %lld is outside section %s", rsec,
                                r->index, sname, (long long)off, ts->name);
                insn[0].src_reg = EBPF_PSEUDO_MAP_VALUE;
                insn[0].imm = m->fd;
                insn[1].imm = (int32_t)off;
            } else {
                return oerr(c, EBPFVM_ERR_UNSUPP,
                            "section %s: relocation %u (symbol '%s'): references to section %s are not supported",
                            rsec, r->index, sname, ts->name);
            }
        }
    } else if ((is_call && insn->src_reg == EBPF_PSEUDO_CALL_LOCAL) || (is_ld && insn->src_reg == EBPF_PSEUDO_FUNC)) {
        tw = (int64_t)w + insn->imm + 1;
    }
    bool wants_target = (is_call && insn->src_reg == EBPF_PSEUDO_CALL_LOCAL) ||
                        (is_ld && insn->src_reg == EBPF_PSEUDO_FUNC);
    if (!wants_target)
        return 0;
    const struct elf_func *g = tw < 0 ? NULL : find_func(c, tsec, (uint64_t)tw * 8);
    if (!g)
        return oerr(c, EBPFVM_ERR_FORMAT,
                    "section %s: function '%s': insn %zu refers to word %lld of %s, which is not a function", s->name,
                    f->name, j, (long long)tw, c->secs[tsec].name);
    *target = g;
    return 0;
}

static int link_program(struct ctx *c, const struct elf_func *prog, struct obj_prog *out)
{
    struct link L = {0};
    int rc = 0;
    L.cap = c->nfuncs;
    L.funcs = ebpfvm__calloc(c->vm, L.cap, sizeof *L.funcs);
    L.start = ebpfvm__calloc(c->vm, L.cap, sizeof *L.start);
    if (!L.funcs || !L.start) {
        rc = nomem(c);
        goto done;
    }
    c->unsupported[0] = '\0';
    if ((rc = link_add(c, &L, prog)))
        goto done;
    /* Discover the functions the program reaches (L.n grows as we go). */
    for (size_t k = 0; k < L.n; k++) {
        const struct elf_func *f = L.funcs[k];
        const uint8_t *data;
        if ((rc = sec_data(c, f->shndx, &data)))
            goto done;
        for (size_t j = 0; j < f->size / 8; j++) {
            struct ebpf_insn insn[2];
            const struct elf_func *g;
            memcpy(insn, data + f->off + j * 8, j + 1 < f->size / 8 ? 16 : 8);
            if ((rc = resolve_insn(c, f, j, insn, &g)))
                goto done;
            if (g && (rc = link_add(c, &L, g)))
                goto done;
            if (insn[0].opcode == OPC_LD_IMM64)
                j++;
        }
    }
    /* Copy and patch. */
    out->insns = ebpfvm__calloc(c->vm, L.total, sizeof *out->insns);
    if (!out->insns) {
        rc = nomem(c);
        goto done;
    }
    out->count = L.total;
    out->funcs = ebpfvm__calloc(c->vm, L.n, sizeof *out->funcs);
    if (!out->funcs) {
        rc = nomem(c);
        goto done;
    }
    for (size_t k = 0; k < L.n; k++) {
        out->funcs[k].start = L.start[k];
        out->funcs[k].name = ebpfvm__strdup(c->vm, L.funcs[k]->name);
        out->funcs[k].nonint = c->have_btf && ebpfvm__btf_func_returns_int(&c->btf, L.funcs[k]->name) == 0;
        out->nfuncs = k + 1;
        if (!out->funcs[k].name) {
            rc = nomem(c);
            goto done;
        }
    }
    for (size_t k = 0; k < L.n; k++) {
        const struct elf_func *f = L.funcs[k];
        const uint8_t *data;
        if ((rc = sec_data(c, f->shndx, &data)))
            goto done;
        memcpy(out->insns + L.start[k], data + f->off, f->size);
        for (size_t j = 0; j < f->size / 8; j++) {
            struct ebpf_insn *insn = out->insns + L.start[k] + j;
            const struct elf_func *g;
            if ((rc = resolve_insn(c, f, j, insn, &g)))
                goto done;
            if (g) {
                int idx = link_index(&L, g);
                insn->imm = (int32_t)((int64_t)L.start[idx] - (int64_t)(L.start[k] + j + 1));
            }
            if (insn->opcode == OPC_LD_IMM64)
                j++;
        }
    }
    if (c->unsupported[0] && !(out->unsupported = ebpfvm__strdup(c->vm, c->unsupported)))
        rc = nomem(c);
done:
    ebpfvm__free(c->vm, L.funcs);
    ebpfvm__free(c->vm, L.start);
    return rc;
}

static bool section_type(const char *section, enum ebpfvm_prog_type *type)
{
    if (has_prefix(section, "xdp")) {
        *type = EBPFVM_PROG_TYPE_XDP;
        return true;
    }
    if (!strcmp(section, "socket") || has_prefix(section, "socket/")) {
        *type = EBPFVM_PROG_TYPE_SOCKET_FILTER;
        return true;
    }
    if (!strcmp(section, "memory") || has_prefix(section, "memory/")) {
        *type = EBPFVM_PROG_TYPE_MEMORY;
        return true;
    }
    return false;
}

static int link_programs(struct ctx *c)
{
    struct ebpfvm_object *obj = c->obj;
    int text = find_sec(c, ".text");
    size_t n = 0;
    for (size_t i = 0; i < c->nfuncs; i++)
        n += (int)c->funcs[i].shndx != text;
    obj->progs = ebpfvm__calloc(c->vm, n ? n : 1, sizeof *obj->progs);
    if (!obj->progs)
        return nomem(c);
    for (size_t i = 0; i < c->nfuncs; i++) {
        const struct elf_func *f = &c->funcs[i];
        if ((int)f->shndx == text)
            continue;
        struct obj_prog *p = &obj->progs[obj->nprogs++];
        p->name = ebpfvm__strdup(c->vm, f->name);
        p->section = ebpfvm__strdup(c->vm, c->secs[f->shndx].name);
        if (!p->name || !p->section)
            return nomem(c);
        p->type_known = section_type(p->section, &p->type);
        int rc = link_program(c, f, p);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------- stage 7: prog_array slots */

/* The program index of function f (programs are the functions outside
 * .text, in c->funcs order), or -1 for a .text subprogram. */
static long func_prog_index(const struct ctx *c, const struct elf_func *f)
{
    int text = find_sec(c, ".text");
    if ((int)f->shndx == text)
        return -1;
    long n = 0;
    for (const struct elf_func *g = c->funcs; g < f; g++)
        n += (int)g->shndx != text;
    return n;
}

/*
 * A map-in-map's `.values` slot (libbpf's init_map_in_map_slots): the
 * pointer names a map of `.maps`, stored now (every map exists) with key
 * slot, like libbpf's update with key i. The update checks the map against
 * the template.
 */
static int fill_map_slot(struct ctx *c, const struct elf_sec *r, size_t k, const char *sname,
                         const struct elf_sym *sym, uint64_t addend, const struct map_decl *m, uint32_t slot)
{
    const struct map_decl *t = NULL;
    if (sym->shndx == m->shndx)
        t = find_map(c, sym->shndx, sym->value + addend);
    if (!t)
        return oerr(c, EBPFVM_ERR_FORMAT,
                    "section %s: relocation %zu (symbol '%s'): map '%s' slot %u: '%s' is not a map of .maps", r->name,
                    k, sname, m->name, slot, sname);
    if (m->def.type == EBPFVM_MAP_HASH_OF_MAPS && m->def.key_size != 4)
        return oerr(c, EBPFVM_ERR_FORMAT,
                    "section %s: relocation %zu (symbol '%s'): hash-of-maps '%s' initialised by .values needs "
                    "key_size 4, not %u",
                    r->name, k, sname, m->name, m->def.key_size);
    uint32_t value = (uint32_t)t->fd;
    int rc = ebpfvm_map_update(c->vm, m->fd, &slot, &value, EBPFVM_ANY);
    if (rc) {
        char why[sizeof c->vm->errmsg];
        snprintf(why, sizeof why, "%s", c->vm->errmsg);
        return oerr(c, rc, "section %s: map '%s' slot %u (.values = '%s'): %s", r->name, m->name, slot, t->name,
                    why);
    }
    return 0;
}

/*
 * `.rel.maps`: each relocation is one pointer in a prog_array's `.values`
 * initialiser (R_BPF_64_ABS64 against a program's symbol, the addend in
 * the pointer's bytes). Slot = (offset - variable - 'values') / 8. The
 * slots are filled when a program is first loaded (fill_slots()).
 */
static int read_slots(struct ctx *c)
{
    int maps = find_sec(c, ".maps");
    if (maps <= 0)
        return 0;
    const uint8_t *mdata;
    int rc = sec_data(c, (size_t)maps, &mdata);
    if (rc)
        return rc;
    size_t total = 0;
    for (size_t i = 1; i < c->nsecs; i++)
        if (c->secs[i].type == SHT_REL && c->secs[i].info == (uint32_t)maps)
            total += c->secs[i].size / sizeof(Elf64_Rel);
    if (total == 0)
        return 0;
    struct ebpfvm_object *obj = c->obj;
    obj->slots = ebpfvm__calloc(c->vm, total, sizeof *obj->slots);
    if (!obj->slots)
        return nomem(c);
    for (size_t i = 1; i < c->nsecs; i++) {
        const struct elf_sec *r = &c->secs[i];
        if (r->type != SHT_REL || r->info != (uint32_t)maps)
            continue;
        if (r->link != c->symtab)
            return oerr(c, EBPFVM_ERR_FORMAT, "section %s: symbol table index %u is not .symtab", r->name, r->link);
        Elf_Data *d;
        rc = rel_data(c, i, r, &d);
        if (rc)
            return rc;
        size_t n = r->size / sizeof(Elf64_Rel);
        for (size_t k = 0; k < n; k++) {
            GElf_Rel gr;
            uint32_t symi, type;
            if ((rc = rel_get(c, r, d, k, &gr, &symi, &type)) != 0)
                return rc;
            const struct elf_sym *sym = &c->syms[symi];
            const char *sname = sym_name(c, sym);
            if (type != R_BPF_64_ABS64)
                return oerr(c, EBPFVM_ERR_UNSUPP,
                            "section %s: relocation %zu (symbol '%s'): type %u in .maps is not supported", r->name, k,
                            sname, type);
            uint64_t off = gr.r_offset;
            const struct map_decl *m = NULL;
            size_t mi = 0;
            for (; mi < c->nmaps; mi++) {
                m = &c->maps[mi];
                if (m->shndx == (uint32_t)maps && off >= m->off && off < m->off + m->size)
                    break;
            }
            if (mi == c->nmaps)
                return oerr(c, EBPFVM_ERR_FORMAT,
                            "section %s: relocation %zu (symbol '%s'): offset 0x%llx is not inside a map", r->name, k,
                            sname, (unsigned long long)off);
            if (!m->has_values || off < m->off + m->values_off)
                return oerr(c, EBPFVM_ERR_UNSUPP,
                            "section %s: relocation %zu (symbol '%s'): map '%s': pointers are only supported in the "
                            "'values' of a prog_array or a map-in-map",
                            r->name, k, sname, m->name);
            uint64_t rel = off - m->off - m->values_off;
            if (rel % 8 != 0 || off + 8 > m->off + m->size || off + 8 > c->secs[maps].size)
                return oerr(c, EBPFVM_ERR_FORMAT,
                            "section %s: relocation %zu (symbol '%s'): map '%s': offset 0x%llx is not a 'values' slot",
                            r->name, k, sname, m->name, (unsigned long long)off);
            uint64_t slot = rel / 8;
            if (slot >= m->def.max_entries)
                return oerr(c, EBPFVM_ERR_RANGE,
                            "section %s: relocation %zu (symbol '%s'): map '%s': slot %llu is out of range "
                            "(max_entries %u)",
                            r->name, k, sname, m->name, (unsigned long long)slot, m->def.max_entries);
            uint64_t addend = 0;
            if (mdata)
                memcpy(&addend, mdata + off, sizeof addend);
            if (m->has_inner) {
                if ((rc = fill_map_slot(c, r, k, sname, sym, addend, m, (uint32_t)slot)))
                    return rc;
                continue;
            }
            const struct elf_func *f = NULL;
            if (sym->shndx != SHN_UNDEF && sym->shndx != SHN_ABS && is_exec(&c->secs[sym->shndx]))
                f = find_func(c, sym->shndx, sym->value + addend);
            if (!f)
                return oerr(c, EBPFVM_ERR_FORMAT,
                            "section %s: relocation %zu (symbol '%s'): map '%s' slot %llu: '%s' is not a BPF program",
                            r->name, k, sname, m->name, (unsigned long long)slot, sname);
            long pi = func_prog_index(c, f);
            if (pi < 0)
                return oerr(c, EBPFVM_ERR_FORMAT,
                            "section %s: relocation %zu (symbol '%s'): map '%s' slot %llu: '%s' is a .text "
                            "subprogram, not a program",
                            r->name, k, sname, m->name, (unsigned long long)slot, f->name);
            for (size_t s = 0; s < obj->nslots; s++)
                if (obj->slots[s].map == mi && obj->slots[s].index == slot)
                    return oerr(c, EBPFVM_ERR_FORMAT,
                                "section %s: relocation %zu (symbol '%s'): map '%s' slot %llu is relocated twice",
                                r->name, k, sname, m->name, (unsigned long long)slot);
            obj->slots[obj->nslots++] = (struct obj_slot){mi, (uint32_t)slot, (size_t)pi};
        }
    }
    return 0;
}

/* ------------------------------------------------------------ open/close */

static void free_object(struct ebpfvm_object *obj)
{
    struct ebpfvm_vm *vm = obj->vm;
    for (size_t i = 0; i < obj->nprogs; i++) {
        ebpfvm__free(vm, obj->progs[i].name);
        ebpfvm__free(vm, obj->progs[i].section);
        ebpfvm__free(vm, obj->progs[i].insns);
        for (size_t k = 0; k < obj->progs[i].nfuncs; k++)
            ebpfvm__free(vm, obj->progs[i].funcs[k].name);
        ebpfvm__free(vm, obj->progs[i].funcs);
        ebpfvm__free(vm, obj->progs[i].unsupported);
    }
    ebpfvm__free(vm, obj->slots);
    for (size_t i = 0; i < obj->nmaps; i++)
        ebpfvm__free(vm, obj->maps[i].name);
    ebpfvm__free(vm, obj->progs);
    ebpfvm__free(vm, obj->maps);
    ebpfvm__free(vm, obj->license);
    ebpfvm__free(vm, obj->name);
    ebpfvm__free(vm, obj);
}

static void free_ctx(struct ctx *c)
{
    if (c->elf)
        elf_end(c->elf);
    if (c->secs)
        for (size_t i = 0; i < c->nsecs; i++)
            ebpfvm__free(c->vm, c->secs[i].rel_of);
    ebpfvm__free(c->vm, c->secs);
    ebpfvm__free(c->vm, c->syms);
    ebpfvm__free(c->vm, c->funcs);
    ebpfvm__free(c->vm, c->rels);
    ebpfvm__free(c->vm, c->maps);
    ebpfvm__btf_free(c->vm, &c->btf);
}

/* Open from image (owned by the caller, writable, not kept). */
static int open_image(struct ebpfvm_vm *vm, uint8_t *image, size_t size, const char *name,
                      const struct ebpfvm_object_opts *opts, ebpfvm_object **out)
{
    struct ctx c = {.vm = vm, .name = name, .image = image, .image_size = size};
    c.max_map_bytes = DEFAULT_MAX_MAP_BYTES;
    if (opts && opts->sz >= offsetof(struct ebpfvm_object_opts, max_map_bytes) + sizeof opts->max_map_bytes &&
        opts->max_map_bytes)
        c.max_map_bytes = opts->max_map_bytes;
    int rc;
    c.obj = ebpfvm__calloc(vm, 1, sizeof *c.obj);
    if (!c.obj)
        return nomem(&c);
    c.obj->vm = vm;
    c.obj->name = ebpfvm__strdup(vm, name);
    if (!c.obj->name) {
        rc = nomem(&c);
        goto fail;
    }
    if ((rc = read_header(&c)) || (rc = read_sections(&c)) || (rc = read_symbols(&c)) || (rc = read_funcs(&c)) ||
        (rc = read_btf(&c)) || (rc = read_maps(&c)) || (rc = read_relocs(&c)) || (rc = read_license(&c)) ||
        (rc = create_maps(&c)) || (rc = link_programs(&c)) || (rc = read_slots(&c)))
        goto fail;
    free_ctx(&c);
    *out = c.obj;
    return 0;
fail:
    destroy_created_maps(&c);
    free_ctx(&c);
    free_object(c.obj);
    return rc;
}

static int check_args(ebpfvm_vm *vm, const struct ebpfvm_object_opts *opts, ebpfvm_object **out)
{
    if (!out)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "object open: out is NULL");
    *out = NULL;
    if (opts && opts->sz < sizeof(size_t))
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "object open: opts->sz is %zu", opts->sz);
    return 0;
}

static const char *opts_name(const struct ebpfvm_object_opts *opts, const char *fallback)
{
    if (opts && opts->sz >= offsetof(struct ebpfvm_object_opts, object_name) + sizeof opts->object_name &&
        opts->object_name)
        return opts->object_name;
    return fallback;
}

int ebpfvm_object_open(ebpfvm_vm *vm, const char *path, const struct ebpfvm_object_opts *opts, ebpfvm_object **out)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    int rc = check_args(vm, opts, out);
    if (rc)
        return rc;
    if (!path)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "object open: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ebpfvm__error(vm, EBPFVM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return ebpfvm__error(vm, EBPFVM_ERR_IO, "%s: cannot determine the file size", path);
    }
    if ((unsigned long)size > MAX_FILE_SIZE) {
        fclose(f);
        return ebpfvm__error(vm, EBPFVM_ERR_FORMAT, "%s: %ld bytes is too large for a BPF object", path, size);
    }
    uint8_t *image = ebpfvm__alloc(vm, size ? (size_t)size : 1);
    if (!image) {
        fclose(f);
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(image, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        ebpfvm__free(vm, image);
        return ebpfvm__error(vm, EBPFVM_ERR_IO, "%s: short read (%zu of %ld bytes)", path, got, size);
    }
    rc = open_image(vm, image, (size_t)size, opts_name(opts, path), opts, out);
    ebpfvm__free(vm, image);
    return rc;
}

int ebpfvm_object_open_mem(ebpfvm_vm *vm, const void *buf, size_t size, const char *name,
                           const struct ebpfvm_object_opts *opts, ebpfvm_object **out)
{
    if (!vm)
        return EBPFVM_ERR_INVAL;
    int rc = check_args(vm, opts, out);
    if (rc)
        return rc;
    if (!buf && size > 0)
        return ebpfvm__error(vm, EBPFVM_ERR_INVAL, "object open: buf is NULL");
    const char *oname = opts_name(opts, name ? name : "<memory>");
    if (size > MAX_FILE_SIZE)
        return ebpfvm__error(vm, EBPFVM_ERR_FORMAT, "%s: %zu bytes is too large for a BPF object", oname, size);
    uint8_t *image = ebpfvm__alloc(vm, size ? size : 1);
    if (!image)
        return ebpfvm__error(vm, EBPFVM_ERR_NOMEM, "%s: out of memory", oname);
    if (size)
        memcpy(image, buf, size);
    rc = open_image(vm, image, size, oname, opts, out);
    ebpfvm__free(vm, image);
    return rc;
}

void ebpfvm_object_close(ebpfvm_object *obj)
{
    if (obj)
        free_object(obj);
}

const char *ebpfvm_object_name(const ebpfvm_object *obj)
{
    return obj ? obj->name : "";
}

const char *ebpfvm_object_license(const ebpfvm_object *obj)
{
    return obj ? obj->license : "";
}

uint32_t ebpfvm_object_kversion(const ebpfvm_object *obj)
{
    return obj ? obj->kversion : 0;
}

size_t ebpfvm_object_program_count(const ebpfvm_object *obj)
{
    return obj ? obj->nprogs : 0;
}

const char *ebpfvm_object_program_name(const ebpfvm_object *obj, size_t index)
{
    return obj && index < obj->nprogs ? obj->progs[index].name : NULL;
}

const char *ebpfvm_object_program_section(const ebpfvm_object *obj, size_t index)
{
    return obj && index < obj->nprogs ? obj->progs[index].section : NULL;
}

int ebpfvm_object_program_type(const ebpfvm_object *obj, size_t index, enum ebpfvm_prog_type *type)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    if (!type)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_INVAL, "%s: program type: type is NULL", obj->name);
    if (index >= obj->nprogs)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_NOENT, "%s: no program %zu (the object has %zu)", obj->name, index,
                             obj->nprogs);
    const struct obj_prog *p = &obj->progs[index];
    if (!p->type_known)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_UNSUPP,
                             "%s: program %s: section %s has no ebpfvm program type (set one with "
                             "ebpfvm_object_set_program_type)",
                             obj->name, p->name, p->section);
    *type = p->type;
    return 0;
}

int ebpfvm_object_set_program_type(ebpfvm_object *obj, size_t index, enum ebpfvm_prog_type type)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    if (index >= obj->nprogs)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_NOENT, "%s: no program %zu (the object has %zu)", obj->name, index,
                             obj->nprogs);
    if (!ebpfvm__prog_type(type))
        return ebpfvm__error(obj->vm, EBPFVM_ERR_INVAL, "%s: unknown program type %d", obj->name, (int)type);
    obj->progs[index].type = type;
    obj->progs[index].type_known = true;
    return 0;
}

const struct ebpf_insn *ebpfvm_object_program_insns(const ebpfvm_object *obj, size_t index, size_t *count)
{
    if (!obj || index >= obj->nprogs) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = obj->progs[index].count;
    return obj->progs[index].insns;
}

int ebpfvm_object_find_program(const ebpfvm_object *obj, const char *section, const char *name, size_t *index)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    if (!index)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_INVAL, "%s: find program: index is NULL", obj->name);
    for (size_t i = 0; i < obj->nprogs; i++) {
        const struct obj_prog *p = &obj->progs[i];
        if ((!section || !strcmp(p->section, section)) && (!name || !strcmp(p->name, name))) {
            *index = i;
            return 0;
        }
    }
    enum ebpfvm_prog_type want;
    if (section && (!strcmp(section, "xdp") || !strcmp(section, "memory")) && section_type(section, &want)) {
        for (size_t i = 0; i < obj->nprogs; i++) {
            const struct obj_prog *p = &obj->progs[i];
            enum ebpfvm_prog_type t;
            if (section_type(p->section, &t) && t == want && (!name || !strcmp(p->name, name))) {
                *index = i;
                return 0;
            }
        }
    }
    /* List what there is, so a mistyped section or name is easy to fix. */
    char have[300];
    size_t used = 0;
    have[0] = '\0';
    for (size_t i = 0; i < obj->nprogs && used < sizeof have; i++) {
        int n = snprintf(have + used, sizeof have - used, "%s%s (section %s)", i ? ", " : "", obj->progs[i].name,
                         obj->progs[i].section);
        if (n < 0 || (size_t)n >= sizeof have - used) {
            memcpy(have + sizeof have - 4, "...", 4);
            break;
        }
        used += (size_t)n;
    }
    return ebpfvm__error(obj->vm, EBPFVM_ERR_NOENT, "%s: no program%s%s%s%s%s (programs: %s)", obj->name,
                         section ? " in section " : "", section ? section : "", name ? " named '" : "",
                         name ? name : "", name ? "'" : "", obj->nprogs ? have : "none");
}

static int load_one(ebpfvm_object *obj, size_t index, ebpfvm_prog **prog)
{
    enum ebpfvm_prog_type type;
    int rc = ebpfvm_object_program_type(obj, index, &type);
    if (rc)
        return rc;
    const struct obj_prog *p = &obj->progs[index];
    if (p->unsupported)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_UNSUPP, "%s: program %s: %s", obj->name, p->name, p->unsupported);
    /* libbpf freezes .rodata when it loads the object: from the first
     * program on, its values are the program's constants (the verifier
     * reads them, ebpfvm_map_freeze). Until then user space may set them. */
    for (size_t i = 0; i < obj->nmaps; i++)
        if (has_prefix(obj->maps[i].name, ".rodata"))
            ebpfvm_map_freeze(obj->vm, obj->maps[i].fd);
    struct ebpfvm_load_opts lo = {.sz = sizeof lo, .prog_type = type, .name = p->name};
    rc = ebpfvm_prog_load(obj->vm, p->insns, p->count, &lo, prog);
    if (rc) {
        char why[sizeof obj->vm->errmsg];
        snprintf(why, sizeof why, "%s", obj->vm->errmsg);
        return ebpfvm__error(obj->vm, rc, "%s: program %s: %s", obj->name, p->name, why);
    }
    /* Subprograms BTF says do not return an integer (for the verifier's
     * LD_ABS rule); funcs[0] is the program itself. */
    for (size_t k = 1; k < p->nfuncs; k++)
        if (p->funcs[k].nonint && (rc = ebpfvm__prog_mark_nonint_func(*prog, (uint32_t)p->funcs[k].start)) != 0) {
            ebpfvm_prog_destroy(*prog);
            *prog = NULL;
            return ebpfvm__error(obj->vm, rc, "%s: program %s: out of memory", obj->name, p->name);
        }
    return 0;
}

/* Load the programs `.values` initialisers name (each once) and store them
 * in their prog_array slots. On failure the message names the map and slot
 * and the next load tries again. */
static int fill_slots(ebpfvm_object *obj)
{
    for (size_t s = 0; s < obj->nslots; s++) {
        const struct obj_slot *sl = &obj->slots[s];
        struct obj_prog *p = &obj->progs[sl->prog];
        const char *map = obj->maps[sl->map].name;
        int rc = 0;
        if (!p->slot_prog)
            rc = load_one(obj, sl->prog, &p->slot_prog);
        if (!rc)
            rc = ebpfvm_prog_array_set(obj->vm, obj->maps[sl->map].fd, sl->index, p->slot_prog);
        if (rc) {
            char why[sizeof obj->vm->errmsg];
            snprintf(why, sizeof why, "%s", obj->vm->errmsg);
            return ebpfvm__error(obj->vm, rc, "%s: map '%s' slot %u (.values): %s", obj->name, map, sl->index, why);
        }
    }
    obj->slots_filled = true;
    return 0;
}

int ebpfvm_object_load_program(ebpfvm_object *obj, size_t index, ebpfvm_prog **prog)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    if (!prog)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_INVAL, "%s: load program: prog is NULL", obj->name);
    *prog = NULL;
    if (index >= obj->nprogs)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_NOENT, "%s: no program %zu (the object has %zu)", obj->name, index,
                             obj->nprogs);
    if (!obj->slots_filled) {
        int rc = fill_slots(obj);
        if (rc)
            return rc;
    }
    return load_one(obj, index, prog);
}

const char *ebpfvm_object_program_func_at(const ebpfvm_object *obj, size_t index, size_t pc)
{
    if (!obj || index >= obj->nprogs)
        return NULL;
    const struct obj_prog *p = &obj->progs[index];
    for (size_t k = 0; k < p->nfuncs; k++)
        if (p->funcs[k].start == pc)
            return p->funcs[k].name;
    return NULL;
}

size_t ebpfvm_object_map_count(const ebpfvm_object *obj)
{
    return obj ? obj->nmaps : 0;
}

const char *ebpfvm_object_map_name(const ebpfvm_object *obj, size_t index)
{
    return obj && index < obj->nmaps ? obj->maps[index].name : NULL;
}

int ebpfvm_object_map_fd_at(const ebpfvm_object *obj, size_t index)
{
    return obj && index < obj->nmaps ? obj->maps[index].fd : -1;
}

int ebpfvm_object_map_fd(const ebpfvm_object *obj, const char *name, int *fd)
{
    if (!obj)
        return EBPFVM_ERR_INVAL;
    if (!name || !fd)
        return ebpfvm__error(obj->vm, EBPFVM_ERR_INVAL, "%s: map fd: %s is NULL", obj->name, name ? "fd" : "name");
    for (size_t i = 0; i < obj->nmaps; i++) {
        if (!strcmp(obj->maps[i].name, name)) {
            *fd = obj->maps[i].fd;
            return 0;
        }
    }
    return ebpfvm__error(obj->vm, EBPFVM_ERR_NOENT, "%s: no map named '%s'", obj->name, name);
}
