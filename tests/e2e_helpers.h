/*
 * e2e_helpers.h: for tests that run build/runner as a user would. Each test
 * process works in its own directory under /tmp (dir), removed afterwards.
 * Test-only.
 */
#ifndef RUNNER_TEST_E2E_HELPERS_H
#define RUNNER_TEST_E2E_HELPERS_H

#include <hdf5.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static char dir[256];

static inline void e2e_make_dir(const char *suite)
{
    snprintf(dir, sizeof dir, "/tmp/runner_%s_%d", suite, (int)getpid());
    mkdir(dir, 0755);
}

static inline void e2e_remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* The path of `name` inside dir. */
static inline const char *in_dir(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}

static inline void slurp(const char *name, char *buf, size_t len)
{
    FILE *f = fopen(in_dir(name), "r");
    if (buf && len) buf[0] = 0;
    if (buf && f) buf[fread(buf, 1, len - 1, f)] = 0;
    if (f) fclose(f);
}

/* What to run the runner under, e.g. valgrind (RUNNER_TEST_WRAPPER, set by
 * the valgrind tests: a memcheck error there becomes exit status 99). */
static inline const char *runner_wrapper(void)
{
    const char *w = getenv("RUNNER_TEST_WRAPPER");
    return w ? w : "";
}

/* Run `build/runner ARGS`, stdout and stderr into files; returns the exit
 * code, or -1 when it did not exit (a crash). */
static inline int run(const char *args, char *out, size_t out_len, char *errtxt, size_t err_len)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s/runner %s >%s/stdout 2>%s/stderr", runner_wrapper(), RUNNER_BUILD_DIR, args, dir,
             dir);
    int st = system(cmd);
    slurp("stdout", out, out_len);
    slurp("stderr", errtxt, err_len);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline void write_file(const char *name, const char *text)
{
    FILE *f = fopen(in_dir(name), "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

static inline bool exists(const char *name)
{
    return access(in_dir(name), F_OK) == 0;
}

/* Read a whole dataset of `file` (in dir) as `type` (elem bytes each). */
static inline void *read_all(const char *file, const char *name, hid_t type, size_t elem, size_t *n)
{
    const char *path = in_dir(file);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "cannot open %s", path);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    cr_assert_geq(d, 0, "no dataset %s", name);
    hid_t s = H5Dget_space(d);
    *n = (size_t)H5Sget_simple_extent_npoints(s);
    void *buf = malloc(*n * elem + 1);
    cr_assert_geq(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
    H5Sclose(s), H5Dclose(d), H5Fclose(f);
    return buf;
}

/* Element i of a string dataset of `file` (in dir), malloc'd. */
static inline char *read_string_at(const char *file, const char *name, size_t i)
{
    size_t n;
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    H5Tset_cset(st, H5T_CSET_UTF8);
    char **all = read_all(file, name, st, sizeof(char *), &n);
    char *one = i < n && all[i] ? strdup(all[i]) : NULL;
    for (size_t k = 0; k < n; k++) free(all[k]); /* the library allocated them with malloc */
    free(all);
    H5Tclose(st);
    return one;
}

/* A root attribute of `file` (in dir) as text, malloc'd: a string, or an integer printed. */
static inline char *root_attr(const char *file, const char *name)
{
    hid_t f = H5Fopen(in_dir(file), H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    cr_assert_geq(a, 0, "no attribute %s", name);
    hid_t t = H5Aget_type(a);
    char *copy;
    if (H5Tget_class(t) == H5T_INTEGER) {
        long long v;
        cr_assert_geq(H5Aread(a, H5T_NATIVE_LLONG, &v), 0);
        copy = malloc(32);
        snprintf(copy, 32, "%lld", v);
    } else {
        char *v = NULL;
        cr_assert_geq(H5Aread(a, t, &v), 0);
        copy = strdup(v);
        H5free_memory(v);
    }
    H5Tclose(t), H5Aclose(a), H5Fclose(f);
    return copy;
}

#endif
