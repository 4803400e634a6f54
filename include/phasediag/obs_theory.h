/* The theory observer: the linear theory (theory.h) beside one run, and
 * its block of the run's record (task.h: pd_layout, the block at
 * L->theory).  Only this module knows the block's inside; the task calls it
 * at t = 0, at the snapshots and at t*, the output writes its fields and
 * the progress output prints its line.
 *
 * The block: scalars, then eigenvalues (closed form, t = 0, t*) [top]
 * each, projections and their linear prediction [S][top] each, the
 * linearized loss [S], the test curves (prediction, LFP, spline, piecewise
 * linear) [ntest] each. */
#ifndef PHASEDIAG_OBS_THEORY_H
#define PHASEDIAG_OBS_THEORY_H

#include <stddef.h>
#include <stdint.h>

#include "phasediag/config.h"
#include "phasediag/data.h"
#include "phasediag/net.h"
#include "phasediag/task.h"
#include "phasediag/theory.h"

enum {
  PD_TH_DIST0 = 0,
  PD_TH_DIST1,
  PD_TH_CHANGE,
  PD_TH_LIN_TRAIN,
  PD_TH_LIN_TEST,
  PD_TH_LFP,
  PD_TH_SPLINE,
  PD_TH_PWL,
  PD_TH_XI_C,
  PD_TH_HEAD = 12
};
/* The arrays after the scalars, for T components, S snapshot rows and M
 * test points. */
#define PD_TH_EIG(T) PD_TH_HEAD                              /* [3][T] */
#define PD_TH_PROJ(T) (PD_TH_HEAD + 3 * (T))                 /* [S][T] */
#define PD_TH_PROJ_LIN(T, S) (PD_TH_PROJ(T) + (S) * (T))     /* [S][T] */
#define PD_TH_LOSS_LIN(T, S) (PD_TH_PROJ(T) + 2 * (S) * (T)) /* [S] */
#define PD_TH_CURVES(T, S) (PD_TH_LOSS_LIN(T, S) + (S))      /* [4][M] */
#define PD_TH_LEN(T, S, M) (PD_TH_CURVES(T, S) + 4 * (M))

/* Local: the block's length in doubles for L (0 when the theory is off). */
int64_t pd_obs_theory_block(const pd_layout *L);

/* Local: the block's named fields (offsets in the record: the block at
 * L->theory) appended to f[*n ..]; at most 32. */
void pd_obs_theory_fields(const pd_layout *L, pd_field *f, int *n);

/* Collective over the net's communicator, at t = 0: the theory beside net
 * with the options of cfg ([ntk]) and L->top components. */
int pd_obs_theory_create(pd_net *net, const pd_config *cfg, const pd_data *data,
                         const pd_data *test, const pd_layout *L,
                         pd_theory **th);

/* Collective: snapshot row `row` (< L->S) at flow time t, outputs f at the
 * training points, into the block. */
int pd_obs_theory_observe(pd_theory *th, const pd_layout *L, const double *f,
                          double t, int64_t row, double *block);

/* Collective, at t*: the summary, the eigenvalues and the test curves into
 * the block. */
int pd_obs_theory_finish(pd_theory *th, pd_net *net, const pd_layout *L,
                         double *block);

/* Local: the one-line summary of a finished block for the progress output
 * (no indentation, no newline). */
void pd_obs_theory_progress(const double *block, char *buf, size_t size);

#endif
