/* test_sobol.c: the Sobol sequence (base/sobol.h) equals scipy's,
 * tests/fixtures/sobol_reference.json from
 * tests/reference/make_sobol_reference.py: 256 points of 21 dimensions,
 * every value exactly; and each dimension's first 2^m points are
 * stratified. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/sobol.h"
#include "config/yaml_load.h"

Test(sobol, equals_scipy_unscrambled)
{
    arena_t a;
    arena_init(&a);
    char *text;
    size_t len;
    err_t err = {0};
    cr_assert_eq(read_text_file(RUNNER_SOURCE_DIR "/tests/fixtures/sobol_reference.json", &text, &len, &err), ERR_OK,
                 "%s", err.msg);
    node_t *root;
    cr_assert_eq(yaml_load(&a, text, len, "sobol_reference.json", &root, &err), ERR_OK, "%s", err.msg);
    free(text);
    const node_t *points = node_get(root, "points");
    cr_assert(points && points->n == 256);
    for (size_t i = 0; i < points->n; i++) {
        cr_assert_eq(points->items[i]->n, SOBOL_MAX_DIMS);
        for (size_t d = 0; d < SOBOL_MAX_DIMS; d++) {
            double want;
            cr_assert_eq(node_to_double(points->items[i]->items[d], "x", &want, &err), ERR_OK);
            double got = sobol_point((uint32_t)i, d);
            cr_assert_eq(got, want, "point %zu dimension %zu: %.17g, scipy %.17g", i, d, got, want);
        }
    }
    arena_free(&a);
}

Test(sobol, stratified_in_every_dimension)
{
    for (size_t d = 0; d < SOBOL_MAX_DIMS; d++) {
        bool seen[64] = {0};
        for (uint32_t i = 0; i < 64; i++) {
            size_t cell = (size_t)(sobol_point(i, d) * 64);
            cr_expect_not(seen[cell], "dimension %zu: two of the first 64 points in interval %zu", d, cell);
            seen[cell] = true;
        }
    }
}
