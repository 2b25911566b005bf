/* text_safety.c: printable UTF-8 checks for text that comes from plugins. */
#include "base/text_safety.h"

#include <stdint.h>

/* The length of the valid UTF-8 sequence at p (1-4), or 0 when invalid
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_length(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (!n || (n == 3 && c > 0xEF)) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    uint32_t cp = n == 2 ? (c & 0x1Fu) << 6 | (p[1] & 0x3Fu)
                : n == 3 ? (c & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu)
                         : (c & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static bool is_control(unsigned c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

bool text_is_safe(const char *s, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; p[i];) {
        size_t n = is_control(p[i]) ? 0 : utf8_length(p + i);
        if (!n) {
            if (bad_at) *bad_at = i;
            return false;
        }
        i += n;
    }
    return true;
}

void text_make_safe(char *s)
{
    unsigned char *p = (unsigned char *)s;
    for (size_t i = 0; p[i];) {
        size_t n = is_control(p[i]) ? 0 : utf8_length(p + i);
        if (n) {
            i += n;
        } else {
            p[i++] = '?';
        }
    }
}
