/* The linear F-Principle (LFP; Zhang, Xu, Luo, Ma, arXiv 1905.10264) and
 * its implicit bias in 1-D.
 *
 * In the linear regime the Fourier transform of the residual u = h - f
 * evolves as d/dt F[u](xi) = -gamma(xi)^2 F[u_rho](xi), with
 *
 *   gamma(xi)^2 = E[ r^3 / (16 pi^4 |xi|^(d+3)) + a^2 r / (4 pi^2 |xi|^(d+1)) ]
 *               = g4 / |xi|^(d+3) + g2 / |xi|^(d+1),
 *
 * F[u](xi) = int u(x) exp(-2 pi i xi . x) dx.  Interpretation used here (as
 * in the paper): a neuron is a relu(w . x + b) with w in R^d the input weight
 * and b the bias; r = |w| is the norm of the input weight WITHOUT the bias,
 * and the expectation is over the initial (a, w): a ~ N(0, beta1^2),
 * w ~ N(0, beta2^2 I_d), independent.  The bias does not enter r: the paper
 * integrates it out under a flat density (our b ~ N(0, beta2^2) is not flat;
 * its density multiplies both terms alike).  So
 *
 *   g4 = E[r^3] / (16 pi^4),  E[r^3] = beta2^3 2^(3/2) G((d+3)/2) / G(d/2),
 *   g2 = E[a^2 r] / (4 pi^2), E[a^2 r] = beta1^2 beta2 2^(1/2) G((d+1)/2)
 *                                        / G(d/2)
 *
 * (G the gamma function; d = 1: E[r^3] = 2 sqrt(2/pi) beta2^3,
 * E[a^2 r] = sqrt(2/pi) beta1^2 beta2).  These are per-neuron expectations:
 * the net f = (1/alpha) sum_k over m neurons multiplies gamma^2 by
 * m / alpha^2, which sets the time scale but not the implicit bias below.
 *
 * Implicit bias, d = 1.  The trained wide net approaches the minimizer of
 * int gamma(xi)^-2 |F[h](xi)|^2 dxi subject to h(x_i) = y_i.  Here
 * gamma^-2 = xi^4 / (g4 + g2 xi^2): the minimizer is the interpolant with the
 * kernel whose Fourier transform is gamma^2 itself (the reproducing kernel of
 * the semi-norm).  With w = 2 pi xi, gamma^2 = A / w^4 + B / w^2,
 * A = 16 pi^4 g4 = E[r^3], B = 4 pi^2 g2 = E[a^2 r], and the generalized
 * transforms |x|^3 / 12 <-> 1 / w^4, -|x| / 2 <-> 1 / w^2 give
 *
 *   G(x) = A |x|^3 / 12 - B |x| / 2,
 *   h(x) = sum_i c_i G(x - x_i) + p(x),
 *   [G(x_i - x_j)  P] [c]   [y]
 *   [P^T           0] [p] = [0],
 *
 * p in the null space of the semi-norm: the linear polynomials {1, x} when
 * A > 0 (xi^4 vanishes to fourth order at 0), the constants {1} when A = 0.
 * Limits: B = 0 gives the natural cubic spline (minimizer of int h''^2,
 * linear beyond the data); A = 0 the piecewise-linear interpolant (minimizer
 * of int h'^2, constant beyond the data).  In general h is cubic between the
 * nodes and linear beyond them, with a kink (h' jumps by -B c_i) at node i
 * from the |x| part.  The two terms of gamma^2 are equal at the crossover
 * frequency xi_c = sqrt(g4 / g2) (d = 1): the |xi|^4 term (spline) rules
 * below it, the |xi|^2 term (piecewise linear) above it, so data with node
 * spacing much longer than 1 / xi_c see the spline, much shorter the
 * piecewise-linear interpolant.
 *
 * Note: this is not the Green's function of the operator with symbol
 * c4 xi^4 + c2 xi^2 (that would be the weight gamma^-2 = c4 xi^4 + c2 xi^2,
 * a spline in tension with exponential kernels); gamma^-2 above is
 * xi^4 / (g4 + g2 xi^2).  The two agree in the limits.
 *
 * Everything here is local (no communication); the small dense system is
 * solved by LAPACK dgesv on the calling rank. */
#ifndef PHASEDIAG_LFP_H
#define PHASEDIAG_LFP_H

#include "phasediag/model/scheme.h"

typedef struct {
  int d;         /* input dimension */
  double g4, g2; /* gamma^2 = g4 / |xi|^(d+3) + g2 / |xi|^(d+1) */
} pd_lfp_coef;

/* g4 and g2 for the initial distribution of scales s (beta1, beta2; alpha
 * is not used) in dimension d >= 1. */
int pd_lfp_coefficients(int d, const pd_scales *s, pd_lfp_coef *c);

/* gamma(xi)^2 for |xi| = xi > 0 (infinity at 0). */
double pd_lfp_gamma2(const pd_lfp_coef *c, double xi);

/* d = 1.  The minimizer of int gamma^-2 |F[h]|^2 subject to h(x_i) = y_i
 * (n >= 2 distinct nodes in any order; g4, g2 >= 0, not both 0), evaluated
 * at the nq points xq into hq.  Solved with the kernel G above (scaled to
 * unit size over the data span for conditioning). */
int pd_lfp_minimizer(const pd_lfp_coef *c, int n, const double *x,
                     const double *y, int nq, const double *xq, double *hq);

/* The natural cubic spline through (x_i, y_i) (n >= 2 distinct nodes in any
 * order; second derivative 0 at the end nodes, linear beyond them),
 * evaluated at xq.  Independent of pd_lfp_minimizer (tridiagonal system for
 * the second derivatives). */
int pd_lfp_cubic_spline(int n, const double *x, const double *y, int nq,
                        const double *xq, double *hq);

/* The piecewise-linear interpolant through (x_i, y_i) (n >= 1 distinct nodes
 * in any order), constant beyond the end nodes, evaluated at xq. */
int pd_lfp_piecewise_linear(int n, const double *x, const double *y, int nq,
                            const double *xq, double *hq);

#endif
