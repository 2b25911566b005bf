/* provenance.c: the facts of the build, the machine and the libraries, gathered once per run. */
#include "results/provenance.h"

#include <cblas.h>
#include <hdf5.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "build_info.h"
#include "plugin_host/host_services.h"
#include "results/format.h"
#include "results/h5util.h"
#include "version.h"

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
    /* The kernels that computed the products: a tile path ("avx2": every
     * path gives the same bits), or "openblas (OpenBLAS 0.3.21 DYNAMIC_ARCH
     * ... Cooperlake ...; core Cooperlake)": its build and the kernels it
     * chose for this CPU, which decide its bits */
    kernels_t k = host_kernels();
    if (k == KERNELS_OPENBLAS) snprintf(buf, sizeof buf, "openblas (%s; core %s)", openblas_get_config(), openblas_get_corename());
    else snprintf(buf, sizeof buf, "%s", kernels_name(k));
    add_text(p, "matrix_kernels", buf);
    add_number(p, "threads", threads);
    add_number(p, "mpi_ranks", ranks);
}

/* A root attribute as text: a string, or an integer printed; "unknown" when absent. */
static void attr_text(hid_t f, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "unknown");
    hid_t a = H5Aexists(f, name) > 0 ? H5Aopen(f, name, H5P_DEFAULT) : -1;
    if (a < 0) return;
    hid_t t = H5Aget_type(a);
    long long v;
    if (H5Tget_class(t) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0) snprintf(buf, len, "%lld", v);
    H5Tclose(t), H5Aclose(a);
    if (strcmp(buf, "unknown")) return;
    char *text = h5_read_attr_text(f, name);
    if (text) snprintf(buf, len, "%s", text);
    free(text);
}

/* "HEX  PATH" lines, indented under a heading; "none" when empty. */
static void print_files(FILE *out, const char *heading, const char *lines)
{
    fprintf(out, "  %s:%s\n", heading, lines && *lines ? "" : " none recorded");
    for (const char *p = lines; p && *p;) {
        const char *end = strchr(p, '\n');
        int n = end ? (int)(end - p) : (int)strlen(p);
        fprintf(out, "    %.*s\n", n, p);
        p = end ? end + 1 : p + n;
    }
}

err_code_t provenance_print(FILE *out, const char *path, err_t *err)
{
    hid_t f = h5_open_read(path);
    if (f < 0) return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "HDF5 cannot open it as a results file");
    char v[PROVENANCE_MAX + 8][512];
    const char *names[] = {FORMAT_RUNNER_VERSION, "runner_git_commit", "compiler", "compile_flags", "build_type",
                           FORMAT_CREATED, "host", "cpu_model", "cpu_cores", "os", "kernel", "threads", "mpi_ranks",
                           "hdf5_version", "matrix_kernels", FORMAT_COMMAND_LINE, FORMAT_CONFIG_FINGERPRINT};
    size_t n = sizeof names / sizeof names[0];
    for (size_t i = 0; i < n; i++) attr_text(f, names[i], v[i], sizeof v[i]);
    char ended[64] = "not recorded";
    double end_time = NAN;
    hid_t ds = H5Lexists(f, FORMAT_END_TIME, H5P_DEFAULT) > 0 ? H5Dopen2(f, FORMAT_END_TIME, H5P_DEFAULT) : -1;
    if (ds >= 0 && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &end_time) >= 0) {
        time_t t = (time_t)end_time;
        struct tm tm;
        if (isnan(end_time)) snprintf(ended, sizeof ended, "not yet (running, or killed)");
        else if (gmtime_r(&t, &tm)) strftime(ended, sizeof ended, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (ds >= 0) H5Dclose(ds);
    char *plugins = h5_read_attr_text(f, FORMAT_PLUGIN_FILES), *data = h5_read_attr_text(f, FORMAT_DATA_FILES);
    H5Fclose(f);
    fprintf(out, "provenance of %s:\n", path);
    fprintf(out, "  runner %s, git %s, built by %s (%s, %s)\n", v[0], v[1], v[2], v[4], v[3]);
    fprintf(out, "  started %s, ended %s\n", v[5], ended);
    fprintf(out, "  on %s: %s, %s cores; %s; %s\n", v[6], v[7], v[8], v[9], v[10]);
    fprintf(out, "  %s threads, %s MPI ranks; HDF5 %s; %s\n", v[11], v[12], v[13], v[14]);
    fprintf(out, "  command: %s\n", v[15]);
    fprintf(out, "  fingerprint: %s\n", v[16]);
    print_files(out, "plugin files (sha256sum -c reads these lines)", plugins);
    print_files(out, "data files", data);
    free(plugins), free(data);
    return ERR_OK;
}
