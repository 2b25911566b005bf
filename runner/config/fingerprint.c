/* fingerprint.c: a hash of everything that determines a sweep's numbers. */
#include "config/fingerprint.h"

#include <stdio.h>
#include <string.h>

uint64_t fnv1a64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Each piece is hashed with its terminating NUL, so "ab"+"c" != "a"+"bc". */
static uint64_t add(uint64_t h, const char *s)
{
    return fnv1a64(h, s, strlen(s) + 1);
}

void experiment_fingerprint(const experiment_t *exp, const char *runner_version, char out[FINGERPRINT_LEN])
{
    uint64_t h = add(FNV1A64_INIT, "runner results 1");
    h = add(h, runner_version);
    h = add(h, exp->resolved_text);
    for (size_t i = 0; i < exp->n_plugins_used; i++) {
        const runner_plugin_t *d = exp->plugins_used[i]->desc;
        h = add(add(h, d->name), d->version);
    }
    snprintf(out, FINGERPRINT_LEN, "fnv1a64:%016llx", (unsigned long long)h);
}
