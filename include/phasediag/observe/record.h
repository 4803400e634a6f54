/* A run's record: one flat array of doubles per task, the unit the
 * scheduler sends, the checkpoint stores and the output writes.
 *
 * Layout (pd_layout; NaN where unused):
 *   [0, PD_R_HEAD)      the trainer's scalars PD_R_* below
 *   hist .. + 4K        history: step, time, loss, rd_w (K points each)
 *   ladder .. + 2 Q     the loss ladder (train.h): flow time and rd_w at
 *                       the first step below each of its Q levels
 *   then one block per observer in effect, in the registry's order
 *   (observer.h: features, snapshots, spectral, theory, test, condense),
 *   each at L->obs[i] with L->obs_len[i] doubles; only the observer knows
 *   its block's inside and names it for the output through its fields.
 *
 * The layout is made and its fields named by the observers' registry
 * (observers.h: pd_layout_init, pd_layout_fields); the output writes the
 * head and the history itself and every observer field as it is. */
#ifndef PHASEDIAG_RECORD_H
#define PHASEDIAG_RECORD_H

#include <stdint.h>

#include "phasediag/job/config.h"
#include "phasediag/model/data.h"
#include "phasediag/observe/spectral.h"

enum {
  PD_R_TASK = 0,
  PD_R_STATUS,
  PD_R_STEPS,
  PD_R_REJECTED,
  PD_R_TSTAR,
  PD_R_LOSS0,
  PD_R_LOSS,
  PD_R_RDW,
  PD_R_RDA,
  PD_R_SECONDS,
  PD_R_NHIST,
  PD_R_LAMBDA,
  PD_R_EVALS,    /* gradient evaluations */
  PD_R_HEAD = 32 /* room for more trainer scalars */
};

#define PD_OBS_MAX 8 /* observer blocks a layout can hold */

/* Where the parts of a record live (all offsets and sizes in doubles), and
 * the job's geometry the observers size their blocks from. */
typedef struct {
  int64_t len;  /* doubles per record */
  int64_t K, F; /* history points, features per snapshot */
  int64_t S;    /* snapshot rows: snapshots + 2 with an observer, else 0 */
  pd_spectral_layout sp; /* the spectral measures (sp.methods 0: off) */
  int ntk;               /* linear theory on */
  int64_t top;           /* NTK eigen-components kept */
  int64_t ntest;         /* test points (0: no test set) */
  int64_t C;             /* [features] track: cosine-matrix neurons (0:
                            off) */
  int64_t hist;          /* offset of the history */
  int64_t ladder;        /* offset of the loss ladder */
  int64_t obs[PD_OBS_MAX], obs_len[PD_OBS_MAX]; /* observer blocks (len 0:
                                                   off) */
} pd_layout;

/* One named part of the record, for the output: dims are the per-run shape
 * (rank 0: a scalar), written as [P, W, S, dims...]. */
typedef struct {
  char name[64];
  int rank;
  int64_t dims[2];
  int64_t offset; /* in the record */
  int integer;    /* write as int64 (NaN -> -1) */
  const char *description;
} pd_field;

/* Local: fill f (name, per-run rank and dims, record offset, int64 or
 * float64, description). */
void pd_field_set(pd_field *f, const char *name, int rank, int64_t d0,
                  int64_t d1, int64_t offset, int integer,
                  const char *description);

/* Local: fill rec with "not run" (status -1, NaN elsewhere). */
void pd_record_clear(const pd_layout *L, double *rec);

#endif
