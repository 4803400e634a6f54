#include "phasediag/job/conftext.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "phasediag/base/error.h"

/* "a, b or c" */
void pd_conftext_join(const char *const *names, int n, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < n && used < size; i++) {
    const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
    int w = snprintf(buf + used, size - used, "%s%s", sep, names[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

/* ---- ranges and their words ---------------------------------------------- */

/* Integers: 2^k from 2^20 up, else decimal. */
static void pd_fmt_int(int64_t v, char *buf, size_t size) {
  if (v >= (1 << 20) && (v & (v - 1)) == 0) {
    int e = 0;
    while ((INT64_C(1) << e) != v) e++;
    snprintf(buf, size, "2^%d", e);
  } else {
    snprintf(buf, size, "%lld", (long long)v);
  }
}

/* Numbers as %g, with the exponent as one writes it: 1e-6, 1e9. */
static void pd_fmt_real(double x, char *buf, size_t size) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%g", x);
  char *e = strchr(tmp, 'e');
  if (e) {
    char *d = e + 1;
    if (*d == '+') memmove(d, d + 1, strlen(d));
    if (*d == '-') d++;
    while (d[0] == '0' && d[1] != '\0') memmove(d, d + 1, strlen(d));
  }
  snprintf(buf, size, "%s", tmp);
}

/* The range of a number or integer key after its noun: " in [1, 10]",
 * " >= 0", " > 0" or "" (any finite number). */
static void pd_range_words(const pd_confkey *k, char *buf, size_t size) {
  char a[32], b[32];
  const int is_int = k->type == PD_KT_INT || k->type == PD_KT_INT_LIST;
  if (is_int) {
    pd_fmt_int(k->imin, a, sizeof a);
    pd_fmt_int(k->imax, b, sizeof b);
    if (k->imax == PD_KEY_NOMAX)
      snprintf(buf, size, " >= %s", a);
    else
      snprintf(buf, size, " in [%s, %s]", a, b);
    return;
  }
  pd_fmt_real(k->lo, a, sizeof a);
  pd_fmt_real(k->hi, b, sizeof b);
  const int olo = k->open & PD_KEY_OPEN_LO, ohi = k->open & PD_KEY_OPEN_HI;
  if (isinf(k->lo) && isinf(k->hi))
    snprintf(buf, size, "%s", "");
  else if (isinf(k->hi))
    snprintf(buf, size, " %s %s", olo ? ">" : ">=", a);
  else
    snprintf(buf, size, " in %c%s, %s%c", olo ? '(' : '[', a, b,
             ohi ? ')' : ']');
}

/* A number or integer key's words: "an integer in [1, 10]", "a finite
 * number > 0", "a number of seconds in [0, 1e9] (0 = off)"; for the
 * documentation (doc) without the article, in the plural for lists. */
static void pd_number_words(const pd_confkey *k, int doc, char *buf,
                            size_t size) {
  const int list = k->type != PD_KT_INT && k->type != PD_KT_REAL;
  const int is_int = k->type == PD_KT_INT || k->type == PD_KT_INT_LIST;
  const char *noun =
      is_int         ? (doc ? (list ? "integers" : "integer") : "an integer")
      : doc          ? (k->unit ? k->unit
                        : list  ? "numbers"
                                : "number")
      : isinf(k->hi) ? "a finite number"
                     : "a number";
  char range[96], zero[64] = "";
  pd_range_words(k, range, sizeof range);
  if (k->zero)
    snprintf(zero, sizeof zero, doc ? "; 0 = %s" : " (0 = %s)", k->zero);
  snprintf(buf, size, "%s%s%s%s%s", noun, !doc && k->unit ? " of " : "",
           !doc && k->unit ? k->unit : "", range, zero);
}

/* A choice key's names: "a, b or c" (doc: "`a`, `b` or `c`"). */
static void pd_choice_words(const pd_confkey *k, int doc, char *buf,
                            size_t size) {
  const char *names[32];
  char quoted[32][40];
  int n = k->nnames < 32 ? k->nnames : 32;
  for (int i = 0; i < n; i++) {
    names[i] = pd_confkey_choice(k, i);
    if (doc) {
      snprintf(quoted[i], sizeof quoted[i], "`%s`", names[i]);
      names[i] = quoted[i];
    }
  }
  pd_conftext_join(names, n, buf, size);
}

void pd_conftext_expected(const pd_confkey *k, char *buf, size_t size) {
  switch (k->type) {
    case PD_KT_INT:
    case PD_KT_REAL:
    case PD_KT_INT_LIST:
    case PD_KT_REAL_LIST:
    case PD_KT_GRID_LIST: pd_number_words(k, 0, buf, size); return;
    case PD_KT_BOOL:
      snprintf(buf, size, "true or false (or yes/no, on/off, 1/0)");
      return;
    case PD_KT_PATH: snprintf(buf, size, "a path"); return;
    default: pd_choice_words(k, 0, buf, size); return;
  }
}

/* The type/range column of the documentation. */
static void pd_describe(const pd_confkey *k, char *buf, size_t size) {
  char what[512];
  switch (k->type) {
    case PD_KT_INT:
    case PD_KT_REAL: pd_number_words(k, 1, buf, size); return;
    case PD_KT_BOOL: snprintf(buf, size, "`true` or `false`"); return;
    case PD_KT_PATH: snprintf(buf, size, "path"); return;
    case PD_KT_CHOICE:
    case PD_KT_NAME: pd_choice_words(k, 1, buf, size); return;
    case PD_KT_GRID_LIST:
      snprintf(buf, size, "comma list of numbers, or `start:stop:step`");
      return;
    case PD_KT_INT_LIST:
    case PD_KT_REAL_LIST: {
      pd_number_words(k, 1, what, sizeof what);
      char most[48] = "";
      if (k->max_items < PD_CONFIG_MAX_LIST)
        snprintf(most, sizeof most, ", at most %d", k->max_items);
      snprintf(buf, size, "comma list of %s%s", what, most);
      return;
    }
    default:
      pd_choice_words(k, 1, what, sizeof what);
      snprintf(buf, size, "comma list of %s", what);
      return;
  }
}

/* ---- reading a value ----------------------------------------------------- */

typedef struct {
  const pd_confkey *k;
  pd_config *cfg;
  char *msg;
  size_t size;
} pd_reading;

/* Record what is wrong; returns 0 (the readers' "failed"). */
static int pd_bad(pd_reading *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int pd_bad(pd_reading *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, r->size, fmt, ap);
  va_end(ap);
  return 0;
}

static int pd_expected(pd_reading *r, const char *what, const char *value) {
  return pd_bad(r, "expected %s, got '%s'", what, value);
}

/* "expected <what the key takes>, got 'VALUE'" */
static int pd_expected_key(pd_reading *r, const char *value) {
  char what[512];
  pd_conftext_expected(r->k, what, sizeof what);
  return pd_expected(r, what, value);
}

static int pd_twice(pd_reading *r, const char *item) {
  return pd_bad(r, "'%s' is listed twice (values must be distinct)", item);
}

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

/* An integer (a number) of the key's range, or the expected message. */
static int pd_int_in(pd_reading *r, const char *s, int64_t *v) {
  if (pd_parse_int(s, v) && pd_confkey_int_ok(r->k, *v)) return 1;
  return pd_expected_key(r, s);
}

static int pd_real_in(pd_reading *r, const char *s, double *out) {
  double x = 0;
  if (!pd_parse_double(s, &x) || !pd_confkey_real_ok(r->k, x))
    return pd_expected_key(r, s);
  *out = x;
  return 1;
}

static int pd_bool(pd_reading *r, const char *value, int *out) {
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
  return pd_expected_key(r, value);
}

/* The index of a choice key's name, or the expected message. */
static int pd_choice(pd_reading *r, const char *value, int *index) {
  for (int i = 0; i < r->k->nnames; i++) {
    if (strcmp(value, pd_confkey_choice(r->k, i)) == 0) {
      *index = i;
      return 1;
    }
  }
  return pd_expected_key(r, value);
}

/* Copy into a fixed field, zero-filled so the struct's bytes depend only on
 * the values. */
static void pd_set_string(char *dst, size_t size, const char *src, size_t n) {
  memset(dst, 0, size);
  memcpy(dst, src, n);
}

/* A path, taken as written; one pair of quotes around it (as in shell or
 * TOML habits: file = "out.h5") is not part of the name. */
static int pd_path(pd_reading *r, const char *value, char *dst) {
  size_t n = strlen(value);
  const int quoted = n >= 2 && (value[0] == '"' || value[0] == '\'') &&
                     value[n - 1] == value[0];
  if (quoted) value++, n -= 2;
  if (n == 0) return pd_expected(r, "a path", value - quoted);
  if (!quoted && (strchr("\"'", value[0]) || strchr("\"'", value[n - 1])))
    return pd_expected(r, "a path (quotes only as a matching pair)", value);
  if (n >= r->k->size) {
    char what[64];
    snprintf(what, sizeof what, "a path of at most %zu characters",
             r->k->size - 1);
    return pd_expected(r, what, value);
  }
  pd_set_string(dst, r->k->size, value, n);
  return 1;
}

/* ---- lists --------------------------------------------------------------- */

typedef struct {
  char buf[PD_CONFTEXT_MAX_VALUE];
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
 * item, which the item readers refuse). */
static int pd_split(pd_reading *r, const char *value, char sep, pd_list *l) {
  if (strlen(value) >= sizeof l->buf) return pd_bad(r, "value too long");
  memcpy(l->buf, value, strlen(value) + 1);
  l->n = 0;
  char *s = l->buf;
  for (;;) {
    char *e = strchr(s, sep);
    if (e) *e = '\0';
    if (l->n == PD_CONFIG_MAX_LIST)
      return pd_bad(r, "expected at most %d values, got more",
                    PD_CONFIG_MAX_LIST);
    l->item[l->n++] = pd_trim(s);
    if (!e) break;
    s = e + 1;
  }
  return 1;
}

/* start:stop:step, inclusive of stop to within 1e-9 step; the last value is
 * stop exactly when it is reached. */
static int pd_range(pd_reading *r, const char *value, double *vals,
                    int *count) {
  pd_list l;
  if (!pd_split(r, value, ':', &l)) return 0;
  double a = 0, b = 0, h = 0;
  if (l.n != 3 || !pd_parse_double(l.item[0], &a) ||
      !pd_parse_double(l.item[1], &b) || !pd_parse_double(l.item[2], &h))
    return pd_expected(r, "start:stop:step of finite numbers", value);
  if (!(b >= a ? h > 0 : h < 0))
    return pd_expected(r,
                       "start:stop:step with step > 0 (step < 0 if stop < "
                       "start)",
                       value);
  double k = (b - a) / h;
  if (!(k + 1e-9 < r->k->max_items)) {
    char what[64];
    snprintf(what, sizeof what, "a range of at most %d values",
             r->k->max_items);
    return pd_expected(r, what, value);
  }
  int n = (int)floor(k + 1e-9);
  for (int i = 0; i <= n; i++) vals[i] = a + i * h;
  if (fabs(k - n) <= 1e-9) vals[n] = b;
  for (int i = 1; i <= n; i++) /* a step below the precision at a */
    if (vals[i] == vals[i - 1])
      return pd_expected(r,
                         "start:stop:step with distinct values (the step is "
                         "too small for double precision)",
                         value);
  *count = n + 1;
  return 1;
}

/* The entries of a list key: numbers (grid lists: or a range), integers or
 * names, each once; the first ones of the field and its count are set. */
static int pd_list_read(pd_reading *r, const char *value) {
  const pd_confkey *k = r->k;
  char *arr = pd_confkey_field(k, r->cfg);
  int *count = (int *)((char *)r->cfg + k->count);
  if (k->type == PD_KT_GRID_LIST && strchr(value, ':')) {
    if (strchr(value, ','))
      return pd_expected(r, "a comma list of finite numbers or start:stop:step",
                         value);
    return pd_range(r, value, (double *)arr, count);
  }
  pd_list l;
  if (!pd_split(r, value, ',', &l)) return 0;
  if (k->max_items < PD_CONFIG_MAX_LIST && l.n > k->max_items &&
      (k->type == PD_KT_INT_LIST || k->type == PD_KT_REAL_LIST))
    return pd_bad(r, "expected at most %d values", k->max_items);
  for (int i = 0; i < l.n; i++) {
    const char *s = l.item[i];
    int twice = 0;
    if (k->type == PD_KT_INT_LIST) {
      int64_t v = 0;
      if (!pd_int_in(r, s, &v)) return 0;
      for (int j = 0; j < i; j++)
        twice |= pd_confkey_load_int(k, arr + (size_t)j * k->size) == v;
      if (!twice) pd_confkey_store_int(k, arr + (size_t)i * k->size, v);
    } else if (k->type == PD_KT_CHOICE_LIST) {
      int c = 0;
      if (!pd_choice(r, s, &c)) return 0;
      int *v = (int *)arr;
      for (int j = 0; j < i; j++)
        twice |= v[j] == pd_confkey_choice_value(k, c);
      if (!twice) v[i] = pd_confkey_choice_value(k, c);
    } else { /* numbers */
      double x = 0, *v = (double *)arr;
      if (!pd_parse_double(s, &x) || !pd_confkey_real_ok(k, x)) {
        char what[512];
        pd_conftext_expected(k, what, sizeof what);
        if (k->type == PD_KT_GRID_LIST)
          strncat(what, " (or start:stop:step)",
                  sizeof what - strlen(what) - 1);
        return pd_expected(r, what, s);
      }
      for (int j = 0; j < i; j++) twice |= v[j] == x;
      if (!twice) v[i] = x;
    }
    if (twice) return pd_twice(r, s);
  }
  *count = l.n;
  return 1;
}

/* A set of names, as bits 1 << index. */
static int pd_set_read(pd_reading *r, const char *value, int *bits) {
  pd_list l;
  if (!pd_split(r, value, ',', &l)) return 0;
  int b = 0;
  for (int i = 0; i < l.n; i++) {
    int c = 0;
    if (!pd_choice(r, l.item[i], &c)) return 0;
    if (b & (1 << c)) return pd_twice(r, l.item[i]);
    b |= 1 << c;
  }
  *bits = b;
  return 1;
}

/* One value by the key's type: 1 read, 0 refused (r->msg says why). */
static int pd_value_read(pd_reading *r, const char *value) {
  const pd_confkey *k = r->k;
  void *p = pd_confkey_field(k, r->cfg);
  int i = 0;
  switch (k->type) {
    case PD_KT_INT: {
      int64_t v = 0;
      if (!pd_int_in(r, value, &v)) return 0;
      pd_confkey_store_int(k, p, v);
      return 1;
    }
    case PD_KT_REAL: return pd_real_in(r, value, (double *)p);
    case PD_KT_BOOL: return pd_bool(r, value, (int *)p);
    case PD_KT_CHOICE:
      if (!pd_choice(r, value, &i)) return 0;
      *(int *)p = pd_confkey_choice_value(k, i);
      return 1;
    case PD_KT_NAME:
      if (!pd_choice(r, value, &i)) return 0;
      pd_set_string(p, k->size, pd_confkey_choice(k, i),
                    strlen(pd_confkey_choice(k, i)));
      return 1;
    case PD_KT_PATH: return pd_path(r, value, p);
    case PD_KT_CHOICE_SET: return pd_set_read(r, value, (int *)p);
    default: return pd_list_read(r, value);
  }
}

int pd_conftext_read(int k, const char *value, pd_config *cfg, char *msg,
                     size_t size) {
  PD_CHECK(pd_confkey_get(k) != NULL && value != NULL && cfg != NULL &&
               msg != NULL && size > 0,
           PD_ERR_ARG, "pd_conftext_read: key %d, value, cfg or msg invalid",
           k);
  pd_reading r = {pd_confkey_get(k), cfg, msg, size};
  msg[0] = '\0';
  return pd_value_read(&r, value) ? PD_OK : PD_ERR_CONFIG;
}

/* ---- the Markdown table -------------------------------------------------- */

/* The default column: `value` as one writes it, or the documented
 * automatic default. */
static void pd_default_words(const pd_confkey *k, char *buf, size_t size) {
  char v[512] = "", item[64];
  if (k->shown) {
    snprintf(buf, size, "%s", k->shown);
    return;
  }
  switch (k->type) {
    case PD_KT_INT: snprintf(v, sizeof v, "%.0f", k->value); break;
    case PD_KT_REAL: pd_fmt_real(k->value, v, sizeof v); break;
    case PD_KT_BOOL:
      snprintf(v, sizeof v, "%s", k->value ? "true" : "false");
      break;
    case PD_KT_CHOICE:
      snprintf(v, sizeof v, "%s", pd_confkey_choice(k, (int)k->value));
      break;
    case PD_KT_INT_LIST:
    case PD_KT_REAL_LIST:
      for (int i = 0; i < k->def_n; i++) {
        pd_fmt_real(k->list[i], item, sizeof item);
        strncat(v, i ? ", " : "", sizeof v - strlen(v) - 1);
        strncat(v, item, sizeof v - strlen(v) - 1);
      }
      break;
    default: snprintf(v, sizeof v, "%s", k->text ? k->text : ""); break;
  }
  if (v[0] == '\0')
    buf[0] = '\0';
  else if (k->zero && k->value == 0)
    snprintf(buf, size, "`%s` (%s)", v, k->zero);
  else
    snprintf(buf, size, "`%s`", v);
}

/* A table cell: '|' escaped. */
static void pd_cell(FILE *out, const char *s) {
  fputs(" ", out);
  for (; *s; s++) {
    if (*s == '|') fputc('\\', out);
    fputc(*s, out);
  }
  fputs(" |", out);
}

int pd_conftext_help(FILE *out) {
  PD_CHECK(out != NULL, PD_ERR_ARG, "pd_conftext_help: out is NULL");
  fputs("| section | key | type/range | default | meaning |\n", out);
  fputs("|---|---|---|---|---|\n", out);
  for (int i = 0; i < PD_K_COUNT; i++) {
    const pd_confkey *k = pd_confkey_get(i);
    char type[1024], def[1024];
    pd_describe(k, type, sizeof type);
    pd_default_words(k, def, sizeof def);
    fprintf(out, "| `[%s]` | `%s` |", pd_confkey_section(k->section), k->name);
    pd_cell(out, type);
    pd_cell(out, def);
    pd_cell(out, k->doc);
    fputs("\n", out);
  }
  PD_CHECK(fflush(out) == 0 && !ferror(out), PD_ERR_IO,
           "cannot write the key table: %s", strerror(errno));
  return PD_OK;
}
