/* host_services.c: sgemm for plugins, through OpenBLAS's CBLAS. */
#include "host_services.h"

#include <cblas.h>

static void host_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
                       const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m,
                (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

static const runner_host_t services = {
    .size = sizeof(runner_host_t),
    .sgemm = host_sgemm,
};

const runner_host_t *host_services(void) { return &services; }

void host_set_blas_threads(int threads) { openblas_set_num_threads(threads > 0 ? threads : 1); }
