/* The features observer: how condensed the input weights are, at t = 0
 * and at the end of the run, from F sampled neurons (F = min(feature_cap,
 * m), the same neurons at both times).
 *
 * Orientation: atan2(b, w) for d = 1; for d > 1 the angle to the direction
 * of the heaviest cluster.  Amplitude: |a_k| |(w_k, b_k)|.  The scalar
 * condensation measure is the effective number of directions,
 * (sum_c A_c)^2 / sum_c A_c^2 over clusters of directions whose cosine to
 * the cluster's first (heaviest) member is >= cos_threshold.
 *
 * Its block (F = L->F, NaN past the sampled neurons): condensation at
 * t = 0 and at the end, neurons sampled, then orientation and amplitude
 * [F] at t = 0, then at the end. */
#ifndef PHASEDIAG_OBS_FEATURES_H
#define PHASEDIAG_OBS_FEATURES_H

#include <stdint.h>

#include "phasediag/observe/observer.h"

extern const pd_observer_type pd_obs_features_type;

/* Local: effective number of directions of F neurons (a[F], w[F*(d+1)]),
 * and per neuron its orientation and amplitude (see above). */
int pd_condensation(int64_t F, int d, const double *a, const double *w,
                    double cos_threshold, double *orient, double *amp,
                    double *measure);

#endif
