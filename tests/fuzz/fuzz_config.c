/* libFuzzer harness for the job-file parser (pd_config_parse).
 *
 * Every input is parsed as the text of "fuzz.ini".  A rejection must be
 * PD_ERR_CONFIG (or PD_ERR_ARG) with a message that names the file and, when
 * it names a line, a line the text has.  An accepted configuration must be
 * self-consistent: the ranges the parser promises (the key table's, checked
 * by pd_confkeys_check, and by hand), a grid with points and widths, valid
 * training options (pd_train_options_check).  Parsing is
 * deterministic: a second parse of the same text gives the same bytes (or the
 * same message).  Anything else aborts, which libFuzzer reports as a crash.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by
 * tests/fuzz/CMakeLists.txt; run by the ctest fuzz_config. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/job/config.h"
#include "phasediag/model/activation.h"
#include "phasediag/job/confkeys.h"
#include "phasediag/model/scheme.h"
#include "phasediag/train/train.h"

#define PD_FUZZ_PATH "fuzz.ini"

static void pd_fuzz_fail(const char *what, const char *text, const char *msg) {
  fprintf(stderr, "fuzz_config: %s\n", what);
  if (msg) fprintf(stderr, "  message: %s\n", msg);
  fprintf(stderr, "  input (%zu bytes):\n%s\n", strlen(text), text);
  abort();
}

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond)) pd_fuzz_fail("accepted config violates: " #cond, text, NULL); \
  } while (0)

/* A fixed char field holds a NUL-terminated string. */
static int pd_fuzz_terminated(const char *s, size_t size) {
  return memchr(s, '\0', size) != NULL;
}

static int pd_fuzz_distinct_d(const double *v, int n) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++)
      if (v[i] == v[j]) return 0;
  return 1;
}

static int pd_fuzz_distinct_i(const int64_t *v, int n) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++)
      if (v[i] == v[j]) return 0;
  return 1;
}

static void pd_fuzz_check_accepted(const pd_config *c, const char *text) {
  /* strings */
  REQUIRE(strcmp(c->path, PD_FUZZ_PATH) == 0);
  REQUIRE(pd_fuzz_terminated(c->builtin, sizeof c->builtin));
  REQUIRE(pd_fuzz_terminated(c->data_file, sizeof c->data_file));
  REQUIRE(pd_fuzz_terminated(c->images, sizeof c->images));
  REQUIRE(pd_fuzz_terminated(c->labels, sizeof c->labels));
  REQUIRE(pd_fuzz_terminated(c->output, sizeof c->output));
  REQUIRE(c->output[0] != '\0');
  /* [data] */
  REQUIRE(c->source == PD_DATA_BUILTIN || c->source == PD_DATA_HDF5 ||
          c->source == PD_DATA_IDX);
  REQUIRE(c->builtin[0] != '\0');
  REQUIRE(c->source != PD_DATA_HDF5 || c->data_file[0] != '\0');
  REQUIRE(c->n >= 0);
  REQUIRE(c->d >= 0);
  REQUIRE(c->source != PD_DATA_IDX || c->n <= 70000);
  REQUIRE(c->test_n >= 0);
  REQUIRE(c->nfreq >= 0 && c->nfreq <= PD_CONFIG_MAX_SHORT);
  for (int i = 0; i < c->nfreq; i++) REQUIRE(c->freqs[i] >= 1);
  REQUIRE(pd_fuzz_distinct_i(c->freqs, c->nfreq));
  /* [grid]: points, widths, seeds */
  REQUIRE(c->ngamma >= 0 && c->ngamma <= PD_CONFIG_MAX_LIST);
  REQUIRE(c->ngamma_prime >= 0 && c->ngamma_prime <= PD_CONFIG_MAX_LIST);
  REQUIRE((c->ngamma > 0) == (c->ngamma_prime > 0));
  REQUIRE(c->nschemes >= 0 && c->nschemes <= PD_SCHEME_COUNT);
  REQUIRE(c->ngamma > 0 || c->nschemes > 0);
  for (int i = 0; i < c->ngamma; i++) REQUIRE(isfinite(c->gamma[i]));
  for (int i = 0; i < c->ngamma_prime; i++)
    REQUIRE(isfinite(c->gamma_prime[i]));
  REQUIRE(pd_fuzz_distinct_d(c->gamma, c->ngamma));
  REQUIRE(pd_fuzz_distinct_d(c->gamma_prime, c->ngamma_prime));
  for (int i = 0; i < c->nschemes; i++) {
    REQUIRE(c->schemes[i] >= 0 && c->schemes[i] < PD_SCHEME_COUNT);
    for (int j = 0; j < i; j++) REQUIRE(c->schemes[i] != c->schemes[j]);
  }
  REQUIRE(c->nwidths >= 1 && c->nwidths <= PD_CONFIG_MAX_LIST);
  for (int i = 0; i < c->nwidths; i++) {
    REQUIRE(c->widths[i] >= 2);
    REQUIRE(!c->asi || c->widths[i] % 2 == 0);
  }
  REQUIRE(pd_fuzz_distinct_i(c->widths, c->nwidths));
  REQUIRE(c->nseeds >= 1 && c->nseeds <= PD_CONFIG_MAX_LIST);
  for (int i = 0; i < c->nseeds; i++)
    for (int j = 0; j < i; j++) REQUIRE(c->seeds[i] != c->seeds[j]);
  /* [model], [train], [classify], [features], [run] */
  REQUIRE(c->asi == 0 || c->asi == 1);
  REQUIRE(isfinite(c->base_scale) && c->base_scale > 0);
  REQUIRE(pd_activation_find(c->activation) != NULL);
  pd_error_clear();
  if (pd_confkeys_check(c) != PD_OK)
    pd_fuzz_fail("accepted config is outside the key table's ranges", text,
                 pd_error_message());
  if (pd_train_options_check(&c->train) != PD_OK)
    pd_fuzz_fail("accepted config has invalid [train] options", text,
                 pd_error_message());
  REQUIRE(c->train.history_points >= 2);
  REQUIRE(isfinite(c->band) && c->band >= 0);
  REQUIRE(c->feature_cap >= 1);
  REQUIRE(c->cos_threshold > 0 && c->cos_threshold < 1);
  REQUIRE(c->group_size >= 0);
  REQUIRE(c->overwrite == 0 || c->overwrite == 1);
  /* [spectral], [ntk] */
  REQUIRE(c->spectral == 0 || c->spectral == 1);
  REQUIRE(c->ntk == 0 || c->ntk == 1);
  REQUIRE(c->sp_peaks >= 1);
  REQUIRE(c->sp_peak_rel > 0 && c->sp_peak_rel <= 1);
  REQUIRE(c->sp_max_freq >= 0);
  REQUIRE(isfinite(c->sp_delta_tol) && c->sp_delta_tol > 0);
  REQUIRE(c->sp_ndeltas >= 1 && c->sp_ndeltas <= PD_CONFIG_MAX_SHORT);
  for (int i = 0; i < c->sp_ndeltas; i++)
    REQUIRE(isfinite(c->sp_deltas[i]) && c->sp_deltas[i] > 0);
  REQUIRE(c->sp_grid_n >= 2);
  REQUIRE(c->ntk_top >= 1);
  REQUIRE(isfinite(c->ntk_ridge) && c->ntk_ridge >= 0);
}

/* "fuzz.ini:LINE: ..." names a line of the text (or the one after it). */
static void pd_fuzz_check_rejected(int err, const char *msg, const char *text) {
  if (err != PD_ERR_CONFIG && err != PD_ERR_ARG)
    pd_fuzz_fail("rejection with an unexpected error code", text, msg);
  if (msg == NULL || msg[0] == '\0')
    pd_fuzz_fail("rejection without a message", text, msg);
  const char *at = strstr(msg, PD_FUZZ_PATH);
  if (at == NULL) pd_fuzz_fail("the message does not name the file", text, msg);
  if (at[strlen(PD_FUZZ_PATH)] == ':') {
    char *end = NULL;
    long line = strtol(at + strlen(PD_FUZZ_PATH) + 1, &end, 10);
    if (end != at + strlen(PD_FUZZ_PATH) + 1 && *end == ':') {
      long lines = 1;
      for (const char *p = text; *p; p++) lines += *p == '\n';
      if (line < 1 || line > lines)
        pd_fuzz_fail("the message names a line the text does not have", text,
                     msg);
    }
  }
}

static pd_config pd_fuzz_cfg[2];
static char pd_fuzz_msg[8192];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';

  pd_error_clear();
  int err = pd_config_parse(PD_FUZZ_PATH, text, &pd_fuzz_cfg[0]);
  if (err == PD_OK) {
    pd_fuzz_check_accepted(&pd_fuzz_cfg[0], text);
  } else {
    const char *msg = pd_error_message();
    pd_fuzz_check_rejected(err, msg, text);
    snprintf(pd_fuzz_msg, sizeof pd_fuzz_msg, "%s", msg);
  }

  /* Deterministic: the same text gives the same bytes or message. */
  pd_error_clear();
  int err2 = pd_config_parse(PD_FUZZ_PATH, text, &pd_fuzz_cfg[1]);
  if (err2 != err)
    pd_fuzz_fail("a second parse gave another result", text, NULL);
  if (err == PD_OK &&
      memcmp(&pd_fuzz_cfg[0], &pd_fuzz_cfg[1], sizeof pd_fuzz_cfg[0]) != 0)
    pd_fuzz_fail("a second parse gave other bytes", text, NULL);
  if (err != PD_OK && strcmp(pd_fuzz_msg, pd_error_message()) != 0)
    pd_fuzz_fail("a second parse gave another message", text,
                 pd_error_message());
  free(text);
  return 0;
}
