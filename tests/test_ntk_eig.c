/* ScaLAPACK eigenvalues (pdsyevd) against LAPACK dsyevd on the gathered
 * matrix; the block-cyclic layout, fill and gather. */
#include <stddef.h>
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"
#include "phasediag/observe/dmat.h"
#include "phasediag/observe/ntk.h"

void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
             const int *lda, double *w, double *work, const int *lwork,
             int *iwork, const int *liwork, int *info, size_t, size_t);

static double sym_random(int i, int j, void *ctx) {
  (void)ctx;
  int lo = i < j ? i : j, hi = i < j ? j : i;
  return 2 * pd_rng_uniform(21, 0, (uint64_t)lo, (uint64_t)hi) - 1;
}

static double index_code(int i, int j, void *ctx) {
  (void)ctx;
  return 1000.0 * i + j;
}

/* LAPACK eigenvalues of the n x n matrix a (destroyed). */
static void lapack_eig(int n, double *a, double *w) {
  int lwork = -1, liwork = -1, info = 0, iwq = 0;
  double wq = 0;
  dsyevd_("N", "L", &n, a, &n, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
  lwork = (int)wq + 1;
  liwork = iwq + 1;
  double *work = NULL;
  int *iwork = NULL;
  PD_TEST_OK(pd_calloc((size_t)lwork, sizeof(double), &work));
  PD_TEST_OK(pd_calloc((size_t)liwork, sizeof(int), &iwork));
  dsyevd_("N", "L", &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
  PD_TEST_CHECK(info == 0, "dsyevd info %d", info);
  pd_free(&work);
  pd_free(&iwork);
}

/* Decompose A with pdsyevd and check against LAPACK on rank 0. */
static void check_eig(pd_blacs *g, pd_dmat *A, const char *what) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int n = A->n;
  double *full = NULL, *copy = NULL, *zfull = NULL, *w = NULL, *wl = NULL;
  PD_TEST_OK(pd_calloc((size_t)n * n, sizeof(double), &full));
  PD_TEST_OK(pd_calloc((size_t)n * n, sizeof(double), &copy));
  PD_TEST_OK(pd_calloc((size_t)n * n, sizeof(double), &zfull));
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &w));
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &wl));
  PD_TEST_OK(pd_dmat_gather(A, 0, full));
  pd_dmat *Z = NULL;
  PD_TEST_OK(pd_dmat_create(g, n, A->nb, &Z));
  PD_TEST_OK(pd_dmat_syevd(A, w, Z));
  PD_TEST_OK(pd_dmat_gather(Z, 0, zfull));
  /* the eigenvalues are the same bits on every rank */
  double *wmin = NULL, *wmax = NULL;
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &wmin));
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &wmax));
  MPI_Allreduce(w, wmin, n, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(w, wmax, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  int differ = 0, unsorted = 0;
  for (int i = 0; i < n; i++) {
    differ += wmin[i] != wmax[i];
    unsorted += i > 0 && w[i] < w[i - 1];
  }
  PD_TEST_CHECK(differ == 0, "%s: %d eigenvalues differ across ranks", what,
                differ);
  PD_TEST_CHECK(unsorted == 0, "%s: eigenvalues not ascending", what);
  if (rank == 0) {
    memcpy(copy, full, (size_t)n * n * sizeof(double));
    lapack_eig(n, copy, wl);
    double scale =
        fabs(wl[0]) > fabs(wl[n - 1]) ? fabs(wl[0]) : fabs(wl[n - 1]);
    double dmax = 0, resid = 0, orth = 0;
    for (int i = 0; i < n; i++) {
      double e = fabs(w[i] - wl[i]) / scale;
      if (e > dmax) dmax = e;
    }
    /* residuals |A z - lambda z| / |lambda|_max and orthonormality */
    for (int k = 0; k < n; k++) {
      const double *z = zfull + (size_t)k * n;
      for (int i = 0; i < n; i++) {
        double s = -w[k] * z[i];
        for (int j = 0; j < n; j++) s += full[(size_t)j * n + i] * z[j];
        if (fabs(s) / scale > resid) resid = fabs(s) / scale;
      }
      for (int l = k; l < n && l < k + 3; l++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += z[i] * zfull[(size_t)l * n + i];
        double e = fabs(s - (l == k));
        if (e > orth) orth = e;
      }
    }
    PD_TEST_CHECK(dmax <= 1e-10, "%s: eigenvalues differ from LAPACK by %g",
                  what, dmax);
    PD_TEST_CHECK(resid <= 1e-10, "%s: residual %g", what, resid);
    PD_TEST_CHECK(orth <= 1e-10, "%s: orthonormality %g", what, orth);
    printf(
        "%s: n %d nb %d: max |lambda - lambda_lapack| / |lambda|_max %.3g, "
        "residual %.3g, orthonormality %.3g, lambda in [%.4g, %.4g]\n",
        what, n, A->nb, dmax, resid, orth, w[0], w[n - 1]);
  }
  PD_TEST_OK(pd_dmat_destroy(&Z));
  pd_free(&full);
  pd_free(&copy);
  pd_free(&zfull);
  pd_free(&w);
  pd_free(&wl);
  pd_free(&wmin);
  pd_free(&wmax);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  pd_blacs *g = NULL;
  PD_TEST_OK(pd_blacs_create(MPI_COMM_WORLD, &g));
  int pr, pc, myr, myc;
  pd_blacs_shape(g, &pr, &pc, &myr, &myc);
  PD_TEST_CHECK(pr * pc == size && pr <= pc, "grid %d x %d on %d ranks", pr, pc,
                size);
  PD_TEST_CHECK(pd_blacs_rank_of(g, myr, myc) == rank, "position of rank %d",
                rank);

  /* layout: fill by global index, gather, every entry in its place */
  pd_dmat *A = NULL;
  PD_TEST_OK(pd_dmat_create(g, 37, 5, &A));
  PD_TEST_OK(pd_dmat_fill(A, index_code, NULL));
  double *full = NULL;
  PD_TEST_OK(pd_calloc(37 * 37, sizeof(double), &full));
  PD_TEST_OK(pd_dmat_gather(A, size - 1, full));
  if (rank == size - 1) {
    int bad = 0;
    for (int j = 0; j < 37; j++)
      for (int i = 0; i < 37; i++) bad += full[j * 37 + i] != 1000.0 * i + j;
    PD_TEST_CHECK(bad == 0, "%d entries misplaced by fill/gather", bad);
  }
  long local = (long)A->mloc * A->nloc, total = 0;
  MPI_Allreduce(&local, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  PD_TEST_CHECK(total == 37 * 37, "local sizes add up to %ld", total);
  pd_free(&full);
  PD_TEST_OK(pd_dmat_destroy(&A));

  /* random symmetric matrices, n not a multiple of nb; small ones leave
   * some ranks with few or no rows; a single block */
  int sizes[6][2] = {{150, 16},
                     {5, 2},
                     {9, 4},
                     {1, 1},
                     /* one block holds the whole matrix: pdormtr needs more
                      * workspace than the query reports */
                     {40, 40},
                     {64, 0}};
  for (int t = 0; t < 6; t++) {
    PD_TEST_OK(pd_dmat_create(g, sizes[t][0], sizes[t][1], &A));
    PD_TEST_OK(pd_dmat_fill(A, sym_random, NULL));
    check_eig(g, A, "random symmetric");
    PD_TEST_OK(pd_dmat_destroy(&A));
  }

  /* the closed-form NTK on random 2-D data, and the default block size */
  pd_data *data = pd_test_random_data(230, 2, 31);
  pd_scales s = {sqrt(1e4), 1, 1};
  int nbs[2] = {24, 0};
  for (int t = 0; t < 2; t++) {
    PD_TEST_OK(pd_dmat_create(g, 230, nbs[t], &A));
    PD_TEST_OK(pd_ntk_fill_closed_form(A, data, 1e4, &s));
    check_eig(g, A, "NTK closed form");
    PD_TEST_OK(pd_dmat_destroy(&A));
  }
  pd_data_destroy(&data);

  /* a mismatched eigenvector matrix is refused on every rank */
  pd_dmat *B = NULL;
  PD_TEST_OK(pd_dmat_create(g, 40, 8, &A));
  PD_TEST_OK(pd_dmat_create(g, 40, 7, &B));
  double w[40];
  int err = pd_dmat_syevd(A, w, B);
  PD_TEST_CHECK(err == PD_ERR_ARG, "mismatched Z: %d", err);
  PD_TEST_OK(pd_dmat_destroy(&A));
  PD_TEST_OK(pd_dmat_destroy(&B));
  PD_TEST_OK(pd_blacs_destroy(&g));
  return pd_test_end("test_ntk_eig");
}
