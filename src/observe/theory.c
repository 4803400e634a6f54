#include "phasediag/observe/theory.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/log.h"
#include "phasediag/base/mem.h"
#include "phasediag/observe/blacs.h"
#include "phasediag/observe/dmat.h"
#include "phasediag/observe/lfp.h"
#include "phasediag/observe/linpred.h"
#include "phasediag/observe/ntk.h"

struct pd_theory {
  pd_theory_options opt;
  pd_blacs *grid; /* on a duplicate of the net's communicator */
  pd_dmat *V;     /* eigenvectors of Theta_inf (ascending eigenvalues) */
  pd_dmat *K0;    /* empirical Theta(0) */
  int n, d, top;
  int64_t ntest;
  double m;
  pd_scales scales;
  const pd_activation *act; /* the net's */
  pd_data *train, *test;    /* copies; test NULL without test points */
  /* replicated, length n: eigenvalues (ascending, as from pdsyevd) of
   * Theta_inf, Theta(0), Theta(t*); p = V^T r(0); the kernel-regression
   * prediction and the trained net at the training points; scratch */
  double *lam_inf, *lam0, *lam1, *p, *pred_train, *net_train, *work, *work2;
  /* replicated, length ntest */
  double *pred_test, *net_test, *lfp, *spline, *pwl;
  pd_theory_summary sum;
};

void pd_theory_options_default(pd_theory_options *o) {
  o->top = 16;
  o->ridge = 0;
  o->lfp = 1;
}

static void pd_theory_fill_nan(double *v, int64_t n) {
  for (int64_t i = 0; i < n; i++) v[i] = NAN;
}

/* Collective: pdsyevd's eigenvalues from grid rank 0, so that they are the
 * same bits on every rank whatever ScaLAPACK does inside. */
static int pd_theory_syevd(pd_dmat *A, double *w, pd_dmat *Z) {
  PD_CALL(pd_dmat_syevd(A, w, Z));
  PD_CALL_MPI(MPI_Bcast(w, A->n, MPI_DOUBLE, 0, pd_blacs_comm(A->grid)));
  return PD_OK;
}

/* B = A (same grid, n and nb: local copy) */
static void pd_theory_copy(const pd_dmat *A, pd_dmat *B) {
  memcpy(B->a, A->a, (size_t)A->lld * (size_t)A->nloc * sizeof(double));
}

static int pd_theory_copy_data(const pd_data *src, pd_data **dst) {
  PD_CALL(pd_data_create(src->n, src->d, dst));
  memcpy((*dst)->x, src->x, (size_t)src->n * (size_t)src->d * sizeof(double));
  if (src->y) memcpy((*dst)->y, src->y, (size_t)src->n * sizeof(double));
  return PD_OK;
}

static int pd_theory_check_args(pd_net *net, const pd_data *train,
                                const pd_data *test,
                                const pd_theory_options *opt, pd_theory **th) {
  PD_CHECK(net && train && th, PD_ERR_ARG, "missing argument");
  const pd_net_config *cfg = pd_net_get_config(net);
  PD_CHECK(train->n >= 1 && train->n <= INT_MAX, PD_ERR_ARG,
           "%lld training points: need 1 .. INT_MAX", (long long)train->n);
  PD_CHECK(train->d == cfg->d, PD_ERR_ARG,
           "training data of dimension %d for a net of dimension %d", train->d,
           cfg->d);
  PD_CHECK(!test || test->n == 0 || test->d == cfg->d, PD_ERR_ARG,
           "test data of dimension %d for a net of dimension %d",
           test ? test->d : 0, cfg->d);
  PD_CHECK(!test || (test->n >= 0 && test->n <= INT_MAX), PD_ERR_ARG,
           "%lld test points do not fit an MPI count",
           (long long)(test ? test->n : 0));
  PD_CHECK(!opt || opt->top >= 1, PD_ERR_ARG, "top %d must be >= 1",
           opt ? opt->top : 0);
  PD_CHECK(!opt || (opt->ridge >= 0 && isfinite(opt->ridge)), PD_ERR_ARG,
           "ridge %g must be finite and >= 0", opt ? opt->ridge : 0.0);
  return PD_OK;
}

/* local allocations of the object's vectors */
static int pd_theory_alloc(pd_theory *th, const pd_data *train,
                           const pd_data *test) {
  const size_t n = (size_t)th->n, nt = (size_t)(th->ntest > 0 ? th->ntest : 1);
  double **vn[] = {&th->lam_inf,    &th->lam0,      &th->lam1, &th->p,
                   &th->pred_train, &th->net_train, &th->work, &th->work2};
  for (size_t i = 0; i < sizeof vn / sizeof vn[0]; i++) {
    PD_CALL(pd_calloc(n, sizeof(double), vn[i]));
    pd_theory_fill_nan(*vn[i], (int64_t)n);
  }
  double **vt[] = {&th->pred_test, &th->net_test, &th->lfp, &th->spline,
                   &th->pwl};
  for (size_t i = 0; i < sizeof vt / sizeof vt[0]; i++) {
    PD_CALL(pd_calloc(nt, sizeof(double), vt[i]));
    pd_theory_fill_nan(*vt[i], (int64_t)nt);
  }
  PD_CALL(pd_theory_copy_data(train, &th->train));
  if (th->ntest > 0) PD_CALL(pd_theory_copy_data(test, &th->test));
  return PD_OK;
}

/* Local, identical on every rank: the LFP minimizer, the cubic spline and
 * the piecewise-linear interpolant through the training points. */
static int pd_theory_lfp(pd_theory *th) {
  /* the LFP coefficients are relu's closed forms */
  PD_CALL(pd_activation_require_closed_form(th->act, "LFP"));
  pd_lfp_coef coef;
  PD_CALL(pd_lfp_coefficients(th->d, &th->scales, &coef));
  if (th->d == 1 && coef.g2 > 0) th->sum.lfp_xi_c = sqrt(coef.g4 / coef.g2);
  if (!th->opt.lfp || th->d != 1 || th->ntest == 0 || th->n < 2) return PD_OK;
  const int n = th->n, nq = (int)th->ntest;
  const double *x = th->train->x, *y = th->train->y, *xq = th->test->x;
  PD_CALL(pd_lfp_minimizer(&coef, n, x, y, nq, xq, th->lfp));
  PD_CALL(pd_lfp_cubic_spline(n, x, y, nq, xq, th->spline));
  PD_CALL(pd_lfp_piecewise_linear(n, x, y, nq, xq, th->pwl));
  return PD_OK;
}

/* Collective: the work of create on an allocated object. */
static int pd_theory_setup(pd_theory *th, pd_net *net) {
  MPI_Comm comm = pd_blacs_comm(th->grid);
  const int n = th->n;
  const pd_data *train = th->train;
  pd_dmat *A = NULL, *B = NULL;
  int err = pd_dmat_create(th->grid, n, 0, &th->V);
  if (err == PD_OK) err = pd_dmat_create(th->grid, n, 0, &th->K0);
  if (err == PD_OK) err = pd_dmat_create(th->grid, n, 0, &A);
  if (err == PD_OK) err = pd_dmat_create(th->grid, n, 0, &B);
  /* pd_dmat_create is collective: every rank has the same err here */
  if (err == PD_OK) {
    /* Theta_inf and its eigen-decomposition (pdsyevd overwrites: copy) */
    err = pd_ntk_fill_infinite(A, train, th->act, th->m, &th->scales);
    err = pd_error_collective(comm, err, __FILE__, __LINE__);
  }
  if (err == PD_OK) {
    pd_theory_copy(A, B);
    err = pd_theory_syevd(B, th->lam_inf, th->V);
  }
  /* r(0) = f(0) - y and p = V^T r(0), V's columns signed so that p >= 0 */
  if (err == PD_OK) err = pd_net_output(net, train, th->work);
  if (err == PD_OK) {
    for (int i = 0; i < n; i++) th->work2[i] = th->work[i] - train->y[i];
    err = pd_linpred_project(th->V, th->work2, th->p);
  }
  if (err == PD_OK) {
    pd_dmat *V = th->V;
    for (int jl = 0; jl < V->nloc; jl++) {
      const int k = pd_dmat_col_global(V, jl);
      if (!(th->p[k] < 0)) continue;
      double *col = V->a + (size_t)jl * V->lld;
      for (int il = 0; il < V->mloc; il++) col[il] = -col[il];
    }
    for (int k = 0; k < n; k++)
      if (th->p[k] < 0) th->p[k] = -th->p[k];
    /* kernel regression: (Theta_inf + ridge I) c = y - f0(X) on a copy */
    pd_theory_copy(A, B);
    for (int i = 0; i < n; i++) th->work2[i] = train->y[i] - th->work[i];
    err = pd_linpred_coefficients(B, th->work2, th->opt.ridge, th->work2);
  }
  if (err == PD_OK)
    err = pd_linpred_predict(comm, train, th->work2, th->act, th->m,
                             &th->scales, train->x, n, th->pred_train);
  if (err == PD_OK)
    for (int i = 0; i < n; i++) th->pred_train[i] += th->work[i];
  if (err == PD_OK && th->ntest > 0) {
    /* f0 at the test points into net_test for a moment */
    err = pd_net_output(net, th->test, th->net_test);
    if (err == PD_OK)
      err = pd_linpred_predict(comm, train, th->work2, th->act, th->m,
                               &th->scales, th->test->x, th->ntest,
                               th->pred_test);
    if (err == PD_OK) {
      for (int64_t i = 0; i < th->ntest; i++) {
        th->pred_test[i] += th->net_test[i];
        th->net_test[i] = NAN;
      }
    }
  }
  /* the empirical Theta(0), its distance to Theta_inf and its spectrum */
  if (err == PD_OK) err = pd_ntk_empirical(net, train, th->K0);
  if (err == PD_OK) err = pd_dmat_rel_dist(th->K0, A, &th->sum.dist0);
  if (err == PD_OK) {
    pd_theory_copy(th->K0, B);
    err = pd_theory_syevd(B, th->lam0, A);
  }
  if (err == PD_OK) {
    /* optional: a failure (repeated nodes, say) leaves the curves NaN */
    int lerr = pd_theory_lfp(th);
    lerr = pd_error_collective(comm, lerr, __FILE__, __LINE__);
    if (lerr != PD_OK) {
      pd_log(comm, PD_LOG_WARN, "theory: no LFP comparison: %s",
             pd_error_message());
      pd_error_clear();
      pd_theory_fill_nan(th->lfp, th->ntest);
      pd_theory_fill_nan(th->spline, th->ntest);
      pd_theory_fill_nan(th->pwl, th->ntest);
    }
  }
  pd_dmat_destroy(&A);
  pd_dmat_destroy(&B);
  return err;
}

int pd_theory_create(pd_net *net, const pd_data *train, const pd_data *test,
                     const pd_theory_options *opt, pd_theory **th) {
  if (th) *th = NULL;
  PD_CHECK(net, PD_ERR_ARG, "missing net");
  MPI_Comm ncomm = pd_net_comm(net);
  int err = pd_theory_check_args(net, train, test, opt, th);
  PD_COLLECTIVE(ncomm, err);
  pd_theory *t = NULL;
  err = pd_calloc(1, sizeof *t, &t);
  PD_COLLECTIVE(ncomm, err);
  const pd_net_config *cfg = pd_net_get_config(net);
  if (opt)
    t->opt = *opt;
  else
    pd_theory_options_default(&t->opt);
  t->n = (int)train->n;
  t->d = cfg->d;
  t->top = t->opt.top < t->n ? t->opt.top : t->n;
  t->ntest = test ? test->n : 0;
  t->m = (double)cfg->m;
  t->scales = cfg->scales;
  t->act = cfg->act;
  t->sum.dist0 = t->sum.dist1 = t->sum.kernel_change = NAN;
  t->sum.lin_err_train = t->sum.lin_err_test = NAN;
  t->sum.lfp_err = t->sum.spline_err = t->sum.pwl_err = NAN;
  t->sum.lfp_xi_c = NAN;
  err = pd_theory_alloc(t, train, test);
  err = pd_error_collective(ncomm, err, __FILE__, __LINE__);
  if (err == PD_OK) err = pd_blacs_create(ncomm, &t->grid);
  if (err == PD_OK) err = pd_theory_setup(t, net);
  if (err != PD_OK) {
    /* every rank has failed alike: tear down collectively */
    pd_theory_destroy(&t);
    return pd_error_trace(err, __FILE__, __LINE__, __func__,
                          "pd_theory_setup(t, net)");
  }
  *th = t;
  return PD_OK;
}

int pd_theory_destroy(pd_theory **th) {
  if (!th || !*th) return PD_OK;
  pd_theory *t = *th;
  pd_dmat_destroy(&t->V);
  pd_dmat_destroy(&t->K0);
  int err = pd_blacs_destroy(&t->grid);
  pd_data_destroy(&t->train);
  pd_data_destroy(&t->test);
  double **v[] = {&t->lam_inf,    &t->lam0,      &t->lam1, &t->p,
                  &t->pred_train, &t->net_train, &t->work, &t->work2,
                  &t->pred_test,  &t->net_test,  &t->lfp,  &t->spline,
                  &t->pwl};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) pd_free(v[i]);
  pd_free(th);
  PD_CALL(err);
  return PD_OK;
}

int pd_theory_top(const pd_theory *th) { return th ? th->top : 0; }
int64_t pd_theory_ntrain(const pd_theory *th) { return th ? th->n : 0; }
int64_t pd_theory_ntest(const pd_theory *th) { return th ? th->ntest : 0; }

int pd_theory_observe(pd_theory *th, const double *f, double t, double *proj,
                      double *lin, double *loss_lin) {
  PD_CHECK(th, PD_ERR_ARG, "missing theory");
  MPI_Comm comm = pd_blacs_comm(th->grid);
  int err = PD_OK;
  if (!f || !(t >= 0) || !isfinite(t))
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "missing outputs or bad time %g", t);
  PD_COLLECTIVE(comm, err);
  const int n = th->n;
  for (int i = 0; i < n; i++) th->work[i] = f[i] - th->train->y[i];
  PD_CALL(pd_linpred_project(th->V, th->work, th->work2));
  /* pdsyevd's order is ascending: component j is column n-1-j */
  for (int j = 0; j < th->top; j++) {
    const int k = n - 1 - j;
    const double lam = th->lam_inf[k] > 0 ? th->lam_inf[k] : 0.0;
    if (proj) proj[j] = th->work2[k];
    if (lin) lin[j] = exp(-lam * t / n) * th->p[k];
  }
  if (loss_lin)
    PD_CALL(pd_linpred_loss(n, th->lam_inf, th->p, &t, 1, loss_lin));
  return PD_OK;
}

static double pd_theory_err(const double *f, const double *g, int64_t n) {
  return n > 0 && isfinite(g[0]) ? pd_linpred_rel_dist(f, g, n) : NAN;
}

int pd_theory_finish(pd_theory *th, pd_net *net, pd_theory_summary *s) {
  PD_CHECK(th, PD_ERR_ARG, "missing theory");
  MPI_Comm comm = pd_blacs_comm(th->grid);
  int err = PD_OK;
  if (!net || !s) {
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "missing net or summary");
  } else {
    const pd_net_config *cfg = pd_net_get_config(net);
    if (cfg->d != th->d || (double)cfg->m != th->m)
      err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                           "a net of dimension %d and width %lld, not the "
                           "one the theory was created for",
                           cfg->d, (long long)cfg->m);
  }
  PD_COLLECTIVE(comm, err);
  /* the trained net at the training and test points */
  PD_CALL(pd_net_output(net, th->train, th->net_train));
  if (th->ntest > 0) PD_CALL(pd_net_output(net, th->test, th->net_test));
  /* Theta(t*) against Theta_inf and Theta(0), then its spectrum */
  pd_dmat *K1 = NULL, *A = NULL;
  err = pd_dmat_create(th->grid, th->n, 0, &K1);
  if (err == PD_OK) err = pd_dmat_create(th->grid, th->n, 0, &A);
  if (err == PD_OK) err = pd_ntk_empirical(net, th->train, K1);
  if (err == PD_OK) {
    err = pd_ntk_fill_infinite(A, th->train, th->act, th->m, &th->scales);
    err = pd_error_collective(comm, err, __FILE__, __LINE__);
  }
  if (err == PD_OK) err = pd_dmat_rel_dist(K1, A, &th->sum.dist1);
  if (err == PD_OK) err = pd_dmat_rel_dist(K1, th->K0, &th->sum.kernel_change);
  if (err == PD_OK) err = pd_theory_syevd(K1, th->lam1, A);
  pd_dmat_destroy(&K1);
  pd_dmat_destroy(&A);
  PD_CALL(err);
  th->sum.lin_err_train = pd_theory_err(th->net_train, th->pred_train, th->n);
  th->sum.lin_err_test = pd_theory_err(th->net_test, th->pred_test, th->ntest);
  th->sum.lfp_err = pd_theory_err(th->net_test, th->lfp, th->ntest);
  th->sum.spline_err = pd_theory_err(th->net_test, th->spline, th->ntest);
  th->sum.pwl_err = pd_theory_err(th->net_test, th->pwl, th->ntest);
  *s = th->sum;
  return PD_OK;
}

static void pd_theory_top_of(const pd_theory *th, const double *asc,
                             double *out) {
  for (int j = 0; j < th->top; j++) out[j] = asc[th->n - 1 - j];
}

int pd_theory_eigenvalues(const pd_theory *th, int which, double *out) {
  PD_CHECK(th && out, PD_ERR_ARG, "missing argument");
  PD_CHECK(which >= 0 && which <= 2, PD_ERR_ARG,
           "which = %d: 0 closed form, 1 empirical t = 0, 2 empirical t*",
           which);
  const double *src = which == 0   ? th->lam_inf
                      : which == 1 ? th->lam0
                                   : th->lam1;
  pd_theory_top_of(th, src, out);
  return PD_OK;
}

int pd_theory_p0(const pd_theory *th, double *out) {
  PD_CHECK(th && out, PD_ERR_ARG, "missing argument");
  pd_theory_top_of(th, th->p, out);
  return PD_OK;
}

int pd_theory_test_curves(const pd_theory *th, double *pred, double *net,
                          double *lfp, double *spline, double *pwl) {
  PD_CHECK(th, PD_ERR_ARG, "missing theory");
  const size_t bytes = (size_t)th->ntest * sizeof(double);
  if (bytes == 0) return PD_OK;
  if (pred) memcpy(pred, th->pred_test, bytes);
  if (net) memcpy(net, th->net_test, bytes);
  if (lfp) memcpy(lfp, th->lfp, bytes);
  if (spline) memcpy(spline, th->spline, bytes);
  if (pwl) memcpy(pwl, th->pwl, bytes);
  return PD_OK;
}

int pd_theory_train_curves(const pd_theory *th, double *pred, double *net) {
  PD_CHECK(th, PD_ERR_ARG, "missing theory");
  const size_t bytes = (size_t)th->n * sizeof(double);
  if (pred) memcpy(pred, th->pred_train, bytes);
  if (net) memcpy(net, th->net_train, bytes);
  return PD_OK;
}

int pd_theory_get_summary(const pd_theory *th, pd_theory_summary *s) {
  PD_CHECK(th && s, PD_ERR_ARG, "missing argument");
  *s = th->sum;
  return PD_OK;
}
