/* pd_ntk_bench: the linear theory's dense algebra at scale.
 *
 *   mpirun -np P build/pd_ntk_bench [--samples N] [--nb NB] [--dim D]
 *
 * Fills the closed-form NTK Gram of N random points in [-1, 1]^D (default
 * N = 4096, D = 2) as a block-cyclic matrix on all ranks, decomposes it with
 * ScaLAPACK pdsyevd (eigenvectors included), then gathers it to rank 0 and
 * decomposes it again with LAPACK dsyevd on rank 0 alone.  Prints one JSON
 * line; max_rel_eigenvalue_diff is max_i |lambda_i - mu_i| / max |mu|.
 * BLAS threads follow the environment (OPENBLAS_NUM_THREADS). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"
#include "phasediag/observe/blacs.h"
#include "phasediag/observe/dmat.h"
#include "phasediag/observe/ntk.h"
#include "phasediag/version.h"

void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
             const int *lda, double *w, double *work, const int *lwork,
             int *iwork, const int *liwork, int *info, size_t jobz_len,
             size_t uplo_len);

static int arg_int(int argc, char **argv, const char *name, int def, int lo,
                   int *out) {
  *out = def;
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], name)) {
      char *end;
      double v = strtod(argv[i + 1], &end);
      if (*end || v < lo || v > 46340 || v != floor(v)) return 0;
      *out = (int)v;
    }
  return 1;
}

/* Rank 0 only: LAPACK eigenvalues of a (n x n, destroyed) into w. */
static int lapack_eig(int n, double *a, double *w) {
  int query = -1, info = 0, iwq = 0;
  double wq = 0;
  dsyevd_("V", "L", &n, a, &n, w, &wq, &query, &iwq, &query, &info, 1, 1);
  PD_CHECK(info == 0 && wq < 2e9, PD_ERR_NUMERIC,
           "dsyevd workspace query: info %d, lwork %g", info, wq);
  int lwork = (int)ceil(wq) + 1, liwork = iwq + 1;
  double *work = NULL;
  int *iwork = NULL;
  int err = pd_calloc((size_t)lwork, sizeof(double), &work);
  if (err == PD_OK) err = pd_calloc((size_t)liwork, sizeof(int), &iwork);
  if (err == PD_OK) {
    dsyevd_("V", "L", &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    if (info != 0)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "dsyevd failed: info %d", info);
  }
  pd_free(&work);
  pd_free(&iwork);
  return err;
}

static int bench(MPI_Comm comm, int n, int nb, int d) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  pd_data *data = NULL;
  PD_CALL(pd_data_create(n, d, &data));
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      data->x[(size_t)i * d + j] =
          2 * pd_rng_uniform(5, 1, (uint64_t)i, (uint64_t)j) - 1;
  const double m = 1e4;
  pd_scales s = {sqrt(m), 1, 1};
  pd_blacs *g = NULL;
  PD_CALL(pd_blacs_create(comm, &g));
  pd_dmat *A = NULL, *Z = NULL;
  PD_CALL(pd_dmat_create(g, n, nb, &A));
  PD_CALL(pd_dmat_create(g, n, A->nb, &Z));
  double *w = NULL, *wl = NULL, *full = NULL;
  int err = pd_calloc((size_t)n, sizeof(double), &w);
  if (err == PD_OK) err = pd_calloc((size_t)n, sizeof(double), &wl);
  if (err == PD_OK && rank == 0)
    err = pd_calloc((size_t)n * n, sizeof(double), &full);
  PD_COLLECTIVE(comm, err);

  PD_CALL_MPI(MPI_Barrier(comm));
  double t0 = MPI_Wtime();
  PD_CALL(pd_ntk_fill_closed_form(A, data, m, &s));
  double t_fill = MPI_Wtime() - t0, fill;
  PD_CALL_MPI(MPI_Allreduce(&t_fill, &fill, 1, MPI_DOUBLE, MPI_MAX, comm));
  PD_CALL(pd_dmat_gather(A, 0, full));

  PD_CALL_MPI(MPI_Barrier(comm));
  t0 = MPI_Wtime();
  PD_CALL(pd_dmat_syevd(A, w, Z));
  double t_eig = MPI_Wtime() - t0, eig;
  PD_CALL_MPI(MPI_Allreduce(&t_eig, &eig, 1, MPI_DOUBLE, MPI_MAX, comm));

  double lap = 0, diff = 0;
  if (rank == 0) {
    t0 = MPI_Wtime();
    err = lapack_eig(n, full, wl);
    lap = MPI_Wtime() - t0;
    double scale = 0;
    for (int i = 0; i < n; i++)
      if (fabs(wl[i]) > scale) scale = fabs(wl[i]);
    for (int i = 0; i < n; i++)
      if (fabs(w[i] - wl[i]) / scale > diff) diff = fabs(w[i] - wl[i]) / scale;
  }
  PD_COLLECTIVE(comm, err);
  if (rank == 0)
    printf(
        "{\"ranks\": %d, \"grid\": \"%dx%d\", \"n\": %d, \"nb\": %d, "
        "\"dim\": %d, \"seconds_fill\": %.6g, \"seconds_eig_scalapack\": "
        "%.6g, \"seconds_eig_lapack\": %.6g, \"max_rel_eigenvalue_diff\": "
        "%.3g, \"lambda_min\": %.6g, \"lambda_max\": %.6g, \"version\": "
        "\"%s\", \"commit\": \"%s\"}\n",
        size, A->nprow, A->npcol, n, A->nb, d, fill, eig, lap, diff, w[0],
        w[n - 1], PD_VERSION, PD_GIT_COMMIT);
  pd_free(&w);
  pd_free(&wl);
  pd_free(&full);
  PD_CALL(pd_dmat_destroy(&A));
  PD_CALL(pd_dmat_destroy(&Z));
  PD_CALL(pd_blacs_destroy(&g));
  pd_data_destroy(&data);
  return PD_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int n, nb, d;
  int ok = arg_int(argc, argv, "--samples", 4096, 1, &n) &&
           arg_int(argc, argv, "--nb", 0, 0, &nb) &&
           arg_int(argc, argv, "--dim", 2, 1, &d);
  if (!ok) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
      fprintf(stderr,
              "usage: pd_ntk_bench [--samples N] [--nb NB (0: default)] "
              "[--dim D]  (integers, N <= 46340)\n");
    MPI_Finalize();
    return 2;
  }
  int err = bench(MPI_COMM_WORLD, n, nb, d);
  if (err) pd_error_abort(MPI_COMM_WORLD, err);
  MPI_Finalize();
  return 0;
}
