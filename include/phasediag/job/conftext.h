/* The job-file keys as text, by their descriptors (confkeys.h): a value
 * read from a job file into pd_config, what a value must be (the words of
 * the parser's messages and of the range checks), and the key table as
 * Markdown (`phasediag --help-config`, the README's table). */
#ifndef PHASEDIAG_CONFTEXT_H
#define PHASEDIAG_CONFTEXT_H

#include <stddef.h>
#include <stdio.h>

#include "phasediag/job/confkeys.h"

/* Longest value text read (inih's lines are shorter). */
#define PD_CONFTEXT_MAX_VALUE 1024

/* Read `value`, the text of key k (PD_K_*) in a job file, into cfg: a
 * value of the key's type within its range.  PD_OK, or PD_ERR_CONFIG with
 * what is wrong in msg, to follow "[section] key: " -- "expected an
 * integer >= 1, got 'x'", "'3' is listed twice (values must be distinct)"
 * -- without touching the error trace (the caller names file and line).
 * A list fills its first entries and its count; the entries after them
 * are left as they were. */
int pd_conftext_read(int k, const char *value, pd_config *cfg, char *msg,
                     size_t size);

/* What a value (of a list: an entry) of k must be, as the messages say
 * it: "an integer in [2, 2^62]", "a finite number > 0", "true or false
 * (or yes/no, on/off, 1/0)", "builtin, hdf5 or idx", "a path". */
void pd_conftext_expected(const pd_confkey *k, char *buf, size_t size);

/* "a, b or c": n names joined into buf (always terminated). */
void pd_conftext_join(const char *const *names, int n, char *buf, size_t size);

/* `phasediag --help-config`: the key table as Markdown, one row per key:
 * | section | key | type/range | default | meaning |.  PD_ERR_IO if the
 * output fails. */
int pd_conftext_help(FILE *out);

#endif
