/* idx.c: reading MNIST-format IDX files, plain or gzip, with every header checked. */
#include "cells/training/idx.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "base/memory.h"
#include "base/number_text.h"

/* The decoded bytes of a file: the input itself, or inflated gzip. */
typedef struct {
    const uint8_t *in;
    size_t len, pos; /* plain input */
    bool gz, ended;
    z_stream zs;
    size_t offset; /* decoded bytes delivered so far, for messages */
} source_t;

static err_code_t src_open(source_t *s, const uint8_t *bytes, size_t len, const char *name, err_t *err)
{
    memset(s, 0, sizeof *s);
    s->in = bytes;
    s->len = len;
    s->gz = len >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
    if (!s->gz) return ERR_OK;
    if (len > UINT32_MAX) return err_set(err, ERR_IO, (mark_t){name, 0, 0}, "compressed file too large");
    s->zs.next_in = (Bytef *)bytes;
    s->zs.avail_in = (uInt)len;
    if (inflateInit2(&s->zs, 15 + 16) != Z_OK) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory (zlib)");
    return ERR_OK;
}

static void src_close(source_t *s)
{
    if (s->gz) inflateEnd(&s->zs);
}

/* Up to n decoded bytes into dst; *got < n only at the end of the data. */
static err_code_t src_read(source_t *s, uint8_t *dst, size_t n, size_t *got, const char *name, err_t *err)
{
    if (!s->gz) {
        size_t k = s->len - s->pos < n ? s->len - s->pos : n;
        memcpy(dst, s->in + s->pos, k);
        s->pos += k;
        s->offset += k;
        *got = k;
        return ERR_OK;
    }
    s->zs.next_out = dst;
    s->zs.avail_out = (uInt)n;
    while (s->zs.avail_out > 0 && !s->ended) {
        int rc = inflate(&s->zs, Z_NO_FLUSH);
        size_t done = s->offset + (n - s->zs.avail_out);
        if (rc == Z_STREAM_END) {
            /* gzip allows several members back to back */
            if (s->zs.avail_in == 0) s->ended = true;
            else if (inflateReset(&s->zs) != Z_OK) return err_set(err, ERR_IO, (mark_t){name, 0, 0}, "corrupt gzip data");
        } else if ((rc == Z_OK || rc == Z_BUF_ERROR) && s->zs.avail_in == 0 && s->zs.avail_out > 0) {
            return err_set(err, ERR_IO, (mark_t){name, 0, 0},
                           "the gzip data ends early (truncated download?), after %zu decompressed bytes", done);
        } else if (rc != Z_OK) { /* Z_BUF_ERROR here would be no progress: never loop on it */
            return err_set(err, ERR_IO, (mark_t){name, 0, 0}, "corrupt gzip data after %zu decompressed bytes: %s", done,
                           s->zs.msg ? s->zs.msg : "inflate failed");
        }
    }
    *got = n - s->zs.avail_out;
    s->offset += *got;
    return ERR_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
    }
}

/* Up to `count` bytes into a buffer that doubles as they arrive. */
static err_code_t read_growing(source_t *s, size_t count, uint8_t **data, size_t *got, const char *name, err_t *err)
{
    size_t cap = count < ((size_t)1 << 20) ? count : (size_t)1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return err_set(err, ERR_NOMEM, (mark_t){name, 0, 0}, "out of memory");
    *data = buf;
    for (;;) {
        size_t k;
        err_code_t rc = src_read(s, buf + n, cap - n, &k, name, err);
        if (rc) return rc;
        n += k;
        if (n < cap || cap == count) break; /* the data ended, or all of it is in */
        size_t next = cap > count / 2 ? count : cap * 2;
        if (!(buf = realloc(buf, next))) return err_set(err, ERR_NOMEM, (mark_t){name, 0, 0}, "out of memory");
        *data = buf, cap = next;
    }
    *got = n;
    return ERR_OK;
}

static err_code_t decode(source_t *s, const char *name, bool header_only, idx_array_t *out, err_t *err)
{
    mark_t m = {name, 0, 0};
    uint8_t head[4 + 4 * IDX_MAX_DIMS];
    size_t got;
    err_code_t rc;
    if ((rc = src_read(s, head, 4, &got, name, err))) return rc;
    if (got < 4) return err_set(err, ERR_IO, m, "too short for an IDX header (%zu bytes)", got);
    if (head[0] || head[1])
        return err_set(err, ERR_IO, m,
                       "not an IDX file: it starts with %02X %02X %02X %02X, where IDX files have 00 00, a type byte "
                       "and a dimension count",
                       head[0], head[1], head[2], head[3]);
    if (head[2] != IDX_TYPE_UBYTE)
        return err_set(err, ERR_IO, m,
                       "at byte 2: element type 0x%02X (%s) is not supported; MNIST-format images and labels are "
                       "unsigned bytes (0x08)",
                       head[2], type_name(head[2]));
    uint32_t nd = head[3];
    if (nd < 1 || nd > IDX_MAX_DIMS)
        return err_set(err, ERR_IO, m, "at byte 3: %u dimensions; expected 1 (labels) to %d", nd, IDX_MAX_DIMS);
    if ((rc = src_read(s, head + 4, 4 * nd, &got, name, err))) return rc;
    if (got < 4 * nd)
        return err_set(err, ERR_IO, m, "truncated header: %u dimensions need %u bytes after byte 4, the file has %zu",
                       nd, 4 * nd, got);
    size_t count = 1;
    out->n_dims = nd;
    for (uint32_t i = 0; i < nd; i++) {
        out->dims[i] = be32(head + 4 + 4 * i);
        if (out->dims[i] == 0) return err_set(err, ERR_IO, m, "at byte %u: dimension %u is 0", 4 + 4 * i, i);
        if (__builtin_mul_overflow(count, (size_t)out->dims[i], &count) || count > IDX_MAX_BYTES)
            return err_set(err, ERR_IO, m, "the header declares more than %zu bytes of data; not a dataset this runner can hold",
                           IDX_MAX_BYTES);
    }
    out->count = count;
    if (header_only) return ERR_OK; /* a dry run needs the shape, not gigabytes of inflated pixels */
    if (count > memory_limit_bytes()) {
        char need[32], have[32];
        format_bytes(need, sizeof need, count);
        format_bytes(have, sizeof have, memory_physical_bytes());
        return err_set(err, ERR_IO, m, "the header declares %s of data, more than 3/4 of this machine's %s", need, have);
    }
    size_t header = 4 + 4 * (size_t)nd;
    /* Memory follows the data actually there, not what a (maybe 20-byte)
     * header claims: plain input is measured first, gzip grows the buffer. */
    size_t have = s->gz ? 0 : s->len - s->pos;
    if (!s->gz && have < count) got = have;
    else if ((rc = read_growing(s, count, &out->data, &got, name, err))) return rc;
    if (got < count)
        return err_set(err, ERR_IO, m,
                       "truncated: the header declares %zu bytes of data after its %zu, the file has %zu (an incomplete "
                       "download?)",
                       count, header, got);
    uint8_t extra;
    if ((rc = src_read(s, &extra, 1, &got, name, err))) return rc;
    if (got)
        return err_set(err, ERR_IO, m, "has more data than its header declares (%zu bytes after %zu of header)", count,
                       header);
    return ERR_OK;
}

err_code_t idx_decode(const uint8_t *bytes, size_t len, const char *name, bool header_only, idx_array_t *out,
                      err_t *err)
{
    memset(out, 0, sizeof *out);
    source_t s;
    err_code_t rc = src_open(&s, bytes, len, name, err);
    if (rc == ERR_OK) rc = decode(&s, name, header_only, out, err);
    src_close(&s);
    if (rc) idx_free(out);
    return rc;
}

err_code_t idx_read_file(const char *path, bool header_only, idx_array_t *out, err_t *err)
{
    memset(out, 0, sizeof *out);
    mark_t m = {path, 0, 0};
    struct stat st;
    if (stat(path, &st) != 0) return err_set(err, ERR_IO, m, "cannot open: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) return err_set(err, ERR_IO, m, "is not a regular file");
    if ((uint64_t)st.st_size > IDX_MAX_BYTES)
        return err_set(err, ERR_IO, m, "file is %lld bytes; IDX files are limited to %zu", (long long)st.st_size,
                       IDX_MAX_BYTES);
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, ERR_IO, m, "cannot open: %s", strerror(errno));
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    size_t got = buf ? fread(buf, 1, len, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!buf) return err_set(err, ERR_NOMEM, m, "out of memory");
    err_code_t rc = bad || got != len ? err_set(err, ERR_IO, m, "read error") : idx_decode(buf, len, path, header_only, out, err);
    /* the bytes decoded, not a second read that may differ; a dry run
     * (header_only) writes no record, so it skips the hash */
    if (rc == ERR_OK && !header_only) sha256(buf, len, out->sha256);
    free(buf);
    return rc;
}

void idx_free(idx_array_t *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

err_code_t idx_read_dataset(const char *images_path, const char *labels_path, bool images_header_only,
                            idx_dataset_t *out, err_t *err)
{
    memset(out, 0, sizeof *out);
    err_code_t rc = idx_read_file(images_path, images_header_only, &out->images, err);
    if (rc == ERR_OK) rc = idx_read_file(labels_path, false, &out->labels, err);
    const idx_array_t *im = &out->images, *lb = &out->labels;
    if (rc == ERR_OK && im->n_dims != 3)
        rc = err_set(err, ERR_IO, (mark_t){images_path, 0, 0},
                     "has %u dimensions; images are (count, rows, columns)%s", im->n_dims,
                     im->n_dims == 1 ? ": is this the labels file?" : "");
    if (rc == ERR_OK && lb->n_dims != 1)
        rc = err_set(err, ERR_IO, (mark_t){labels_path, 0, 0}, "has %u dimensions; labels are one list (count)%s",
                     lb->n_dims, lb->n_dims == 3 ? ": is this the images file?" : "");
    if (rc == ERR_OK && im->dims[0] != lb->dims[0])
        rc = err_set(err, ERR_IO, (mark_t){labels_path, 0, 0}, "has %u labels but %s has %u images", lb->dims[0],
                     images_path, im->dims[0]);
    if (rc) {
        idx_dataset_free(out);
        return rc;
    }
    out->n = im->dims[0];
    out->rows = im->dims[1];
    out->cols = im->dims[2];
    for (size_t i = 0; i < out->n; i++)
        if (lb->data[i] + 1u > out->n_classes) out->n_classes = lb->data[i] + 1u;
    return ERR_OK;
}

void idx_dataset_free(idx_dataset_t *d)
{
    idx_free(&d->images);
    idx_free(&d->labels);
    memset(d, 0, sizeof *d);
}
