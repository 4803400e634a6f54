#include "phasediag/observe/observers.h"

#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/observe/obs_condense.h"
#include "phasediag/observe/obs_features.h"
#include "phasediag/observe/obs_snapshots.h"
#include "phasediag/observe/obs_spectral.h"
#include "phasediag/observe/obs_test.h"
#include "phasediag/observe/obs_theory.h"

/* The registry: block and call order (the enum in observer.h). */
static const pd_observer_type *const pd_observer_types[PD_OBS_COUNT] = {
    [PD_OBS_FEATURES] = &pd_obs_features_type,
    [PD_OBS_SNAPSHOTS] = &pd_obs_snapshots_type,
    [PD_OBS_SPECTRAL] = &pd_obs_spectral_type,
    [PD_OBS_THEORY] = &pd_obs_theory_type,
    [PD_OBS_TEST] = &pd_obs_test_type,
    [PD_OBS_CONDENSE] = &pd_obs_condense_type};

const pd_observer_type *pd_observer_type_get(int i) {
  return pd_observer_types[i];
}

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
    const pd_observer_type *ot = pd_observer_types[i];
    int wants = 0;
    if (ot->setup) PD_CALL(ot->setup(L, cfg, data, test, &wants));
    snapshots |= wants;
  }
  L->S = snapshots ? cfg->train.snapshots + 2 : 0;
  int64_t o = PD_R_HEAD;
  L->hist = o;
  o += 4 * L->K;
  L->ladder = o;
  o += 2 * PD_LADDER_LEVELS;
  for (int i = 0; i < PD_OBS_COUNT; i++) {
    L->obs[i] = o;
    L->obs_len[i] = pd_observer_types[i]->place(L);
    o += L->obs_len[i];
  }
  L->len = o;
  return PD_OK;
}

int pd_layout_fields(const pd_layout *L, pd_field *f, int max, int *count) {
  /* the most one observer names at once (theory: 19) stays below the
   * margin, so no type writes past f[max) before the check below */
  enum { PD_FIELDS_ONE = 32 };
  int n = 0;
  for (int i = 0; i < PD_OBS_COUNT; i++) {
    if (L->obs_len[i] == 0) continue;
    PD_CHECK(n + PD_FIELDS_ONE <= max, PD_ERR_ARG, "room for %d record fields",
             max);
    pd_observer_types[i]->fields(L, L->obs[i], f, &n);
  }
  *count = n;
  return PD_OK;
}

/* observer i's block of the run's record */
static double *pd_obs_block(const pd_obs_run *run, int i) {
  return run->rec + run->L->obs[i];
}

int pd_observers_create(pd_observers *o, const pd_obs_run *run) {
  memset(o, 0, sizeof *o);
  o->run = *run;
  int err = PD_OK;
  for (int i = 0; i < PD_OBS_COUNT && !err; i++)
    if (run->L->obs_len[i] > 0 && pd_observer_types[i]->create)
      err = pd_observer_types[i]->create(&o->run, pd_obs_block(run, i),
                                         &o->state[i]);
  if (err) pd_observers_destroy(o);
  PD_CALL(err);
  return PD_OK;
}

int pd_observers_observe(pd_observers *o, pd_obs_snapshot *s) {
  /* cannot happen: the trainer takes snapshots + 2 rows at most */
  if (o->row >= o->run.L->S) return PD_OK;
  s->row = o->row;
  for (int i = 0; i < PD_OBS_COUNT; i++)
    if (o->run.L->obs_len[i] > 0 && pd_observer_types[i]->observe)
      PD_CALL(pd_observer_types[i]->observe(o->state[i], &o->run, s,
                                            pd_obs_block(&o->run, i)));
  o->row++;
  return PD_OK;
}

int pd_observers_finish(pd_observers *o, const pd_train_result *result) {
  o->run.result = result;
  for (int i = 0; i < PD_OBS_COUNT; i++)
    if (o->run.L->obs_len[i] > 0 && pd_observer_types[i]->finish)
      PD_CALL(pd_observer_types[i]->finish(o->state[i], &o->run,
                                           pd_obs_block(&o->run, i)));
  return PD_OK;
}

int pd_observers_destroy(pd_observers *o) {
  int err = PD_OK;
  for (int i = 0; i < PD_OBS_COUNT; i++) {
    if (!o->state[i]) continue;
    int e = pd_observer_types[i]->destroy(&o->state[i]);
    if (!err) err = e;
  }
  return err;
}

int pd_observer_progress(const pd_layout *L, int i, const double *rec,
                         char *buf, size_t size) {
  const pd_observer_type *ot = pd_observer_types[i];
  if (L->obs_len[i] == 0 || !ot->progress) return 0;
  ot->progress(L, rec + L->obs[i], buf, size);
  return 1;
}
