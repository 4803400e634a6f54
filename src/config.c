#include "phasediag/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "phasediag/dataset.h"
#include "phasediag/error.h"
#include "phasediag/files.h"
#include "phasediag/mem.h"

/* A configuration is a small text file: anything larger is a mistake. */
#define PD_CONFIG_MAX_TEXT (1 << 20)
#define PD_CONFIG_MSG 2048
/* Longest value inih can hand us (its line buffer), with room to spare. */
#define PD_CONFIG_MAX_VALUE 1024

_Static_assert(sizeof(pd_config) <= INT_MAX,
               "pd_config is broadcast as one MPI_BYTE count");

/* ---- sections and keys --------------------------------------------------- */

enum {
  S_DATA,
  S_GRID,
  S_MODEL,
  S_TRAIN,
  S_CLASSIFY,
  S_FEATURES,
  S_SPECTRAL,
  S_NTK,
  S_RUN,
  S_OUTPUT,
  S_COUNT
};

static const char *const pd_sections[S_COUNT] = {
    "data",     "grid",     "model", "train", "classify",
    "features", "spectral", "ntk",   "run",   "output"};

enum {
  K_SOURCE,
  K_BUILTIN,
  K_N,
  K_D,
  K_DATA_SEED,
  K_DATA_FILE,
  K_IMAGES,
  K_LABELS,
  K_FREQUENCIES,
  K_SAMPLING,
  K_TEST,
  K_TEST_N,
  K_GAMMA,
  K_GAMMA_PRIME,
  K_WIDTHS,
  K_SEEDS,
  K_SCHEMES,
  K_ASI,
  K_BASE_SCALE,
  K_TOL,
  K_MAX_STEPS,
  K_LR_CAP,
  K_LR_GROW,
  K_LR_SHRINK,
  K_LAMBDA_EVERY,
  K_POWER_ITERS,
  K_MAX_REJECTS,
  K_MAX_REL_STEP,
  K_HISTORY_POINTS,
  K_BAND,
  K_CAP,
  K_COS_THRESHOLD,
  K_SP_ENABLED,
  K_SP_SNAPSHOTS,
  K_SP_METHODS,
  K_SP_PEAKS,
  K_SP_PEAK_REL,
  K_SP_MAX_FREQ,
  K_SP_DELTA_TOL,
  K_SP_DELTAS,
  K_SP_GRID_N,
  K_SP_GRID_METHOD,
  K_NTK_ENABLED,
  K_NTK_TOP,
  K_NTK_RIDGE,
  K_NTK_LFP,
  K_GROUP_SIZE,
  K_CHECKPOINT,
  K_CHECKPOINT_INTERVAL,
  K_OUTPUT_FILE,
  K_OVERWRITE,
  K_COUNT
};

static const struct {
  int section;
  const char *name;
} pd_keys[K_COUNT] = {
    [K_SOURCE] = {S_DATA, "source"},
    [K_BUILTIN] = {S_DATA, "builtin"},
    [K_N] = {S_DATA, "n"},
    [K_D] = {S_DATA, "d"},
    [K_DATA_SEED] = {S_DATA, "data_seed"},
    [K_DATA_FILE] = {S_DATA, "file"},
    [K_IMAGES] = {S_DATA, "images"},
    [K_LABELS] = {S_DATA, "labels"},
    [K_FREQUENCIES] = {S_DATA, "frequencies"},
    [K_SAMPLING] = {S_DATA, "sampling"},
    [K_TEST] = {S_DATA, "test"},
    [K_TEST_N] = {S_DATA, "test_n"},
    [K_GAMMA] = {S_GRID, "gamma"},
    [K_GAMMA_PRIME] = {S_GRID, "gamma_prime"},
    [K_WIDTHS] = {S_GRID, "widths"},
    [K_SEEDS] = {S_GRID, "seeds"},
    [K_SCHEMES] = {S_GRID, "schemes"},
    [K_ASI] = {S_MODEL, "asi"},
    [K_BASE_SCALE] = {S_MODEL, "base_scale"},
    [K_TOL] = {S_TRAIN, "tol"},
    [K_MAX_STEPS] = {S_TRAIN, "max_steps"},
    [K_LR_CAP] = {S_TRAIN, "lr_cap"},
    [K_LR_GROW] = {S_TRAIN, "lr_grow"},
    [K_LR_SHRINK] = {S_TRAIN, "lr_shrink"},
    [K_LAMBDA_EVERY] = {S_TRAIN, "lambda_every"},
    [K_POWER_ITERS] = {S_TRAIN, "power_iters"},
    [K_MAX_REJECTS] = {S_TRAIN, "max_rejects"},
    [K_MAX_REL_STEP] = {S_TRAIN, "max_rel_step"},
    [K_HISTORY_POINTS] = {S_TRAIN, "history_points"},
    [K_BAND] = {S_CLASSIFY, "band"},
    [K_CAP] = {S_FEATURES, "cap"},
    [K_COS_THRESHOLD] = {S_FEATURES, "cos_threshold"},
    [K_SP_ENABLED] = {S_SPECTRAL, "enabled"},
    [K_SP_SNAPSHOTS] = {S_SPECTRAL, "snapshots"},
    [K_SP_METHODS] = {S_SPECTRAL, "methods"},
    [K_SP_PEAKS] = {S_SPECTRAL, "peaks"},
    [K_SP_PEAK_REL] = {S_SPECTRAL, "peak_rel"},
    [K_SP_MAX_FREQ] = {S_SPECTRAL, "max_freq"},
    [K_SP_DELTA_TOL] = {S_SPECTRAL, "delta_tol"},
    [K_SP_DELTAS] = {S_SPECTRAL, "deltas"},
    [K_SP_GRID_N] = {S_SPECTRAL, "grid_n"},
    [K_SP_GRID_METHOD] = {S_SPECTRAL, "grid_method"},
    [K_NTK_ENABLED] = {S_NTK, "enabled"},
    [K_NTK_TOP] = {S_NTK, "top"},
    [K_NTK_RIDGE] = {S_NTK, "ridge"},
    [K_NTK_LFP] = {S_NTK, "lfp"},
    [K_GROUP_SIZE] = {S_RUN, "group_size"},
    [K_CHECKPOINT] = {S_RUN, "checkpoint"},
    [K_CHECKPOINT_INTERVAL] = {S_RUN, "checkpoint_interval"},
    [K_OUTPUT_FILE] = {S_OUTPUT, "file"},
    [K_OVERWRITE] = {S_OUTPUT, "overwrite"},
};

static const char *const pd_builtins[] = {"paper1d", "sines", "relu_mix",
                                          "harmonics", "parity"};
static const char *const pd_test_names[] = {"none", "grid", "holdout"};
static const char *const pd_sampling_names[] = {"auto", "uniform", "random"};
static const char *const pd_sp_method_names[] = {"dft", "projection", "filter",
                                                 "grid"};
static const char *const pd_grid_method_names[] = {"auto", "gather", "reduce"};
static const char *const pd_source_names[] = {"builtin", "hdf5", "idx"};

/* ---- parse state and error recording ------------------------------------- */

typedef struct {
  const char *path;
  const char *next; /* first unread character of the text */
  int line;         /* lines delivered to inih so far: the current line */
  int failed;       /* an error is recorded; only the first one is kept */
  int err_line;     /* its line (0: not tied to a line) */
  char msg[PD_CONFIG_MSG];
  int key_line[K_COUNT]; /* line each key was given on, 0 = absent */
  pd_config *cfg;
} pd_parse;

/* Record an error at `line` (0: none) unless one is already recorded.
 * Returns 0 so handlers can return it to inih. */
static int pd_fail_at(pd_parse *st, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pd_fail_at(pd_parse *st, int line, const char *fmt, ...) {
  if (st->failed) return 0;
  st->failed = 1;
  st->err_line = line;
  int w = line > 0
              ? snprintf(st->msg, sizeof st->msg, "%s:%d: ", st->path, line)
              : snprintf(st->msg, sizeof st->msg, "%s: ", st->path);
  if (w < 0 || (size_t)w >= sizeof st->msg) return 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->msg + w, sizeof st->msg - (size_t)w, fmt, ap);
  va_end(ap);
  return 0;
}

/* "PATH:LINE: [section] key: expected WHAT, got 'VALUE'" at the current
 * line. */
static int pd_expected(pd_parse *st, int key, const char *what,
                       const char *value) {
  return pd_fail_at(st, st->line, "[%s] %s: expected %s, got '%s'",
                    pd_sections[pd_keys[key].section], pd_keys[key].name, what,
                    value);
}

/* ---- value syntax -------------------------------------------------------- */

/* What strtod accepts, minus inf, nan, hex and leading blanks. */
static int pd_number_text(const char *s) {
  return *s != '\0' && strspn(s, "0123456789+-.eE") == strlen(s);
}

static int pd_parse_double(const char *s, double *out) {
  if (!pd_number_text(s)) return 0;
  char *end = NULL;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || *end != '\0' || !isfinite(x)) return 0;
  *out = x;
  return 1;
}

/* Integers in decimal, or written like 1e4 if the value is integral. */
static int pd_parse_int(const char *s, int64_t *out) {
  if (!pd_number_text(s)) return 0;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end != s && *end == '\0') {
    if (errno == ERANGE) return 0;
    *out = (int64_t)v;
    return 1;
  }
  double x = 0;
  if (!pd_parse_double(s, &x)) return 0;
  /* 0x1p63 itself does not fit int64_t */
  if (x != floor(x) || x < -0x1p63 || x >= 0x1p63) return 0;
  *out = (int64_t)x;
  return 1;
}

static int pd_real(pd_parse *st, int key, const char *value, double lo,
                   int lo_open, double hi, int hi_open, const char *what,
                   double *out) {
  double x = 0;
  if (!pd_parse_double(value, &x) || x < lo || (lo_open && x == lo) || x > hi ||
      (hi_open && x == hi))
    return pd_expected(st, key, what, value);
  *out = x;
  return 1;
}

static int pd_int(pd_parse *st, int key, const char *value, int64_t lo,
                  int64_t hi, const char *what, int64_t *out) {
  int64_t v = 0;
  if (!pd_parse_int(value, &v) || v < lo || v > hi)
    return pd_expected(st, key, what, value);
  *out = v;
  return 1;
}

static int pd_int32(pd_parse *st, int key, const char *value, int lo, int hi,
                    const char *what, int *out) {
  int64_t v = 0;
  if (!pd_int(st, key, value, lo, hi, what, &v)) return 0;
  *out = (int)v;
  return 1;
}

static int pd_bool(pd_parse *st, int key, const char *value, int *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(value, yes[i]) == 0) {
      *out = 1;
      return 1;
    }
    if (strcasecmp(value, no[i]) == 0) {
      *out = 0;
      return 1;
    }
  }
  return pd_expected(st, key, "true or false (or yes/no, on/off, 1/0)", value);
}

/* Copy into a fixed field, zero-filled so the struct's bytes depend only on
 * the values. */
static void pd_set_string(char *dst, size_t size, const char *src) {
  memset(dst, 0, size);
  memcpy(dst, src, strlen(src));
}

/* A path, taken as written; one pair of quotes around it (as in shell or
 * TOML habits: file = "out.h5") is not part of the name. */
static int pd_path(pd_parse *st, int key, const char *value, char *dst) {
  size_t n = strlen(value);
  const int quoted = n >= 2 && (value[0] == '"' || value[0] == '\'') &&
                     value[n - 1] == value[0];
  if (quoted) value++, n -= 2;
  if (n == 0) return pd_expected(st, key, "a path", value - quoted);
  if (!quoted && (strchr("\"'", value[0]) || strchr("\"'", value[n - 1])))
    return pd_expected(st, key, "a path (quotes only as a matching pair)",
                       value);
  if (n >= PD_CONFIG_MAX_PATH) {
    char what[64];
    snprintf(what, sizeof what, "a path of at most %d characters",
             PD_CONFIG_MAX_PATH - 1);
    return pd_expected(st, key, what, value);
  }
  memset(dst, 0, PD_CONFIG_MAX_PATH);
  memcpy(dst, value, n);
  return 1;
}

static int pd_choice(pd_parse *st, int key, const char *value,
                     const char *const *names, int count, const char *what,
                     int *out) {
  for (int i = 0; i < count; i++) {
    if (strcmp(value, names[i]) == 0) {
      *out = i;
      return 1;
    }
  }
  return pd_expected(st, key, what, value);
}

/* ---- lists --------------------------------------------------------------- */

typedef struct {
  char buf[PD_CONFIG_MAX_VALUE];
  char *item[PD_CONFIG_MAX_LIST];
  int n;
} pd_list;

static char *pd_trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

/* Split value at `sep` into trimmed items (an empty value is one empty
 * item, which the item parsers refuse). */
static int pd_split(pd_parse *st, int key, const char *value, char sep,
                    pd_list *l) {
  if (strlen(value) >= sizeof l->buf)
    return pd_fail_at(st, st->line, "[%s] %s: value too long",
                      pd_sections[pd_keys[key].section], pd_keys[key].name);
  memcpy(l->buf, value, strlen(value) + 1);
  l->n = 0;
  char *s = l->buf;
  for (;;) {
    char *e = strchr(s, sep);
    if (e) *e = '\0';
    if (l->n == PD_CONFIG_MAX_LIST)
      return pd_fail_at(st, st->line,
                        "[%s] %s: expected at most %d values, got more",
                        pd_sections[pd_keys[key].section], pd_keys[key].name,
                        PD_CONFIG_MAX_LIST);
    l->item[l->n++] = pd_trim(s);
    if (!e) break;
    s = e + 1;
  }
  return 1;
}

static int pd_twice(pd_parse *st, int key, const char *item) {
  return pd_fail_at(st, st->line,
                    "[%s] %s: '%s' is listed twice (values must be distinct)",
                    pd_sections[pd_keys[key].section], pd_keys[key].name, item);
}

/* start:stop:step, inclusive of stop to within 1e-9 step; the last value is
 * stop exactly when it is reached. */
static int pd_range(pd_parse *st, int key, const char *value, double *vals,
                    int *count) {
  pd_list l;
  if (!pd_split(st, key, value, ':', &l)) return 0;
  double a = 0, b = 0, h = 0;
  if (l.n != 3 || !pd_parse_double(l.item[0], &a) ||
      !pd_parse_double(l.item[1], &b) || !pd_parse_double(l.item[2], &h))
    return pd_expected(st, key, "start:stop:step of finite numbers", value);
  if (!(b >= a ? h > 0 : h < 0))
    return pd_expected(st, key,
                       "start:stop:step with step > 0 (step < 0 if stop < "
                       "start)",
                       value);
  double k = (b - a) / h;
  if (!(k + 1e-9 < PD_CONFIG_MAX_LIST)) {
    char what[64];
    snprintf(what, sizeof what, "a range of at most %d values",
             PD_CONFIG_MAX_LIST);
    return pd_expected(st, key, what, value);
  }
  int n = (int)floor(k + 1e-9);
  for (int i = 0; i <= n; i++) vals[i] = a + i * h;
  if (fabs(k - n) <= 1e-9) vals[n] = b;
  for (int i = 1; i <= n; i++) /* a step below the precision at a */
    if (vals[i] == vals[i - 1])
      return pd_expected(st, key,
                         "start:stop:step with distinct values (the step is "
                         "too small for double precision)",
                         value);
  *count = n + 1;
  return 1;
}

static int pd_gamma_list(pd_parse *st, int key, const char *value, double *vals,
                         int *count) {
  if (strchr(value, ':')) {
    if (strchr(value, ','))
      return pd_expected(
          st, key, "a comma list of finite numbers or start:stop:step", value);
    return pd_range(st, key, value, vals, count);
  }
  pd_list l;
  if (!pd_split(st, key, value, ',', &l)) return 0;
  for (int i = 0; i < l.n; i++) {
    if (!pd_parse_double(l.item[i], &vals[i]))
      return pd_expected(st, key, "a finite number (or start:stop:step)",
                         l.item[i]);
    for (int j = 0; j < i; j++)
      if (vals[j] == vals[i]) return pd_twice(st, key, l.item[i]);
  }
  *count = l.n;
  return 1;
}

static int pd_int_list(pd_parse *st, int key, const char *value, int64_t lo,
                       int64_t hi, const char *what, int64_t *vals,
                       int *count) {
  pd_list l;
  if (!pd_split(st, key, value, ',', &l)) return 0;
  for (int i = 0; i < l.n; i++) {
    if (!pd_int(st, key, l.item[i], lo, hi, what, &vals[i])) return 0;
    for (int j = 0; j < i; j++)
      if (vals[j] == vals[i]) return pd_twice(st, key, l.item[i]);
  }
  *count = l.n;
  return 1;
}

static int pd_seed_list(pd_parse *st, int key, const char *value,
                        pd_config *cfg) {
  int64_t v[PD_CONFIG_MAX_LIST];
  int n = 0;
  if (!pd_int_list(st, key, value, 0, INT64_MAX, "an integer >= 0", v, &n))
    return 0;
  for (int i = 0; i < n; i++) cfg->seeds[i] = (uint64_t)v[i];
  cfg->nseeds = n;
  return 1;
}

static int pd_scheme_list(pd_parse *st, int key, const char *value,
                          pd_config *cfg) {
  pd_list l;
  if (!pd_split(st, key, value, ',', &l)) return 0;
  /* each named scheme at most once, so the list fits schemes[] */
  for (int i = 0; i < l.n; i++) {
    int kind = -1;
    for (int k = PD_SCHEME_NTK; k < PD_SCHEME_COUNT; k++)
      if (strcmp(l.item[i], pd_scheme_name((pd_scheme_kind)k)) == 0) kind = k;
    if (kind < 0)
      return pd_expected(st, key, "ntk, mean_field, xavier, lecun or he",
                         l.item[i]);
    for (int j = 0; j < i; j++)
      if (cfg->schemes[j] == kind) return pd_twice(st, key, l.item[i]);
    cfg->schemes[i] = kind;
  }
  cfg->nschemes = l.n;
  return 1;
}

/* Split a comma list of at most PD_CONFIG_MAX_SHORT items. */
static int pd_short_list(pd_parse *st, int key, const char *value, pd_list *l) {
  if (!pd_split(st, key, value, ',', l)) return 0;
  if (l->n > PD_CONFIG_MAX_SHORT)
    return pd_fail_at(st, st->line, "[%s] %s: expected at most %d values",
                      pd_sections[pd_keys[key].section], pd_keys[key].name,
                      PD_CONFIG_MAX_SHORT);
  return 1;
}

/* A short comma list of distinct positive integers (harmonic frequencies). */
static int pd_freq_list(pd_parse *st, int key, const char *value,
                        pd_config *cfg) {
  pd_list l;
  if (!pd_short_list(st, key, value, &l)) return 0;
  return pd_int_list(st, key, value, 1, 1 << 20, "an integer in [1, 2^20]",
                     cfg->freqs, &cfg->nfreq);
}

/* Filter widths: distinct finite numbers > 0. */
static int pd_delta_list(pd_parse *st, int key, const char *value,
                         pd_config *cfg) {
  pd_list l;
  if (!pd_short_list(st, key, value, &l)) return 0;
  for (int i = 0; i < l.n; i++) {
    double x = 0;
    if (!pd_parse_double(l.item[i], &x) || !(x > 0))
      return pd_expected(st, key, "a finite number > 0", l.item[i]);
    for (int j = 0; j < i; j++)
      if (cfg->sp_deltas[j] == x) return pd_twice(st, key, l.item[i]);
    cfg->sp_deltas[i] = x;
  }
  cfg->sp_ndeltas = l.n;
  return 1;
}

static int pd_method_list(pd_parse *st, int key, const char *value,
                          pd_config *cfg) {
  pd_list l;
  if (!pd_split(st, key, value, ',', &l)) return 0;
  int bits = 0;
  for (int i = 0; i < l.n; i++) {
    int m = 0;
    if (!pd_choice(st, key, l.item[i], pd_sp_method_names, 4,
                   "dft, projection, filter or grid", &m))
      return 0;
    if (bits & (1 << m)) return pd_twice(st, key, l.item[i]);
    bits |= 1 << m;
  }
  cfg->sp_methods = bits;
  return 1;
}

/* ---- one key ------------------------------------------------------------- */

static int pd_set(pd_parse *st, int key, const char *v) {
  pd_config *c = st->cfg;
  pd_train_options *t = &c->train;
  switch (key) {
    case K_SOURCE:
      return pd_choice(st, key, v, pd_source_names, 3, "builtin, hdf5 or idx",
                       &c->source);
    case K_BUILTIN: {
      int b = 0;
      if (!pd_choice(st, key, v, pd_builtins, 5,
                     "paper1d, sines, relu_mix, harmonics or parity", &b))
        return 0;
      pd_set_string(c->builtin, sizeof c->builtin, pd_builtins[b]);
      return 1;
    }
    case K_N: return pd_int(st, key, v, 1, INT64_MAX, "an integer >= 1", &c->n);
    case K_D:
      return pd_int32(st, key, v, 1, 1048576, "an integer in [1, 1048576]",
                      &c->d);
    case K_DATA_SEED: {
      int64_t s = 0;
      if (!pd_int(st, key, v, 0, INT64_MAX, "an integer >= 0", &s)) return 0;
      c->data_seed = (uint64_t)s;
      return 1;
    }
    case K_DATA_FILE: return pd_path(st, key, v, c->data_file);
    case K_IMAGES: return pd_path(st, key, v, c->images);
    case K_LABELS: return pd_path(st, key, v, c->labels);
    case K_FREQUENCIES: return pd_freq_list(st, key, v, c);
    case K_SAMPLING:
      return pd_choice(st, key, v, pd_sampling_names, 3,
                       "auto, uniform or random", &c->sampling);
    case K_TEST:
      return pd_choice(st, key, v, pd_test_names, 3, "none, grid or holdout",
                       &c->test);
    case K_TEST_N:
      return pd_int(st, key, v, 1, INT64_C(1) << 30, "an integer in [1, 2^30]",
                    &c->test_n);
    case K_GAMMA: return pd_gamma_list(st, key, v, c->gamma, &c->ngamma);
    case K_GAMMA_PRIME:
      return pd_gamma_list(st, key, v, c->gamma_prime, &c->ngamma_prime);
    case K_WIDTHS:
      return pd_int_list(st, key, v, 2, INT64_C(1) << 62,
                         "an integer in [2, 2^62]", c->widths, &c->nwidths);
    case K_SEEDS: return pd_seed_list(st, key, v, c);
    case K_SCHEMES: return pd_scheme_list(st, key, v, c);
    case K_ASI: return pd_bool(st, key, v, &c->asi);
    case K_BASE_SCALE:
      return pd_real(st, key, v, 0, 1, INFINITY, 1, "a finite number > 0",
                     &c->base_scale);
    case K_TOL:
      return pd_real(st, key, v, 0, 1, INFINITY, 1, "a finite number > 0",
                     &t->tol);
    case K_MAX_STEPS:
      return pd_int(st, key, v, 0, INT64_MAX, "an integer >= 0", &t->max_steps);
    case K_LR_CAP:
      return pd_real(st, key, v, 0, 1, 2, 1, "a number in (0, 2)", &t->lr_cap);
    case K_LR_GROW:
      return pd_real(st, key, v, 1, 0, 10, 0, "a number in [1, 10]",
                     &t->lr_grow);
    case K_LR_SHRINK:
      return pd_real(st, key, v, 0, 1, 1, 1, "a number in (0, 1)",
                     &t->lr_shrink);
    case K_LAMBDA_EVERY:
      return pd_int(st, key, v, 1, INT64_MAX, "an integer >= 1",
                    &t->lambda_every);
    case K_POWER_ITERS:
      return pd_int32(st, key, v, 1, 1000, "an integer in [1, 1000]",
                      &t->power_iters);
    case K_MAX_REJECTS:
      return pd_int32(st, key, v, 1, 1000, "an integer in [1, 1000]",
                      &t->max_rejects);
    case K_MAX_REL_STEP:
      return pd_real(st, key, v, 0, 1, 10, 0, "a number in (0, 10]",
                     &t->max_rel_step);
    case K_HISTORY_POINTS:
      return pd_int32(st, key, v, 2, 100000, "an integer in [2, 100000]",
                      &t->history_points);
    case K_BAND:
      return pd_real(st, key, v, 0, 0, INFINITY, 1, "a finite number >= 0",
                     &c->band);
    case K_CAP:
      return pd_int32(st, key, v, 1, 1000000, "an integer in [1, 1000000]",
                      &c->feature_cap);
    case K_COS_THRESHOLD:
      return pd_real(st, key, v, 0, 1, 1, 1, "a number in (0, 1)",
                     &c->cos_threshold);
    case K_SP_ENABLED: return pd_bool(st, key, v, &c->spectral);
    case K_SP_SNAPSHOTS:
      return pd_int32(st, key, v, 0, 10000, "an integer in [0, 10000]",
                      &t->snapshots);
    case K_SP_METHODS: return pd_method_list(st, key, v, c);
    case K_SP_PEAKS:
      return pd_int32(st, key, v, 1, 1024, "an integer in [1, 1024]",
                      &c->sp_peaks);
    case K_SP_PEAK_REL:
      return pd_real(st, key, v, 0, 1, 1, 0, "a number in (0, 1]",
                     &c->sp_peak_rel);
    case K_SP_MAX_FREQ:
      return pd_int32(st, key, v, 0, 1 << 20,
                      "an integer in [0, 2^20] (0 = n / 2)", &c->sp_max_freq);
    case K_SP_DELTA_TOL:
      return pd_real(st, key, v, 0, 1, INFINITY, 1, "a finite number > 0",
                     &c->sp_delta_tol);
    case K_SP_DELTAS: return pd_delta_list(st, key, v, c);
    case K_SP_GRID_N:
      return pd_int(st, key, v, 2, 1 << 16, "an integer in [2, 65536]",
                    &c->sp_grid_n);
    case K_SP_GRID_METHOD:
      return pd_choice(st, key, v, pd_grid_method_names, 3,
                       "auto, gather or reduce", &c->sp_grid_method);
    case K_NTK_ENABLED: return pd_bool(st, key, v, &c->ntk);
    case K_NTK_TOP:
      return pd_int32(st, key, v, 1, 100000, "an integer in [1, 100000]",
                      &c->ntk_top);
    case K_NTK_RIDGE:
      return pd_real(st, key, v, 0, 0, INFINITY, 1, "a finite number >= 0",
                     &c->ntk_ridge);
    case K_NTK_LFP: return pd_bool(st, key, v, &c->ntk_lfp);
    case K_GROUP_SIZE:
      return pd_int32(st, key, v, 0, INT_MAX, "an integer >= 0 (0 = automatic)",
                      &c->group_size);
    case K_CHECKPOINT: return pd_path(st, key, v, c->checkpoint);
    case K_CHECKPOINT_INTERVAL:
      return pd_real(st, key, v, 0, 0, 1e9, 0,
                     "a number of seconds in [0, 1e9] (0 = off)",
                     &c->checkpoint_interval);
    case K_OUTPUT_FILE: return pd_path(st, key, v, c->output);
    case K_OVERWRITE: return pd_bool(st, key, v, &c->overwrite);
    default: return pd_fail_at(st, st->line, "internal: key %d", key);
  }
}

/* ---- inih callbacks ------------------------------------------------------ */

static int pd_section_index(const char *name) {
  for (int s = 0; s < S_COUNT; s++)
    if (strcmp(name, pd_sections[s]) == 0) return s;
  return -1;
}

static int pd_unknown_section(pd_parse *st, const char *name) {
  return pd_fail_at(st, st->line,
                    "unknown section [%s] (expected data, grid, model, train, "
                    "classify, features, spectral, ntk, run or output)",
                    name);
}

static int pd_handler(void *user, const char *section, const char *name,
                      const char *value) {
  pd_parse *st = (pd_parse *)user;
  if (st->failed) return 0;
  int s = pd_section_index(section);
  if (section[0] == '\0')
    return pd_fail_at(st, st->line,
                      "key '%s' is outside any section (put a [section] line, "
                      "e.g. [grid], before it)",
                      name);
  if (s < 0) return pd_unknown_section(st, section);
  int key = -1;
  for (int k = 0; k < K_COUNT; k++)
    if (pd_keys[k].section == s && strcmp(pd_keys[k].name, name) == 0) key = k;
  if (key < 0) {
    /* list this section's keys: "a, b or c" */
    char valid[512] = "";
    size_t used = 0;
    int total = 0, done = 0;
    for (int k = 0; k < K_COUNT; k++) total += pd_keys[k].section == s;
    for (int k = 0; k < K_COUNT && used < sizeof valid; k++) {
      if (pd_keys[k].section != s) continue;
      done++;
      const char *sep = done == 1 ? "" : done == total ? " or " : ", ";
      int w = snprintf(valid + used, sizeof valid - used, "%s%s", sep,
                       pd_keys[k].name);
      if (w > 0) used += (size_t)w;
    }
    return pd_fail_at(st, st->line, "[%s] unknown key '%s' (expected %s)",
                      section, name, valid);
  }
  if (st->key_line[key] > 0)
    return pd_fail_at(st, st->line, "[%s] %s: given twice (first on line %d)",
                      section, name, st->key_line[key]);
  st->key_line[key] = st->line;
  return pd_set(st, key, value);
}

/* Deliver the text to inih one line at a time, counting lines.  Also what
 * Debian's inih build does not do for us: refuse over-long lines (it would
 * split them), strip inline '#' comments, check section names on their own
 * line (even sections with no keys), and drop leading blanks so an indented
 * line is never taken as a continuation of the previous value. */
static char *pd_reader(char *str, int num, void *stream) {
  pd_parse *st = (pd_parse *)stream;
  if (st->failed || *st->next == '\0' || num < 2) return NULL;
  const char *p = st->next;
  const char *eol = strchr(p, '\n');
  size_t len = eol ? (size_t)(eol - p) : strlen(p);
  st->next = eol ? eol + 1 : p + len;
  st->line++;
  if (len > 0 && p[len - 1] == '\r') len--;
  if (len > (size_t)num - 1) {
    pd_fail_at(st, st->line, "line too long, at most %d characters", num - 1);
    return NULL;
  }
  if (st->line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
    p += 3; /* UTF-8 byte order mark */
    len -= 3;
  }
  while (len > 0 && isspace((unsigned char)*p)) p++, len--;
  memcpy(str, p, len);
  str[len] = '\0';
  for (size_t i = 1; i < len; i++) {
    if (str[i] == '#' && isspace((unsigned char)str[i - 1])) {
      str[i] = '\0';
      break;
    }
  }
  if (str[0] == '[') {
    char *close = strchr(str, ']');
    if (close) {
      /* inih ignores text after ']': we allow only a comment there */
      const char *rest = close + 1;
      while (isspace((unsigned char)*rest)) rest++;
      if (*rest != '\0' && *rest != ';' && *rest != '#') {
        pd_fail_at(st, st->line,
                   "syntax error: expected 'key = value' or '[section]'");
        return NULL;
      }
      char name[PD_CONFIG_MAX_VALUE];
      size_t n = (size_t)(close - str - 1);
      memcpy(name, str + 1, n);
      name[n] = '\0';
      if (pd_section_index(name) < 0) {
        pd_unknown_section(st, name);
        return NULL;
      }
    }
  }
  return str;
}

/* ---- checks across keys -------------------------------------------------- */

static const char *pd_where(const pd_parse *st, int key, char *buf,
                            size_t size) {
  if (st->key_line[key] > 0)
    snprintf(buf, size, "line %d", st->key_line[key]);
  else
    snprintf(buf, size, "the default");
  return buf;
}

/* Keys of [data] that the chosen source (or builtin set) does not use, and
 * the test set. */
static int pd_check_data(pd_parse *st) {
  pd_config *c = st->cfg;
  const int builtin = c->source == PD_DATA_BUILTIN;
  const int paper = builtin && strcmp(c->builtin, "paper1d") == 0;
  const int harmonics = builtin && strcmp(c->builtin, "harmonics") == 0;
  const int parity = builtin && strcmp(c->builtin, "parity") == 0;
  const int synthetic = builtin && !paper;
  char src[32], bi[32];
  pd_where(st, K_SOURCE, src, sizeof src);
  pd_where(st, K_BUILTIN, bi, sizeof bi);
  static const struct {
    /* the source the key belongs to, or -1: synthetic or idx; -2:
     * synthetic; -3: harmonics */
    int key, source;
    const char *belongs;
  } rules[] = {
      {K_BUILTIN, PD_DATA_BUILTIN, "source = builtin"},
      {K_N, -1,
       "builtin = sines, relu_mix, harmonics or parity, or source "
       "= idx"},
      {K_D, -2, "builtin = sines, relu_mix, harmonics or parity"},
      {K_DATA_SEED, -2, "builtin = sines, relu_mix, harmonics or parity"},
      {K_DATA_FILE, PD_DATA_HDF5, "source = hdf5"},
      {K_IMAGES, PD_DATA_IDX, "source = idx"},
      {K_LABELS, PD_DATA_IDX, "source = idx"},
      {K_FREQUENCIES, -3, "builtin = harmonics"},
      {K_SAMPLING, -3, "builtin = harmonics"},
  };
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
    int key = rules[i].key, line = st->key_line[key];
    if (line == 0) continue;
    int ok = rules[i].source >= 0    ? c->source == rules[i].source
             : rules[i].source == -1 ? synthetic || c->source == PD_DATA_IDX
             : rules[i].source == -2 ? synthetic
                                     : harmonics;
    if (ok) continue;
    if (!builtin || rules[i].source >= 0)
      return pd_fail_at(
          st, line, "[data] %s: applies only to %s, but source = %s (%s)",
          pd_keys[key].name, rules[i].belongs, pd_source_names[c->source], src);
    return pd_fail_at(st, line,
                      "[data] %s: applies only to %s, but builtin = %s (%s)",
                      pd_keys[key].name, rules[i].belongs, c->builtin, bi);
  }
  if (c->source == PD_DATA_HDF5 && st->key_line[K_DATA_FILE] == 0)
    return pd_fail_at(st, 0,
                      "[data] file: required key missing (source = hdf5 on "
                      "line %d)",
                      st->key_line[K_SOURCE]);
  if (c->source == PD_DATA_IDX && c->n > 70000)
    return pd_fail_at(st, st->key_line[K_N],
                      "[data] n: expected an integer in [1, 70000] for source "
                      "= idx, got '%lld'",
                      (long long)c->n);
  if (parity) {
    if (c->d == 0) c->d = 10;
    if (c->d > 20)
      return pd_fail_at(st, st->key_line[K_D],
                        "[data] d: expected an integer in [1, 20] for builtin "
                        "= parity (all 2^d corners are generated), got '%d'",
                        c->d);
    const int64_t corners = INT64_C(1) << c->d;
    if (c->n == 0) c->n = corners / 2;
    if (c->n > corners || (c->n == corners && c->test == PD_TEST_HOLDOUT))
      return pd_fail_at(
          st, st->key_line[K_N],
          "[data] n: %lld training points, but parity in d = %d "
          "has %lld corners%s",
          (long long)c->n, c->d, (long long)corners,
          c->test == PD_TEST_HOLDOUT ? " and holds some out" : "");
    if (st->key_line[K_TEST] == 0) c->test = PD_TEST_HOLDOUT;
  }
  int lt = st->key_line[K_TEST], ln = st->key_line[K_TEST_N];
  if (ln > 0 && c->test == PD_TEST_NONE)
    return pd_fail_at(st, ln,
                      "[data] test_n: given, but there is no test set (set "
                      "test = grid or holdout)");
  if (c->test == PD_TEST_GRID && (!builtin || parity || c->d > 1))
    return pd_fail_at(st, lt,
                      "[data] test = grid: needs a 1-D built-in target "
                      "(paper1d, or sines, relu_mix, harmonics with d = 1), "
                      "got %s%s%s (use test = holdout)",
                      builtin ? "builtin = " : "source = ",
                      builtin ? c->builtin : pd_source_names[c->source],
                      builtin && c->d > 1 ? " with d > 1" : "");
  if (c->test == PD_TEST_HOLDOUT && paper)
    return pd_fail_at(st, lt,
                      "[data] test = holdout: builtin = paper1d has only its "
                      "4 training points (use test = grid)");
  if (parity && c->test_n > 0 && c->n + c->test_n > (INT64_C(1) << c->d))
    return pd_fail_at(st, ln,
                      "[data] test_n: %lld + n = %lld exceeds the %lld "
                      "corners of parity in d = %d",
                      (long long)c->test_n, (long long)c->n,
                      (long long)(INT64_C(1) << c->d), c->d);
  return 1;
}

/* [spectral] and [ntk] against the data. */
static int pd_check_observers(pd_parse *st) {
  pd_config *c = st->cfg;
  const int builtin = c->source == PD_DATA_BUILTIN;
  const int analytic = builtin && strcmp(c->builtin, "parity") != 0;
  const int d = builtin ? (strcmp(c->builtin, "paper1d") == 0 ? 1
                           : c->d > 0                         ? c->d
                                                              : 1)
                        : 0; /* files: known after reading */
  const int lm = st->key_line[K_SP_METHODS];
  if (c->sp_methods & PD_SP_DFT && d > 1)
    return pd_fail_at(st, lm,
                      "[spectral] methods: dft needs 1-D inputs, but d = %d "
                      "(use projection, filter or grid)",
                      d);
  if (c->sp_methods & PD_SP_GRID) {
    if (!analytic)
      return pd_fail_at(st, lm,
                        "[spectral] methods: grid evaluates the target "
                        "between the data, so it needs an analytic built-in "
                        "target (paper1d, sines, relu_mix or harmonics)");
    if (d > 4)
      return pd_fail_at(st, lm,
                        "[spectral] methods: grid supports d = 1 to 4, but "
                        "d = %d",
                        d);
    double pts = pow((double)c->sp_grid_n, d);
    if (pts > 0x1p27)
      return pd_fail_at(st, st->key_line[K_SP_GRID_N],
                        "[spectral] grid_n: %lld^%d = %.3g grid points is "
                        "more than 2^27",
                        (long long)c->sp_grid_n, d, pts);
  }
  static const int spectral_keys[] = {
      K_SP_SNAPSHOTS, K_SP_METHODS, K_SP_PEAKS,  K_SP_PEAK_REL,   K_SP_MAX_FREQ,
      K_SP_DELTA_TOL, K_SP_DELTAS,  K_SP_GRID_N, K_SP_GRID_METHOD};
  if (!c->spectral && !c->ntk)
    for (size_t i = 0; i < sizeof spectral_keys / sizeof spectral_keys[0]; i++)
      if (st->key_line[spectral_keys[i]] > 0)
        return pd_fail_at(st, st->key_line[spectral_keys[i]],
                          "[spectral] %s: given, but [spectral] enabled is "
                          "not true",
                          pd_keys[spectral_keys[i]].name);
  return 1;
}

static int pd_check_grid(pd_parse *st) {
  const pd_config *c = st->cfg;
  int lg = st->key_line[K_GAMMA], lp = st->key_line[K_GAMMA_PRIME];
  if (lg > 0 && lp == 0)
    return pd_fail_at(st, lg,
                      "[grid] gamma: given without gamma_prime (give both "
                      "gamma and gamma_prime, or neither)");
  if (lp > 0 && lg == 0)
    return pd_fail_at(st, lp,
                      "[grid] gamma_prime: given without gamma (give both "
                      "gamma and gamma_prime, or neither)");
  if (st->key_line[K_WIDTHS] == 0)
    return pd_fail_at(st, 0, "[grid] widths: required key missing");
  if (lg == 0 && c->nschemes == 0)
    return pd_fail_at(
        st, 0, "[grid]: no points: give gamma and gamma_prime, or schemes");
  if (c->asi) {
    for (int i = 0; i < c->nwidths; i++) {
      if (c->widths[i] % 2 != 0)
        return pd_fail_at(st, st->key_line[K_WIDTHS],
                          "[grid] widths: %lld is odd, but [model] asi = true "
                          "pairs neurons (use even widths or asi = false)",
                          (long long)c->widths[i]);
    }
  }
  return 1;
}

/* ---- public -------------------------------------------------------------- */

void pd_config_defaults(pd_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->source = PD_DATA_BUILTIN;
  pd_set_string(cfg->builtin, sizeof cfg->builtin, "paper1d");
  cfg->data_seed = 1;
  pd_set_string(cfg->images, sizeof cfg->images,
                PD_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz");
  pd_set_string(cfg->labels, sizeof cfg->labels,
                PD_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz");
  cfg->nseeds = 1;
  cfg->seeds[0] = 1;
  cfg->asi = 1;
  cfg->base_scale = 1.0;
  /* after the memset: padding stays zero in practice, and the struct is
   * broadcast as bytes anyway */
  pd_train_options_default(&cfg->train);
  cfg->band = 0.1;
  cfg->feature_cap = 256;
  cfg->cos_threshold = 0.99;
  cfg->nfreq = 3;
  cfg->freqs[0] = 1;
  cfg->freqs[1] = 3;
  cfg->freqs[2] = 5;
  cfg->sp_peaks = 8;
  cfg->sp_peak_rel = 1e-2;
  cfg->sp_delta_tol = 0.1;
  cfg->sp_ndeltas = 1;
  cfg->sp_deltas[0] = 1.0;
  cfg->sp_grid_n = 32;
  cfg->ntk_top = 16;
  cfg->ntk_lfp = 1;
  cfg->group_size = 0;
  memset(cfg->checkpoint, 0, sizeof cfg->checkpoint); /* <output>.ckpt */
  cfg->checkpoint_interval = 600;
  pd_set_string(cfg->output, sizeof cfg->output, "phasediag.h5");
  cfg->overwrite = 0;
}

int pd_config_parse(const char *path, const char *text, pd_config *cfg) {
  PD_CHECK(path != NULL && text != NULL && cfg != NULL, PD_ERR_ARG,
           "pd_config_parse: path, text and cfg must not be NULL");
  PD_CHECK(strlen(path) < PD_CONFIG_MAX_PATH, PD_ERR_CONFIG,
           "configuration path longer than %d characters: %.64s...",
           PD_CONFIG_MAX_PATH - 1, path);
  pd_config_defaults(cfg);
  pd_set_string(cfg->path, sizeof cfg->path, path);
  /* the parse state holds no big arrays: the lists live in cfg */
  pd_parse st;
  memset(&st, 0, sizeof st);
  st.path = path;
  st.next = text;
  st.cfg = cfg;
  int r = ini_parse_stream(pd_reader, &st, pd_handler, &st);
  if (r > 0 && (!st.failed || r < st.err_line)) {
    /* inih's own syntax error came first */
    st.failed = 0;
    pd_fail_at(&st, r, "syntax error: expected 'key = value' or '[section]'");
  }
  PD_CHECK(r != -2, PD_ERR_ALLOC, "%s: inih could not allocate its buffer",
           path);
  if (!st.failed && pd_check_data(&st) && pd_check_grid(&st))
    pd_check_observers(&st);
  PD_CHECK(!st.failed, PD_ERR_CONFIG, "%s", st.msg);
  return PD_OK;
}

/* Rank 0: the whole file as a NUL-terminated string. */
static int pd_config_read(const char *path, char **text, long long *len) {
  *text = NULL;
  PD_CALL(pd_file_require_regular(path, "job file"));
  FILE *f = fopen(path, "rb");
  PD_CHECK(f != NULL, PD_ERR_CONFIG, "cannot read %s: %s", path,
           strerror(errno));
  char *buf = NULL;
  int err = pd_calloc((size_t)PD_CONFIG_MAX_TEXT + 2, 1, &buf);
  if (err != PD_OK) {
    fclose(f);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "pd_calloc");
  }
  /* one byte more than allowed tells a too-large file */
  size_t n = fread(buf, 1, (size_t)PD_CONFIG_MAX_TEXT + 1, f);
  int failed = ferror(f), saved = errno;
  fclose(f);
  if (failed || n > PD_CONFIG_MAX_TEXT || memchr(buf, '\0', n)) {
    const int hdf5 = n >= 8 && memcmp(buf, "\211HDF\r\n\032\n", 8) == 0;
    pd_free(&buf);
    PD_CHECK(!hdf5, PD_ERR_CONFIG,
             "%s is an HDF5 file (a checkpoint or a result file?), not a job "
             "file: give the job's .ini file (phasediag merge takes slice "
             "files beside it)",
             path);
    PD_CHECK(!failed, PD_ERR_CONFIG, "cannot read %s: %s", path,
             strerror(saved));
    PD_CHECK(n <= PD_CONFIG_MAX_TEXT, PD_ERR_CONFIG,
             "%s: too large for a configuration (more than %d bytes)", path,
             PD_CONFIG_MAX_TEXT);
    return pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                          "%s: contains a NUL byte (not a text file)", path);
  }
  /* keep only what the text needs */
  err = pd_calloc(n + 1, 1, text);
  if (err == PD_OK) memcpy(*text, buf, n);
  pd_free(&buf);
  PD_CALL(err);
  *len = (long long)n;
  return PD_OK;
}

/* Rank 0's outcome on every rank: the same code and the same first line of
 * the message, since a bad file is bad for everybody. */
static int pd_config_agree(MPI_Comm comm, int rank, int err) {
  int code = err;
  PD_CALL_MPI(MPI_Bcast(&code, 1, MPI_INT, 0, comm));
  if (code == PD_OK) return PD_OK;
  char msg[PD_CONFIG_MSG];
  memset(msg, 0, sizeof msg);
  if (rank == 0) {
    const char *m = pd_error_message();
    size_t n = strcspn(m, "\n");
    if (n >= sizeof msg) n = sizeof msg - 1;
    memcpy(msg, m, n);
  }
  PD_CALL_MPI(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, 0, comm));
  if (rank == 0) return err;
  return pd_error_raise(code, __FILE__, __LINE__, __func__, "%s", msg);
}

static int pd_config_share(MPI_Comm comm, int rank, pd_config *cfg,
                           char **text) {
  long long len = 0;
  if (rank == 0) len = (long long)strlen(*text);
  PD_CALL_MPI(MPI_Bcast(cfg, (int)sizeof *cfg, MPI_BYTE, 0, comm));
  PD_CALL_MPI(MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm));
  /* same on every rank: len came from rank 0 */
  PD_CHECK(len >= 0 && len <= PD_CONFIG_MAX_TEXT, PD_ERR_CONFIG,
           "configuration text of %lld bytes", len);
  int err = PD_OK;
  if (rank != 0) err = pd_calloc((size_t)len + 1, 1, text);
  PD_COLLECTIVE(comm, err);
  PD_CALL_MPI(MPI_Bcast(*text, (int)len, MPI_CHAR, 0, comm));
  return PD_OK;
}

int pd_config_load(MPI_Comm comm, const char *path, pd_config *cfg,
                   char **text) {
  PD_CHECK(cfg != NULL && text != NULL, PD_ERR_ARG,
           "pd_config_load: cfg and text must not be NULL");
  *text = NULL;
  int rank = 0;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  pd_config_defaults(cfg);
  char *buf = NULL;
  int err = PD_OK;
  if (rank == 0) {
    long long len = 0;
    if (path == NULL)
      err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                           "pd_config_load: no path");
    else
      err = pd_config_read(path, &buf, &len);
    if (err == PD_OK) err = pd_config_parse(path, buf, cfg);
  }
  err = pd_config_agree(comm, rank, err);
  if (err == PD_OK) err = pd_config_share(comm, rank, cfg, &buf);
  if (err != PD_OK) {
    pd_free(&buf);
    return err;
  }
  *text = buf;
  return PD_OK;
}
