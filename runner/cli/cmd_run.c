/* cmd_run.c: `runner CONFIG`: load, validate, create the file, sweep, summarise. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cells/kind.h"
#include "cli/commands.h"
#include "config/fingerprint.h"
#include "results/h5out.h"
#include "results/recorded.h"
#include "results/results.h"
#include "results/writer_lock.h"
#include "results/report.h"
#include "config/select.h"
#include "sweep/crash.h"
#include "sweep/guards.h"
#include "sweep/interrupt.h"
#include "sweep/journal.h"
#include "sweep/mpi_link.h"
#include "sweep/phases.h"
#include "sweep/sweep.h"
#include "version.h"
#include "config/yaml_load.h"

/* The most threads a run takes (-j, OMP_NUM_THREADS). */
#define CLI_MAX_THREADS 4096

/* runner CONFIG's options. */
typedef struct {
    const char *config;
    const char *output;  /* -o */
    int threads;         /* -j; 0 = OMP_NUM_THREADS or all cores */
    uint64_t max_cells;  /* --max-cells; 0 = EXPERIMENT_MAX_CELLS */
    uint64_t max_output; /* --max-output in bytes; 0 = the free disk space */
    bool dry_run, force, resume, fail_fast, quiet, isolate, all_cells;
    double cell_timeout; /* --cell-timeout in seconds; 0: none */
    override_t *overrides; /* --set, in order */
    size_t n_overrides;
    int argc; /* the whole command line, for the file and the resume hint */
    char **argv;
} run_options_t;

static err_code_t bad_value(err_t *err, const char *what, const char *v)
{
    return err_set(err, ERR_USAGE, (mark_t){0}, "%s, got '%s'", what, v);
}

static err_code_t set_output(void *o, const char *v, err_t *err)
{
    (void)err;
    ((run_options_t *)o)->output = v;
    return ERR_OK;
}

static err_code_t set_jobs(void *o, const char *v, err_t *err)
{
    long n;
    if (!cli_parse_int(v, 1, CLI_MAX_THREADS, &n)) return bad_value(err, "-j needs a thread count from 1 to 4096", v);
    ((run_options_t *)o)->threads = (int)n;
    return ERR_OK;
}

static err_code_t set_max_cells(void *o, const char *v, err_t *err)
{
    unsigned long long n;
    if (!cli_parse_count(v, &n) || n < 1) return bad_value(err, "--max-cells needs a positive whole number", v);
    ((run_options_t *)o)->max_cells = n;
    return ERR_OK;
}

static err_code_t set_max_output(void *o, const char *v, err_t *err)
{
    run_options_t *ro = o;
    if (parse_bytes(v, &ro->max_output) != 0 || ro->max_output == 0)
        return bad_value(err, "--max-output needs a size such as 500M, 20G or 1T", v);
    return ERR_OK;
}

static err_code_t set_override(void *o, const char *v, err_t *err)
{
    run_options_t *ro = o;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v) return bad_value(err, "--set needs PATH=VALUE", v);
    char *path = strndup(v, (size_t)(eq - v));
    if (!path) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    ro->overrides[ro->n_overrides++] = (override_t){path, eq + 1};
    return ERR_OK;
}

/* A time limit needs a process to stop: it implies --isolate. */
static err_code_t set_cell_timeout(void *o, const char *v, err_t *err)
{
    run_options_t *ro = o;
    char *end;
    errno = 0;
    double t = strtod(v, &end);
    if (end == v || *end || errno || !(t > 0) || t > 1e7)
        return bad_value(err, "--cell-timeout needs seconds, a number above 0 (up to 1e7)", v);
    ro->cell_timeout = t;
    ro->isolate = true;
    return ERR_OK;
}

#define FLAG_SETTER(field)                                       \
    static err_code_t set_##field(void *o, const char *v, err_t *err) \
    {                                                            \
        (void)v, (void)err;                                      \
        ((run_options_t *)o)->field = true;                      \
        return ERR_OK;                                           \
    }
FLAG_SETTER(dry_run)
FLAG_SETTER(force)
FLAG_SETTER(resume)
FLAG_SETTER(fail_fast)
FLAG_SETTER(quiet)
FLAG_SETTER(isolate)
FLAG_SETTER(all_cells)
#undef FLAG_SETTER

static const cli_option_t run_option_list[] = {
    {"--set", NULL, "PATH=VALUE", set_override},
    {"--output", "-o", "a file name", set_output},
    {"--jobs", "-j", "a number", set_jobs},
    {"--dry-run", NULL, NULL, set_dry_run},
    {"--force", NULL, NULL, set_force},
    {"--resume", NULL, NULL, set_resume},
    {"--fail-fast", NULL, NULL, set_fail_fast},
    {"--max-cells", NULL, "a number", set_max_cells},
    {"--max-output", NULL, "a size", set_max_output},
    {"--quiet", "-q", NULL, set_quiet},
    {"--isolate", NULL, NULL, set_isolate},
    {"--all-cells", NULL, NULL, set_all_cells},
    {"--cell-timeout", NULL, "seconds", set_cell_timeout},
};
const cli_options_t cmd_run_options = {run_option_list, sizeof run_option_list / sizeof run_option_list[0]};

/* mkdir -p of the directory part of path. */
static err_code_t make_parent_dirs(const char *path, err_t *err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "output path too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_set(err, ERR_IO, (mark_t){path, 0, 0}, "cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    return ERR_OK;
}

/* --dry-run lists up to this many cells; a larger study gets its axes
 * summarised and its first and last cells (--all-cells lists every one). */
#define DRY_RUN_ROWS 40

static void print_cell_row(const experiment_t *exp, size_t c, size_t *idx)
{
    const cell_t *cell = &exp->cells[c];
    char column[512];
    experiment_cell_coords(exp, c, idx);
    printf("%-6zu", c);
    for (size_t k = 0; k < exp->n_axes; k++) printf(" %-14s", idx[k] == AXIS_ABSENT ? "-" : exp->axes[k].labels[idx[k]]);
    if (exp->select && c >= exp->select->n_tune) { /* known once the tuning cells are done */
        printf(" %-6s %-20s %s\n", "-", "-", "its group's best setting, chosen after the tuning cells");
        return;
    }
    exp->kind->plan_column(cell, column, sizeof column);
    printf(" %-6u %-20s %s\n", cell->steps, column, cell->opt->text);
}

static int by_text(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* How many different texts labels holds (n of them). */
static size_t count_distinct(const char *const *labels, size_t n)
{
    const char **v = malloc((n + 1) * sizeof *v);
    if (!v) return n;
    memcpy(v, labels, n * sizeof *v);
    qsort(v, n, sizeof *v, by_text);
    size_t d = n > 0;
    for (size_t i = 1; i < n; i++) d += strcmp(v[i], v[i - 1]) != 0;
    free(v);
    return d;
}

static void print_cell_table(const experiment_t *exp, bool all)
{
    const cell_kind_t *kind = exp->kind;
    printf("%s: %zu cell%s, %zu %s", exp->name, exp->n_cells, exp->n_cells == 1 ? "" : "s", exp->n_axes,
           exp->n_axes == 1 ? "axis" : "axes");
    if (exp->coords) { /* ragged: an axis's values are its runs' lists, one after the other */
        for (size_t k = 0; k < exp->n_axes; k++) printf("%s %s", k ? "," : ":", exp->axes[k].name);
        printf(" (not one product: runs with their own axes, or exclude:; \"-\" where a cell's run lacks the axis)");
    } else {
        for (size_t k = 0; k < exp->n_axes; k++) printf("%s %s[%zu]", k ? "," : ":", exp->axes[k].name, exp->axes[k].n);
    }
    printf("\n");
    size_t idx[64];
    bool summarise = !all && exp->n_cells > DRY_RUN_ROWS;
    if (summarise) { /* the axes first: what a large study spans */
        printf("axes:\n");
        for (size_t k = 0; k < exp->n_axes; k++) {
            const axis_t *ax = &exp->axes[k];
            /* a ragged study's column lists each run's values: count the distinct ones */
            size_t distinct = exp->coords ? count_distinct(ax->labels, ax->n) : ax->n;
            printf("  %s: %zu value%s", ax->name, distinct, distinct == 1 ? "" : "s");
            if (ax->numeric && ax->n > 1) {
                double lo = ax->numbers[0], hi = ax->numbers[0];
                for (size_t i = 1; i < ax->n; i++) lo = fmin(lo, ax->numbers[i]), hi = fmax(hi, ax->numbers[i]);
                printf(", from %g to %g", lo, hi);
            }
            printf(" (%s%s%s)\n", ax->labels[0], ax->n > 1 ? " ... " : "", ax->n > 1 ? ax->labels[ax->n - 1] : "");
        }
    }
    printf("%-6s", "cell");
    for (size_t k = 0; k < exp->n_axes; k++) printf(" %-14s", exp->axes[k].name);
    printf(" %-6s %-20s %s\n", "steps", kind->plan_heading, "optimizer");
    for (size_t c = 0; c < exp->n_cells; c++) {
        if (summarise && c == DRY_RUN_ROWS / 2) {
            printf("... %zu cells not shown (--all-cells lists every one)\n", exp->n_cells - DRY_RUN_ROWS);
            c = exp->n_cells - DRY_RUN_ROWS / 2;
        }
        print_cell_row(exp, c, idx);
    }
    if (exp->select)
        printf("select: cells 0-%zu tune; cells %zu-%zu are the final phase, %zu group%s x %zu seed%s: each group's best "
               "setting by %s (%s), rerun\n",
               exp->select->n_tune - 1, exp->select->n_tune, exp->n_cells - 1, exp->select->n_groups,
               exp->select->n_groups == 1 ? "" : "s", exp->select->n_seeds, exp->select->n_seeds == 1 ? "" : "s",
               exp->select->metric, exp->select->maximize ? "highest" : "lowest");
    if (kind->plan_notes) kind->plan_notes(stdout, exp);
}

/* Whether a word must be single-quoted for a POSIX shell (and bash's
 * interactive expansions: history `!`, `~`, comments `#`), so a pasted
 * resume hint runs exactly this command and nothing else. */
static bool needs_quotes(const char *w)
{
    if (!*w) return true;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++)
        if (*p < 0x20 || *p == 0x7f || strchr(" '\"$*?[]{}()<>|&;\\`!~#", *p)) return true;
    return false;
}

/* argv as one shell-quoted line. For the resume hint: without `drop`
 * (an option to leave out), with `add` appended when not there already. */
static char *join_command_line(int argc, char **argv, const char *drop, const char *add)
{
    size_t len = 1 + (add ? strlen(add) + 1 : 0);
    bool have_add = false;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) * 4 + 3, have_add |= add && !strcmp(argv[i], add);
    char *s = malloc(len), *p = s;
    if (!s) return NULL;
    for (int i = 0; i < argc; i++) {
        if (drop && !strcmp(argv[i], drop)) continue;
        bool quote = needs_quotes(argv[i]);
        if (p > s) *p++ = ' ';
        if (quote) *p++ = '\'';
        for (const char *q = argv[i]; *q; q++) {
            if (*q == '\'' && quote) {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *q;
            }
        }
        if (quote) *p++ = '\'';
    }
    if (add && !have_add) p += sprintf(p, " %s", add);
    *p = 0;
    return s;
}

/* Sweeps of up to this many settings get the report's table at the end. */
#define SUMMARY_MAX_ROWS 12

/* The counts of this run, then the table and best cell from the file as
 * `runner report` reads it (the same code). */
static err_code_t print_summary(const experiment_t *exp, const sweep_summary_t *sum, const char *output, int threads,
                                int ranks, err_t *err)
{
    size_t done = summary_done(sum), computed = done - sum->resumed;
    printf("%s: %zu cell%s in %.3f s on %d thread%s", exp->name, computed, computed == 1 ? "" : "s", sum->seconds,
           threads, threads == 1 ? "" : "s");
    if (ranks > 1) printf(" of %d MPI ranks", ranks);
    printf(": %zu ok, %zu diverged, %zu failed", sum->ok, sum->diverged, sum->failed);
    if (sum->resumed) printf(" (%zu kept from the file)", sum->resumed);
    if (done < exp->n_cells) printf(", %zu pending", exp->n_cells - done);
    printf("\n");
    /* Under MPI, what more ranks cannot speed up: rank 0 writes every cell. */
    if (ranks > 1 && computed > 0 && sum->seconds > 0)
        printf("writer: %.3f s in HDF5 (%.0f%% of the sweep), %.0f cells/s\n", sum->write_seconds,
               100 * sum->write_seconds / sum->seconds, sum->write_seconds > 0 ? (double)computed / sum->write_seconds : 0.0);
    results_t r;
    err_code_t rc = results_read(output, exp->kind->report_tol, &r, err);
    if (rc == ERR_OK && r.has_phases) rc = results_keep_phase(&r, "final", err); /* the study's result (select:) */
    if (rc == ERR_OK) rc = report_summary(stdout, &r, SUMMARY_MAX_ROWS, err);
    results_free(&r);
    if (rc == ERR_OK) printf("output: %s\n", output);
    return rc;
}

void run_context_free(run_context_t *ctx)
{
    mpi_link_destroy(ctx->mpi);
    for (size_t i = 0; i < ctx->n_overrides; i++) free((char *)ctx->overrides[i].path);
    free(ctx->overrides);
    if (ctx->have_exp) experiment_free(&ctx->exp);
    free(ctx->config_text);
    free(ctx->config_name);
    memset(ctx, 0, sizeof *ctx);
}

const char *run_context_source(const run_context_t *ctx, const mark_t *mark)
{
    if (!mark->file) return NULL;
    if (ctx->have_exp && ctx->config_text && !strcmp(mark->file, ctx->exp.path)) return ctx->config_text;
    for (size_t i = 0; i < ctx->n_overrides; i++) {
        char name[512];
        snprintf(name, sizeof name, "--set %s", ctx->overrides[i].path);
        if (!strcmp(mark->file, name)) return ctx->overrides[i].value;
    }
    return NULL;
}

/* Reopen a file of the same config: the cells it holds (ok or diverged)
 * are counted into sum and left out of todo; failed and pending cells are
 * computed again. */
static err_code_t reopen_output(const run_options_t *cli, const experiment_t *exp, const char *output, int threads,
                                h5out_t **out, unsigned char **todo, sweep_summary_t *sum, err_t *err)
{
    size_t n = exp->n_cells;
    int8_t *status = malloc(n * sizeof *status);
    *todo = malloc(n);
    err_code_t rc = !status || !*todo ? err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory")
                                      : h5out_open(exp, output, out, status, err);
    for (size_t c = 0; rc == ERR_OK && c < n; c++) {
        bool kept = status[c] == STATUS_OK || status[c] == STATUS_DIVERGED;
        (*todo)[c] = !kept;
        if (kept) summary_add(sum, c, status[c], NULL), sum->resumed++;
    }
    free(status);
    if (rc == ERR_OK && (rc = guard_resources(exp, *todo, output, threads, cli->max_output, err)) == ERR_OK)
        rc = h5out_set_state(*out, RUN_RUNNING, err);
    if (rc && *out) h5out_close(*out, &(err_t){0}), *out = NULL;
    if (rc) free(*todo), *todo = NULL;
    return rc;
}

/* The output file: a new one, or the existing one when resuming it (the
 * fingerprints must match, or --force starts over). */
static err_code_t open_output(const run_options_t *cli, const experiment_t *exp, const char *output, int threads,
                              int ranks, h5out_t **out, unsigned char **todo, sweep_summary_t *sum, err_t *err)
{
    char fp[FINGERPRINT_LEN];
    experiment_fingerprint(exp, RUNNER_VERSION, fp);
    *todo = NULL;
    struct stat st;
    bool exists = stat(output, &st) == 0;
    if (exists && (cli->resume || cli->force) && writer_lock_busy(output))
        return h5out_busy_error(err, output, cli->resume ? "resumed" : "replaced");
    if (exists && cli->resume) {
        char have[256];
        err_t probe = {0};
        err_code_t rc = h5out_read_fingerprint(output, have, sizeof have, &probe);
        if (rc == ERR_OK && strcmp(have, fp) != 0) {
            char why[sizeof probe.msg];
            if (recorded_compare(output, exp, RECORDED_ALL, &probe) == ERR_CONFIG) snprintf(why, sizeof why, "%s", probe.msg);
            else snprintf(why, sizeof why, "its fingerprint differs (file %s, this run %s)", have, fp);
            rc = err_set(&probe, ERR_CONFIG, (mark_t){output, 0, 0},
                         "cannot be resumed with this experiment: %s. Resuming would mix two experiments' numbers; "
                         "use -o to write elsewhere, or --force to start over",
                         why);
        } else if (rc) {
            err_append(&probe, "; use --force to start over");
        }
        if (rc == ERR_OK) return reopen_output(cli, exp, output, threads, out, todo, sum, err);
        if (!cli->force) {
            *err = probe;
            return rc;
        }
    } else if (exists && !cli->force) {
        return err_set(err, ERR_CONFIG, (mark_t){output, 0, 0},
                       "output file exists; use --resume to finish it, --force to overwrite it, or -o to write elsewhere");
    }
    err_code_t rc = guard_resources(exp, NULL, output, threads, cli->max_output, err);
    if (rc == ERR_OK) rc = make_parent_dirs(output, err);
    if (rc) return rc;
    char *cmdline = join_command_line(cli->argc, cli->argv, NULL, NULL);
    provenance_t prov;
    provenance_collect(&prov, threads, ranks);
    h5out_record_t record = {cmdline ? cmdline : "", fp, &prov};
    rc = h5out_create(exp, output, cli->force, &record, out, err);
    free(cmdline);
    return rc;
}

/* The error main reports when the sweep stopped early, with how to go on. */
static err_code_t stopped_error(const run_options_t *cli, const experiment_t *exp, const sweep_summary_t *sum,
                                const sweep_stop_t *stop, const char *output, int ranks, err_t *err)
{
    char *again = join_command_line(cli->argc, cli->argv, "--force", "--resume");
    /* rank 0 sees only its own argv, not mpirun's; either way resumes the file */
    const char *where = ranks > 1 ? " (under mpirun again, or alone)" : "";
    size_t done = summary_done(sum);
    if (stop->signal) {
        err_set(err, ERR_STOPPED, (mark_t){0}, "interrupted by %s: %zu of %zu cells done and kept in %s; resume with: %s%s",
                stop->signal == SIGINT ? "SIGINT" : stop->signal == SIGTERM ? "SIGTERM" : "a signal", done,
                exp->n_cells, output, again ? again : "the same command and --resume", where);
    } else {
        char label[512];
        experiment_cell_label(exp, sum->first_failed, label, sizeof label);
        err_set(err, ERR_STOPPED, (mark_t){0},
                "stopped at the first failed cell (--fail-fast): cell %zu %s: %s; %zu of %zu cells done and kept in "
                "%s; resume with: %s%s",
                sum->first_failed, label, sum->first_failure, done, exp->n_cells, output,
                again ? again : "the same command and --resume", where);
    }
    free(again);
    return ERR_STOPPED;
}

/* Crash containment (sweep/journal.h): when resuming, the cells an earlier
 * process crashed on (computed first, each in processes of their own);
 * then a fresh journal for this sweep's cells in flight. */
static err_code_t prepare_journal(const run_options_t *cli, const experiment_t *exp, const char *output, int threads,
                                  const unsigned char *todo, journal_t **journal, unsigned char **suspects, err_t *err)
{
    *journal = NULL;
    *suspects = NULL;
    size_t n = 0;
    if (todo) {
        int32_t *reasons = malloc(exp->n_cells * sizeof *reasons);
        if (!reasons || !(*suspects = malloc(exp->n_cells))) {
            free(reasons);
            return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
        }
        err_code_t rc = journal_read_crashed(output, exp->n_cells, *suspects, reasons, &n, err);
        int32_t reason = 0;
        n = 0;
        for (size_t c = 0; rc == ERR_OK && c < exp->n_cells; c++) {
            (*suspects)[c] &= todo[c];
            if ((*suspects)[c] && !n++) reason = reasons[c];
        }
        free(reasons);
        if (rc) return rc;
        if (n == 0) free(*suspects), *suspects = NULL;
        else if (!cli->quiet)
            fprintf(stderr, "runner: %zu cell%s in flight when an earlier run crashed (%s): computing %s first, in "
                            "processes of their own\n",
                    n, n == 1 ? " was" : "s were",
                    reason == JOURNAL_EXITED ? "plugin code called exit()" : crash_signal_name(reason),
                    n == 1 ? "it" : "them");
    }
    return journal_create(output, exp->n_cells, (size_t)threads, journal, err);
}

/* ---- a job of several processes (mpirun, srun): what the ranks agree on
 * before the sweep. Rank 0 reports; the others stay quiet unless the fault
 * is theirs alone (ctx->reported_elsewhere). ------------------------------ */

/* Every rank loaded the config, or all stop. */
static err_code_t agree_on_load(mpi_link_t *mpi, run_context_t *ctx, err_code_t rc, err_t *err)
{
    int failed;
    if (mpi_link_all_ok(mpi, rc, &failed)) return ERR_OK;
    int rank = mpi_link_rank(mpi);
    if (rank == failed) return rc; /* the first rank that failed says why */
    ctx->reported_elsewhere = rank != 0;
    if (rank != 0) return rc ? rc : ERR_CONFIG;
    return err_set(err, ERR_CONFIG, (mark_t){0}, "rank %d could not load the config (its error is above); "
                   "every node needs the same config, plugins and data", failed);
}

/* Every rank loaded the same experiment: same cells, plugin and data files
 * (by content), runner version; a refusal names the parts that differ. */
static err_code_t agree_on_experiment(mpi_link_t *mpi, run_context_t *ctx, const experiment_t *exp, err_t *err)
{
    char mine[FP__COUNT][FINGERPRINT_LEN], theirs[FP__COUNT][FINGERPRINT_LEN];
    memset(mine, 0, sizeof mine);
    memset(theirs, 0, sizeof theirs);
    experiment_fingerprint_parts(exp, RUNNER_VERSION, mine);
    int r = mpi_link_first_different(mpi, &mine[0][0], sizeof mine, &theirs[0][0]);
    if (r < 0) return ERR_OK;
    if (mpi_link_rank(mpi) != 0) return ctx->reported_elsewhere = true, ERR_CONFIG;
    char parts[512] = "";
    for (int p = 0; p < FP__COUNT; p++)
        if (strcmp(mine[p], theirs[p])) {
            size_t len = strlen(parts);
            snprintf(parts + len, sizeof parts - len, "%s%s", len ? "; " : "", fingerprint_part_names[p]);
        }
    return err_set(err, ERR_CONFIG, (mark_t){0},
                   "rank %d loaded a different experiment than rank 0: its %s differ. Every node needs the same "
                   "config, plugins, data and runner version",
                   r, parts);
}

/* Rank 0's outcome of opening the file, for everyone. */
static err_code_t agree_on_output(mpi_link_t *mpi, run_context_t *ctx, err_code_t rc, int *exit_status)
{
    int32_t v[2] = {rc, *exit_status};
    mpi_link_bcast(mpi, v, sizeof v);
    if (mpi_link_rank(mpi) == 0 || v[0] == ERR_OK) return (err_code_t)v[0];
    *exit_status = v[1];
    ctx->reported_elsewhere = true;
    return (err_code_t)v[0];
}

/* runner RESULTS.h5 computes what the file recorded, with the same plugin
 * and data files (by content), or not at all; with --set it is a variation
 * of the experiment, so only the plugin and data files are checked. */
static err_code_t check_rerun(const run_options_t *cli, const experiment_t *exp, err_t *err)
{
    unsigned checks = RECORDED_INPUTS | (cli->n_overrides ? 0u : (unsigned)RECORDED_CELLS);
    err_code_t rc = recorded_compare(cli->config, exp, checks, err);
    if (rc != ERR_CONFIG) return rc;
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg);
    return err_set(err, ERR_CONFIG, (mark_t){cli->config, 0, 0},
                   "cannot rerun the experiment as recorded: %s. The plugins and data must be the ones the file "
                   "names (its plugin_files and data_files attributes)", why);
}

/* The sweep of one process, or of this rank of a job (mpi). */
static err_code_t run_job(const run_options_t *cli, registry_t *reg, run_context_t *ctx, mpi_link_t *mpi, int *exit_status,
                          err_t *err)
{
    size_t len = 0;
    err_code_t rc;
    bool coordinator = mpi_link_rank(mpi) == 0;
    *exit_status = 2; /* until the output file exists, any error is the input's */
    experiment_t *exp = &ctx->exp;
    /* runner RESULTS.h5: the experiment the file records, written by
     * default over the file itself (so --resume finishes it) */
    bool rerun = results_is_hdf5(cli->config);
    const char *config_name = cli->config;
    if (rerun) {
        rc = results_read_config(cli->config, &ctx->config_text, err);
        size_t name_len = strlen(cli->config) + sizeof " (resolved_config)";
        if (rc == ERR_OK && !(ctx->config_name = malloc(name_len))) rc = err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
        if (rc == ERR_OK) snprintf(ctx->config_name, name_len, "%s (resolved_config)", cli->config);
        if (rc == ERR_OK) config_name = ctx->config_name, len = strlen(ctx->config_text);
    } else {
        rc = read_text_file(cli->config, &ctx->config_text, &len, err);
    }
    if (rc == ERR_OK) {
        ctx->have_exp = true;
        experiment_options_t opts = {cli->overrides, cli->n_overrides, cli->max_cells,
                                     cli->output ? cli->output : rerun ? cli->config : NULL, false, cli->dry_run};
        rc = experiment_load(exp, config_name, ctx->config_text, len, &opts, reg, err);
    }
    if (mpi && (rc = agree_on_load(mpi, ctx, rc, err)) == ERR_OK) rc = agree_on_experiment(mpi, ctx, exp, err);
    if (rc) return rc; /* every rank, when one failed */
    for (size_t i = 0; coordinator && i < exp->n_warnings; i++) fprintf(stderr, "%s\n", exp->warnings[i]);
    if (rerun && coordinator) rc = check_rerun(cli, exp, err);
    if (mpi) rc = agree_on_output(mpi, ctx, rc, exit_status);
    if (rc) return rc;
    const char *output = exp->output;
    if (cli->dry_run) {
        if (coordinator) {
            print_cell_table(exp, cli->all_cells);
            printf("output: %s (not written: --dry-run)\n", output);
        }
        *exit_status = 0;
        return ERR_OK;
    }
    h5out_t *out = NULL;
    unsigned char *todo = NULL;
    sweep_summary_t sum;
    summary_init(&sum);
    int threads = cli->threads > 0 ? cli->threads : omp_get_max_threads();
    if (threads > CLI_MAX_THREADS) /* OMP_NUM_THREADS=100000 once got past -j's bound */
        return err_set(err, ERR_USAGE, (mark_t){0},
                       "OMP_NUM_THREADS asks for %d threads, more than %d; give -j N (from 1 to %d)", threads,
                       CLI_MAX_THREADS, CLI_MAX_THREADS);
    /* Installed before the file is created, so that once it exists a
     * signal asks the sweep to stop (and is seen by its first poll) instead
     * of killing the process: scripts and tests wait for the file, then
     * signal (test_mpi's fixed delay once landed in the gap). */
    interrupt_install();
    if (coordinator && (rc = journal_check(output, err)) == ERR_OK)
        rc = open_output(cli, exp, output, threads, mpi_link_size(mpi), &out, &todo, &sum, err);
    if (mpi) rc = agree_on_output(mpi, ctx, rc, exit_status);
    if (rc) {
        interrupt_restore();
        return rc;
    }

    *exit_status = 1; /* the file exists: from here on a failure is a runtime one */
    journal_t *journal = NULL;
    unsigned char *suspects = NULL;
    if (coordinator && (rc = prepare_journal(cli, exp, output, threads, todo, &journal, &suspects, err))) {
        h5out_close(out, &(err_t){0});
        free(todo);
        interrupt_restore();
        if (mpi) agree_on_output(mpi, ctx, rc, exit_status); /* the others end with rank 0 */
        return rc;
    }
    if (mpi && (rc = agree_on_output(mpi, ctx, ERR_OK, exit_status))) {
        interrupt_restore();
        return rc;
    }
    int all_threads = mpi ? mpi_link_sum(mpi, threads) : threads;
    char *again = join_command_line(cli->argc, cli->argv, "--force", "--resume");
    size_t hint_len = again ? strlen(again) + 32 : 0;
    char *hint = hint_len ? malloc(hint_len) : NULL;
    if (hint) snprintf(hint, hint_len, "; resume with: %s", again);
    sweep_opts_t opts = {.threads = threads,
                         .progress = coordinator && !cli->quiet && isatty(STDERR_FILENO),
                         .fail_fast = cli->fail_fast,
                         .todo = todo,
                         .stop_signal = interrupt_signal,
                         .link = mpi ? mpi_link_for_sweep(mpi, all_threads) : NULL,
                         .journal = journal,
                         .suspects = suspects,
                         .isolate = cli->isolate,
                         .cell_timeout = cli->cell_timeout,
                         .resume_hint = again};
    sweep_stop_t stop;
    crash_install(hint);
    rc = phases_run(exp, out, &opts, mpi, &sum, &stop, err); /* a study with select: runs twice (sweep/phases.h) */
    crash_restore();
    interrupt_restore();
    journal_close(journal, true); /* the sweep ended by itself: nothing is in flight */
    free(hint);
    free(again);
    free(suspects);
    free(todo);
    if (!coordinator) { /* its failures went to rank 0, which reports them */
        ctx->reported_elsewhere = rc != ERR_OK;
        *exit_status = rc ? 1 : stop.signal ? 128 + stop.signal : 0;
        return rc ? ERR_RUNTIME : ERR_OK;
    }
    run_state_t state = rc ? RUN_STOPPED
                        : stop.signal ? RUN_INTERRUPTED
                        : stop.on_failure || summary_done(&sum) < exp->n_cells ? RUN_STOPPED
                                                                              : RUN_COMPLETE;
    err_t close_err;
    err_code_t crc = h5out_set_state(out, state, &close_err);
    err_code_t crc2 = h5out_close(out, crc ? &(err_t){0} : &close_err);
    if (rc) return rc == ERR_NOMEM ? rc : ERR_RUNTIME;
    if (crc || crc2) {
        *err = close_err;
        return ERR_RUNTIME;
    }
    if (!cli->quiet && (rc = print_summary(exp, &sum, output, all_threads, mpi_link_size(mpi), err))) return rc;
    if (stop.signal || stop.on_failure) {
        *exit_status = stop.signal ? 128 + stop.signal : 1;
        return stopped_error(cli, exp, &sum, &stop, output, mpi_link_size(mpi), err);
    }
    *exit_status = sum.failed ? 1 : 0;
    return ERR_OK;
}

COMMAND(run)
{
    *exit_status = 2;
    run_options_t o = {.argc = g->argc, .argv = g->argv};
    if (!(o.overrides = calloc((size_t)argc + 1, sizeof *o.overrides)))
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    ctx->overrides = o.overrides; /* the context owns them: an error's mark may point into a value */
    const char *pos[2];
    size_t n_pos;
    err_code_t rc = cli_parse_options(argc, argv, &cmd_run_options, &o, pos, 2, &n_pos, err);
    ctx->n_overrides = o.n_overrides;
    if (rc == ERR_OK && n_pos == 0) rc = err_set(err, ERR_USAGE, (mark_t){0}, "no config given (see runner --help)");
    if (rc == ERR_OK && n_pos > 1)
        rc = err_set(err, ERR_USAGE, (mark_t){0}, "unexpected argument '%s' (one config at a time)", pos[1]);
    if (rc) return rc;
    o.config = pos[0];
    /* The job outlives this function: rank 0 reports an error before any
     * rank leaves it (run_context_free), or mpirun would end rank 0 first. */
    if (mpi_launched() && (rc = mpi_link_create(&ctx->mpi, err))) return rc;
    return run_job(&o, reg, ctx, ctx->mpi, exit_status, err);
}
