/*
 * loader/btf.c - the minimal BTF reader behind loader/btf.h: parse and
 * validate `.BTF` (header, type records, string offsets), look types up by
 * id, resolve modifiers and sizes, and count CO-RE relocations in `.BTF.ext`.
 *
 * Invariants: every read goes through read_u32/read_u16 on a range checked
 * beforehand (memcpy, so unaligned input is fine); type ids taken from
 * records are validated at the point of use; walks through type chains stop
 * after BTF_MAX_DEPTH steps, so cycles are errors. Only little-endian BTF
 * (the magic reads 0xeb9f) is accepted.
 */
#include <stdio.h>
#include <string.h>

#include "loader/btf.h"

#define BTF_MAGIC 0xeb9fu
#define BTF_HDR_MIN 24u      /* magic..str_len */
#define BTF_TYPE_HDR 12u     /* name_off, info, size/type */
#define BTF_MAX_DEPTH 32

static uint32_t read_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint16_t read_u16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) EBPFVM_PRINTF(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return EBPFVM_ERR_FORMAT;
}

/* Bytes of kind-specific data after the type header, or -1 for an unknown kind. */
static int64_t extra_size(unsigned kind, unsigned vlen)
{
    switch (kind) {
    case EBPFVM_BTF_KIND_INT: return 4;
    case EBPFVM_BTF_KIND_ARRAY: return 12;
    case EBPFVM_BTF_KIND_STRUCT:
    case EBPFVM_BTF_KIND_UNION: return (int64_t)vlen * 12;
    case EBPFVM_BTF_KIND_ENUM: return (int64_t)vlen * 8;
    case EBPFVM_BTF_KIND_FUNC_PROTO: return (int64_t)vlen * 8;
    case EBPFVM_BTF_KIND_VAR: return 4;
    case EBPFVM_BTF_KIND_DATASEC: return (int64_t)vlen * 12;
    case EBPFVM_BTF_KIND_DECL_TAG: return 4;
    case EBPFVM_BTF_KIND_ENUM64: return (int64_t)vlen * 12;
    case EBPFVM_BTF_KIND_PTR:
    case EBPFVM_BTF_KIND_FWD:
    case EBPFVM_BTF_KIND_TYPEDEF:
    case EBPFVM_BTF_KIND_VOLATILE:
    case EBPFVM_BTF_KIND_CONST:
    case EBPFVM_BTF_KIND_RESTRICT:
    case EBPFVM_BTF_KIND_FUNC:
    case EBPFVM_BTF_KIND_FLOAT:
    case EBPFVM_BTF_KIND_TYPE_TAG: return 0;
    default: return -1;
    }
}

/* Offset of the name field inside each vlen record and the record size, for
 * kinds whose records carry names (0 size: none). */
static void record_names(unsigned kind, unsigned *rec_size)
{
    switch (kind) {
    case EBPFVM_BTF_KIND_STRUCT:
    case EBPFVM_BTF_KIND_UNION:
    case EBPFVM_BTF_KIND_ENUM64: *rec_size = 12; break;
    case EBPFVM_BTF_KIND_ENUM:
    case EBPFVM_BTF_KIND_FUNC_PROTO: *rec_size = 8; break;
    default: *rec_size = 0; break;
    }
}

/* Walk the type area once; count types, or fill offsets when non-NULL. */
static int walk_types(const struct ebpfvm_btf *btf, uint32_t *count, uint32_t *offsets, char *err, size_t errlen)
{
    uint32_t pos = 0, n = 0;
    while (pos < btf->types_len) {
        if (btf->types_len - pos < BTF_TYPE_HDR)
            return fail(err, errlen, "type %u at offset %u: truncated header", n + 1, pos);
        const uint8_t *p = btf->types + pos;
        uint32_t name_off = read_u32(p), info = read_u32(p + 4);
        unsigned kind = (info >> 24) & 0x1fu, vlen = info & 0xffffu;
        int64_t extra = extra_size(kind, vlen);
        if (kind == EBPFVM_BTF_KIND_UNKN || extra < 0)
            return fail(err, errlen, "type %u at offset %u: unknown kind %u", n + 1, pos, kind);
        if (name_off >= btf->strs_len)
            return fail(err, errlen, "type %u: name offset %u is outside the string area (%u bytes)", n + 1,
                        name_off, btf->strs_len);
        if ((uint64_t)btf->types_len - pos - BTF_TYPE_HDR < (uint64_t)extra)
            return fail(err, errlen, "type %u at offset %u: kind %u with %u entries runs past the type area",
                        n + 1, pos, kind, vlen);
        unsigned rec = 0;
        record_names(kind, &rec);
        for (unsigned i = 0; rec && i < vlen; i++) {
            uint32_t off = read_u32(p + BTF_TYPE_HDR + (size_t)i * rec);
            if (off >= btf->strs_len)
                return fail(err, errlen, "type %u: entry %u name offset %u is outside the string area", n + 1, i,
                            off);
        }
        if (n == UINT32_MAX - 1)
            return fail(err, errlen, "too many types");
        n++;
        if (offsets)
            offsets[n] = pos;
        pos += BTF_TYPE_HDR + (uint32_t)extra;
    }
    *count = n;
    return 0;
}

int ebpfvm__btf_parse(struct ebpfvm_vm *vm, const uint8_t *data, size_t size, struct ebpfvm_btf *btf, char *err,
                      size_t errlen)
{
    memset(btf, 0, sizeof *btf);
    if (size < BTF_HDR_MIN)
        return fail(err, errlen, "%zu bytes is too short for a BTF header", size);
    if (read_u16(data) != BTF_MAGIC)
        return fail(err, errlen, "bad magic 0x%04x", read_u16(data));
    if (data[2] != 1)
        return fail(err, errlen, "unsupported version %u", data[2]);
    uint32_t hdr_len = read_u32(data + 4);
    if (hdr_len < BTF_HDR_MIN || hdr_len > size)
        return fail(err, errlen, "header length %u is invalid for a %zu-byte section", hdr_len, size);
    uint32_t type_off = read_u32(data + 8), type_len = read_u32(data + 12);
    uint32_t str_off = read_u32(data + 16), str_len = read_u32(data + 20);
    uint64_t body = size - hdr_len;
    if ((uint64_t)type_off + type_len > body)
        return fail(err, errlen, "type area [%u, +%u) is outside the section", type_off, type_len);
    if ((uint64_t)str_off + str_len > body)
        return fail(err, errlen, "string area [%u, +%u) is outside the section", str_off, str_len);
    if (str_len == 0 || data[hdr_len + str_off + str_len - 1] != '\0')
        return fail(err, errlen, "string area is empty or does not end with NUL");
    btf->types = data + hdr_len + type_off;
    btf->types_len = type_len;
    btf->strs = (const char *)data + hdr_len + str_off;
    btf->strs_len = str_len;

    uint32_t count = 0;
    int rc = walk_types(btf, &count, NULL, err, errlen);
    if (rc)
        return rc;
    btf->offsets = ebpfvm__calloc(vm, (size_t)count + 1, sizeof *btf->offsets);
    if (!btf->offsets) {
        snprintf(err, errlen, "out of memory");
        return EBPFVM_ERR_NOMEM;
    }
    btf->ntypes = count;
    return walk_types(btf, &count, btf->offsets, err, errlen);
}

void ebpfvm__btf_free(struct ebpfvm_vm *vm, struct ebpfvm_btf *btf)
{
    ebpfvm__free(vm, btf->offsets);
    memset(btf, 0, sizeof *btf);
}

int ebpfvm__btf_type(const struct ebpfvm_btf *btf, uint32_t id, struct ebpfvm_btf_type *t)
{
    if (id == 0 || id > btf->ntypes)
        return -1;
    const uint8_t *p = btf->types + btf->offsets[id];
    uint32_t info = read_u32(p + 4);
    t->id = id;
    t->kind = (info >> 24) & 0x1fu;
    t->vlen = info & 0xffffu;
    t->kind_flag = info >> 31;
    t->name = btf->strs + read_u32(p); /* checked by the parse */
    t->size_or_type = read_u32(p + 8);
    t->extra = p + BTF_TYPE_HDR;
    return 0;
}

int ebpfvm__btf_member(const struct ebpfvm_btf_type *t, const struct ebpfvm_btf *btf, unsigned i, const char **name,
                       uint32_t *type, uint32_t *bit_offset)
{
    if ((t->kind != EBPFVM_BTF_KIND_STRUCT && t->kind != EBPFVM_BTF_KIND_UNION) || i >= t->vlen)
        return -1;
    const uint8_t *m = t->extra + (size_t)i * 12;
    *name = btf->strs + read_u32(m);
    *type = read_u32(m + 4);
    uint32_t off = read_u32(m + 8);
    /* With kind_flag set, the high 8 bits are a bitfield size. */
    *bit_offset = t->kind_flag ? (off & 0xffffffu) : off;
    return 0;
}

int ebpfvm__btf_datasec_entry(const struct ebpfvm_btf_type *t, unsigned i, uint32_t *type, uint32_t *offset,
                              uint32_t *size)
{
    if (t->kind != EBPFVM_BTF_KIND_DATASEC || i >= t->vlen)
        return -1;
    const uint8_t *e = t->extra + (size_t)i * 12;
    *type = read_u32(e);
    *offset = read_u32(e + 4);
    *size = read_u32(e + 8);
    return 0;
}

void ebpfvm__btf_array(const struct ebpfvm_btf_type *t, uint32_t *elem_type, uint32_t *nelems)
{
    *elem_type = read_u32(t->extra);
    *nelems = read_u32(t->extra + 8);
}

static int is_modifier(unsigned kind)
{
    return kind == EBPFVM_BTF_KIND_TYPEDEF || kind == EBPFVM_BTF_KIND_CONST || kind == EBPFVM_BTF_KIND_VOLATILE ||
           kind == EBPFVM_BTF_KIND_RESTRICT || kind == EBPFVM_BTF_KIND_TYPE_TAG;
}

int ebpfvm__btf_skip_mods(const struct ebpfvm_btf *btf, uint32_t id, struct ebpfvm_btf_type *t)
{
    for (int depth = 0; depth < BTF_MAX_DEPTH; depth++) {
        if (ebpfvm__btf_type(btf, id, t) != 0)
            return -1;
        if (!is_modifier(t->kind))
            return 0;
        id = t->size_or_type;
    }
    return -1;
}

int ebpfvm__btf_type_size(const struct ebpfvm_btf *btf, uint32_t id, uint32_t *size, char *err, size_t errlen)
{
    uint64_t mult = 1;
    for (int depth = 0; depth < BTF_MAX_DEPTH; depth++) {
        struct ebpfvm_btf_type t;
        if (ebpfvm__btf_type(btf, id, &t) != 0) {
            fail(err, errlen, id == 0 ? "type is void" : "type id %u does not exist", id);
            return -1;
        }
        switch (t.kind) {
        case EBPFVM_BTF_KIND_INT:
        case EBPFVM_BTF_KIND_STRUCT:
        case EBPFVM_BTF_KIND_UNION:
        case EBPFVM_BTF_KIND_ENUM:
        case EBPFVM_BTF_KIND_ENUM64:
        case EBPFVM_BTF_KIND_FLOAT:
        case EBPFVM_BTF_KIND_DATASEC:
        case EBPFVM_BTF_KIND_PTR: {
            uint64_t one = t.kind == EBPFVM_BTF_KIND_PTR ? 8 : t.size_or_type;
            uint64_t total = mult * one; /* mult <= UINT32_MAX, one <= UINT32_MAX: no overflow */
            if (total > UINT32_MAX) {
                fail(err, errlen, "type id %u is larger than 4 GiB", id);
                return -1;
            }
            *size = (uint32_t)total;
            return 0;
        }
        case EBPFVM_BTF_KIND_ARRAY: {
            uint32_t elem, n;
            ebpfvm__btf_array(&t, &elem, &n);
            mult *= n;
            if (mult > UINT32_MAX) {
                fail(err, errlen, "array type id %u has too many elements", id);
                return -1;
            }
            if (mult == 0) {
                *size = 0;
                return 0;
            }
            id = elem;
            break;
        }
        case EBPFVM_BTF_KIND_TYPEDEF:
        case EBPFVM_BTF_KIND_CONST:
        case EBPFVM_BTF_KIND_VOLATILE:
        case EBPFVM_BTF_KIND_RESTRICT:
        case EBPFVM_BTF_KIND_TYPE_TAG:
        case EBPFVM_BTF_KIND_VAR:
            id = t.size_or_type;
            break;
        default:
            fail(err, errlen, "type id %u (kind %u) has no size", id, t.kind);
            return -1;
        }
    }
    fail(err, errlen, "type chain from id %u is too deep (a cycle?)", id);
    return -1;
}

int ebpfvm__btf_find_datasec(const struct ebpfvm_btf *btf, const char *name, struct ebpfvm_btf_type *t)
{
    for (uint32_t id = 1; id <= btf->ntypes; id++) {
        if (ebpfvm__btf_type(btf, id, t) == 0 && t->kind == EBPFVM_BTF_KIND_DATASEC && !strcmp(t->name, name))
            return 0;
    }
    return -1;
}

const char *ebpfvm__btf_extern_section(const struct ebpfvm_btf *btf, const char *sym)
{
    for (uint32_t id = 1; id <= btf->ntypes; id++) {
        struct ebpfvm_btf_type sec;
        if (ebpfvm__btf_type(btf, id, &sec) != 0 || sec.kind != EBPFVM_BTF_KIND_DATASEC)
            continue;
        for (unsigned i = 0; i < sec.vlen; i++) {
            uint32_t type, off, size;
            struct ebpfvm_btf_type var;
            ebpfvm__btf_datasec_entry(&sec, i, &type, &off, &size);
            if (ebpfvm__btf_type(btf, type, &var) == 0 &&
                (var.kind == EBPFVM_BTF_KIND_VAR || var.kind == EBPFVM_BTF_KIND_FUNC) && !strcmp(var.name, sym))
                return sec.name;
        }
    }
    return NULL;
}

/* Walk one .BTF.ext sub-section (func_info, line_info or core_relo) and
 * count its records. */
static int ext_walk(const uint8_t *area, uint32_t len, const char *what, uint32_t *records, char *err,
                    size_t errlen)
{
    *records = 0;
    if (len == 0)
        return 0;
    if (len < 4)
        return fail(err, errlen, ".BTF.ext %s: %u bytes is too short", what, len);
    uint32_t rec_size = read_u32(area);
    if (rec_size == 0 || rec_size > 1024)
        return fail(err, errlen, ".BTF.ext %s: record size %u is invalid", what, rec_size);
    uint32_t pos = 4;
    while (pos < len) {
        if (len - pos < 8)
            return fail(err, errlen, ".BTF.ext %s: truncated section header at offset %u", what, pos);
        uint32_t num = read_u32(area + pos + 4);
        pos += 8;
        if ((uint64_t)num * rec_size > len - pos)
            return fail(err, errlen, ".BTF.ext %s: %u records of %u bytes run past the end", what, num, rec_size);
        pos += num * rec_size;
        if (*records > UINT32_MAX - num)
            return fail(err, errlen, ".BTF.ext %s: too many records", what);
        *records += num;
    }
    return 0;
}

int ebpfvm__btf_ext_core_relos(const uint8_t *data, size_t size, uint32_t *core_relos, char *err, size_t errlen)
{
    *core_relos = 0;
    if (size < 8)
        return fail(err, errlen, ".BTF.ext: %zu bytes is too short for a header", size);
    if (read_u16(data) != BTF_MAGIC)
        return fail(err, errlen, ".BTF.ext: bad magic 0x%04x", read_u16(data));
    uint32_t hdr_len = read_u32(data + 4);
    if (hdr_len < 24 || hdr_len > size)
        return fail(err, errlen, ".BTF.ext: header length %u is invalid for a %zu-byte section", hdr_len, size);
    static const char *const names[3] = {"func_info", "line_info", "core_relo"};
    uint64_t body = size - hdr_len;
    for (unsigned i = 0; i < 3; i++) {
        size_t field = 8 + (size_t)i * 8;
        if (field + 8 > hdr_len)
            break; /* an older header without CO-RE relocations */
        uint32_t off = read_u32(data + field), len = read_u32(data + field + 4);
        if ((uint64_t)off + len > body)
            return fail(err, errlen, ".BTF.ext %s: [%u, +%u) is outside the section", names[i], off, len);
        uint32_t records = 0;
        int rc = ext_walk(data + hdr_len + off, len, names[i], &records, err, errlen);
        if (rc)
            return rc;
        if (i == 2)
            *core_relos = records;
    }
    return 0;
}

int ebpfvm__btf_func_returns_int(const struct ebpfvm_btf *btf, const char *name)
{
    for (uint32_t id = 1; id <= btf->ntypes; id++) {
        struct ebpfvm_btf_type fn, proto, ret;
        if (ebpfvm__btf_type(btf, id, &fn) != 0 || fn.kind != EBPFVM_BTF_KIND_FUNC || strcmp(fn.name, name) != 0)
            continue;
        if (ebpfvm__btf_type(btf, fn.size_or_type, &proto) != 0 || proto.kind != EBPFVM_BTF_KIND_FUNC_PROTO)
            return 0;
        if (proto.size_or_type == 0 || ebpfvm__btf_skip_mods(btf, proto.size_or_type, &ret) != 0)
            return 0; /* void */
        bool small = ret.size_or_type <= 8;
        return ((ret.kind == EBPFVM_BTF_KIND_INT || ret.kind == EBPFVM_BTF_KIND_ENUM ||
                 ret.kind == EBPFVM_BTF_KIND_ENUM64) && small) ? 1 : 0;
    }
    return -1;
}
