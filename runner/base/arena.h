/*
 * arena.h: a bump allocator. A config, its expansion into cells and every
 * tree built on the way live in one arena and are freed together, which is
 * what makes sharing subtrees between cells (path copying) cheap and safe.
 */
#ifndef RUNNER_ARENA_H
#define RUNNER_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block_t;
typedef struct {
    arena_block_t *head;
} arena_t;

void arena_init(arena_t *a);
void arena_free(arena_t *a);
/* Free everything but keep one block, for per-item scratch use. */
void arena_reset(arena_t *a);
/* Zeroed, 16-byte aligned memory; NULL only when the system is out of memory. */
void *arena_alloc(arena_t *a, size_t bytes);
char *arena_strndup(arena_t *a, const char *s, size_t n);
char *arena_strdup(arena_t *a, const char *s);
char *arena_printf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
