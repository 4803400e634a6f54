/* Least-squares fits used to classify regimes. */
#ifndef PHASEDIAG_FIT_H
#define PHASEDIAG_FIT_H

#include <stdint.h>

/* Ordinary least squares y = c + slope x over the points with finite x and
 * y.  stderr_out is the standard error of the slope (NaN with < 3 points or
 * a single distinct x).  PD_ERR_ARG if fewer than 2 distinct x remain. */
int pd_fit_slope(const double *x, const double *y, int64_t n, double *slope,
                 double *stderr_out);

/* Empirical regime from a log RD vs log m slope: linear if slope < -band,
 * condensed if slope > band, critical otherwise (pd_regime values). */
int pd_fit_regime(double slope, double band);

#endif
