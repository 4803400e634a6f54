#include "phasediag/observe/obs_snapshots.h"

#include "phasediag/base/error.h"

enum { PD_SN_ROWS, PD_SN_SECONDS, PD_SN_HEAD };
#define PD_SN_PART(S, k) (PD_SN_HEAD + (k) * (S)) /* k: step, time, loss */

static int64_t pd_sn_place(pd_layout *L) {
  return L->S > 0 ? PD_SN_HEAD + 3 * L->S : 0;
}

static void pd_sn_fields(const pd_layout *L, int64_t off, pd_field *f, int *n) {
  const int64_t S = L->S;
  pd_field_set(&f[(*n)++], "/snapshots/step", 1, S, 0, off + PD_SN_PART(S, 0),
               1, "training step of each snapshot (-1: not reached)");
  pd_field_set(&f[(*n)++], "/snapshots/time", 1, S, 0, off + PD_SN_PART(S, 1),
               0, "flow time of each snapshot");
  pd_field_set(&f[(*n)++], "/snapshots/loss", 1, S, 0, off + PD_SN_PART(S, 2),
               0, "training loss at each snapshot");
  pd_field_set(&f[(*n)++], "/snapshots/seconds", 0, 0, 0, off + PD_SN_SECONDS,
               0, "wall time spent in the snapshot observers");
}

static int pd_sn_observe(void *state, const pd_obs_run *run,
                         const pd_obs_snapshot *s, double *block) {
  (void)state;
  const int64_t S = run->L->S;
  block[PD_SN_PART(S, 0) + s->row] = (double)s->step;
  block[PD_SN_PART(S, 1) + s->row] = s->t;
  block[PD_SN_PART(S, 2) + s->row] = s->loss;
  block[PD_SN_ROWS] = (double)(s->row + 1);
  return PD_OK;
}

static int pd_sn_finish(void *state, const pd_obs_run *run, double *block) {
  (void)state;
  block[PD_SN_SECONDS] = run->result->snapshot_seconds;
  return PD_OK;
}

const double *pd_obs_snapshots_steps(const pd_layout *L, const double *rec,
                                     int64_t *rows) {
  const int i = PD_OBS_SNAPSHOTS;
  *rows = 0;
  if (L->obs_len[i] == 0) return NULL;
  const double *block = rec + L->obs[i];
  *rows = block[PD_SN_ROWS] >= 0 ? (int64_t)block[PD_SN_ROWS] : 0;
  return block + PD_SN_PART(L->S, 0);
}

const pd_observer_type pd_obs_snapshots_type = {.name = "snapshots",
                                                .place = pd_sn_place,
                                                .fields = pd_sn_fields,
                                                .observe = pd_sn_observe,
                                                .finish = pd_sn_finish};
