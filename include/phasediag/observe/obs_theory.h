/* The theory observer: the linear theory (theory.h) beside one run, at
 * t = 0, at the snapshots and at t*, in its block of the run's record.
 *
 * The block: scalars (kernel distances, linearity, LFP, spline and
 * piecewise-linear errors, the LFP crossover), then eigenvalues (closed
 * form, t = 0, t*) [top] each, projections and their linear prediction
 * [S][top] each, the linearized loss [S], the test curves (prediction,
 * LFP, spline, piecewise linear) [ntest] each. */
#ifndef PHASEDIAG_OBS_THEORY_H
#define PHASEDIAG_OBS_THEORY_H

#include "phasediag/observe/observer.h"

extern const pd_observer_type pd_obs_theory_type;

#endif
