/* Classification of a scan's grid points (rank 0, after the scan).
 *
 * Per point: the least-squares slope of log rd_w(t*) against log m over all
 * widths and seeds whose run converged, its standard error, the empirical
 * regime (linear if slope < -band, condensed if > band, critical between;
 * undetermined with fewer than two distinct widths), the regime of Theorems
 * 1 and 2, whether they agree, and the distance to the theoretical
 * boundary. */
#ifndef PHASEDIAG_CLASSIFY_H
#define PHASEDIAG_CLASSIFY_H

#include <stdint.h>
#include <stdio.h>

#include "phasediag/job/config.h"
#include "phasediag/scan/plan.h"

typedef struct {
  int P;
  double *slope, *stderr_slope, *boundary_distance; /* [P] */
  int8_t *regime, *theory, *agree;                  /* [P] */
  int64_t *used;                                    /* runs in the fit */
} pd_phase;

/* Local: classify from the task records (ntasks x len doubles). */
int pd_classify(const pd_plan *plan, const pd_config *cfg, int64_t len,
                const double *results, pd_phase **phase);
void pd_phase_destroy(pd_phase **phase);

/* The table: gamma, gamma', label, slope +- stderr, regime, theory, agree. */
void pd_phase_print(FILE *out, const pd_plan *plan, const pd_phase *phase);

#endif
