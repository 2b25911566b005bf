/* provenance.c: the facts of the build, the machine and the libraries, gathered once per run. */
#include "results/provenance.h"

#include <cblas.h>
#include <hdf5.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "build_info.h"
#include "version.h"

const char *const provenance_names[] = {
    "runner_git_commit", "compiler", "compile_flags", "build_type", "host", "cpu_model", "cpu_cores", "os",
    "kernel", "hdf5_version", "matrix_kernels", "threads", "mpi_ranks", NULL,
};

static provenance_item_t *add(provenance_t *p, const char *name)
{
    provenance_item_t *it = &p->items[p->n++];
    memset(it, 0, sizeof *it);
    it->name = name;
    return it;
}

static void add_text(provenance_t *p, const char *name, const char *value)
{
    snprintf(add(p, name)->text, sizeof p->items[0].text, "%s", value && *value ? value : "unknown");
}

static void add_number(provenance_t *p, const char *name, int64_t v)
{
    provenance_item_t *it = add(p, name);
    it->number = v;
    it->is_number = 1;
}

/* The value of the first line "key<spaces>: value" (or key=value) in a text file. */
static void file_field(const char *path, const char *key, char sep, char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen)) continue;
        char *v = line + klen;
        while (*v == ' ' || *v == '\t') v++;
        if (*v != sep) continue;
        for (v++; *v == ' ' || *v == '"'; v++) {
        }
        v[strcspn(v, "\"\n")] = 0;
        snprintf(out, len, "%s", v);
        break;
    }
    fclose(f);
}

void provenance_collect(provenance_t *p, int threads, int ranks)
{
    char buf[512];
    p->n = 0;
    add_text(p, "runner_git_commit", RUNNER_GIT_COMMIT);
    add_text(p, "compiler", RUNNER_COMPILER);
    add_text(p, "compile_flags", RUNNER_COMPILE_FLAGS);
    add_text(p, "build_type", RUNNER_BUILD_TYPE);
    if (gethostname(buf, sizeof buf) != 0) buf[0] = 0;
    buf[sizeof buf - 1] = 0;
    add_text(p, "host", buf);
    file_field("/proc/cpuinfo", "model name", ':', buf, sizeof buf);
    add_text(p, "cpu_model", buf);
    add_number(p, "cpu_cores", sysconf(_SC_NPROCESSORS_ONLN));
    file_field("/etc/os-release", "PRETTY_NAME", '=', buf, sizeof buf);
    struct utsname u;
    bool have_uname = uname(&u) == 0;
    add_text(p, "os", buf[0] ? buf : have_uname ? u.sysname : "");
    if (have_uname) snprintf(buf, sizeof buf, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
    add_text(p, "kernel", have_uname ? buf : "");
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    snprintf(buf, sizeof buf, "%u.%u.%u", maj, min, rel);
    add_text(p, "hdf5_version", buf);
    /* "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64; core Haswell": the
     * config names the build, the core the kernels chosen for this CPU */
    snprintf(buf, sizeof buf, "%s; core %s", openblas_get_config(), openblas_get_corename());
    add_text(p, "matrix_kernels", buf);
    add_number(p, "threads", threads);
    add_number(p, "mpi_ranks", ranks);
}
