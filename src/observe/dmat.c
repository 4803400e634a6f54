#include "phasediag/observe/dmat.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/repsum.h"

/* ScaLAPACK (Fortran, gfortran ABI: hidden string lengths at the end). */
void descinit_(int *desc, const int *m, const int *n, const int *mb,
               const int *nb, const int *irsrc, const int *icsrc,
               const int *ictxt, const int *lld, int *info);
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc,
            const int *nprocs);
void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
              const int *ia, const int *ja, const int *desca, double *w,
              double *z, const int *iz, const int *jz, const int *descz,
              double *work, const int *lwork, int *iwork, const int *liwork,
              int *info, size_t jobz_len, size_t uplo_len);
void pdposv_(const char *uplo, const int *n, const int *nrhs, double *a,
             const int *ia, const int *ja, const int *desca, double *b,
             const int *ib, const int *jb, const int *descb, int *info,
             size_t uplo_len);

static int pd_numroc(int n, int nb, int iproc, int nprocs) {
  const int zero = 0;
  return numroc_(&n, &nb, &iproc, &zero, &nprocs);
}

int pd_dmat_default_nb(int n, int nprow, int npcol) {
  int p = nprow > npcol ? nprow : npcol;
  if (p < 1) p = 1;
  int nb = n / p + (n % p != 0);
  if (nb > PD_DMAT_NB) nb = PD_DMAT_NB;
  return nb < 1 ? 1 : nb;
}

static int pd_dmat_init(pd_dmat *A, pd_blacs *g, int n, int nb) {
  PD_CHECK(n >= 1, PD_ERR_ARG, "matrix order %d must be >= 1", n);
  PD_CHECK(nb >= 1, PD_ERR_ARG, "block size %d must be >= 1", nb);
  A->grid = g;
  A->n = n;
  A->nb = nb;
  pd_blacs_shape(g, &A->nprow, &A->npcol, &A->myrow, &A->mycol);
  A->mloc = pd_numroc(n, nb, A->myrow, A->nprow);
  A->nloc = pd_numroc(n, nb, A->mycol, A->npcol);
  A->lld = A->mloc > 1 ? A->mloc : 1;
  const int zero = 0, ctxt = pd_blacs_context(g);
  int info = 0;
  descinit_(A->desc, &n, &n, &nb, &nb, &zero, &zero, &ctxt, &A->lld, &info);
  PD_CHECK(info == 0, PD_ERR_ARG,
           "descinit failed (info %d) for n %d, nb %d on a %d x %d grid", info,
           n, nb, A->nprow, A->npcol);
  size_t count = (size_t)A->lld * (size_t)(A->nloc > 0 ? A->nloc : 1);
  PD_CALL(pd_calloc(count, sizeof(double), &A->a));
  return PD_OK;
}

int pd_dmat_create(pd_blacs *g, int n, int nb, pd_dmat **out) {
  *out = NULL;
  MPI_Comm comm = pd_blacs_comm(g);
  pd_dmat *A = NULL;
  int err = pd_calloc(1, sizeof *A, &A);
  PD_COLLECTIVE(comm, err);
  if (nb <= 0) {
    int pr, pc;
    pd_blacs_shape(g, &pr, &pc, NULL, NULL);
    nb = pd_dmat_default_nb(n, pr, pc);
  }
  err = pd_dmat_init(A, g, n, nb);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_dmat_destroy(&A);
    return err;
  }
  *out = A;
  return PD_OK;
}

int pd_dmat_destroy(pd_dmat **pA) {
  if (!*pA) return PD_OK;
  pd_free(&(*pA)->a);
  pd_free(pA);
  return PD_OK;
}

static int pd_l2g(int il, int nb, int me, int np) {
  return ((il / nb) * np + me) * nb + il % nb;
}

int pd_dmat_row_global(const pd_dmat *A, int il) {
  return pd_l2g(il, A->nb, A->myrow, A->nprow);
}
int pd_dmat_col_global(const pd_dmat *A, int jl) {
  return pd_l2g(jl, A->nb, A->mycol, A->npcol);
}

int pd_dmat_fill(pd_dmat *A, pd_dmat_entry_fn f, void *ctx) {
  PD_CHECK(f != NULL, PD_ERR_ARG, "no entry function");
  for (int jl = 0; jl < A->nloc; jl++) {
    int j = pd_dmat_col_global(A, jl);
    double *col = A->a + (size_t)jl * (size_t)A->lld;
    for (int il = 0; il < A->mloc; il++)
      col[il] = f(pd_dmat_row_global(A, il), j, ctx);
  }
  return PD_OK;
}

/* ---- gather ------------------------------------------------------------- */

static int pd_dmat_gather_run(const pd_dmat *A, int root, double *full,
                              double *send, double *recv, int *counts,
                              int *pr_of, int *pc_of) {
  MPI_Comm comm = pd_blacs_comm(A->grid);
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  for (int jl = 0; jl < A->nloc; jl++)
    for (int il = 0; il < A->mloc; il++)
      send[(size_t)jl * A->mloc + il] = A->a[(size_t)jl * A->lld + il];
  int *displs = counts + size;
  if (rank == root) {
    for (int pr = 0; pr < A->nprow; pr++)
      for (int pc = 0; pc < A->npcol; pc++) {
        int r = pd_blacs_rank_of(A->grid, pr, pc);
        pr_of[r] = pr;
        pc_of[r] = pc;
      }
    int off = 0;
    for (int r = 0; r < size; r++) {
      counts[r] = pd_numroc(A->n, A->nb, pr_of[r], A->nprow) *
                  pd_numroc(A->n, A->nb, pc_of[r], A->npcol);
      displs[r] = off;
      off += counts[r];
    }
  }
  PD_CALL_MPI(MPI_Gatherv(send, A->mloc * A->nloc, MPI_DOUBLE, recv, counts,
                          displs, MPI_DOUBLE, root, comm));
  if (rank != root) return PD_OK;
  const int n = A->n;
  for (int r = 0; r < size; r++) {
    int ml = pd_numroc(n, A->nb, pr_of[r], A->nprow);
    int nl = pd_numroc(n, A->nb, pc_of[r], A->npcol);
    const double *src = recv + displs[r];
    for (int jl = 0; jl < nl; jl++) {
      int j = pd_l2g(jl, A->nb, pc_of[r], A->npcol);
      for (int il = 0; il < ml; il++) {
        int i = pd_l2g(il, A->nb, pr_of[r], A->nprow);
        full[(size_t)j * n + i] = src[(size_t)jl * ml + il];
      }
    }
  }
  return PD_OK;
}

int pd_dmat_gather(const pd_dmat *A, int root, double *full) {
  MPI_Comm comm = pd_blacs_comm(A->grid);
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  double *send = NULL, *recv = NULL;
  int *ibuf = NULL;
  int err = PD_OK;
  if (A->n > 46340 || root < 0 || root >= size)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "cannot gather order %d to rank %d of %d", A->n, root,
                         size);
  if (err == PD_OK)
    err = pd_calloc((size_t)A->mloc * A->nloc + 1, sizeof(double), &send);
  if (err == PD_OK && rank == root)
    err = pd_calloc((size_t)A->n * A->n, sizeof(double), &recv);
  if (err == PD_OK) err = pd_calloc((size_t)size * 4, sizeof(int), &ibuf);
  if (err == PD_OK && rank == root && full == NULL)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "no output buffer on the root");
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err == PD_OK)
    err = pd_dmat_gather_run(A, root, full, send, recv, ibuf, ibuf + 2 * size,
                             ibuf + 3 * size);
  pd_free(&send);
  pd_free(&recv);
  pd_free(&ibuf);
  PD_COLLECTIVE(comm, err);
  return PD_OK;
}

/* ---- eigen-decomposition ------------------------------------------------ */

int pd_dmat_syevd(pd_dmat *A, double *w, pd_dmat *Z) {
  MPI_Comm comm = pd_blacs_comm(A->grid);
  int err = PD_OK;
  if (!Z || Z->grid != A->grid || Z->n != A->n || Z->nb != A->nb || !w)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "eigenvector matrix or eigenvalue array does not "
                         "match the matrix (n %d, nb %d)",
                         A->n, A->nb);
  PD_COLLECTIVE(comm, err);
  const int one = 1, query = -1;
  int info = 0, iwq = 0;
  double wq = 0;
  pdsyevd_("V", "L", &A->n, A->a, &one, &one, A->desc, w, Z->a, &one, &one,
           Z->desc, &wq, &query, &iwq, &query, &info, 1, 1);
  if (info != 0 || !(wq >= 0) || wq > (double)(INT_MAX / 2))
    err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                         "pdsyevd workspace query failed (info %d, lwork %g)",
                         info, wq);
  PD_COLLECTIVE(comm, err);
  int lwork = (int)ceil(wq) + 1;
  /* The query can undercount what pdsyevd hands on to pdormtr (at offset 4n
   * of work): with a single block (nb = n, e.g. one rank and n <= 64)
   * pdormtr fails ("parameter number 16") and pdsyevd returns info 0 with
   * eigenvectors that were never back-transformed.  Add pdormtr's minimum,
   * max(nb (nb - 1) / 2, (mloc + nloc) nb) + nb^2. */
  {
    const double nb = A->nb;
    double need = (double)(A->mloc + A->nloc) * nb;
    if (nb * (nb - 1) / 2 > need) need = nb * (nb - 1) / 2;
    need += nb * nb + 4.0 * A->n + 1;
    if (need > (double)(INT_MAX / 2))
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "pdsyevd workspace %g too large", need);
    PD_COLLECTIVE(comm, err);
    if (need > lwork) lwork = (int)need;
  }
  int liwork = 7 * A->n + 8 * A->npcol + 2;
  if (iwq > liwork) liwork = iwq;
  double *work = NULL;
  int *iwork = NULL;
  err = pd_calloc((size_t)lwork, sizeof(double), &work);
  if (err == PD_OK) err = pd_calloc((size_t)liwork, sizeof(int), &iwork);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err == PD_OK) {
    pdsyevd_("V", "L", &A->n, A->a, &one, &one, A->desc, w, Z->a, &one, &one,
             Z->desc, work, &lwork, iwork, &liwork, &info, 1, 1);
    if (info != 0)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "pdsyevd failed: info %d (n %d, nb %d, grid %d x "
                           "%d)",
                           info, A->n, A->nb, A->nprow, A->npcol);
  }
  pd_free(&work);
  pd_free(&iwork);
  PD_COLLECTIVE(comm, err);
  /* pdsyevd leaves w unset on a process that holds no block (nb = n on
   * more than one rank): take grid rank 0's, the same bits everywhere */
  PD_CALL_MPI(MPI_Bcast(w, A->n, MPI_DOUBLE, 0, comm));
  return PD_OK;
}

/* ---- distance ----------------------------------------------------------- */

int pd_dmat_rel_dist(const pd_dmat *A, const pd_dmat *B, double *dist) {
  MPI_Comm comm = pd_blacs_comm(A->grid);
  int err = PD_OK;
  if (B->grid != A->grid || B->n != A->n || B->nb != A->nb)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "matrices differ in layout (n %d/%d, nb %d/%d)", A->n,
                         B->n, A->nb, B->nb);
  PD_COLLECTIVE(comm, err);
  double loc[2] = {0, 0}, glob[2];
  for (int jl = 0; jl < A->nloc; jl++) {
    const double *ca = A->a + (size_t)jl * A->lld;
    const double *cb = B->a + (size_t)jl * B->lld;
    for (int il = 0; il < A->mloc; il++) {
      double e = ca[il] - cb[il];
      loc[0] += e * e;
      loc[1] += cb[il] * cb[il];
    }
  }
  err = pd_repsum(loc, glob, 2, comm);
  PD_COLLECTIVE(comm, err);
  *dist = glob[1] > 0 ? sqrt(glob[0] / glob[1]) : (glob[0] > 0 ? INFINITY : 0);
  return PD_OK;
}

/* ---- diagonal shift and Cholesky solve ---------------------------------- */

int pd_dmat_add_diagonal(pd_dmat *A, double shift) {
  PD_CHECK(isfinite(shift), PD_ERR_ARG, "diagonal shift %g", shift);
  for (int jl = 0; jl < A->nloc; jl++) {
    const int j = pd_dmat_col_global(A, jl);
    for (int il = 0; il < A->mloc; il++)
      if (pd_dmat_row_global(A, il) == j)
        A->a[(size_t)jl * A->lld + il] += shift;
  }
  return PD_OK;
}

/* The right-hand side as an n x 1 block-cyclic matrix in grid column 0 with
 * A's row blocking (pdposv needs matching row blocks). */
static int pd_dmat_rhs_init(const pd_dmat *A, int *desc, double **bloc) {
  const int zero = 0, one = 1, ctxt = pd_blacs_context(A->grid);
  int lld = A->mloc > 1 ? A->mloc : 1, info = 0;
  descinit_(desc, &A->n, &one, &A->nb, &one, &zero, &zero, &ctxt, &lld, &info);
  PD_CHECK(info == 0, PD_ERR_ARG,
           "descinit failed (info %d) for a %d x 1 right-hand side", info,
           A->n);
  PD_CALL(pd_calloc((size_t)lld, sizeof(double), bloc));
  return PD_OK;
}

int pd_dmat_posv(pd_dmat *A, double *b) {
  MPI_Comm comm = pd_blacs_comm(A->grid);
  int err = b ? PD_OK
              : pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                               "no right-hand side");
  PD_COLLECTIVE(comm, err);
  int desc[9];
  double *bloc = NULL, *full = NULL;
  err = pd_dmat_rhs_init(A, desc, &bloc);
  if (err == PD_OK) err = pd_calloc((size_t)A->n, sizeof(double), &full);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err == PD_OK) {
    if (A->mycol == 0)
      for (int il = 0; il < A->mloc; il++)
        bloc[il] = b[pd_dmat_row_global(A, il)];
    const int one = 1;
    int info = 0;
    pdposv_("L", &A->n, &one, A->a, &one, &one, A->desc, bloc, &one, &one, desc,
            &info, 1);
    if (info != 0)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "pdposv failed: info %d (n %d; info > 0: the "
                           "matrix is not positive definite)",
                           info, A->n);
    /* grid column 0 holds the solution: spread it (exact, one non-zero
     * term per entry) */
    if (A->mycol == 0)
      for (int il = 0; il < A->mloc; il++)
        full[pd_dmat_row_global(A, il)] = bloc[il];
  }
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err == PD_OK) {
    int mpierr = MPI_Allreduce(full, b, A->n, MPI_DOUBLE, MPI_SUM, comm);
    if (mpierr != MPI_SUCCESS)
      err = pd_error_mpi(mpierr, __FILE__, __LINE__, __func__, "MPI_Allreduce");
  }
  pd_free(&bloc);
  pd_free(&full);
  PD_COLLECTIVE(comm, err);
  return PD_OK;
}
