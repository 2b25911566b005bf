/*
 * h5util.h: HDF5 helpers shared by the writer (h5out) and the reader
 * (results). Cells are numbered row-major over the cell axes; a dataset is
 * [axes..., trailing...].
 */
#ifndef RUNNER_H5UTIL_H
#define RUNNER_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

#define H5UTIL_MAX_RANK 40

/* Cells [c0, c1) as at most H5_CELL_BLOCKS_MAX blocks of consecutive
 * cells, each one regular hyperslab over the cell axes: start and count per
 * axis, the first cell and how many. */
typedef struct {
    hsize_t start[H5UTIL_MAX_RANK], count[H5UTIL_MAX_RANK];
    hsize_t c0, cells;
} h5_cell_block_t;
#define H5_CELL_BLOCKS_MAX (2 * H5UTIL_MAX_RANK)
size_t h5_cell_blocks(size_t n_axes, const hsize_t *axis_dims, size_t c0, size_t c1, h5_cell_block_t *blocks);

/* Select cells [c0, c1) of `space`, with `n_trailing` further dimensions of
 * sizes `trailing` selected whole, as a union of a few hyperslabs. */
herr_t h5_select_cells(hid_t space, size_t n_axes, const hsize_t *axis_dims, size_t c0, size_t c1,
                       const hsize_t *trailing, int n_trailing);

/* Write cells [c0, c1) of ds from buf ((c1-c0) x trailing, row-major): one
 * H5Dwrite per block. A union of hyperslabs is an irregular selection, which
 * HDF5 copies one innermost row at a time (8 bytes for a 2-parameter
 * trajectory); each regular block of a contiguous dataset is one run. */
herr_t h5_write_cells(hid_t ds, hid_t mem_type, size_t n_axes, const hsize_t *axis_dims, size_t c0, size_t c1,
                      const hsize_t *trailing, int n_trailing, const void *buf);

/* A scalar variable-length string attribute into buf; -1 when absent or of another type. */
herr_t h5_read_attr_string(hid_t obj, const char *name, char *buf, size_t len);
/* The same, whole, malloc'd (caller frees); NULL when absent, of another type, or out of memory. */
char *h5_read_attr_text(hid_t obj, const char *name);

/* Open a results file read-only without HDF5's file lock, so that reports
 * and plots can read a file a running sweep is still writing (the writer
 * holds the lock). Safe for our files: after creation the writer changes
 * no metadata, only raw data, and sets a cell's status after its data, so
 * a reader sees each cell either pending or complete. */
hid_t h5_open_read(const char *path);

/* The UTF-8 variable-length string type the files use (close with H5Tclose). */
hid_t h5_string_type(void);
/* A fixed-length UTF-8 string type of `size` bytes, NUL-terminated (close
 * with H5Tclose): per-cell text written after creation (a study's final
 * phase, config/select.h) is fixed-length, a raw-data write, where a
 * variable-length one would change the file's heap. */
hid_t h5_fixed_string_type(size_t size);

/* A 1-D string dataset of n values, variable or fixed length, as malloc'd
 * strings (free each, then the array); NULL on a read error or another
 * shape. */
char **h5_read_texts(hid_t ds, size_t n);

#endif
