/* sobol.c: the unscrambled Sobol sequence (sobol.h). */
#include "base/sobol.h"

/* Dimensions 2..21: primitive polynomial (bits: x^s ... 1), degree s, the
 * first s direction numbers m_1..m_s (Joe and Kuo, new-joe-kuo-6.21201). */
static const struct {
    uint32_t poly, s, m[7];
} table[SOBOL_MAX_DIMS - 1] = {
    {3, 1, {1}},
    {7, 2, {1, 3}},
    {11, 3, {1, 3, 1}},
    {13, 3, {1, 1, 1}},
    {19, 4, {1, 1, 3, 3}},
    {25, 4, {1, 3, 5, 13}},
    {37, 5, {1, 1, 5, 5, 17}},
    {41, 5, {1, 1, 5, 5, 5}},
    {47, 5, {1, 1, 7, 11, 19}},
    {55, 5, {1, 1, 5, 1, 1}},
    {59, 5, {1, 1, 1, 3, 11}},
    {61, 5, {1, 3, 5, 5, 31}},
    {67, 6, {1, 3, 3, 9, 7, 49}},
    {91, 6, {1, 1, 1, 15, 21, 21}},
    {97, 6, {1, 3, 1, 13, 27, 49}},
    {103, 6, {1, 1, 1, 15, 7, 5}},
    {109, 6, {1, 3, 1, 15, 13, 25}},
    {115, 6, {1, 1, 5, 5, 19, 61}},
    {131, 7, {1, 3, 7, 11, 23, 15, 103}},
    {137, 7, {1, 3, 7, 13, 13, 15, 69}},
};

/* Direction numbers V_1..V_32 of a dimension, as 32-bit fractions. */
static void directions(size_t dim, uint32_t v[32])
{
    if (dim == 0) {
        for (int k = 0; k < 32; k++) v[k] = 1u << (31 - k);
        return;
    }
    uint32_t poly = table[dim - 1].poly, s = table[dim - 1].s, m[32];
    for (uint32_t k = 0; k < 32; k++) {
        if (k < s) {
            m[k] = table[dim - 1].m[k];
            continue;
        }
        /* m_k = 2 a_1 m_{k-1} ^ ... ^ 2^(s-1) a_(s-1) m_(k-s+1) ^ 2^s m_(k-s) ^ m_(k-s) */
        uint32_t x = m[k - s] ^ (m[k - s] << s);
        for (uint32_t i = 1; i < s; i++)
            if ((poly >> (s - i)) & 1u) x ^= m[k - i] << i;
        m[k] = x;
    }
    for (int k = 0; k < 32; k++) v[k] = m[k] << (31 - k);
}

double sobol_point(uint32_t index, size_t dim)
{
    uint32_t v[32], gray = index ^ (index >> 1), x = 0;
    directions(dim, v);
    for (int k = 0; k < 32; k++)
        if ((gray >> k) & 1u) x ^= v[k];
    return (double)x * 0x1p-32;
}
