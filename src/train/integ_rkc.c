/* The integrator "rkc": gradient flow theta' = F(theta) = -grad L(theta)
 * by the second-order Runge-Kutta-Chebyshev method (Sommeijer, Shampine,
 * Verwer 1998; the damped Chebyshev form of the RKC code, damping
 * eps = 2/13), with error control.
 *
 * Why: the flow's Jacobian is minus the Hessian, whose spectrum is real and
 * spans [-rho, ~0], rho about lambda_max of the Gram matrix.  Explicit
 * Euler (gradient descent) must keep h < 2 / rho for stability; s RKC
 * stages are stable for h rho < ~0.653 s^2, so the work per unit of flow
 * time falls like s / 2 where accuracy allows long steps: on the plateaus
 * of small initializations and in the slow late convergence.
 *
 * A step of size h from y0 = theta_n, F0 = F(y0):
 *   Y1 = y0 + mut_1 h F0
 *   Yj = (1 - mu_j - nu_j) y0 + mu_j Y(j-1) + nu_j Y(j-2)
 *        + mut_j h F(Y(j-1)) + gamt_j h F0,                 j = 2 .. s
 * and theta_{n+1} = Ys.  Local error estimate (the code's):
 *   est = 0.8 (y0 - Ys) + 0.4 h (F0 + F(Ys))
 * measured per parameter block, a and w apart, against the step's own
 * motion: err = max_b |est_b| / (rtol |Ys_b - y0_b| + PD_RKC_FLOOR |y0_b|),
 * so that the error of the displacement theta(t) - theta(0), and with it
 * of RD, stays a fraction ~rtol of it.  Accepted when err <= 1; the next h
 * is h min(5, max(0.1, 0.8 err^(-1/3))).  F(Ys) serves as the next F0
 * (first same as last; recomputed after a resume, with the same bits).
 *
 * s = 1 + floor(sqrt(1 + 1.54 h rho')) with rho' = PD_RKC_RHO_SAFETY
 * times the power-iteration estimate of lambda_max (renewed every
 * lambda_every accepted steps with power_iters iterations, 30 at the
 * start), at most PD_RKC_MAX_STAGES (h is cut to fit).
 *
 * Every combination is elementwise over the parameters and every norm a
 * sum of fixed-order block sums (whole blocks of PD_NET_BLOCK neurons,
 * which no partition splits) added exactly (repsum.h): the run is bitwise
 * the same at any rank count. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/repsum.h"
#include "phasediag/train/integrator.h"
#include "phasediag/train/train.h"

#define PD_RKC_EPS (2.0 / 13.0)
#define PD_RKC_MAX_STAGES 200
#define PD_RKC_RHO_SAFETY 1.2
#define PD_RKC_FLOOR 1e-12

typedef struct {
  int64_t rejects;                /* consecutive rejections */
  int64_t stages;                 /* of the last try */
  int64_t nrecent;                /* entries of recent in use */
  double h, lambda;               /* next step size, lambda_max estimate */
  double recent[PD_TRAIN_WINDOW]; /* the fallback's non-monotone window */
  double *v;                      /* power vector (n) */
  /* not kept: scratch and the F0 cache */
  double *work, *f, *c;           /* n each */
  int64_t P;                      /* local parameters (mloc (d + 2)) */
  double *y0, *F0, *ya, *yb, *Fj; /* P each */
  double *ga, *gw;                /* a gradient in the view layout */
  int fsal;                       /* F0 holds F(theta_n) */
} pd_rkc_state;

#define PD_RKC_AT(f) offsetof(pd_rkc_state, f)
static const pd_state_field pd_rkc_fields[] = {
    {"rejects", PD_FIELD_INT64, PD_RKC_AT(rejects), 1, 0},
    {"stages", PD_FIELD_INT64, PD_RKC_AT(stages), 1, 0},
    {"nrecent", PD_FIELD_INT64, PD_RKC_AT(nrecent), 1, 0},
    {"h", PD_FIELD_DOUBLE, PD_RKC_AT(h), 1, 0},
    {"lambda", PD_FIELD_DOUBLE, PD_RKC_AT(lambda), 1, 0},
    {"recent", PD_FIELD_DOUBLE, PD_RKC_AT(recent), PD_TRAIN_WINDOW, 0},
    {"v", PD_FIELD_SAMPLES, PD_RKC_AT(v), 1, 0}};

static int pd_rkc_create(void *state, int64_t n) {
  pd_rkc_state *s = state;
  PD_CALL(pd_calloc((size_t)n, sizeof(double), &s->v));
  PD_CALL(pd_calloc((size_t)n * 3, sizeof(double), &s->work));
  s->f = s->work + n;
  s->c = s->work + 2 * n;
  return PD_OK;
}

static void pd_rkc_free_params(pd_rkc_state *s) {
  pd_free(&s->y0);
  s->F0 = s->ya = s->yb = s->Fj = s->ga = s->gw = NULL;
  s->P = 0;
  s->fsal = 0;
}

static void pd_rkc_free(void *state) {
  pd_rkc_state *s = state;
  pd_free(&s->v);
  pd_free(&s->work);
  pd_rkc_free_params(s);
}

/* ---- the parameters as one local vector: a, then w component by
 * component, mloc entries each (the view's w has rows of `stride`) ---- */

/* y <- (a, w) of the view layout */
static void pd_rkc_pack(const pd_net_view *v, int d1, const double *a,
                        const double *w, double *y) {
  memcpy(y, a, sizeof(double) * (size_t)v->mloc);
  for (int j = 0; j < d1; j++)
    memcpy(y + (j + 1) * v->mloc, w + j * v->stride,
           sizeof(double) * (size_t)v->mloc);
}

static void pd_rkc_get(pd_net *net, double *y) {
  const pd_net_view v = pd_net_get_view(net);
  pd_rkc_pack(&v, pd_net_get_config(net)->d + 1, v.a, v.w, y);
}

static void pd_rkc_set(pd_net *net, const double *y) {
  const pd_net_view v = pd_net_get_view(net);
  const int d1 = pd_net_get_config(net)->d + 1;
  memcpy(v.a, y, sizeof(double) * (size_t)v.mloc);
  for (int j = 0; j < d1; j++)
    memcpy(v.w + j * v.stride, y + (j + 1) * v.mloc,
           sizeof(double) * (size_t)v.mloc);
}

/* Collective: F = -grad L at the net's parameters, with c = (f - y) / n
 * of their outputs f (f NULL: c is given; both NULL: computed here). */
static int pd_rkc_F(pd_rkc_state *s, pd_net *net, const pd_data *data,
                    const double *f, const double *c, double *F) {
  if (!f && !c) { /* neither: the outputs first */
    PD_CALL(pd_net_output(net, data, s->f));
    f = s->f;
  }
  if (f) {
    pd_train_residual(data, f, s->c);
    c = s->c;
  }
  const pd_net_view v = pd_net_get_view(net);
  PD_CALL(pd_net_gradient(net, data, c, s->ga, s->gw));
  pd_rkc_pack(&v, pd_net_get_config(net)->d + 1, s->ga, s->gw, F);
  for (int64_t i = 0; i < s->P; i++) F[i] = -F[i];
  return PD_OK;
}

/* Local parameter buffers sized for the net (made on first use: the
 * integrator is created before it knows the net's shard). */
static int pd_rkc_params(pd_rkc_state *s, pd_net *net) {
  const pd_net_view v = pd_net_get_view(net);
  const int d1 = pd_net_get_config(net)->d + 1;
  const int64_t P = v.mloc * (d1 + 1), G = v.mloc + d1 * v.stride;
  if (s->y0 && s->P == P) return PD_OK;
  pd_rkc_free_params(s);
  int err = pd_calloc((size_t)(5 * P + G > 0 ? 5 * P + G : 1), sizeof(double),
                      &s->y0);
  PD_COLLECTIVE(pd_net_comm(net), err);
  s->P = P;
  s->F0 = s->y0 + P;
  s->ya = s->y0 + 2 * P;
  s->yb = s->y0 + 3 * P;
  s->Fj = s->y0 + 4 * P;
  s->ga = s->y0 + 5 * P;
  s->gw = s->ga + v.mloc;
  return PD_OK;
}

static int pd_rkc_start(void *state, pd_net *net, const pd_data *data,
                        const pd_train_options *opt, int resumed,
                        int64_t *evals) {
  pd_rkc_state *s = state;
  (void)opt;
  *evals = 0;
  PD_CALL(pd_rkc_params(s, net));
  s->fsal = 0;
  if (resumed) {
    PD_CHECK(s->rejects >= 0 && s->h > 0 && isfinite(s->h) && s->nrecent >= 0 &&
                 s->nrecent <= PD_TRAIN_WINDOW,
             PD_ERR_ARG,
             "resume state of rkc: %lld rejects, step %g, %lld "
             "window entries",
             (long long)s->rejects, s->h, (long long)s->nrecent);
    /* F(theta_n) again, the same bits as the F(Ys) the stopped run held;
     * not counted: the evaluations are the uninterrupted run's */
    PD_CALL(pd_rkc_F(s, net, data, NULL, NULL, s->F0));
    s->fsal = 1;
    return PD_OK;
  }
  PD_CALL(pd_train_lambda_max(net, data, s->v, s->work, 30, &s->lambda));
  *evals = 30;
  /* gradient descent's step to begin with; the control adapts it */
  s->h = s->lambda > 0 && isfinite(s->lambda) ? 1.0 / s->lambda : 1.0;
  return PD_OK;
}

/* The stage count for step h: the smallest s with h rho' <= 0.653 s^2
 * (as the RKC code: 1 + sqrt(1 + 1.54 h rho')), at least 2. */
static int pd_rkc_stages(double h, double lambda) {
  const double rho = PD_RKC_RHO_SAFETY * (lambda > 0 ? lambda : 0);
  const double s = 1 + floor(sqrt(1 + 1.54 * h * rho));
  return s < 2 ? 2 : s > PD_RKC_MAX_STAGES ? PD_RKC_MAX_STAGES : (int)s;
}

/* Chebyshev polynomial T_j and its first two derivatives at w0, j <= s,
 * into T[3 (s + 1)] (value, first, second derivative per j). */
static void pd_rkc_cheb(int s, double w0, double *T) {
  T[0] = 1, T[1] = 0, T[2] = 0;
  T[3] = w0, T[4] = 1, T[5] = 0;
  for (int j = 2; j <= s; j++) {
    const double *a = T + 3 * (j - 1), *b = T + 3 * (j - 2);
    double *t = T + 3 * j;
    t[0] = 2 * w0 * a[0] - b[0];
    t[1] = 2 * a[0] + 2 * w0 * a[1] - b[1];
    t[2] = 4 * a[1] + 2 * w0 * a[2] - b[2];
  }
}

/* Squared norms by block (a, w) of est, of the step's motion and of y0,
 * summed exactly: q[0..2] for a, q[3..5] for w; q[6]: |F0|^2, the squared
 * gradient norm where the step started (in the same reduction). */
#define PD_RKC_NQ 7
static int pd_rkc_norms(const pd_rkc_state *s, pd_net *net, const double *ys,
                        double h, double q[PD_RKC_NQ]) {
  const int64_t mloc = pd_net_get_view(net).mloc;
  pd_acc acc[PD_RKC_NQ];
  pd_acc_zero(acc, PD_RKC_NQ);
  for (int64_t j = 0; mloc > 0 && j < s->P / mloc; j++) {
    const int blk = j == 0 ? 0 : 3;
    for (int64_t b = 0; b < mloc; b += PD_NET_BLOCK) {
      const int64_t e = b + PD_NET_BLOCK < mloc ? b + PD_NET_BLOCK : mloc;
      double se = 0, sd = 0, sy = 0, sg = 0;
      for (int64_t k = j * mloc + b; k < j * mloc + e; k++) {
        const double dy = ys[k] - s->y0[k];
        const double est = -0.8 * dy + 0.4 * h * (s->F0[k] + s->Fj[k]);
        se = fma(est, est, se);
        sd = fma(dy, dy, sd);
        sy = fma(s->y0[k], s->y0[k], sy);
        sg = fma(s->F0[k], s->F0[k], sg);
      }
      pd_acc_add(&acc[blk], se);
      pd_acc_add(&acc[blk + 1], sd);
      pd_acc_add(&acc[blk + 2], sy);
      pd_acc_add(&acc[6], sg);
    }
  }
  PD_CALL(pd_acc_allreduce(acc, PD_RKC_NQ, pd_net_comm(net)));
  for (int i = 0; i < PD_RKC_NQ; i++) q[i] = pd_acc_value(&acc[i]);
  return PD_OK;
}

/* The scaled error of a step from its block norms (NaN: not finite). */
static double pd_rkc_error(const pd_train_options *opt, const double q[6]) {
  double err = 0;
  for (int b = 0; b < 2; b++) {
    const double *r = q + 3 * b;
    if (!(r[2] > 0)) continue; /* an all-zero block cannot move */
    const double den = opt->rtol * sqrt(r[1]) + PD_RKC_FLOOR * sqrt(r[2]);
    err = fmax(err, sqrt(r[0]) / den);
    if (!isfinite(r[0]) || !isfinite(r[1])) return NAN;
  }
  return err;
}

/* Collective: the s stages from y0 (F0 known) with step h; the net ends at
 * Ys with outputs fn, Fj = F(Ys); *ys points at Ys (ya or yb). */
static int pd_rkc_stages_run(pd_rkc_state *s, pd_net *net, const pd_data *data,
                             int st, double h, double *fn, double **ys) {
  const int64_t P = s->P;
  double T[3 * (PD_RKC_MAX_STAGES + 1)];
  const double w0 = 1 + PD_RKC_EPS / ((double)st * st);
  const double t1 = w0 * w0 - 1, t2 = sqrt(t1);
  const double arg = st * log(w0 + t2);
  const double w1 = sinh(arg) * t1 / (cosh(arg) * st * t2 - w0 * sinh(arg));
  pd_rkc_cheb(st, w0, T);
  /* b_j = T_j'' / T_j'^2 (j >= 2), b_0 = b_1 = b_2 */
#define PD_B(j)                   \
  ((j) < 2 ? T[8] / (T[7] * T[7]) \
           : T[3 * (j) + 2] / (T[3 * (j) + 1] * T[3 * (j) + 1]))
  /* Y(j-2), Y(j-1): y0 is never overwritten; Yj goes into the buffer of
   * Y(j-2) (elementwise, so in place) or, while that is y0, the other one */
  double *prev = s->y0, *cur = s->ya;
  const double mut1 = PD_B(1) * w1;
  for (int64_t i = 0; i < P; i++) cur[i] = fma(mut1 * h, s->F0[i], s->y0[i]);
  for (int j = 2;; j++) {
    const int last = j > st; /* cur is Ys: its outputs go to fn */
    double *f = last ? fn : s->f;
    pd_rkc_set(net, cur);
    PD_CALL(pd_net_output(net, data, f));
    PD_CALL(pd_rkc_F(s, net, data, f, NULL, s->Fj));
    if (last) break;
    const double bj = PD_B(j), bj1 = PD_B(j - 1), bj2 = PD_B(j - 2);
    const double mu = 2 * w0 * bj / bj1, nu = -bj / bj2;
    const double mut = 2 * w1 * bj / bj1;
    const double gamt = -(1 - bj1 * T[3 * (j - 1)]) * mut;
    const double c0 = 1 - mu - nu;
    double *next = prev == s->y0 ? (cur == s->ya ? s->yb : s->ya) : prev;
    for (int64_t i = 0; i < P; i++)
      next[i] = c0 * s->y0[i] + mu * cur[i] + nu * prev[i] +
                mut * h * s->Fj[i] + gamt * h * s->F0[i];
    prev = cur;
    cur = next;
  }
#undef PD_B
  *ys = cur;
  return PD_OK;
}

static int pd_rkc_step(void *state, pd_net *net, const pd_data *data,
                       const pd_train_options *opt, int64_t steps, double loss,
                       const double *c, double *fn, pd_integ_step *out) {
  pd_rkc_state *s = state;
  *out = (pd_integ_step){.status = PD_STATUS_NOT_RUN, .gnorm = NAN};
  PD_CALL(pd_rkc_params(s, net));
  pd_rkc_get(net, s->y0);
  if (!s->fsal) { /* F(theta_n) from the loop's c of its outputs */
    PD_CALL(pd_rkc_F(s, net, data, NULL, c, s->F0));
    out->evals++;
    s->fsal = 1;
  }
  /* the stage count for h; an h beyond the most stages is cut to fit */
  const double rho = PD_RKC_RHO_SAFETY * s->lambda;
  const double hmax =
      rho > 0 ? 0.653 * PD_RKC_MAX_STAGES * PD_RKC_MAX_STAGES / rho : INFINITY;
  const double h = fmin(s->h, hmax);
  const int st = pd_rkc_stages(h, s->lambda);
  s->stages = st;
  double *ys = NULL;
  PD_CALL(pd_rkc_stages_run(s, net, data, st, h, fn, &ys));
  out->evals += st;
  double q[PD_RKC_NQ];
  PD_CALL(pd_rkc_norms(s, net, ys, h, q));
  const double err = pd_rkc_error(opt, q);
  const double lossn = pd_train_residual(data, fn, NULL);
  /* Below gradient descent's step 1 / lambda_max, a step that moves a and
   * w by at most max_rel_step and passes gd's non-monotone loss test is
   * taken whatever the estimate says: where a ReLU kink sits on a data
   * point the flow's right side jumps, the estimate stays of the order of
   * the step itself however small the step, and error control alone would
   * stop the run; a strictly monotone test would too, as the steps that
   * zig-zag across the kink raise the loss by turns. */
  const double hfloor = s->lambda > 0 ? 1 / s->lambda : 0;
  const double ref = pd_window_ref(s->recent, s->nrecent, loss);
  const int small = h <= hfloor && lossn <= ref &&
                    q[1] <= opt->max_rel_step * opt->max_rel_step * q[2] &&
                    q[4] <= opt->max_rel_step * opt->max_rel_step * q[5];
  if (!(err <= 1 || small) || !isfinite(lossn)) { /* too large, not finite */
    pd_rkc_set(net, s->y0);
    s->h = h * (isfinite(err) ? fmax(0.1, 0.8 * pow(err, -1.0 / 3)) : 0.1);
    if (h > hfloor && s->h < hfloor) s->h = hfloor;
    if (++s->rejects > opt->max_rejects)
      out->status = PD_STATUS_DIVERGED;
    else if (!(s->h > 0))
      out->status = PD_STATUS_STALLED;
    return PD_OK;
  }
  /* accepted: F(Ys) is the next F0 */
  memcpy(s->F0, s->Fj, sizeof(double) * (size_t)s->P);
  s->rejects = 0;
  pd_window_push(s->recent, &s->nrecent, steps + 1, loss);
  out->accepted = 1;
  out->dt = h;
  out->gnorm = sqrt(q[6]);
  s->h = h * fmin(5, fmax(0.1, 0.8 * pow(fmax(err, 1e-300), -1.0 / 3)));
  if (s->h < hfloor && small) s->h = hfloor; /* no smaller than gd's */
  if ((steps + 1) % opt->lambda_every == 0) {
    PD_CALL(pd_train_lambda_max(net, data, s->v, s->work, opt->power_iters,
                                &s->lambda));
    out->evals += opt->power_iters;
  }
  return PD_OK;
}

static void pd_rkc_info(const void *state, double *dt, double *lambda_max) {
  const pd_rkc_state *s = state;
  *dt = s->h;
  *lambda_max = s->lambda;
}

const pd_integrator_type pd_integ_rkc = {
    .name = "rkc",
    .size = sizeof(pd_rkc_state),
    .state = {pd_rkc_fields,
              (int)(sizeof pd_rkc_fields / sizeof pd_rkc_fields[0])},
    .create = pd_rkc_create,
    .start = pd_rkc_start,
    .step = pd_rkc_step,
    .info = pd_rkc_info,
    .free = pd_rkc_free};
