#include "phasediag/model/span.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "phasediag/base/blas.h"
#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

/* LAPACK (Fortran interface) */
void dgeqp3_(const int *m, const int *n, double *a, const int *lda, int *jpvt,
             double *tau, double *work, const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a,
             const int *lda, const double *tau, double *work, const int *lwork,
             int *info);

struct pd_span {
  int d, r;
  double *q; /* d x r, column-major: column j is q[j * d .. j * d + d - 1] */
};

/* Rank 0: the basis into *q (d x *r) from the N points of sets (A = X^T,
 * d x N, pivoted QR).  A failure leaves *r = 0 and returns the error. */
static int pd_span_basis(const pd_data *const *sets, int nsets, int d, int *r,
                         double **q) {
  *r = 0;
  int64_t N = 0;
  for (int s = 0; s < nsets; s++)
    if (sets[s]) N += sets[s]->n;
  PD_CHECK(N >= 1 && N <= (1 << 30) && (int64_t)d * N <= (INT64_C(1) << 31),
           PD_ERR_ARG, "span of %lld points in dimension %d: too large",
           (long long)N, d);
  double *A = NULL, *tau = NULL, *work = NULL;
  int *jpvt = NULL;
  const int n = (int)N, k = d < n ? d : n;
  int err = pd_calloc((size_t)d * (size_t)n, sizeof(double), &A);
  if (!err) err = pd_calloc((size_t)n, sizeof(int), &jpvt);
  if (!err) err = pd_calloc((size_t)k, sizeof(double), &tau);
  int64_t col = 0;
  for (int s = 0; s < nsets && !err; s++) {
    if (!sets[s]) continue;
    for (int64_t i = 0; i < sets[s]->n; i++, col++)
      for (int j = 0; j < d; j++) {
        double v = sets[s]->x[i * d + j];
        if (!isfinite(v) && !err)
          err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                               "input %lld, component %d is %g: the data "
                               "must be finite",
                               (long long)i, j, v);
        A[col * d + j] = v;
      }
  }
  /* one BLAS thread: the basis must not depend on the launch (blas.h) */
  int info = 0, lwork = -1;
  const int threads = pd_blas_threads();
  pd_blas_set_threads(1);
  double wq = 0;
  if (!err) {
    dgeqp3_(&d, &n, A, &d, jpvt, tau, &wq, &lwork, &info);
    lwork = (int)wq + 1;
    if (lwork < 3 * n + 1) lwork = 3 * n + 1;
    if (lwork < d) lwork = d;
    err = pd_calloc((size_t)lwork, sizeof(double), &work);
  }
  if (!err) {
    dgeqp3_(&d, &n, A, &d, jpvt, tau, work, &lwork, &info);
    if (info != 0)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "dgeqp3 failed (info %d)", info);
  }
  int rank = 0;
  if (!err) { /* the pivots decrease: count those above the threshold */
    const double r11 = fabs(A[0]), mx = d > n ? d : n;
    while (rank < k &&
           fabs(A[(size_t)rank * d + rank]) > mx * DBL_EPSILON * r11)
      rank++;
    if (rank == 0)
      err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                           "the %d training and test inputs are all zero "
                           "(their span has rank 0): the input weights have "
                           "nothing to learn from; check the data, or set "
                           "[model] span = off to train them anyway",
                           n);
  }
  if (!err) {
    dorgqr_(&d, &rank, &rank, A, &d, tau, work, &lwork, &info);
    if (info != 0)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "dorgqr failed (info %d)", info);
  }
  if (threads > 0) pd_blas_set_threads(threads);
  if (!err) err = pd_calloc((size_t)d * (size_t)rank, sizeof(double), q);
  if (!err) {
    memcpy(*q, A, sizeof(double) * (size_t)d * (size_t)rank);
    *r = rank;
  }
  pd_free(&A);
  pd_free(&jpvt);
  pd_free(&tau);
  pd_free(&work);
  return err;
}

int pd_span_create(MPI_Comm comm, const pd_data *const *sets, int nsets,
                   pd_span **out) {
  *out = NULL;
  int d = 0;
  for (int s = 0; s < nsets; s++)
    if (sets[s] && !d) d = sets[s]->d;
  pd_span *sp = NULL;
  int rank = 0, err = MPI_Comm_rank(comm, &rank);
  if (err != MPI_SUCCESS)
    err = pd_error_mpi(err, __FILE__, __LINE__, __func__, "MPI_Comm_rank");
  if (!err) err = pd_calloc(1, sizeof *sp, &sp);
  if (!err) {
    sp->d = d;
    if (rank == 0) err = pd_span_basis(sets, nsets, d, &sp->r, &sp->q);
  }
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  int rc = MPI_SUCCESS;
  if (!err) rc = MPI_Bcast(&sp->r, 1, MPI_INT, 0, comm);
  if (!err && rc == MPI_SUCCESS && rank != 0)
    err = pd_calloc((size_t)d * (size_t)sp->r, sizeof(double), &sp->q);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (!err && rc == MPI_SUCCESS)
    rc = MPI_Bcast(sp->q, d * sp->r, MPI_DOUBLE, 0, comm);
  if (!err && rc != MPI_SUCCESS)
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Bcast(basis)");
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err) {
    pd_span_destroy(&sp);
    return err;
  }
  *out = sp;
  return PD_OK;
}

void pd_span_destroy(pd_span **span) {
  if (!*span) return;
  pd_free(&(*span)->q);
  pd_free(span);
}

int pd_span_dim(const pd_span *span) { return span->d; }
int pd_span_rank(const pd_span *span) { return span->r; }

/* z[j] = q_j . x, j < r, in one fixed order */
static void pd_span_coords(const pd_span *sp, const double *x, double *z) {
  for (int j = 0; j < sp->r; j++) {
    const double *qj = sp->q + (size_t)j * sp->d;
    double s = 0;
    for (int l = 0; l < sp->d; l++) s = fma(qj[l], x[l], s);
    z[j] = s;
  }
}

int pd_span_project(const pd_span *span, const pd_data *full, pd_data **red) {
  *red = NULL;
  PD_CHECK(full->d == span->d, PD_ERR_ARG,
           "data of dimension %d against a span in dimension %d", full->d,
           span->d);
  PD_CALL(pd_data_create(full->n, span->r, red));
  for (int64_t i = 0; i < full->n; i++) {
    pd_span_coords(span, full->x + i * full->d, (*red)->x + i * span->r);
    (*red)->y[i] = full->y[i];
  }
  return PD_OK;
}

void pd_span_reduce(const pd_span *span, const double *wfull, double *wred) {
  pd_span_coords(span, wfull, wred);
  wred[span->r] = wfull[span->d];
}

void pd_span_lift(const pd_span *span, const double *wfull0,
                  const double *wred0, const double *wred, double *wfull) {
  const int d = span->d;
  for (int l = 0; l < d; l++) wfull[l] = 0;
  for (int j = 0; j < span->r; j++) {
    const double du = wred[j] - wred0[j], *qj = span->q + (size_t)j * d;
    for (int l = 0; l < d; l++) wfull[l] = fma(qj[l], du, wfull[l]);
  }
  for (int l = 0; l < d; l++) wfull[l] += wfull0[l];
  wfull[d] = wred[span->r];
}
