#include "phasediag/observe/ntk_quad.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "model/activation_defs.h"
#include "model/clones.h"
#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

/* The interval of integration in g is [-L, L]; panels at most W wide. */
static const double pd_nq_L = 9.0, pd_nq_W = 2.0;
enum {
  PD_NQ_MAXORDER = 32,
  /* 2 + 2 maps x 8 centres x (1 + 2 x 65 grades, from 2^-60 to 18) */
  PD_NQ_MAXBREAKS = 2200,
  PD_NQ_MAXPANELS = PD_NQ_MAXBREAKS + 16,
  PD_NQ_MAXNODES = PD_NQ_MAXPANELS * PD_NQ_MAXORDER
};

struct pd_ntk_quad {
  int act, p, nc;
  const double *centres; /* the activation's (activation_defs.h) */
  double x[PD_NQ_MAXORDER], w[PD_NQ_MAXORDER]; /* Gauss-Legendre on [-1, 1] */
  double *g1, *w1, *g2, *w2; /* scratch: the outer and the inner rule */
};

int pd_gauss_legendre(int n, double *x, double *w) {
  PD_CHECK(n >= 1 && n <= 64 && x && w, PD_ERR_ARG, "order %d", n);
  const double pi = 3.14159265358979323846;
  for (int i = 0; i < n; i++) {
    /* from the largest node down, so that x ascends below */
    double t = cos(pi * (i + 0.75) / (n + 0.5)), dp = 1;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = t;
      for (int k = 2; k <= n; k++) {
        const double p2 = ((2 * k - 1) * t * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n > 1 ? n * (t * p1 - p0) / (t * t - 1) : 1;
      const double dt = p1 / dp;
      t -= dt;
      if (fabs(dt) < 1e-16) break;
    }
    x[n - 1 - i] = t;
    w[n - 1 - i] = 2 / ((1 - t * t) * dp * dp);
  }
  /* exactly symmetric */
  for (int i = 0; i < n / 2; i++) {
    const double a = 0.5 * (x[n - 1 - i] - x[i]);
    const double b = 0.5 * (w[i] + w[n - 1 - i]);
    x[i] = -a;
    x[n - 1 - i] = a;
    w[i] = w[n - 1 - i] = b;
  }
  if (n % 2) x[n / 2] = 0;
  return PD_OK;
}

int pd_ntk_quad_create(const pd_activation *act, int order, pd_ntk_quad **q) {
  PD_CHECK(q, PD_ERR_ARG, "missing result");
  *q = NULL;
  if (order == 0) order = PD_NTK_QUAD_ORDER;
  PD_CHECK(order >= 1 && order <= PD_NQ_MAXORDER, PD_ERR_ARG,
           "%d points per panel: need 1 .. %d", order, PD_NQ_MAXORDER);
  if (!act) act = pd_activation_default();
  pd_ntk_quad *r = NULL;
  PD_CALL(pd_calloc(1, sizeof *r, &r));
  r->act = act->id;
  r->p = order;
  r->nc = pd_act_centres(act->id, &r->centres);
  int err = pd_gauss_legendre(order, r->x, r->w);
  double **buf[4] = {&r->g1, &r->w1, &r->g2, &r->w2};
  for (int i = 0; i < 4 && err == PD_OK; i++)
    err = pd_calloc(PD_NQ_MAXNODES, sizeof(double), buf[i]);
  if (err == PD_OK && (r->nc < 0 || r->nc > 8))
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "activation %s has %d centres (at most 8)", act->name,
                         r->nc);
  if (err != PD_OK) {
    pd_ntk_quad_destroy(&r);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "the rule");
  }
  *q = r;
  return PD_OK;
}

void pd_ntk_quad_destroy(pd_ntk_quad **q) {
  if (!q || !*q) return;
  pd_free(&(*q)->g1);
  pd_free(&(*q)->w1);
  pd_free(&(*q)->g2);
  pd_free(&(*q)->w2);
  pd_free(q);
}

static int pd_nq_cmp(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The nodes g and weights w (the Gaussian density included) of a 1-D rule
 * for a function of g that is smooth except near the activation's centres
 * mapped by each of ns maps z = a + b g (b != 0), where it varies on the
 * scale r in g; returns their number.  Panels end at those points, are
 * graded towards them from width r, and are at most W wide. */
static int pd_nq_rule(const pd_ntk_quad *q, int ns, const double *a,
                      const double *b, const double *r, double *g, double *w) {
  const double L = pd_nq_L, W = pd_nq_W;
  double br[PD_NQ_MAXBREAKS];
  int nb = 0;
  br[nb++] = -L;
  br[nb++] = L;
  for (int m = 0; m < ns; m++) {
    if (!(b[m] != 0)) continue;
    const double r0 = fmax(fmin(W, r[m]), 0x1p-60);
    for (int k = 0; k < q->nc; k++) {
      const double c = (q->centres[k] - a[m]) / b[m];
      /* farther than 3L: no grade reaches [-L, L]; NaN: none */
      if (!(c > -3 * L && c < 3 * L)) continue;
      if (c > -L && c < L && nb < PD_NQ_MAXBREAKS) br[nb++] = c;
      for (double h = r0; h < 2 * L && nb + 2 <= PD_NQ_MAXBREAKS; h *= 2) {
        if (c - h > -L && c - h < L) br[nb++] = c - h;
        if (c + h > -L && c + h < L) br[nb++] = c + h;
      }
    }
  }
  qsort(br, (size_t)nb, sizeof br[0], pd_nq_cmp);
  const double norm = 0.3989422804014327; /* 1 / sqrt(2 pi) */
  int n = 0;
  for (int i = 0; i + 1 < nb; i++) {
    const double lo = br[i], hi = br[i + 1];
    if (!(hi > lo)) continue;
    const int parts = (int)ceil((hi - lo) / W);
    const double step = (hi - lo) / parts;
    for (int k = 0; k < parts; k++) {
      const double mid = lo + (k + 0.5) * step, half = 0.5 * step;
      for (int j = 0; j < q->p; j++) {
        const double t = mid + half * q->x[j];
        g[n] = t;
        w[n] = half * q->w[j] * norm * exp(-0.5 * t * t);
        n++;
      }
    }
  }
  return n;
}

/* The sums for activation act (a template, activation_defs.h): for each
 * outer node the inner integral of sigma(v), sigma'(v). */
PD_TEMPLATE void pd_nq_moments_t(int act, const pd_ntk_quad *q, double su,
                                 double sv, double c, double s, double *ss,
                                 double *dd) {
  double *g1 = q->g1, *w1 = q->w1, *g2 = q->g2, *w2 = q->w2;
  const double svc = sv * c, svs = sv * s;
  /* outer: sigma(su g1) with its centres at z / su, and the inner
   * integral, sigma smoothed over v = svc g1 + svs g2: centres at z / svc,
   * resolved on the smoothing width svs / |svc| in g1 */
  const double a1[2] = {0, 0}, b1[2] = {su, svc};
  const double r1[2] = {1 / su, fmin(1 / fabs(svc), s / fabs(c))};
  const int n1 = pd_nq_rule(q, 2, a1, b1, r1, g1, w1);
  double tss = 0, tdd = 0;
  for (int i = 0; i < n1; i++) {
    const double u = su * g1[i], vc = svc * g1[i];
    const double r2 = 1 / svs;
    const int n2 = pd_nq_rule(q, 1, &vc, &svs, &r2, g2, w2);
    double is = 0, id = 0;
    for (int j = 0; j < n2; j++) {
      const double v = fma(svs, g2[j], vc);
      is += w2[j] * pd_act_sigma(act, v);
      id += w2[j] * pd_act_dsigma(act, v);
    }
    tss += w1[i] * pd_act_sigma(act, u) * is;
    tdd += w1[i] * pd_act_dsigma(act, u) * id;
  }
  *ss = tss;
  *dd = tdd;
}

/* with x86-64-v3's fma() one instruction, not a call per operation */
PD_CLONES void pd_ntk_quad_moments(const pd_ntk_quad *q, double su, double sv,
                                   double c, double s, double *ss, double *dd) {
  *ss = *dd = NAN;
  PD_ACT_DISPATCH(q->act, pd_nq_moments_t, q, su, sv, c, s, ss, dd);
}

double pd_ntk_angle(const double *x, const double *xp, int d, double *nx,
                    double *ny, double *dot) {
  double nx2 = 1, ny2 = 1, xy = 1;
  for (int j = 0; j < d; j++) {
    nx2 += x[j] * x[j];
    ny2 += xp[j] * xp[j];
    xy += x[j] * xp[j];
  }
  *nx = sqrt(nx2);
  *ny = sqrt(ny2);
  *dot = xy;
  double dm2 = 0, dp2 = 0; /* |u - v|^2, |u + v|^2 on the unit vectors */
  for (int j = 0; j <= d; j++) {
    double u = (j < d ? x[j] : 1.0) / *nx, v = (j < d ? xp[j] : 1.0) / *ny;
    dm2 += (u - v) * (u - v);
    dp2 += (u + v) * (u + v);
  }
  return 2 * atan2(sqrt(dm2), sqrt(dp2));
}

double pd_ntk_quad_kernel(const pd_ntk_quad *q, const double *x,
                          const double *xp, int d, double m,
                          const pd_scales *s) {
  double nx, ny, dot, ss, dd;
  const double t = pd_ntk_angle(x, xp, d, &nx, &ny, &dot);
  const double b1 = s->beta1, b2 = s->beta2;
  pd_ntk_quad_moments(q, b2 * nx, b2 * ny, cos(t), sin(t), &ss, &dd);
  return m / (s->alpha * s->alpha) * (ss + b1 * b1 * dot * dd);
}

typedef struct {
  const pd_data *data;
  const pd_ntk_quad *q;
  double m;
  const pd_scales *s;
} pd_nq_ctx;

static double pd_nq_entry(int i, int j, void *vctx) {
  const pd_nq_ctx *c = vctx;
  const int d = c->data->d;
  /* the same entry for (i, j) and (j, i): the matrix is exactly symmetric */
  if (j > i) {
    int t = i;
    i = j;
    j = t;
  }
  return pd_ntk_quad_kernel(c->q, c->data->x + (size_t)i * d,
                            c->data->x + (size_t)j * d, d, c->m, c->s);
}

int pd_ntk_quad_fill(pd_dmat *K, const pd_data *data, const pd_ntk_quad *q,
                     double m, const pd_scales *s) {
  PD_CHECK(K && data && q && s, PD_ERR_ARG, "missing argument");
  PD_CHECK(data->n == K->n, PD_ERR_ARG, "%lld samples for a matrix of order %d",
           (long long)data->n, K->n);
  PD_CHECK(isfinite(m) && m > 0 && isfinite(s->alpha) && s->alpha > 0,
           PD_ERR_ARG, "bad width %g or alpha %g", m, s->alpha);
  pd_nq_ctx ctx = {data, q, m, s};
  PD_CALL(pd_dmat_fill(K, pd_nq_entry, &ctx));
  return PD_OK;
}
