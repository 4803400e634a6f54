/* One task of a scan -- a (point, width, seed) -- trained on a group
 * communicator, and its result as a flat record of doubles.
 *
 * Record layout (K history points, F feature neurons; NaN where unused):
 *   [0, PD_R_HEAD)          the scalars PD_R_* below
 *   + 0K .. 4K              history: step, time, loss, rd_w (K each)
 *   + 4K .. 4K + 4F         features: orientation and amplitude of F
 *                           sampled neurons at t = 0, then at t*
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
  PD_R_HEAD = 16
};

/* Doubles in one record. */
int64_t pd_task_record_len(const pd_config *cfg);

/* Fill rec with "not run" (status -1, NaN elsewhere). */
void pd_task_record_clear(const pd_config *cfg, double *rec);

/* Collective on group: train task t and fill rec (identical on every rank
 * of group).  poll (may be NULL) is called once per training step. */
int pd_task_run(MPI_Comm group, const pd_plan *plan, const pd_config *cfg,
                const pd_data *data, int64_t t, void (*poll)(void *),
                void *poll_ctx, double *rec);

/* Local: effective number of directions of F neurons (a[F], w[F*(d+1)]),
 * and per neuron its orientation and amplitude (see above). */
int pd_task_condensation(int64_t F, int d, const double *a, const double *w,
                         double cos_threshold, double *orient, double *amp,
                         double *measure);

#endif
