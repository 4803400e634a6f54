/* The linear theory computed beside one trained network: the
 * infinite-width NTK of the run's width and scales, its eigen-decomposition
 * and kernel-regression prediction, the empirical NTK at t = 0 and t*, the
 * residual along the kernel's top eigenvectors during training against the
 * linearized dynamics, and in 1-D the LFP minimizer (lfp.h).  Any
 * activation: the infinite-width NTK is relu's closed form or the
 * quadrature of ntk_quad.h; the LFP is relu's only (for others its curves
 * and lfp_xi_c stay NaN and create logs why).
 *
 * Use per training run:
 *
 *   pd_theory_create(net, train, test, &opt, &th);  t = 0, before training
 *   pd_theory_observe(th, f, t, proj, lin, &loss);   at snapshots (optional)
 *   pd_theory_finish(th, net, &summary);             at t*, after training
 *   pd_theory_destroy(&th);
 *
 * Time normalization as in linpred.h: R = 1/(2n) sum_i (f(x_i) - y_i)^2, t
 * the flow time of the trainer, dr/dt = -(1/n) Theta r in the linear regime.
 *
 * Memory: the n x n matrices are block-cyclic (dmat.h) on a BLACS grid over
 * a duplicate of the net's communicator; no rank ever holds a whole one.
 * Between calls the object keeps two of them (the eigenvectors V of
 * Theta_inf and the empirical Theta(0)); create and finish use two more for
 * a moment.  Vectors of length n or ntest are replicated.
 *
 * Eigenvectors are sign-normalized so that p_j = v_j . r(0) >= 0 (r(0) =
 * f(0) - y), which makes proj and lin comparable across rank counts.
 *
 * Every result (returned or kept) is the same bits on every rank of the
 * net's communicator; across rank counts results agree to rounding (the
 * ScaLAPACK factorizations depend on the grid).
 *
 * Collective calls (over the net's communicator) are marked; all others are
 * local.  A failure of a collective call is returned on every rank. */
#ifndef PHASEDIAG_THEORY_H
#define PHASEDIAG_THEORY_H

#include <stdint.h>

#include "phasediag/model/data.h"
#include "phasediag/model/net.h"

typedef struct {
  int top;      /* eigen-components kept: eigenvalues reported and residual
                   projections observed (16; capped at n) */
  double ridge; /* kernel regression solves (Theta_inf + ridge I) c = y - f0
                   (0).  Theta_inf is positive definite for distinct inputs,
                   but ill-conditioned for many close points: if the Cholesky
                   factorization fails, create returns PD_ERR_NUMERIC (no
                   automatic shift); set a small ridge then (absolute, in the
                   kernel's units: Theta_inf scales like m / alpha^2). */
  int lfp;      /* 1: the LFP comparison on the test points (only with d = 1,
                   n >= 2 and test points; ignored otherwise) (1).  A failure
                   of the LFP solvers (repeated nodes, say) or an activation
                   other than relu is not an error: it is logged (warning)
                   and those curves stay NaN. */
} pd_theory_options;

void pd_theory_options_default(pd_theory_options *o);

typedef struct pd_theory pd_theory;

/* Collective, at t = 0 with the net at its initial parameters.  train (n >= 1
 * points) and test (may be NULL: then every test-point result is NaN) are
 * replicated, of the net's dimension, and only read here: the object keeps
 * copies of what it needs.  opt NULL means the defaults.  Computes
 *  - Theta_inf, the infinite-width NTK of the net's activation (ntk.h) at
 *    the net's width and scales, and its
 *    eigen-decomposition; the empirical Theta(0) and its eigenvalues;
 *    dist0 = |Theta(0) - Theta_inf|_F / |Theta_inf|_F;
 *  - r(0) = f(0) - y and p = V^T r(0) for the linearized dynamics;
 *  - the kernel regression with Theta_inf: c = (Theta_inf + ridge I)^-1
 *    (y - f0(X)) and pred(x) = f0(x) + sum_i Theta_inf(x, x_i) c_i at the
 *    training and the test points (f0 the net at t = 0; 0 with ASI);
 *  - with opt->lfp, d = 1 and test points: the LFP minimizer (coefficients
 *    from the net's beta1, beta2), the natural cubic spline and the
 *    piecewise-linear interpolant through the training points, at the test
 *    points.
 * On failure *th = NULL on every rank. */
int pd_theory_create(pd_net *net, const pd_data *train, const pd_data *test,
                     const pd_theory_options *opt, pd_theory **th);
/* Collective.  NULL (or *th NULL) is fine. */
int pd_theory_destroy(pd_theory **th);

/* Local.  Components kept: min(opt.top, n). */
int pd_theory_top(const pd_theory *th);
/* Local.  Training and test points (0 without test points). */
int64_t pd_theory_ntrain(const pd_theory *th);
int64_t pd_theory_ntest(const pd_theory *th);

/* Collective.  A snapshot at flow time t >= 0 with the network's outputs f
 * at the training points (length n, replicated, e.g. from the trainer).  For
 * the top eigenvectors v_j of Theta_inf, largest eigenvalue first (j < top):
 *   proj[j] = v_j . (f - y)                   observed,
 *   lin[j]  = exp(-lambda_j t / n) p_j        the linear theory,
 *   *loss_lin = R_lin(t) (pd_linpred_loss, all n components).
 * Any output pointer may be NULL. */
int pd_theory_observe(pd_theory *th, const double *f, double t, double *proj,
                      double *lin, double *loss_lin);

typedef struct {
  double dist0;         /* |Theta(0) - Theta_inf|_F / |Theta_inf|_F */
  double dist1;         /* |Theta(t*) - Theta_inf|_F / |Theta_inf|_F */
  double kernel_change; /* |Theta(t*) - Theta(0)|_F / |Theta(0)|_F */
  double lin_err_train; /* |f_net - pred| / |pred| at the training points */
  double lin_err_test;  /* the same at the test points (NaN without) */
  double lfp_err;       /* |f_net - g| / |g| at the test points for g = the */
  double spline_err;    /*   LFP minimizer, the natural cubic spline and the */
  double pwl_err;  /*   piecewise-linear interpolant (NaN unless computed) */
  double lfp_xi_c; /* crossover frequency sqrt(g4 / g2) (NaN unless
                      d = 1 and relu) */
} pd_theory_summary;

/* Collective, at t* with the trained net (the one given to create): the
 * empirical Theta(t*) and its eigenvalues, dist1, kernel_change, the net's
 * outputs at the training and test points and the errors above.  dist0 and
 * lfp_xi_c are known from create.  May be called again (recomputes). */
int pd_theory_finish(pd_theory *th, pd_net *net, pd_theory_summary *s);

/* Local.  The top eigenvalues, largest first, into out[top]: which = 0 the
 * infinite-width Theta_inf, 1 the empirical Theta(0), 2 the empirical Theta(t*)
 * (NaN before finish). */
int pd_theory_eigenvalues(const pd_theory *th, int which, double *out);

/* Local.  The linear-dynamics projections p_j = v_j . r(0) of the top
 * components (largest eigenvalue first) into out[top]. */
int pd_theory_p0(const pd_theory *th, double *out);

/* Local.  The curves at the test points (ntest values each; any pointer may
 * be NULL): the kernel-regression prediction, the trained net (NaN before
 * finish), the LFP minimizer, the cubic spline and the piecewise-linear
 * interpolant (NaN where not computed). */
int pd_theory_test_curves(const pd_theory *th, double *pred, double *net,
                          double *lfp, double *spline, double *pwl);

/* Local.  The kernel-regression prediction and (NaN before finish) the
 * trained net at the training points (ntrain values each; either may be
 * NULL). */
int pd_theory_train_curves(const pd_theory *th, double *pred, double *net);

/* Local.  The summary so far: after create dist0 and lfp_xi_c are set, the
 * rest NaN until finish. */
int pd_theory_get_summary(const pd_theory *th, pd_theory_summary *s);

#endif
