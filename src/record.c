#include "phasediag/record.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "phasediag/error.h"
#include "phasediag/observer.h"
#include "phasediag/train.h"

int pd_layout_init(pd_layout *L, const pd_config *cfg, const pd_data *data,
                   const pd_data *test) {
  memset(L, 0, sizeof *L);
  L->K = cfg->train.history_points;
  L->F = cfg->feature_cap;
  L->ntest = test ? test->n : 0;
  /* every observer states its geometry and whether it needs snapshot
   * rows before any block is sized: the rows are shared */
  int snapshots = 0;
  for (int i = 0; i < PD_OBS_COUNT; i++) {
    const pd_observer_type *ot = pd_observer_type_get(i);
    int wants = 0;
    if (ot->setup) PD_CALL(ot->setup(L, cfg, data, test, &wants));
    snapshots |= wants;
  }
  L->S = snapshots ? cfg->train.snapshots + 2 : 0;
  int64_t o = PD_R_HEAD;
  L->hist = o;
  o += 4 * L->K;
  for (int i = 0; i < PD_OBS_COUNT; i++) {
    L->obs[i] = o;
    L->obs_len[i] = pd_observer_type_get(i)->place(L);
    o += L->obs_len[i];
  }
  L->len = o;
  return PD_OK;
}

void pd_field_set(pd_field *f, const char *name, int rank, int64_t d0,
                  int64_t d1, int64_t offset, int integer,
                  const char *description) {
  memset(f, 0, sizeof *f);
  snprintf(f->name, sizeof f->name, "%s", name);
  f->rank = rank;
  f->dims[0] = d0;
  f->dims[1] = d1;
  f->offset = offset;
  f->integer = integer;
  f->description = description;
}

int pd_layout_fields(const pd_layout *L, pd_field *f, int max, int *count) {
  /* the most one observer names at once (theory: 19) stays below the
   * margin, so no type writes past f[max) before the check below */
  enum { PD_FIELDS_ONE = 32 };
  int n = 0;
  for (int i = 0; i < PD_OBS_COUNT; i++) {
    if (L->obs_len[i] == 0) continue;
    PD_CHECK(n + PD_FIELDS_ONE <= max, PD_ERR_ARG,
             "room for %d record fields", max);
    pd_observer_type_get(i)->fields(L, L->obs[i], f, &n);
  }
  *count = n;
  return PD_OK;
}

void pd_record_clear(const pd_layout *L, double *rec) {
  for (int64_t i = 0; i < L->len; i++) rec[i] = NAN;
  rec[PD_R_STATUS] = PD_STATUS_NOT_RUN;
}
