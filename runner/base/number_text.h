/*
 * number_text.h: numbers as text people read and programs read back. Used
 * by the config writer (resolved configs, grid labels), plugin schemas and
 * the results reader's axis labels. (runner-plot, in Python, has its own
 * copy of the same rule: number_text.)
 */
#ifndef RUNNER_NUMBER_TEXT_H
#define RUNNER_NUMBER_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The shortest %g text that reads back as exactly v (into buf, >= 32 bytes). */
void format_double(char *buf, size_t len, double v);

/* "12.3 GB": decimal units, as df -H prints them. */
void format_bytes(char *buf, size_t len, uint64_t bytes);

#endif
