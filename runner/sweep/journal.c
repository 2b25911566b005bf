/* journal.c: the cells in flight, in a file mapped shared (journal.h). */
#include "sweep/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAGIC "runner-inflight1" /* 16 bytes, no terminator kept */
#define JOURNAL_SUFFIX ".cells-in-flight"
#define JOURNAL_MAX_SLOTS (1u << 20)

typedef struct {
    char magic[16];
    uint64_t n_cells, n_slots;
} journal_header_t;

struct journal {
    int fd;
    char *path;
    void *map;
    size_t bytes, n_slots;
};

char *journal_path(const char *output)
{
    size_t len = strlen(output) + sizeof JOURNAL_SUFFIX;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s%s", output, JOURNAL_SUFFIX);
    return p;
}

/* Only a regular file that this user owns: a planted link, FIFO or
 * another user's file is never written or trusted. */
static err_code_t check_ours(int fd, const char *path, err_t *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return err_set(err, ERR_IO, (mark_t){0}, "cannot stat %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
        return err_set(err, ERR_IO, (mark_t){0},
                       "%s is not a regular file of this user; the runner keeps its cells in flight there: remove it",
                       path);
    return ERR_OK;
}

err_code_t journal_check(const char *output, err_t *err)
{
    char *path = journal_path(output);
    if (!path) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    struct stat st;
    err_code_t rc = ERR_OK;
    if (lstat(path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_uid != geteuid()))
        rc = err_set(err, ERR_IO, (mark_t){0},
                     "%s is %s; the runner keeps its cells in flight under this name beside the results file: remove it",
                     path, S_ISLNK(st.st_mode) ? "a symbolic link" : !S_ISREG(st.st_mode) ? "not a regular file"
                                                                  : "another user's file");
    free(path);
    return rc;
}

err_code_t journal_create(const char *output, uint64_t n_cells, size_t n_slots, journal_t **out, err_t *err)
{
    *out = NULL;
    if (n_slots == 0 || n_slots > JOURNAL_MAX_SLOTS)
        return err_set(err, ERR_RUNTIME, (mark_t){0}, "too many threads for the journal of cells in flight");
    journal_t *j = calloc(1, sizeof *j);
    if (!j || !(j->path = journal_path(output))) {
        free(j);
        return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    }
    j->fd = open(j->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    err_code_t rc = j->fd < 0 ? err_set(err, ERR_IO, (mark_t){0}, "cannot create %s: %s%s", j->path, strerror(errno),
                                        errno == ELOOP ? " (a link: remove it)" : "")
                              : check_ours(j->fd, j->path, err);
    j->n_slots = n_slots;
    j->bytes = sizeof(journal_header_t) + n_slots * sizeof(journal_slot_t);
    /* truncate to 0 first: no slot of an earlier process survives */
    if (rc == ERR_OK && (ftruncate(j->fd, 0) != 0 || ftruncate(j->fd, (off_t)j->bytes) != 0))
        rc = err_set(err, ERR_IO, (mark_t){0}, "cannot size %s: %s", j->path, strerror(errno));
    if (rc == ERR_OK) {
        j->map = mmap(NULL, j->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
        if (j->map == MAP_FAILED) {
            j->map = NULL;
            rc = err_set(err, ERR_IO, (mark_t){0}, "cannot map %s: %s", j->path, strerror(errno));
        }
    }
    if (rc) {
        journal_close(j, j->fd >= 0 && rc != ERR_IO);
        return rc;
    }
    journal_header_t *h = j->map;
    memcpy(h->magic, JOURNAL_MAGIC, sizeof h->magic);
    h->n_cells = n_cells;
    h->n_slots = n_slots;
    *out = j;
    return ERR_OK;
}

journal_slot_t *journal_slot(journal_t *j, size_t i)
{
    return (journal_slot_t *)((char *)j->map + sizeof(journal_header_t)) + i;
}

size_t journal_slots(const journal_t *j) { return j->n_slots; }

void journal_close(journal_t *j, bool remove_file)
{
    if (!j) return;
    if (j->map) munmap(j->map, j->bytes);
    if (j->fd >= 0) close(j->fd);
    if (remove_file && j->path) unlink(j->path);
    free(j->path);
    free(j);
}

void journal_remove(const char *output)
{
    char *p = journal_path(output);
    if (p) unlink(p);
    free(p);
}

err_code_t journal_read_crashed(const char *output, uint64_t n_cells, unsigned char *suspects, int32_t *reasons,
                                size_t *n_suspects, err_t *err)
{
    memset(suspects, 0, n_cells);
    *n_suspects = 0;
    char *path = journal_path(output);
    if (!path) return err_set(err, ERR_NOMEM, (mark_t){0}, "out of memory");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err_code_t rc = errno == ENOENT ? ERR_OK
                                        : err_set(err, ERR_IO, (mark_t){0}, "cannot open %s: %s%s", path, strerror(errno),
                                                  errno == ELOOP ? " (a link: remove it)" : "");
        free(path);
        return rc;
    }
    err_code_t rc = check_ours(fd, path, err);
    journal_header_t h;
    bool shaped = rc == ERR_OK && pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h &&
                  !memcmp(h.magic, JOURNAL_MAGIC, sizeof h.magic) && h.n_cells == n_cells && h.n_slots > 0 &&
                  h.n_slots <= JOURNAL_MAX_SLOTS;
    for (uint64_t i = 0; shaped && i < h.n_slots; i++) {
        journal_slot_t s;
        if (pread(fd, &s, sizeof s, (off_t)(sizeof h + i * sizeof s)) != (ssize_t)sizeof s) break;
        /* a slot out of shape (a damaged file) is not trusted */
        if (s.state != SLOT_CRASHED || s.c0 >= s.c1 || s.c1 > n_cells || s.done > s.c1 - s.c0) continue;
        for (uint64_t c = s.c0 + s.done; c < s.c1; c++) {
            *n_suspects += !suspects[c];
            suspects[c] = 1;
            if (reasons) reasons[c] = s.reason;
        }
    }
    close(fd);
    free(path);
    return rc;
}
