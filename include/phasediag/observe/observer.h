/* Observers: what is measured of a run beside its training, as registered
 * types behind one interface (as PETSc's TSMonitor or KSP types).
 *
 * An observer type sizes its block of the run's record for a job, names
 * the block's parts for the output (fields), is created on the run's
 * network at t = 0, is called at every snapshot of the trainer, finishes
 * at the end of the run and may print a progress line from a finished
 * block.  The registry (observers.c) lists the types in the order of their
 * blocks in the record and of their calls:
 *
 *   features   condensation of the input weights at t = 0 and at the end
 *   snapshots  step, flow time and loss of every snapshot row
 *   spectral   F-Principle measures (spectral.h)
 *   theory     the linear theory beside the run (theory.h)
 *   test       the trained network on the test set
 *   condense   orientation clusters at every snapshot ([features] track)
 *
 * Adding an observer: one source file with its type and one line in the
 * registry.  Its block goes into the record, the checkpoint and the
 * in-flight state files, and its fields into the result file, with nothing
 * else to change. */
#ifndef PHASEDIAG_OBSERVER_H
#define PHASEDIAG_OBSERVER_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "phasediag/job/config.h"
#include "phasediag/model/data.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/record.h"
#include "phasediag/train/train.h"

/* One run as its observers see it. */
typedef struct {
  MPI_Comm group; /* the run's group (the network's communicator) */
  pd_net *net;    /* the network, its parameters as trained so far */
  const pd_config *cfg;
  const pd_data *data, *test; /* training set, test set (or NULL) */
  const pd_layout *L;
  double *rec; /* the whole record (an observer writes only its block) */
  const pd_train_result *result; /* NULL until the training has ended */
} pd_obs_run;

/* One snapshot: outputs f at the training points after `step` steps, at
 * flow time t with loss `loss`; row: its row (0 .. L->S - 1). */
typedef struct {
  const double *f;
  int64_t step, row;
  double t, loss;
} pd_obs_snapshot;

typedef struct pd_observer_type {
  const char *name;
  /* Local, once per job, in registry order (NULL: nothing to set up):
   * fill this observer's part of the job's geometry in L; set *snapshots
   * = 1 when it needs the trainer's snapshot rows (L->S is not known
   * yet). */
  int (*setup)(pd_layout *L, const pd_config *cfg, const pd_data *data,
               const pd_data *test, int *snapshots);
  /* Local, once L->S is set: place the parts of its block (in its part of
   * L) and return the block's length in doubles; 0: off for this job. */
  int64_t (*place)(pd_layout *L);
  /* Local: its named fields appended to f[*n ..] (record offsets: the
   * block is at `off`). */
  void (*fields)(const pd_layout *L, int64_t off, pd_field *f, int *n);
  /* Collective over run->group, at t = 0 (NULL: nothing to create): its
   * state (may stay NULL) and whatever of the block is known before
   * training. */
  int (*create)(const pd_obs_run *run, double *block, void **state);
  /* Collective, at a snapshot (NULL: none taken). */
  int (*observe)(void *state, const pd_obs_run *run, const pd_obs_snapshot *s,
                 double *block);
  /* Collective, after the training (run->result set; NULL: nothing). */
  int (*finish)(void *state, const pd_obs_run *run, double *block);
  /* Local: free a state that create left non-NULL, setting it NULL. */
  int (*destroy)(void **state);
  /* Local: the one-line summary of a finished block for the progress
   * output, no indentation or newline (NULL: none). */
  void (*progress)(const pd_layout *L, const double *block, char *buf,
                   size_t size);
} pd_observer_type;

/* The registered types (observers.h), in block order (indices into
 * L->obs). */
enum {
  PD_OBS_FEATURES,
  PD_OBS_SNAPSHOTS,
  PD_OBS_SPECTRAL,
  PD_OBS_THEORY,
  PD_OBS_TEST,
  PD_OBS_CONDENSE,
  PD_OBS_COUNT
};

#endif
