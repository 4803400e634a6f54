/* One task of a scan -- a (point, width, seed) -- trained on a group
 * communicator, and its result as a flat record of doubles.
 *
 * Record layout (pd_layout; K history points, F feature neurons; NaN where
 * unused):
 *   [0, PD_R_HEAD)          the scalars PD_R_* below
 *   + 0K .. 4K              history: step, time, loss, rd_w (K each)
 *   + 4K .. 4K + 4F         features: orientation and amplitude of F
 *                           sampled neurons at t = 0, then at t*
 *   then, when switched on, the snapshot rows, the spectral measures (the
 *   block at L->spec; its inside: spectral.h), the linear theory (the block
 *   at L->theory; its inside: obs_theory.h) and the test-set output
 *   (offsets in pd_layout; the named fields in pd_layout_fields, which the
 *   output writes as they are)
 * Orientation: atan2(b, w) for d = 1; for d > 1 the angle to the direction
 * of the heaviest cluster.  Amplitude: |a_k| |(w_k, b_k)|.  The scalar
 * condensation measure is the effective number of directions,
 * (sum_c A_c)^2 / sum_c A_c^2 over clusters of directions whose cosine to
 * the cluster's first (heaviest) member is >= cos_threshold. */
#ifndef PHASEDIAG_TASK_H
#define PHASEDIAG_TASK_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/config.h"
#include "phasediag/data.h"
#include "phasediag/plan.h"
#include "phasediag/spectral.h"

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
  PD_R_COND0,
  PD_R_COND1,
  PD_R_NHIST,
  PD_R_NFEAT,
  PD_R_LAMBDA,
  PD_R_TEST_LOSS,    /* 1/(2 n_test) |f - y|^2 on the test set */
  PD_R_TEST_REL,     /* |f - y| / |y| on the test set */
  PD_R_TEST_ACC,     /* fraction of test points with sign f = sign y */
  PD_R_TRAIN_ACC,    /* the same on the training set */
  PD_R_NSNAP,        /* snapshot rows filled */
  PD_R_SNAP_SECONDS, /* wall time in the observers */
  PD_R_VERDICT,      /* F-Principle: Spearman rho(frequency, step) */
  PD_R_HEAD = 32
};

/* Where the parts of a record live (all offsets and sizes in doubles). */
typedef struct {
  int64_t len;  /* doubles per record */
  int64_t K, F; /* history points, features per snapshot */
  int64_t S;    /* snapshot rows: snapshots + 2 with an observer, else 0 */
  pd_spectral_layout sp; /* the spectral measures (sp.methods 0: off) */
  int ntk;               /* linear theory on */
  int64_t top;           /* NTK eigen-components kept */
  int64_t ntest;         /* test points (0: no test set) */
  int64_t hist, feat, snap, spec, theory, test; /* offsets */
} pd_layout;

/* The spectral block at L->spec: spectral.h (pd_spectral_layout). */
/* The theory block at L->theory: obs_theory.h. */

/* The layout for a job: its config, training set (n, d) and test set
 * (NULL: none).  PD_ERR_CONFIG when a method does not fit the data (dft
 * with d > 1, grid with d > 4). */
int pd_layout_init(pd_layout *L, const pd_config *cfg, const pd_data *data,
                   const pd_data *test);

/* One named part of the record, for the output: dims are the per-run shape
 * (rank 0: a scalar), written as [P, W, S, dims...]. */
typedef struct {
  char name[64];
  int rank;
  int64_t dims[2];
  int64_t offset;
  int integer; /* write as int64 (NaN -> -1) */
  const char *description;
} pd_field;

/* Local: fill f (name, per-run rank and dims, record offset, int64 or
 * float64, description). */
void pd_field_set(pd_field *f, const char *name, int rank, int64_t d0,
                  int64_t d1, int64_t offset, int integer,
                  const char *description);

/* The optional fields of L (snapshots, spectra, theory, test output) into
 * f[0 .. *count), at most max. */
int pd_layout_fields(const pd_layout *L, pd_field *f, int max, int *count);

/* A job: what every task reads. */
typedef struct {
  const pd_config *cfg;
  const pd_data *data; /* training set */
  const pd_data *test; /* test set or NULL */
  pd_layout layout;
  /* In-flight state (state_prefix NULL or "": none).  A task stopped by its
   * trainer's stop hook saves its complete state to STATE_PREFIX.task-T
   * (pd_checkpoint_task_path); a task whose state file exists and belongs
   * to this job (config_hash, task, record layout, n, d, width) resumes
   * from it instead of step 0, bitwise as if never stopped, on a group of
   * any size.  A file of another job, or a damaged one (its CRC-32C does
   * not match), is ignored with a warning and the task starts over. */
  const char *state_prefix;
  uint64_t config_hash;
} pd_job;

/* Fill rec with "not run" (status -1, NaN elsewhere). */
void pd_task_record_clear(const pd_layout *L, double *rec);

/* Collective on group: train task t and fill rec (identical on every rank
 * of group).  hooks (may be NULL): its poll and stop hooks are the
 * trainer's (pd_train_hooks; the rest of it is ignored: the task sets its
 * observers and in-flight state hooks itself).  With
 * job->state_prefix: resumes from the task's state file if there is a
 * valid one (logged as "task T resumed at step S"), saves the state when
 * the trainer is stopped (PD_ERR_INTERRUPTED is still returned; a failed
 * save is a warning) and removes the file when the task completes. */
int pd_task_run(MPI_Comm group, const pd_plan *plan, const pd_job *job,
                int64_t t, const pd_train_hooks *hooks, double *rec);

/* Local: effective number of directions of F neurons (a[F], w[F*(d+1)]),
 * and per neuron its orientation and amplitude (see above). */
int pd_task_condensation(int64_t F, int d, const double *a, const double *w,
                         double cos_threshold, double *orient, double *amp,
                         double *measure);

#endif
