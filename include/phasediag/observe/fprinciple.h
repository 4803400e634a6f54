/* Frequency-principle measures at the training points (low frequencies
 * converge first): 1-D DFT and non-uniform DFT, spectral peaks and their
 * relative error Delta_F, the projection onto the first principal component
 * for high-dimensional inputs, the Gaussian low/high-pass filtering errors
 * (distributed over ranks by rows), and the Spearman rank correlation.
 *
 * Transforms are unnormalized with the sign -1:
 *
 *   uniform:      y^_k = sum_{i<n} y_i exp(-2 pi i k i / n)
 *   non-uniform:  y^_k = sum_{i<n} y_i exp(-2 pi i k x_i / L)
 *
 * so that on uniform points x_i = i L / n both agree.
 *
 * Only pd_fp_filter is collective (over the communicator it is given, which
 * it uses for collectives only and does not keep); all other functions are
 * local and need no MPI. */
#ifndef PHASEDIAG_FPRINCIPLE_H
#define PHASEDIAG_FPRINCIPLE_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/model/data.h"

#define PD_FP_DELTA_TOL 0.1 /* a peak has converged when Delta_F < this */
#define PD_FP_PEAK_REL 1e-3 /* default relative peak threshold */

/* Local.  DFT of n uniformly spaced values y at the integer frequencies
 * k = 0 .. nk - 1 (phases reduced exactly as (k i mod n) / n):
 * re[k] + i im[k] = y^_k.  O(n nk). */
int pd_fp_dft(int64_t n, const double *y, int nk, double *re, double *im);

/* Local.  Non-uniform DFT at the nk frequencies freq[j] (cycles per length
 * L > 0): re[j] + i im[j] = sum_i y_i exp(-2 pi i freq[j] x_i / L). */
int pd_fp_nudft(int64_t n, const double *x, const double *y, double L, int nk,
                const double *freq, double *re, double *im);

/* Local.  amp[k] = |re[k] + i im[k]|. */
void pd_fp_amplitude(int nk, const double *re, const double *im, double *amp);

/* Local.  Peaks of amp[0 .. nk-1]: indices k with amp[k] > amp[k-1] (k > 0)
 * and amp[k] >= amp[k+1] (k < nk-1) and amp[k] >= rel * max(amp), in
 * increasing k.  *npeaks receives how many there are; the first (lowest)
 * min(*npeaks, maxpeaks) are stored in peaks. */
int pd_fp_peaks(int nk, const double *amp, double rel, int maxpeaks, int *peaks,
                int *npeaks);

/* Local.  delta[j] = | amp_h[k] - amp_y[k] | / amp_y[k] at k = peaks[j]
 * (Delta_F of the network output h against the target y); amp_y must be
 * positive there.  *nconv (NULL allowed) receives the number of peaks with
 * delta < tol (tol <= 0: PD_FP_DELTA_TOL). */
int pd_fp_delta(int npeaks, const int *peaks, const double *amp_y,
                const double *amp_h, double tol, double *delta, int *nconv);

/* Local.  The first principal component p (d entries, unit norm) of the n
 * points x (n x d, row-major): power iteration on the covariance of the
 * centered points, applied matrix-free (O(n d) per iteration), started from
 * the centered point of largest norm (the lowest such index), until the
 * iterate moves less than 1e-12 or after 10000 iterations.  The sign makes
 * the largest-magnitude component (lowest index on ties) positive.  All
 * points equal: p = e_0.  *lambda (NULL allowed) receives the variance along
 * p. */
int pd_fp_principal(int64_t n, int d, const double *x, double *p,
                    double *lambda);

/* Local.  v[i] = p . x_i. */
void pd_fp_project(int64_t n, int d, const double *x, const double *p,
                   double *v);

/* Filtering errors (see pd_fp_filter). */
typedef struct {
  double e_low, e_high; /* relative errors of the low and high parts */
  double y_low_norm, y_high_norm; /* |y_low|, |y_high| */
} pd_fp_filtered;

/* Collective over comm.  With G(x) = exp(-|x|^2 / (2 delta)), delta > 0:
 *
 *   y_low_i = sum_j y_j G(x_i - x_j) / sum_j G(x_i - x_j),  y_high = y - y_low
 *
 * for the target y = data->y and likewise for the network output h (n
 * values, the same on every rank); e_low = |y_low - h_low| / |y_low|,
 * e_high = |y_high - h_high| / |y_high| (0 when both norms are 0, +inf when
 * only the reference is).  Each rank computes a contiguous block of rows i
 * (O(n^2 d / P) time, O(n) memory, no n x n matrix), the blocks are
 * gathered, and the norms are summed in a fixed order: the result, and
 * y_low, h_low when not NULL (n each), are the same bits on every rank and
 * for every number of ranks.  Failures are returned on every rank. */
int pd_fp_filter(MPI_Comm comm, const pd_data *data, const double *h,
                 double delta, pd_fp_filtered *res, double *y_low,
                 double *h_low);

/* Local.  Spearman's rank correlation of a and b (n >= 2 each; ties get
 * their average rank), e.g. peak frequency against the step at which the
 * peak converged.  NAN when all of a, or all of b, are tied. */
int pd_fp_spearman(int64_t n, const double *a, const double *b, double *rho);

#endif
