/*
 * text_safety.h: text from plugins goes to the terminal and into the
 * results file, so it must be printable UTF-8: a control character (an
 * escape sequence) could rewrite the terminal, and invalid UTF-8 makes the
 * file's strings unreadable to h5py. Descriptor strings (name, version,
 * doc, parameter docs) are checked when a plugin loads; messages a plugin
 * writes at run time are cleaned in place.
 */
#ifndef RUNNER_TEXT_SAFETY_H
#define RUNNER_TEXT_SAFETY_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s is valid UTF-8 without control characters (tab allowed); when
 * not, *bad_at is the offset of the first bad byte. */
bool text_is_safe(const char *s, size_t *bad_at);
/* Replace each control character and each byte of an invalid UTF-8
 * sequence in s with '?'. */
void text_make_safe(char *s);

#endif
