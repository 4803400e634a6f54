#include "phasediag/train/integrator.h"

#include <math.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

/* The registry: a new step rule is one more entry (and the count). */
static const pd_integrator_type *const pd_integrators[PD_INTEGRATOR_COUNT] = {
    &pd_integ_gd, &pd_integ_rkc};
#define PD_NINTEG PD_INTEGRATOR_COUNT

const pd_integrator_type *pd_integrator_find(const char *name) {
  for (int i = 0; name && i < PD_NINTEG; i++)
    if (strcmp(pd_integrators[i]->name, name) == 0) return pd_integrators[i];
  return NULL;
}

const char *pd_integrator_name(int i) {
  return i >= 0 && i < PD_NINTEG ? pd_integrators[i]->name : NULL;
}

int pd_integrator_create(const pd_integrator_type *type, int64_t n,
                         void **state) {
  *state = NULL;
  unsigned char *s = NULL;
  PD_CALL(pd_calloc(type->size, 1, &s));
  int err = type->create(s, n);
  if (err) {
    type->free(s);
    pd_free(&s);
    return err;
  }
  *state = s;
  return PD_OK;
}

void pd_integrator_destroy(const pd_integrator_type *type, void **state) {
  if (!*state) return;
  type->free(*state);
  unsigned char *s = *state;
  pd_free(&s);
  *state = NULL;
}

/* Bytes of field k of st (-1: a negative length). */
static int64_t pd_field_bytes(const pd_state_field *f, const void *st,
                              int64_t n) {
  const char *b = st;
  int64_t len;
  switch (f->kind) {
    case PD_FIELD_SAMPLES: return 8 * (int64_t)f->count * n;
    case PD_FIELD_RECORDS:
      memcpy(&len, b + f->len_offset, sizeof len);
      return len < 0 ? -1 : 8 * (int64_t)f->count * len;
    default: return 8 * (int64_t)f->count;
  }
}

static int pd_field_is_pointer(const pd_state_field *f) {
  return f->kind == PD_FIELD_SAMPLES || f->kind == PD_FIELD_RECORDS;
}

int64_t pd_state_size(const pd_state_table *tab, const void *st, int64_t n) {
  int64_t size = 0;
  for (int k = 0; k < tab->nfields; k++) {
    const int64_t b = pd_field_bytes(&tab->fields[k], st, n);
    if (b < 0) return -1;
    size += b;
  }
  return size;
}

void pd_state_pack(const pd_state_table *tab, const void *st, int64_t n,
                   unsigned char *out) {
  const char *b = st;
  for (int k = 0; k < tab->nfields; k++) {
    const pd_state_field *f = &tab->fields[k];
    const int64_t bytes = pd_field_bytes(f, st, n);
    const void *src = b + f->offset;
    if (pd_field_is_pointer(f)) memcpy(&src, b + f->offset, sizeof src);
    if (bytes > 0) memcpy(out, src, (size_t)bytes);
    out += bytes;
  }
}

int64_t pd_state_unpack(const pd_state_table *tab, void *st, int64_t n,
                        const unsigned char *in, int64_t size) {
  char *b = st;
  int64_t used = 0;
  for (int k = 0; k < tab->nfields; k++) {
    const pd_state_field *f = &tab->fields[k];
    const int64_t bytes = pd_field_bytes(f, st, n);
    if (bytes < 0 || bytes > size - used) return -1;
    if (pd_field_is_pointer(f)) {
      const void *p = in + used;
      memcpy(b + f->offset, &p, sizeof p);
    } else {
      memcpy(b + f->offset, in + used, (size_t)bytes);
    }
    used += bytes;
  }
  return used;
}

void pd_state_copy(const pd_state_table *tab, void *dst, const void *src,
                   int64_t n) {
  char *d = dst;
  const char *s = src;
  for (int k = 0; k < tab->nfields; k++) {
    const pd_state_field *f = &tab->fields[k];
    const int64_t bytes = pd_field_bytes(f, src, n);
    if (!pd_field_is_pointer(f)) {
      memcpy(d + f->offset, s + f->offset, (size_t)bytes);
      continue;
    }
    void *to;
    const void *from;
    memcpy(&to, d + f->offset, sizeof to);
    memcpy(&from, s + f->offset, sizeof from);
    if (bytes > 0) memcpy(to, from, (size_t)bytes);
  }
}

double pd_window_ref(const double *recent, int64_t n, double loss) {
  double ref = loss;
  for (int64_t i = 0; i < n; i++) ref = fmax(ref, recent[i]);
  return ref;
}

void pd_window_push(double *recent, int64_t *n, int64_t step, double loss) {
  recent[step % PD_TRAIN_WINDOW] = loss;
  if (*n < PD_TRAIN_WINDOW) ++*n;
}
