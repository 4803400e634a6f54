/* The neural tangent kernel of the two-layer network, as a distributed
 * n x n matrix (dmat.h) for the linear theory.
 *
 * Infinite width, any activation (pd_ntk_fill_infinite):
 *
 *   Theta(x, x') = (m / alpha^2) [ E sigma(u) sigma(v)
 *                  + beta1^2 (x~ . x~') E sigma'(u) sigma'(v) ],
 *   (u, v) ~ N(0, beta2^2 [[x~.x~, x~.x~'], [x~.x~', x~'.x~']]),
 *
 * by Gauss-Hermite quadrature (ntk_quad.h), and in closed form for relu
 * (the arc-cosine kernel; see pd_ntk_closed_form_check), x~ = (x, 1),
 * theta = angle(x~, x~'):
 *
 *   Theta(x, x') = (m / alpha^2) [ beta2^2 |x~| |x~'| (sin theta
 *                  + (pi - theta) cos theta) / (2 pi)
 *                  + beta1^2 (x~ . x~') (pi - theta) / (2 pi) ]
 *
 * Empirical, at the net's parameters (J the Jacobian of the outputs), for
 * any activation sigma of the net:
 *
 *   Theta_ij = sum_k J_ik . J_jk
 *            = (1 / alpha^2) sum_k [ sigma(z_ik) sigma(z_jk)
 *              + a_k^2 sigma'(z_ik) sigma'(z_jk) x~_i . x~_j ],
 *   z_ik = w_k . x~_i
 *
 * Collective calls are marked; all others are local. */
#ifndef PHASEDIAG_NTK_H
#define PHASEDIAG_NTK_H

#include <stdint.h>

#include "phasediag/model/activation.h"
#include "phasediag/model/data.h"
#include "phasediag/model/net.h"
#include "phasediag/model/scheme.h"
#include "phasediag/observe/dmat.h"

/* PD_OK if the closed-form infinite-width NTK below holds for activation
 * act (NULL: relu); otherwise PD_ERR_CONFIG "the closed-form infinite-width
 * NTK is known only for relu; activation X has none".  Callers that have a
 * net check its activation before using the two functions below. */
int pd_ntk_closed_form_check(const pd_activation *act);

/* Pure: relu's infinite-width kernel Theta(x, x') for inputs x, xp of
 * dimension d (the bias component is appended here), width m and scales
 * s.  The angle is 2 atan2(|u - v|, |u + v|) on the unit vectors, accurate
 * also for (nearly) parallel inputs. */
double pd_ntk_closed_form(const double *x, const double *xp, int d, double m,
                          const pd_scales *s);

/* Local (no communication): K(i, j) = Theta(x_i, x_j) for the entries this
 * rank holds; K is data->n x data->n. */
int pd_ntk_fill_closed_form(pd_dmat *K, const pd_data *data, double m,
                            const pd_scales *s);

/* Local: K(i, j) = Theta(x_i, x_j) at infinite width for activation act
 * (NULL: relu): the closed form where it holds, the quadrature of
 * ntk_quad.h otherwise.  K is data->n x data->n. */
int pd_ntk_fill_infinite(pd_dmat *K, const pd_data *data,
                         const pd_activation *act, double m,
                         const pd_scales *s);

/* Collective over the net's communicator, which must be congruent to K's
 * grid communicator (both duplicates of one communicator; refused on every
 * rank otherwise).  K = the empirical NTK Gram of net on data.  Each rank
 * sums over its own neurons block by block of K's layout and the partial
 * blocks are reduced to their owners: no rank holds the whole matrix.  The
 * result is exactly symmetric; it agrees across rank counts to rounding. */
int pd_ntk_empirical(pd_net *net, const pd_data *data, pd_dmat *K);

#endif
