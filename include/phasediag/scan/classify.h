/* Classification of a scan's grid points (rank 0, after the scan).
 *
 * Per point, two slopes of log RD against log m, each a least-squares fit
 * with its standard error:
 *   t*            rd_w at t* (the first time the loss is below tol) over
 *                 the runs that converged;
 *   matched loss  rd_w at the first step below L_ref, L_ref the lowest
 *                 level of the loss ladder (train.h) that every finished
 *                 run of the point reached (diverged runs left out), over
 *                 the runs with rd_w > 0 there.
 * The regime (linear if slope < -band, condensed if > band, critical
 * between; undetermined with fewer than two distinct widths) is taken from
 * the t* slope when every run of the point converged, else from the
 * matched-loss slope: the motion of the input weights compared at a loss
 * all widths reached, when a saddle or a budget kept some run from tol.
 * Also the regime of Theorems 1 and 2, whether they agree, and the
 * distance to the theoretical boundary. */
#ifndef PHASEDIAG_CLASSIFY_H
#define PHASEDIAG_CLASSIFY_H

#include <stdint.h>
#include <stdio.h>

#include "phasediag/job/config.h"
#include "phasediag/observe/record.h"
#include "phasediag/scan/plan.h"

/* Which slope decided a point's regime. */
enum { PD_DECIDED_NONE = -1, PD_DECIDED_TSTAR = 0, PD_DECIDED_MATCHED = 1 };

typedef struct {
  int P;
  double *slope, *stderr_slope;           /* [P] the slope that decided */
  double *slope_tstar, *stderr_tstar;     /* [P] at t* */
  double *slope_matched, *stderr_matched; /* [P] at L_ref */
  double *loss_ref;                       /* [P] L_ref (NaN: none) */
  double *boundary_distance;              /* [P] */
  int8_t *regime, *theory, *decided;      /* [P] */
  int8_t *agree; /* [P] 1, 0, or -1: no verdict (the regime is undetermined) */
  int64_t *used; /* runs in the deciding fit */
} pd_phase;

/* Local: classify from the task records (ntasks records of layout L). */
int pd_classify(const pd_plan *plan, const pd_config *cfg, const pd_layout *L,
                const double *results, pd_phase **phase);
void pd_phase_destroy(pd_phase **phase);

/* The table: gamma, gamma', label, slope +- stderr, regime, theory, agree,
 * and which slope decided (t*, or the matched loss level). */
void pd_phase_print(FILE *out, const pd_plan *plan, const pd_phase *phase);

#endif
