#include "phasediag/observe/linpred.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/repsum.h"
#include "phasediag/observe/ntk.h"
#include "phasediag/observe/ntk_quad.h"

int pd_linpred_coefficients(pd_dmat *K, const double *y, double ridge,
                            double *c) {
  MPI_Comm comm = pd_blacs_comm(K->grid);
  int err = PD_OK;
  if (!y || !c || !(ridge >= 0) || !isfinite(ridge))
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "missing vector or bad ridge %g", ridge);
  PD_COLLECTIVE(comm, err);
  if (c != y) memmove(c, y, (size_t)K->n * sizeof(double));
  if (ridge > 0) PD_CALL(pd_dmat_add_diagonal(K, ridge));
  PD_CALL(pd_dmat_posv(K, c));
  return PD_OK;
}

static int pd_linpred_check_predict(const pd_data *train, const double *c,
                                    double m, const pd_scales *s,
                                    const double *x, int64_t nx,
                                    const double *f) {
  PD_CHECK(train && c && s && f && (x || nx == 0), PD_ERR_ARG,
           "missing argument");
  PD_CHECK(nx >= 0 && nx <= INT_MAX, PD_ERR_ARG,
           "%lld points do not fit an MPI count", (long long)nx);
  PD_CHECK(isfinite(m) && m > 0 && isfinite(s->alpha) && s->alpha > 0,
           PD_ERR_ARG, "bad width %g or alpha %g", m, s->alpha);
  return PD_OK;
}

int pd_linpred_predict(MPI_Comm comm, const pd_data *train, const double *c,
                       const pd_activation *act, double m, const pd_scales *s,
                       const double *x, int64_t nx, double *f) {
  if (!act) act = pd_activation_default();
  int err = pd_linpred_check_predict(train, c, m, s, x, nx, f);
  PD_COLLECTIVE(comm, err);
  int rank, size;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  PD_CALL_MPI(MPI_Comm_size(comm, &size));
  double *part = NULL;
  pd_ntk_quad *q = NULL; /* NULL: the closed form */
  err = pd_calloc((size_t)nx + 1, sizeof(double), &part);
  if (err == PD_OK && !act->closed_form_ntk)
    err = pd_ntk_quad_create(act, 0, &q);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_free(&part);
    return err;
  }
  const int d = train->d;
  const int64_t p0 = nx * rank / size, p1 = nx * (rank + 1) / size;
  for (int64_t p = p0; p < p1; p++) {
    double sum = 0;
    for (int64_t i = 0; i < train->n; i++) {
      const double *xp = x + (size_t)p * d, *xi = train->x + (size_t)i * d;
      const double k = q ? pd_ntk_quad_kernel(q, xp, xi, d, m, s)
                         : pd_ntk_closed_form(xp, xi, d, m, s);
      sum += k * c[i];
    }
    part[p] = sum;
  }
  pd_ntk_quad_destroy(&q);
  /* one non-zero term per entry: the sum is exact */
  int mpierr = MPI_Allreduce(part, f, (int)nx, MPI_DOUBLE, MPI_SUM, comm);
  pd_free(&part);
  PD_CALL_MPI(mpierr);
  return PD_OK;
}

int pd_linpred_project(const pd_dmat *V, const double *r, double *p) {
  MPI_Comm comm = pd_blacs_comm(V->grid);
  const int n = V->n;
  double *loc = NULL;
  int err = (r && p) ? PD_OK
                     : pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                                      "missing vector");
  if (err == PD_OK) err = pd_calloc((size_t)n, sizeof(double), &loc);
  PD_COLLECTIVE(comm, err);
  for (int jl = 0; jl < V->nloc; jl++) {
    const double *col = V->a + (size_t)jl * V->lld;
    double sum = 0;
    for (int il = 0; il < V->mloc; il++)
      sum += col[il] * r[pd_dmat_row_global(V, il)];
    loc[pd_dmat_col_global(V, jl)] = sum;
  }
  err = pd_repsum(loc, p, (size_t)n, comm);
  pd_free(&loc);
  PD_COLLECTIVE(comm, err);
  return PD_OK;
}

int pd_linpred_loss(int n, const double *lambda, const double *p,
                    const double *t, int nt, double *loss) {
  PD_CHECK(n >= 1 && nt >= 0, PD_ERR_ARG, "n %d, nt %d", n, nt);
  PD_CHECK(lambda && p && loss && (t || nt == 0), PD_ERR_ARG,
           "missing argument");
  for (int j = 0; j < nt; j++) {
    PD_CHECK(t[j] >= 0 && !isnan(t[j]), PD_ERR_ARG, "time %g", t[j]);
    double sum = 0;
    for (int k = 0; k < n; k++) {
      const double lam = lambda[k] > 0 ? lambda[k] : 0.0;
      sum += exp(-2 * lam * t[j] / n) * p[k] * p[k];
    }
    loss[j] = sum / (2.0 * n);
  }
  return PD_OK;
}

int pd_linpred_residual(const pd_dmat *V, const double *lambda, const double *p,
                        double t, double *r) {
  MPI_Comm comm = pd_blacs_comm(V->grid);
  const int n = V->n;
  double *loc = NULL;
  int err = (lambda && p && r && t >= 0)
                ? PD_OK
                : pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                                 "missing vector or bad time %g", t);
  if (err == PD_OK) err = pd_calloc((size_t)n, sizeof(double), &loc);
  PD_COLLECTIVE(comm, err);
  for (int jl = 0; jl < V->nloc; jl++) {
    const int k = pd_dmat_col_global(V, jl);
    const double lam = lambda[k] > 0 ? lambda[k] : 0.0;
    const double coef = exp(-lam * t / n) * p[k];
    const double *col = V->a + (size_t)jl * V->lld;
    for (int il = 0; il < V->mloc; il++)
      loc[pd_dmat_row_global(V, il)] += col[il] * coef;
  }
  err = pd_repsum(loc, r, (size_t)n, comm);
  pd_free(&loc);
  PD_COLLECTIVE(comm, err);
  return PD_OK;
}

double pd_linpred_rel_dist(const double *f, const double *g, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    num += (f[i] - g[i]) * (f[i] - g[i]);
    den += g[i] * g[i];
  }
  if (den > 0) return sqrt(num / den);
  return num > 0 ? INFINITY : 0.0;
}

int pd_linpred_linearity_error(pd_net *net, const pd_data *pts,
                               const double *pred, double *err_out) {
  MPI_Comm comm = pd_net_comm(net);
  double *f = NULL;
  int err = (pts && pred && err_out)
                ? PD_OK
                : pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                                 "missing argument");
  if (err == PD_OK)
    err = pd_calloc((size_t)(pts->n > 0 ? pts->n : 1), sizeof(double), &f);
  PD_COLLECTIVE(comm, err);
  err = pd_net_output(net, pts, f);
  if (err == PD_OK) *err_out = pd_linpred_rel_dist(f, pred, pts->n);
  pd_free(&f);
  PD_COLLECTIVE(comm, err);
  return PD_OK;
}
