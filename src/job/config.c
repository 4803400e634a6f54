#include "phasediag/job/config.h"

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

#include "phasediag/base/error.h"
#include "phasediag/base/files.h"
#include "phasediag/base/mem.h"
#include "phasediag/job/confkeys.h"
#include "phasediag/job/conftext.h"
#include "phasediag/job/dataset.h"

/* A configuration is a small text file: anything larger is a mistake. */
#define PD_CONFIG_MAX_TEXT (1 << 20)
#define PD_CONFIG_MSG 2048
/* Longest value inih can hand us (its line buffer), with room to spare. */
#define PD_CONFIG_MAX_VALUE 1024

_Static_assert(sizeof(pd_config) <= INT_MAX,
               "pd_config is broadcast as one MPI_BYTE count");

/* ---- parse state and error recording ------------------------------------- */

typedef struct {
  const char *path;
  const char *next; /* first unread character of the text */
  int line;         /* lines delivered to inih so far: the current line */
  int failed;       /* an error is recorded; only the first one is kept */
  int err_line;     /* its line (0: not tied to a line) */
  char msg[PD_CONFIG_MSG];
  int key_line[PD_K_COUNT]; /* line each key was given on, 0 = absent */
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

/* One key's value, read by its descriptor; an error reads "[section] key:
 * what is wrong". */
static int pd_set(pd_parse *st, int key, const char *value) {
  char why[PD_CONFIG_MSG];
  int err = pd_conftext_read(key, value, st->cfg, why, sizeof why);
  if (err == PD_OK) return 1;
  if (err != PD_ERR_CONFIG) /* a bad call: the trace says why */
    return pd_fail_at(st, st->line, "%s", pd_error_message());
  const pd_confkey *k = pd_confkey_get(key);
  return pd_fail_at(st, st->line, "[%s] %s: %s", pd_confkey_section(k->section),
                    k->name, why);
}

/* ---- inih callbacks ------------------------------------------------------ */

static int pd_unknown_section(pd_parse *st, const char *name) {
  const char *names[PD_S_COUNT];
  char valid[256];
  for (int s = 0; s < PD_S_COUNT; s++) names[s] = pd_confkey_section(s);
  pd_conftext_join(names, PD_S_COUNT, valid, sizeof valid);
  return pd_fail_at(st, st->line, "unknown section [%s] (expected %s)", name,
                    valid);
}

/* "[section] unknown key 'name' (expected a, b or c)": the section's keys. */
static int pd_unknown_key(pd_parse *st, int s, const char *name) {
  const char *names[PD_K_COUNT];
  char valid[512];
  int n = 0;
  for (int k = 0; k < PD_K_COUNT; k++)
    if (pd_confkey_get(k)->section == s) names[n++] = pd_confkey_get(k)->name;
  pd_conftext_join(names, n, valid, sizeof valid);
  return pd_fail_at(st, st->line, "[%s] unknown key '%s' (expected %s)",
                    pd_confkey_section(s), name, valid);
}

static int pd_handler(void *user, const char *section, const char *name,
                      const char *value) {
  pd_parse *st = (pd_parse *)user;
  if (st->failed) return 0;
  int s = pd_confkey_find_section(section);
  if (section[0] == '\0')
    return pd_fail_at(st, st->line,
                      "key '%s' is outside any section (put a [section] line, "
                      "e.g. [grid], before it)",
                      name);
  if (s < 0) return pd_unknown_section(st, section);
  int key = pd_confkey_find(s, name);
  if (key < 0) return pd_unknown_key(st, s, name);
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
      if (pd_confkey_find_section(name) < 0) {
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

static const char *pd_source_name(int source) {
  return pd_confkey_choice(pd_confkey_get(PD_K_SOURCE), source);
}

/* Parity's defaults and bounds, and the test set against the data. */
static int pd_check_test(pd_parse *st) {
  pd_config *c = st->cfg;
  const int builtin = c->source == PD_DATA_BUILTIN;
  const int paper = builtin && strcmp(c->builtin, "paper1d") == 0;
  const int parity = builtin && strcmp(c->builtin, "parity") == 0;
  if (builtin && strcmp(c->builtin, "zhou2022") == 0) {
    if (c->d == 0) c->d = PD_ZHOU2022_D;
    if (c->n == 0) c->n = PD_ZHOU2022_N;
  }
  if (parity) {
    if (c->d == 0) c->d = 10;
    if (c->d > 20)
      return pd_fail_at(st, st->key_line[PD_K_D],
                        "[data] d: expected an integer in [1, 20] for builtin "
                        "= parity (all 2^d corners are generated), got '%d'",
                        c->d);
    const int64_t corners = INT64_C(1) << c->d;
    if (c->n == 0) c->n = corners / 2;
    if (c->n > corners || (c->n == corners && c->test == PD_TEST_HOLDOUT))
      return pd_fail_at(
          st, st->key_line[PD_K_N],
          "[data] n: %lld training points, but parity in d = %d "
          "has %lld corners%s",
          (long long)c->n, c->d, (long long)corners,
          c->test == PD_TEST_HOLDOUT ? " and holds some out" : "");
    if (st->key_line[PD_K_TEST] == 0) c->test = PD_TEST_HOLDOUT;
  }
  int lt = st->key_line[PD_K_TEST], ln = st->key_line[PD_K_TEST_N];
  if (ln > 0 && c->test == PD_TEST_NONE)
    return pd_fail_at(st, ln,
                      "[data] test_n: given, but there is no test set (set "
                      "test = grid or holdout)");
  if (c->test == PD_TEST_GRID && (!builtin || parity || c->d > 1))
    return pd_fail_at(st, lt,
                      "[data] test = grid: needs a 1-D built-in target "
                      "(paper1d, or sines, relu_mix, harmonics, zhou2022 with "
                      "d = 1), "
                      "got %s%s%s (use test = holdout)",
                      builtin ? "builtin = " : "source = ",
                      builtin ? c->builtin : pd_source_name(c->source),
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

/* Keys of [data] that the chosen source (or builtin set) does not use, and
 * the test set. */
static int pd_check_data(pd_parse *st) {
  pd_config *c = st->cfg;
  const int builtin = c->source == PD_DATA_BUILTIN;
  const int paper = builtin && strcmp(c->builtin, "paper1d") == 0;
  const int harmonics = builtin && strcmp(c->builtin, "harmonics") == 0;
  const int synthetic = builtin && !paper;
  char src[32], bi[32];
  pd_where(st, PD_K_SOURCE, src, sizeof src);
  pd_where(st, PD_K_BUILTIN, bi, sizeof bi);
  static const struct {
    /* the source the key belongs to, or -1: synthetic or idx; -2:
     * synthetic; -3: harmonics */
    int key, source;
    const char *belongs;
  } rules[] = {
      {PD_K_BUILTIN, PD_DATA_BUILTIN, "source = builtin"},
      {PD_K_N, -1,
       "builtin = sines, relu_mix, harmonics, parity or zhou2022, "
       "or source = idx"},
      {PD_K_D, -2, "builtin = sines, relu_mix, harmonics, parity or zhou2022"},
      {PD_K_DATA_SEED, -2,
       "builtin = sines, relu_mix, harmonics, parity or zhou2022"},
      {PD_K_DATA_FILE, PD_DATA_HDF5, "source = hdf5"},
      {PD_K_X_DATASET, PD_DATA_HDF5, "source = hdf5"},
      {PD_K_Y_DATASET, PD_DATA_HDF5, "source = hdf5"},
      {PD_K_IMAGES, PD_DATA_IDX, "source = idx"},
      {PD_K_LABELS, PD_DATA_IDX, "source = idx"},
      {PD_K_FREQUENCIES, -3, "builtin = harmonics"},
      {PD_K_SAMPLING, -3, "builtin = harmonics"},
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
      return pd_fail_at(st, line,
                        "[data] %s: applies only to %s, but source = %s (%s)",
                        pd_confkey_get(key)->name, rules[i].belongs,
                        pd_source_name(c->source), src);
    return pd_fail_at(
        st, line, "[data] %s: applies only to %s, but builtin = %s (%s)",
        pd_confkey_get(key)->name, rules[i].belongs, c->builtin, bi);
  }
  if (c->source == PD_DATA_HDF5 && st->key_line[PD_K_DATA_FILE] == 0)
    return pd_fail_at(st, 0,
                      "[data] file: required key missing (source = hdf5 on "
                      "line %d)",
                      st->key_line[PD_K_SOURCE]);
  /* one dataset as both inputs and targets is a slip, not a data set */
  const char *xs = c->x_dataset + (c->x_dataset[0] == '/');
  const char *ys = c->y_dataset + (c->y_dataset[0] == '/');
  if (c->source == PD_DATA_HDF5 && strcmp(xs, ys) == 0) {
    const int lx = st->key_line[PD_K_X_DATASET];
    const int ly = st->key_line[PD_K_Y_DATASET];
    return pd_fail_at(st, ly > lx ? ly : lx,
                      "[data] x_dataset and y_dataset: both name the dataset "
                      "/%s (the inputs and the targets must be two datasets)",
                      xs);
  }
  if (c->source == PD_DATA_IDX && c->n > 70000)
    return pd_fail_at(st, st->key_line[PD_K_N],
                      "[data] n: expected an integer in [1, 70000] for source "
                      "= idx, got '%lld'",
                      (long long)c->n);
  return pd_check_test(st);
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
  const int lm = st->key_line[PD_K_SP_METHODS];
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
                        "target (paper1d, sines, relu_mix, harmonics or "
                        "zhou2022)");
    if (d > 4)
      return pd_fail_at(st, lm,
                        "[spectral] methods: grid supports d = 1 to 4, but "
                        "d = %d",
                        d);
    double pts = pow((double)c->sp_grid_n, d);
    if (pts > 0x1p27)
      return pd_fail_at(st, st->key_line[PD_K_SP_GRID_N],
                        "[spectral] grid_n: %lld^%d = %.3g grid points is "
                        "more than 2^27",
                        (long long)c->sp_grid_n, d, pts);
  }
  static const int spectral_keys[] = {
      PD_K_SP_SNAPSHOTS, PD_K_SP_METHODS,  PD_K_SP_PEAKS,
      PD_K_SP_PEAK_REL,  PD_K_SP_MAX_FREQ, PD_K_SP_DELTA_TOL,
      PD_K_SP_DELTAS,    PD_K_SP_GRID_N,   PD_K_SP_GRID_METHOD};
  /* the snapshot count also schedules the features' tracking */
  if (!c->spectral && !c->ntk)
    for (size_t i = c->feature_track ? 1 : 0;
         i < sizeof spectral_keys / sizeof spectral_keys[0]; i++)
      if (st->key_line[spectral_keys[i]] > 0)
        return pd_fail_at(st, st->key_line[spectral_keys[i]],
                          "[spectral] %s: given, but [spectral] enabled is "
                          "not true",
                          pd_confkey_get(spectral_keys[i])->name);
  static const int track_keys[] = {PD_K_AMP_CUT, PD_K_MATRIX};
  if (!c->feature_track)
    for (size_t i = 0; i < sizeof track_keys / sizeof track_keys[0]; i++)
      if (st->key_line[track_keys[i]] > 0)
        return pd_fail_at(st, st->key_line[track_keys[i]],
                          "[features] %s: given, but [features] track is "
                          "not true",
                          pd_confkey_get(track_keys[i])->name);
  return 1;
}

static int pd_check_grid(pd_parse *st) {
  const pd_config *c = st->cfg;
  int lg = st->key_line[PD_K_GAMMA], lp = st->key_line[PD_K_GAMMA_PRIME];
  if (lg > 0 && lp == 0)
    return pd_fail_at(st, lg,
                      "[grid] gamma: given without gamma_prime (give both "
                      "gamma and gamma_prime, or neither)");
  if (lp > 0 && lg == 0)
    return pd_fail_at(st, lp,
                      "[grid] gamma_prime: given without gamma (give both "
                      "gamma and gamma_prime, or neither)");
  if (st->key_line[PD_K_WIDTHS] == 0)
    return pd_fail_at(st, 0, "[grid] widths: required key missing");
  if (lg == 0 && c->nschemes == 0)
    return pd_fail_at(
        st, 0, "[grid]: no points: give gamma and gamma_prime, or schemes");
  if (c->asi) {
    for (int i = 0; i < c->nwidths; i++) {
      if (c->widths[i] % 2 != 0)
        return pd_fail_at(st, st->key_line[PD_K_WIDTHS],
                          "[grid] widths: %lld is odd, but [model] asi = true "
                          "pairs neurons (use even widths or asi = false)",
                          (long long)c->widths[i]);
    }
  }
  return 1;
}

/* ---- public -------------------------------------------------------------- */

void pd_config_defaults(pd_config *cfg) {
  /* zero first: the bytes of the struct (padding, unused list entries,
   * string tails) depend only on the values, and it is broadcast as bytes */
  memset(cfg, 0, sizeof *cfg);
  pd_confkeys_defaults(cfg);
}

int pd_config_parse(const char *path, const char *text, pd_config *cfg) {
  PD_CHECK(path != NULL && text != NULL && cfg != NULL, PD_ERR_ARG,
           "pd_config_parse: path, text and cfg must not be NULL");
  PD_CHECK(strlen(path) < PD_CONFIG_MAX_PATH, PD_ERR_CONFIG,
           "configuration path longer than %d characters: %.64s...",
           PD_CONFIG_MAX_PATH - 1, path);
  pd_config_defaults(cfg);
  memcpy(cfg->path, path, strlen(path)); /* zero-filled by the defaults */
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
