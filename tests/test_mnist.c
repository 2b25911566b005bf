/*
 * test_mnist.c: the shipped training configs on the real Fashion-MNIST
 * (Debian's dataset-fashion-mnist, installed with the test dependencies),
 * held to the accuracy PyTorch 1.13 reaches on the same networks after 5
 * epochs (0.816, 0.868 and 0.903 for the CNN; the bars are 0.80, 0.86 and
 * 0.89), and the batchnorm comparison to its textbook outcome. A
 * regression in a layer, the loss, the data path or an optimizer shows
 * here as accuracy.
 */
#include "e2e_helpers.h"

static void setup(void) { e2e_make_dir("mnist"); }
static void teardown(void) { e2e_remove_dir(); }
TestSuite(mnist, .init = setup, .fini = teardown, .timeout = 600);

/* Run a shipped config; the final test accuracy of each of its cells into acc. */
static void final_accuracy(const char *config, float *acc, size_t cells)
{
    char out[4096], err[4096], args[1024];
    snprintf(args, sizeof args, "configs/%s.yaml -o %s/%s.h5 --force", config, dir, config);
    cr_assert_eq(run(args, out, sizeof out, err, sizeof err), 0, "%s: %s", config, err);
    size_t n;
    char file[128];
    snprintf(file, sizeof file, "%s.h5", config);
    float *all = read_all(file, "test_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    cr_assert_eq(n % cells, 0);
    for (size_t c = 0; c < cells; c++) acc[c] = all[c * (n / cells) + n / cells - 1];
    free(all);
}

Test(mnist, twolayer_sigmoid_sgd_reaches_0_80)
{
    float a;
    final_accuracy("mnist_twolayer", &a, 1);
    cr_expect_geq(a, 0.80f, "784-100-10 sigmoid, SGD lr 0.1, 5 epochs: test accuracy %.4f", a);
}

Test(mnist, relu5_adam_reaches_0_86)
{
    float a;
    final_accuracy("mnist_relu5", &a, 1);
    cr_expect_geq(a, 0.86f, "5x100 ReLU, He, Adam lr 1e-3, 5 epochs: test accuracy %.4f", a);
}

Test(mnist, optimizer_comparison_runs)
{
    /* 2000 steps each; every adaptive or momentum method beats plain SGD */
    float a[4];
    final_accuracy("mnist_optimizers", a, 4);
    for (size_t c = 1; c < 4; c++) cr_expect_gt(a[c], a[0], "run %zu: %.4f, SGD %.4f", c, a[c], a[0]);
}

Test(mnist, cnn_adam_reaches_0_89)
{
    float a;
    final_accuracy("mnist_cnn", &a, 1);
    cr_expect_geq(a, 0.89f, "conv 30 5x5, ReLU, maxpool, affine 100, ReLU, affine 10, Adam lr 1e-3: test accuracy %.4f",
                  a);
}

Test(mnist, batchnorm_learns_faster)
{
    /* runs (plain, batchnorm) x 3 learning rates: after 20 epochs on 1000
     * samples, batchnorm's training accuracy beats the plain net's at every rate */
    float a[6];
    final_accuracy("batchnorm", a, 6); /* test accuracy: batchnorm generalises better too */
    for (size_t lr = 0; lr < 3; lr++) cr_expect_gt(a[3 + lr], a[lr], "lr %zu: test %.4f vs plain %.4f", lr, a[3 + lr], a[lr]);
    size_t n;
    float *train = read_all("batchnorm.h5", "train_accuracy", H5T_NATIVE_FLOAT, 4, &n);
    cr_assert_eq(n, 6 * 21);
    for (size_t lr = 0; lr < 3; lr++)
        cr_expect_gt(train[(3 + lr) * 21 + 20], train[lr * 21 + 20] + 0.1f, "lr %zu: train %.4f vs plain %.4f", lr,
                     train[(3 + lr) * 21 + 20], train[lr * 21 + 20]);
    free(train);
}
