#include "phasediag/observe/lfp.h"

#include <math.h>
#include <stddef.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

/* LAPACK (Fortran, gfortran ABI). */
void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv,
            double *b, const int *ldb, int *info);

static const double pd_pi = 3.14159265358979323846;

int pd_lfp_coefficients(int d, const pd_scales *s, pd_lfp_coef *c) {
  PD_CHECK(d >= 1 && s && c, PD_ERR_ARG, "dimension %d or missing argument", d);
  const double b1 = s->beta1, b2 = s->beta2;
  PD_CHECK(isfinite(b1) && isfinite(b2) && b1 >= 0 && b2 >= 0, PD_ERR_ARG,
           "scales beta1 %g, beta2 %g", b1, b2);
  /* moments of r = |w|, w ~ N(0, beta2^2 I_d): E r^k = beta2^k 2^(k/2)
   * G((d+k)/2) / G(d/2), through lgamma to stay finite at large d */
  const double lg0 = lgamma(0.5 * d);
  const double er3 =
      b2 * b2 * b2 * pow(2, 1.5) * exp(lgamma(0.5 * d + 1.5) - lg0);
  const double er1 = b2 * sqrt(2.0) * exp(lgamma(0.5 * d + 0.5) - lg0);
  c->d = d;
  c->g4 = er3 / (16 * pow(pd_pi, 4));
  c->g2 = b1 * b1 * er1 / (4 * pd_pi * pd_pi);
  return PD_OK;
}

double pd_lfp_gamma2(const pd_lfp_coef *c, double xi) {
  const double a = fabs(xi);
  if (a == 0) return INFINITY;
  return c->g4 / pow(a, c->d + 3) + c->g2 / pow(a, c->d + 1);
}

static int pd_lfp_check_nodes(int n, int nmin, const double *x, const double *y,
                              int nq, const double *xq, const double *hq) {
  PD_CHECK(n >= nmin && n <= 4096, PD_ERR_ARG,
           "%d nodes (%d to 4096 for the dense solve)", n, nmin);
  PD_CHECK(x && y && nq >= 0 && (nq == 0 || (xq && hq)), PD_ERR_ARG,
           "missing argument or %d query points", nq);
  for (int i = 0; i < n; i++) {
    PD_CHECK(isfinite(x[i]) && isfinite(y[i]), PD_ERR_ARG, "node %d: (%g, %g)",
             i, x[i], y[i]);
    for (int j = 0; j < i; j++)
      PD_CHECK(x[i] != x[j], PD_ERR_ARG, "nodes %d and %d coincide at %g", j, i,
               x[i]);
  }
  return PD_OK;
}

/* ---- the general minimizer ----------------------------------------------- */

typedef struct {
  double a3, a1; /* G(r) = a3 r^3 - a1 r (scaled) */
} pd_lfp_kernel;

static double pd_lfp_g(const pd_lfp_kernel *k, double r) {
  r = fabs(r);
  return k->a3 * r * r * r - k->a1 * r;
}

/* Assemble and solve the (n + q) system; sol = (c, p). */
static int pd_lfp_solve(const pd_lfp_kernel *k, int q, int n, const double *x,
                        const double *y, double *M, int *ipiv, double *sol) {
  const int N = n + q;
  for (int j = 0; j < N; j++)
    for (int i = 0; i < N; i++) {
      double v = 0;
      if (i < n && j < n)
        v = pd_lfp_g(k, x[i] - x[j]);
      else if (i < n || j < n) {
        const int node = i < n ? i : j, deg = (i < n ? j : i) - n;
        v = deg == 0 ? 1.0 : x[node];
      }
      M[(size_t)j * N + i] = v;
    }
  for (int i = 0; i < N; i++) sol[i] = i < n ? y[i] : 0.0;
  const int one = 1;
  int info = 0;
  dgesv_(&N, &one, M, &N, ipiv, sol, &N, &info);
  PD_CHECK(info == 0, PD_ERR_NUMERIC,
           "dgesv failed: info %d (n %d): singular interpolation system", info,
           n);
  return PD_OK;
}

int pd_lfp_minimizer(const pd_lfp_coef *c, int n, const double *x,
                     const double *y, int nq, const double *xq, double *hq) {
  PD_CHECK(c && c->d == 1, PD_ERR_ARG, "the minimizer is 1-D (d = %d)",
           c ? c->d : -1);
  PD_CHECK(isfinite(c->g4) && isfinite(c->g2) && c->g4 >= 0 && c->g2 >= 0 &&
               c->g4 + c->g2 > 0,
           PD_ERR_ARG, "coefficients g4 %g, g2 %g", c->g4, c->g2);
  PD_CALL(pd_lfp_check_nodes(n, 2, x, y, nq, xq, hq));
  double lo = x[0], hi = x[0];
  for (int i = 1; i < n; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  const double span = hi - lo;
  /* G = A |x|^3 / 12 - B |x| / 2, scaled so its larger term is 1 at the
   * span (the interpolant does not change under scaling G) */
  const double A = 16 * pow(pd_pi, 4) * c->g4, B = 4 * pd_pi * pd_pi * c->g2;
  double a3 = A / 12, a1 = B / 2;
  const double scale = fmax(a3 * span * span * span, a1 * span);
  pd_lfp_kernel k = {a3 / scale, a1 / scale};
  const int q = c->g4 > 0 ? 2 : 1;
  const int N = n + q;
  double *M = NULL, *sol = NULL;
  int *ipiv = NULL;
  int err = pd_calloc((size_t)N * N, sizeof(double), &M);
  if (err == PD_OK) err = pd_calloc((size_t)N, sizeof(double), &sol);
  if (err == PD_OK) err = pd_calloc((size_t)N, sizeof(int), &ipiv);
  if (err == PD_OK) err = pd_lfp_solve(&k, q, n, x, y, M, ipiv, sol);
  if (err == PD_OK)
    for (int j = 0; j < nq; j++) {
      double h = sol[n] + (q > 1 ? sol[n + 1] * xq[j] : 0.0);
      for (int i = 0; i < n; i++) h += sol[i] * pd_lfp_g(&k, xq[j] - x[i]);
      hq[j] = h;
    }
  pd_free(&M);
  pd_free(&sol);
  pd_free(&ipiv);
  if (err != PD_OK)
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "solve");
  return PD_OK;
}

/* ---- the two limits ------------------------------------------------------ */

/* Sorted copies of the nodes (insertion sort: n is small). */
static int pd_lfp_sorted(int n, const double *x, const double *y, double **xs,
                         double **ys) {
  PD_CALL(pd_calloc((size_t)n, sizeof(double), xs));
  PD_CALL(pd_calloc((size_t)n, sizeof(double), ys));
  for (int i = 0; i < n; i++) {
    int j = i;
    while (j > 0 && (*xs)[j - 1] > x[i]) {
      (*xs)[j] = (*xs)[j - 1];
      (*ys)[j] = (*ys)[j - 1];
      j--;
    }
    (*xs)[j] = x[i];
    (*ys)[j] = y[i];
  }
  return PD_OK;
}

/* Interval of t among sorted nodes: i with xs[i] <= t < xs[i+1], clamped to
 * [0, n-2]. */
static int pd_lfp_interval(int n, const double *xs, double t) {
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    if (xs[mid] <= t)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

static void pd_lfp_pwl_eval(int n, const double *xs, const double *ys, int nq,
                            const double *xq, double *hq) {
  for (int j = 0; j < nq; j++) {
    const double t = xq[j];
    if (n == 1 || t <= xs[0]) {
      hq[j] = ys[0];
    } else if (t >= xs[n - 1]) {
      hq[j] = ys[n - 1];
    } else {
      const int i = pd_lfp_interval(n, xs, t);
      const double u = (t - xs[i]) / (xs[i + 1] - xs[i]);
      hq[j] = (1 - u) * ys[i] + u * ys[i + 1];
    }
  }
}

int pd_lfp_piecewise_linear(int n, const double *x, const double *y, int nq,
                            const double *xq, double *hq) {
  PD_CALL(pd_lfp_check_nodes(n, 1, x, y, nq, xq, hq));
  double *xs = NULL, *ys = NULL;
  int err = pd_lfp_sorted(n, x, y, &xs, &ys);
  if (err == PD_OK) pd_lfp_pwl_eval(n, xs, ys, nq, xq, hq);
  pd_free(&xs);
  pd_free(&ys);
  if (err != PD_OK)
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "sort");
  return PD_OK;
}

/* Second derivatives s[0..n) of the natural spline (s[0] = s[n-1] = 0) by
 * the Thomas algorithm on the interior equations
 * h_{i-1} s_{i-1} + 2 (h_{i-1} + h_i) s_i + h_i s_{i+1} = 6 (d_i - d_{i-1}),
 * d_i = (y_{i+1} - y_i) / h_i (diagonally dominant: no pivoting needed). */
static void pd_lfp_spline_moments(int n, const double *xs, const double *ys,
                                  double *s, double *cp) {
  for (int i = 0; i < n; i++) s[i] = cp[i] = 0;
  for (int i = 1; i < n - 1; i++) {
    const double h0 = xs[i] - xs[i - 1], h1 = xs[i + 1] - xs[i];
    const double rhs =
        6 * ((ys[i + 1] - ys[i]) / h1 - (ys[i] - ys[i - 1]) / h0);
    const double den = 2 * (h0 + h1) - (i > 1 ? h0 * cp[i - 1] : 0.0);
    cp[i] = h1 / den;
    s[i] = (rhs - (i > 1 ? h0 * s[i - 1] : 0.0)) / den;
  }
  for (int i = n - 3; i >= 1; i--) s[i] -= cp[i] * s[i + 1];
}

static void pd_lfp_spline_eval(int n, const double *xs, const double *ys,
                               const double *s, int nq, const double *xq,
                               double *hq) {
  for (int j = 0; j < nq; j++) {
    const double t = xq[j];
    const int i = pd_lfp_interval(n, xs, t);
    const double h = xs[i + 1] - xs[i];
    if (t < xs[0] || t > xs[n - 1]) {
      /* linear beyond the end node, with the end slope */
      const int e = t < xs[0] ? 0 : n - 1;
      const double slope =
          e == 0
              ? (ys[1] - ys[0]) / h - h * (2 * s[0] + s[1]) / 6
              : (ys[n - 1] - ys[n - 2]) / h + h * (s[n - 2] + 2 * s[n - 1]) / 6;
      hq[j] = ys[e] + slope * (t - xs[e]);
      continue;
    }
    const double a = (xs[i + 1] - t) / h, b = (t - xs[i]) / h;
    hq[j] = a * ys[i] + b * ys[i + 1] +
            ((a * a * a - a) * s[i] + (b * b * b - b) * s[i + 1]) * h * h / 6;
  }
}

int pd_lfp_cubic_spline(int n, const double *x, const double *y, int nq,
                        const double *xq, double *hq) {
  PD_CALL(pd_lfp_check_nodes(n, 2, x, y, nq, xq, hq));
  double *xs = NULL, *ys = NULL, *s = NULL, *cp = NULL;
  int err = pd_lfp_sorted(n, x, y, &xs, &ys);
  if (err == PD_OK) err = pd_calloc((size_t)n, sizeof(double), &s);
  if (err == PD_OK) err = pd_calloc((size_t)n, sizeof(double), &cp);
  if (err == PD_OK) {
    pd_lfp_spline_moments(n, xs, ys, s, cp);
    pd_lfp_spline_eval(n, xs, ys, s, nq, xq, hq);
  }
  pd_free(&xs);
  pd_free(&ys);
  pd_free(&s);
  pd_free(&cp);
  if (err != PD_OK)
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "allocation");
  return PD_OK;
}
