/* The infinite-width NTK of any activation by two-dimensional quadrature.
 * With a_k ~ N(0, beta1^2), w_k ~ N(0, beta2^2 I) (scheme.h) and J the
 * Jacobian of f = (1/alpha) sum_k a_k sigma(w_k . x~), the empirical kernel
 * (ntk.h) is a sum of m independent terms whose mean is
 *
 *   Theta(x, x') = (m / alpha^2) [ E sigma(u) sigma(v)
 *                  + beta1^2 (x~ . x~') E sigma'(u) sigma'(v) ],
 *   (u, v) ~ N(0, beta2^2 [[x~.x~, x~.x~'], [x~.x~', x~'.x~']])
 *
 * (E a^2 = beta1^2, a independent of w).  For relu this is the arc-cosine
 * kernel of pd_ntk_closed_form.  With the Cholesky factor of the covariance,
 * u = s_u g1, v = s_v (cos t g1 + sin t g2), g1, g2 ~ N(0, 1) independent
 * (t the angle between x~ and x~', from atan2 so that nearly parallel inputs
 * keep their accuracy), both expectations are iterated integrals over g1
 * (outer) and g2 (inner) with the Gaussian density.
 *
 * The rule.  A tensor Gauss-Hermite rule converges slowly where sigma is
 * not smooth on the rule's scale: algebraically at a kink of sigma (relu:
 * ~1e-2 relative at order 100; srelu, whose sigma' jumps, like order^-1/2)
 * and, for an analytic sigma whose complex singularities lie at distance
 * d / s from the axis in g (tanh: d = pi/2), like exp(-2 (d / s)
 * sqrt(order)): 1e-6 for tanh at s = 2, order 96.  So each of the two 1-D
 * integrals is a composite Gauss-Legendre rule on [-9, 9] (the Gaussian
 * mass outside is 2e-19) whose panels end at the activation's centres
 * (activation_defs.h: its knots and the real parts of its singularities)
 * mapped to g, are graded geometrically towards them from width
 * min(2, 1 / scale), and are at most 2 wide.  Between knots a
 * piecewise-polynomial sigma times the Gaussian is analytic, and every panel
 * is at most as wide as its distance to the nearest centre, so each panel
 * converges geometrically; the cost grows like log(scale).  The inner rule
 * is rebuilt for each outer node (its centres move with g1).
 *
 * Accuracy (tests/test_ntk_quad.c, default order, scales s 0.2 .. 5):
 * relu against its closed form 6e-15 relative (order 8: 1e-11, order 6:
 * 3e-8); tanh, sigmoid, softplus and x tanh x against an independent
 * trapezoidal rule 4e-13 or better; srelu and phi3 against order 24 5e-15.
 * Cost per kernel entry on one core (x86-64-v3): relu 0.3 .. 1.3 ms, tanh
 * 0.3 .. 1.6 ms, phi3 (4 centres) 1.5 .. 11 ms for s = 0.5 .. 30.
 *
 * Everything here is local; a rule holds scratch space, so threads use one
 * each. */
#ifndef PHASEDIAG_NTK_QUAD_H
#define PHASEDIAG_NTK_QUAD_H

#include "phasediag/model/activation.h"
#include "phasediag/model/data.h"
#include "phasediag/model/scheme.h"
#include "phasediag/observe/dmat.h"

/* Gauss-Legendre points per panel by default */
#define PD_NTK_QUAD_ORDER 10

typedef struct pd_ntk_quad pd_ntk_quad;

/* Nodes x (ascending) and weights w of the n-point Gauss-Legendre rule on
 * [-1, 1] (Newton on the Legendre recurrence); 1 <= n <= 64. */
int pd_gauss_legendre(int n, double *x, double *w);

/* The rule with order points per panel (0: PD_NTK_QUAD_ORDER; at most 32)
 * for activation act (NULL: relu). */
int pd_ntk_quad_create(const pd_activation *act, int order, pd_ntk_quad **q);
void pd_ntk_quad_destroy(pd_ntk_quad **q);

/* E sigma(u) sigma(v) into *ss and E sigma'(u) sigma'(v) into *dd for
 * (u, v) of standard deviations su, sv >= 0 and correlation cos t, given as
 * c = cos t and s = sin t >= 0. */
void pd_ntk_quad_moments(const pd_ntk_quad *q, double su, double sv, double c,
                         double s, double *ss, double *dd);

/* Pure: the angle between x~ = (x, 1) and x~' = (xp, 1) (inputs of
 * dimension d), 2 atan2(|u - v|, |u + v|) on the unit vectors, with |x~|,
 * |x~'| and x~ . x~' into *nx, *ny, *dot. */
double pd_ntk_angle(const double *x, const double *xp, int d, double *nx,
                    double *ny, double *dot);

/* Theta(x, x') above at width m and scales s. */
double pd_ntk_quad_kernel(const pd_ntk_quad *q, const double *x,
                          const double *xp, int d, double m,
                          const pd_scales *s);

/* K(i, j) = Theta(x_i, x_j) for the entries this rank holds (K(i, j) and
 * K(j, i) the same bits). */
int pd_ntk_quad_fill(pd_dmat *K, const pd_data *data, const pd_ntk_quad *q,
                     double m, const pd_scales *s);

#endif
