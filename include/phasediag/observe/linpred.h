/* The linear-regime prediction: kernel regression with the NTK and the
 * linearized loss curve.
 *
 * Time normalization (the trainer's, train.h): a step is the gradient of
 * R = 1/(2n) sum_i (f(x_i) - y_i)^2 and flow time t is the sum of the
 * accepted steps, so in the linear regime the residual r = f - y obeys
 *
 *   dr/dt = -(1/n) Theta r,   Theta = V diag(lambda) V^T   (n x n),
 *   r(t)  = V exp(-lambda t / n) V^T r(0),
 *   R(t)  = 1/(2n) sum_k exp(-2 lambda_k t / n) p_k^2,   p = V^T r(0).
 *
 * Components of the residual along eigenvectors with large eigenvalues decay
 * first.  With ASI f(0) = 0, so r(0) = -y.  As t -> oo the trained function
 * becomes the kernel regression (the minimum-norm interpolant)
 *
 *   f(x*) = f0(x*) + sum_i Theta(x*, x_i) c_i,   Theta c = y - f0(X)
 *
 * (f0 = 0 under ASI).  Theta is the infinite-width kernel of ntk.h at the
 * run's width and scales (its m / alpha^2 factor included): the closed form
 * for relu, the quadrature of ntk_quad.h for the other activations.
 *
 * Collective calls are marked; all others are local. */
#ifndef PHASEDIAG_LINPRED_H
#define PHASEDIAG_LINPRED_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/model/activation.h"
#include "phasediag/model/data.h"
#include "phasediag/model/net.h"
#include "phasediag/model/scheme.h"
#include "phasediag/observe/dmat.h"

/* Collective over K's grid.  The kernel-regression coefficients:
 * (K + ridge I) c = y by Cholesky (pd_dmat_posv); ridge >= 0 (0: none) is a
 * tiny optional shift for ill-conditioned kernels.  K (n x n, lower triangle
 * read) is overwritten by its Cholesky factor.  y is given on every rank; c
 * (length n, may alias y) is the same on every rank. */
int pd_linpred_coefficients(pd_dmat *K, const double *y, double ridge,
                            double *c);

/* Collective over comm.  The prediction at the points x (nx x d, row-major,
 * d = train->d, replicated):
 *   f[p] = sum_i Theta(x_p, x_i) c_i   (i over train, in index order),
 * Theta the infinite-width kernel of activation act (NULL: relu) at width m
 * and scales s.  Each rank computes a contiguous share of the points and
 * the shares are combined, so f is the same bits on every rank and at any
 * rank count. */
int pd_linpred_predict(MPI_Comm comm, const pd_data *train, const double *c,
                       const pd_activation *act, double m, const pd_scales *s,
                       const double *x, int64_t nx, double *f);

/* Collective over V's grid.  p = V^T r: the components of the residual r
 * (length n, replicated) along the eigenvectors (the columns of V, from
 * pd_dmat_syevd).  p is the same on every rank (reproducible sums). */
int pd_linpred_project(const pd_dmat *V, const double *r, double *p);

/* Local.  The linearized loss R(t_j) = 1/(2n) sum_k exp(-2 lambda_k t_j / n)
 * p_k^2 at the nt times t (>= 0), with p = V^T r(0).  Eigenvalues below zero
 * (rounding of a positive semi-definite kernel) are taken as zero. */
int pd_linpred_loss(int n, const double *lambda, const double *p,
                    const double *t, int nt, double *loss);

/* Collective over V's grid.  The linearized residual
 * r(t) = V exp(-lambda t / n) p (length n, the same on every rank), with
 * p = V^T r(0) from pd_linpred_project. */
int pd_linpred_residual(const pd_dmat *V, const double *lambda, const double *p,
                        double t, double *r);

/* Local.  Relative distance |f - g| / |g| of two vectors of length n (0 if
 * both are zero, infinity if only g is). */
double pd_linpred_rel_dist(const double *f, const double *g, int64_t n);

/* Collective over the net's communicator.  The linearity error of a trained
 * net: |f_net - pred| / |pred| on the points pts (pts->y is not read), with
 * pred the kernel-regression prediction at those points (same order). */
int pd_linpred_linearity_error(pd_net *net, const pd_data *pts,
                               const double *pred, double *err);

#endif
