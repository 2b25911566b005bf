/* test_guards.c: sizes as users write them, and the disk guard's arithmetic. */
#include "results/h5out.h"
#include "sweep/guards.h"
#include "helpers.h"

Test(guards, parse_bytes)
{
    struct {
        const char *text;
        uint64_t bytes;
    } ok[] = {{"4096", 4096}, {"500M", 500000000}, {"2G", 2000000000}, {"1.5T", 1500000000000},
              {"20GB", 20000000000}, {"1GiB", 1073741824}, {"1Gi", 1073741824}, {"3k", 3000}, {"1P", 1000000000000000}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t b = 0;
        cr_expect_eq(parse_bytes(ok[i].text, &b), 0, "%s refused", ok[i].text);
        cr_expect_eq(b, ok[i].bytes, "%s -> %llu", ok[i].text, (unsigned long long)b);
    }
    const char *bad[] = {"", "G", "-5G", "5X", "5GG", "1e30", "nan", "5 G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t b;
        cr_expect_neq(parse_bytes(bad[i], &b), 0, "'%s' accepted", bad[i]);
    }
}

Test(guards, format_bytes)
{
    char buf[32];
    format_bytes(buf, sizeof buf, 999);
    cr_expect_str_eq(buf, "999 bytes");
    format_bytes(buf, sizeof buf, 2400000000);
    cr_expect_str_eq(buf, "2.4 GB");
    format_bytes(buf, sizeof buf, 40800000000000);
    cr_expect_str_eq(buf, "40.8 TB");
}

/* The estimate covers the data the file will hold, and the guard compares it
 * with --max-output; resuming counts only the cells still to compute. */
Test(guards, output_estimate_and_max_output)
{
    registry_t reg;
    load_build_plugins(&reg);
    experiment_t ex;
    err_t err;
    cr_assert_eq(load_text(&ex, &reg,
                           "steps: 999\nproblem: {objective: elliptic, start: [1, 2]}\noptimizer: {name: sgd, lr: 0.1}\n"
                           "grid: {optimizer.lr: {linspace: [0.01, 0.1, 100]}}\n",
                           &err),
                 ERR_OK, "%s", err.msg);
    uint64_t all = h5out_bytes_needed(&ex, NULL), data = 100ull * 1000 * 4 * 4;
    cr_expect_gt(all, data);
    cr_expect_lt(all, data + (2u << 20), "estimate %llu far above the data", (unsigned long long)all);
    unsigned char todo[100] = {0};
    todo[3] = todo[50] = 1;
    cr_expect_lt(h5out_bytes_needed(&ex, todo), all / 40);
    cr_expect_eq(guard_resources(&ex, NULL, "/tmp/x.h5", 2, all, &err), ERR_OK, "%s", err.msg);
    cr_expect_eq(guard_resources(&ex, NULL, "/tmp/x.h5", 2, all - 1, &err), ERR_CONFIG);
    cr_expect(strstr(err.msg, "100 cells x 4000 values x 4 bytes"), "%s", err.msg);
    cr_expect(strstr(err.msg, "raise --max-output"), "%s", err.msg);
    cr_expect_eq(guard_resources(&ex, todo, "/tmp/x.h5", 2, all / 40, &err), ERR_OK, "%s", err.msg);
    experiment_free(&ex);
    registry_free(&reg);
}
