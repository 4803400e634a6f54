/* The observers' registry: the registered types (observer.h) in block
 * order, the record layout they make for a job, and the observers of one
 * run driven through a training. */
#ifndef PHASEDIAG_OBSERVERS_H
#define PHASEDIAG_OBSERVERS_H

#include <stddef.h>
#include <stdint.h>

#include "phasediag/observe/observer.h"
#include "phasediag/observe/record.h"

/* The layout for a job: its config, training set (n, d) and test set
 * (NULL: none).  PD_ERR_CONFIG when an observer does not fit the data
 * (dft with d > 1, grid with d > 4). */
int pd_layout_init(pd_layout *L, const pd_config *cfg, const pd_data *data,
                   const pd_data *test);

#define PD_FIELDS_MAX 96 /* fields all observers together may name */

/* Local: the observers' fields of L into f[0 .. *count), at most max. */
int pd_layout_fields(const pd_layout *L, pd_field *f, int max, int *count);

/* Local: the type registered at index i (< PD_OBS_COUNT). */
const pd_observer_type *pd_observer_type_get(int i);

/* The observers of one run. */
typedef struct {
  pd_obs_run run;
  void *state[PD_OBS_MAX];
  int64_t row; /* the next snapshot row */
} pd_observers;

/* Collective over run->group: every observer in effect created, in
 * registry order (on failure the ones made are destroyed). */
int pd_observers_create(pd_observers *o, const pd_obs_run *run);
/* Collective: one snapshot (s->row is set from o->row, then advanced). */
int pd_observers_observe(pd_observers *o, pd_obs_snapshot *s);
/* Collective: the end of the run, result: the trainer's. */
int pd_observers_finish(pd_observers *o, const pd_train_result *result);
/* Local: free every state; the first error. */
int pd_observers_destroy(pd_observers *o);

/* Local: the progress line of observer i for a finished record (0 if it
 * has none or is off for L). */
int pd_observer_progress(const pd_layout *L, int i, const double *rec,
                         char *buf, size_t size);

#endif
