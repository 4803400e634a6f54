#include "phasediag/observe/record.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "phasediag/train/train.h"

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

void pd_record_clear(const pd_layout *L, double *rec) {
  for (int64_t i = 0; i < L->len; i++) rec[i] = NAN;
  rec[PD_R_STATUS] = PD_STATUS_NOT_RUN;
}
