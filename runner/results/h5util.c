/* h5util.c: HDF5 helpers shared by the writer and the reader. */
#include "results/h5util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t h5_cell_blocks(size_t n_axes, const hsize_t *axis_dims, size_t c0, size_t c1, h5_cell_block_t *blocks)
{
    int n = (int)n_axes;
    hsize_t span[H5UTIL_MAX_RANK + 1];
    span[n] = 1; /* span[k] = product of dims k..n-1: span[k+1] cells per step of axis k */
    for (int k = n - 1; k >= 0; k--) span[k] = span[k + 1] * axis_dims[k];
    size_t nb = 0;
    hsize_t a = c0;
    while (a < c1 && n > 0) {
        /* the coarsest axis j whose unit (cells per index step, span[j+1])
         * fits at a: aligned, and not past c1 */
        int j = n - 1;
        while (j > 0 && a % span[j] == 0 && a + span[j] <= c1) j--;
        hsize_t unit = span[j + 1];
        hsize_t coord = (a / unit) % axis_dims[j];
        hsize_t cnt = (c1 - a) / unit;
        if (cnt > axis_dims[j] - coord) cnt = axis_dims[j] - coord;
        h5_cell_block_t *bl = &blocks[nb++];
        for (int k = 0; k < n; k++) {
            bl->start[k] = (a / span[k + 1]) % axis_dims[k];
            bl->count[k] = k < j ? 1 : k == j ? cnt : axis_dims[k];
        }
        bl->c0 = a;
        bl->cells = cnt * unit;
        a += cnt * unit;
    }
    return nb;
}

/* A block's hyperslab, the trailing dimensions whole. */
static herr_t select_block(hid_t space, H5S_seloper_t op, size_t n_axes, const h5_cell_block_t *bl,
                           const hsize_t *trailing, int n_trailing)
{
    hsize_t start[H5UTIL_MAX_RANK], count[H5UTIL_MAX_RANK];
    memcpy(start, bl->start, n_axes * sizeof *start);
    memcpy(count, bl->count, n_axes * sizeof *count);
    for (int t = 0; t < n_trailing; t++) start[n_axes + t] = 0, count[n_axes + t] = trailing[t];
    return H5Sselect_hyperslab(space, op, start, NULL, count, NULL);
}

herr_t h5_select_cells(hid_t space, size_t n_axes, const hsize_t *axis_dims, size_t c0, size_t c1,
                       const hsize_t *trailing, int n_trailing)
{
    if (n_axes == 0) return H5Sselect_all(space);
    h5_cell_block_t blocks[H5_CELL_BLOCKS_MAX];
    size_t nb = h5_cell_blocks(n_axes, axis_dims, c0, c1, blocks);
    H5Sselect_none(space);
    for (size_t i = 0; i < nb; i++)
        if (select_block(space, H5S_SELECT_OR, n_axes, &blocks[i], trailing, n_trailing) < 0) return -1;
    return 0;
}

herr_t h5_write_cells(hid_t ds, hid_t mem_type, size_t n_axes, const hsize_t *axis_dims, size_t c0, size_t c1,
                      const hsize_t *trailing, int n_trailing, const void *buf)
{
    if (n_axes == 0) return H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    hsize_t per = 1;
    for (int t = 0; t < n_trailing; t++) per *= trailing[t];
    size_t elem = H5Tget_size(mem_type);
    h5_cell_block_t blocks[H5_CELL_BLOCKS_MAX];
    size_t nb = h5_cell_blocks(n_axes, axis_dims, c0, c1, blocks);
    hid_t fspace = H5Dget_space(ds);
    herr_t rc = fspace < 0 ? -1 : 0;
    for (size_t i = 0; i < nb && rc >= 0; i++) {
        hsize_t n = blocks[i].cells * per;
        hid_t mspace = H5Screate_simple(1, &n, NULL);
        rc = select_block(fspace, H5S_SELECT_SET, n_axes, &blocks[i], trailing, n_trailing);
        if (rc >= 0)
            rc = H5Dwrite(ds, mem_type, mspace, fspace, H5P_DEFAULT,
                          (const char *)buf + (blocks[i].c0 - c0) * per * elem);
        H5Sclose(mspace);
    }
    if (fspace >= 0) H5Sclose(fspace);
    return rc;
}

hid_t h5_open_read(const char *path)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);
#endif
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

hid_t h5_string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

char *h5_read_attr_text(hid_t obj, const char *name)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t ft = H5Aget_type(a), st = h5_string_type();
    char *value = NULL, *copy = NULL;
    if (H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0 && H5Aread(a, st, &value) >= 0)
        copy = strdup(value ? value : "");
    if (value) H5free_memory(value);
    H5Tclose(st), H5Tclose(ft), H5Aclose(a);
    return copy;
}

herr_t h5_read_attr_string(hid_t obj, const char *name, char *buf, size_t len)
{
    char *text = h5_read_attr_text(obj, name);
    if (!text) return -1;
    snprintf(buf, len, "%s", text);
    free(text);
    return 0;
}

hid_t h5_fixed_string_type(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    H5Tset_size(t, size ? size : 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

char **h5_read_texts(hid_t ds, size_t n)
{
    hid_t space = H5Dget_space(ds), ft = H5Dget_type(ds);
    bool ok = space >= 0 && ft >= 0 && H5Tget_class(ft) == H5T_STRING &&
              H5Sget_simple_extent_npoints(space) == (hssize_t)n;
    char **out = ok ? calloc(n ? n : 1, sizeof *out) : NULL;
    if (out && H5Tis_variable_str(ft) > 0) {
        hid_t st = h5_string_type();
        char **raw = calloc(n ? n : 1, sizeof *raw);
        ok = raw && H5Dread(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0;
        for (size_t i = 0; ok && i < n; i++) ok = (out[i] = strdup(raw[i] ? raw[i] : "")) != NULL;
        if (raw && ok) H5Dvlen_reclaim(st, space, H5P_DEFAULT, raw);
        free(raw);
        H5Tclose(st);
    } else if (out) {
        size_t size = H5Tget_size(ft);
        hid_t mt = h5_fixed_string_type(size);
        char *flat = size && size <= ((size_t)1 << 20) ? malloc(n * size + 1) : NULL;
        ok = flat && mt >= 0 && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, flat) >= 0;
        for (size_t i = 0; ok && i < n; i++) ok = (out[i] = strndup(flat + i * size, size)) != NULL;
        free(flat);
        if (mt >= 0) H5Tclose(mt);
    }
    if (out && !ok) {
        for (size_t i = 0; i < n; i++) free(out[i]);
        free(out);
        out = NULL;
    }
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    return out;
}
