/* Training in the span of the data, exactly.
 *
 * The gradient of the loss with respect to an input weight w_k is a
 * combination of the inputs x~_i = (x_i, 1), so gradient flow (and any
 * integrator that only adds gradient combinations) never moves w_k out of
 * the span of the training inputs, and a pre-activation w_k . x~ at a point
 * x of that span sees only the component of w_k inside it.  With Q (d x r)
 * an orthonormal basis of span{x_i} (r = rank of the inputs, bias column
 * excluded), every input weight splits as
 *
 *   w_k = (Q u_k + p_k, b_k),   Q^T p_k = 0,
 *
 * and the network on inputs z = Q^T x is the same network with input
 * dimension r, weights (u_k, b_k) and the same bias: p_k never changes.
 * The bias keeps a coordinate of its own (at most one more than the rank
 * of (x_i, 1) would need) so that the reduced network is an ordinary one:
 * the same kernels, the same parameter layout.  Q is orthonormal, so the
 * parameter metric, and with it the flow, is unchanged.
 *
 * The basis is computed once on rank 0 (LAPACK's pivoted QR, dgeqp3, of
 * the d x N matrix of all points the networks are evaluated on) and
 * broadcast, so every rank and every decomposition uses the same bits.
 * Directions whose pivot is below N_max eps |R_11| (N_max = max(d, N))
 * are left out, as numpy's matrix_rank does; the gradient along them is
 * at rounding level.
 *
 * Weight vectors here are laid out as the net's: d (or r) input
 * components, then the bias. */
#ifndef PHASEDIAG_SPAN_H
#define PHASEDIAG_SPAN_H

#include <mpi.h>

#include "phasediag/model/data.h"

typedef struct pd_span pd_span;

/* Collective: the basis of the span of every point of sets[0 .. nsets-1]
 * (NULL entries are skipped; all of dimension d).  PD_ERR_ARG on every
 * rank if the points span nothing (all zero) or hold a NaN or an
 * infinity. */
int pd_span_create(MPI_Comm comm, const pd_data *const *sets, int nsets,
                   pd_span **span);
void pd_span_destroy(pd_span **span);

int pd_span_dim(const pd_span *span);  /* d: the inputs' dimension */
int pd_span_rank(const pd_span *span); /* r: the basis' size */

/* Local: a new data set of dimension r with z_i = Q^T x_i and the same y.
 * Exact for points in the span (up to rounding). */
int pd_span_project(const pd_span *span, const pd_data *full, pd_data **red);

/* Local: wred (r + 1) = (Q^T w, b) of wfull (d + 1) = (w, b). */
void pd_span_reduce(const pd_span *span, const double *wfull, double *wred);

/* Local: the full weight vector whose reduced coordinates moved from
 * wred0 to wred, starting at wfull0: wfull = wfull0 + Q (u - u0) in the
 * input components, the bias from wred.  Gives wfull0's frozen part p
 * back exactly as drawn. */
void pd_span_lift(const pd_span *span, const double *wfull0,
                  const double *wred0, const double *wred, double *wfull);

#endif
