/* A square n x n matrix distributed 2-D block-cyclically over a BLACS grid
 * (ScaLAPACK layout: square nb x nb blocks, block (I, J) on grid position
 * (I mod nprow, J mod npcol), local part column-major with leading dimension
 * lld), with the dense symmetric eigen-decomposition (pdsyevd) and the
 * relative Frobenius distance.
 *
 * The matrix borrows its grid: destroy the matrix first.  Collective calls
 * (over the grid's communicator) are marked; all others are local. */
#ifndef PHASEDIAG_DMAT_H
#define PHASEDIAG_DMAT_H

#include <stdint.h>

#include "phasediag/observe/blacs.h"

#define PD_DMAT_NB 64 /* default block size */

typedef struct {
  pd_blacs *grid; /* borrowed */
  int n, nb;      /* global order, block size */
  int desc[9];    /* ScaLAPACK descriptor */
  int mloc, nloc; /* local rows and columns (numroc) */
  int lld;        /* local leading dimension, max(1, mloc) */
  int myrow, mycol;
  int nprow, npcol;
  double *a; /* lld * nloc, column-major, zeroed at creation */
} pd_dmat;

/* Default block size for order n on a nprow x npcol grid: PD_DMAT_NB, or
 * less when n is small, so that every grid row and column gets a block. */
int pd_dmat_default_nb(int n, int nprow, int npcol);

/* Collective.  An n x n zero matrix on grid g with block size nb (nb <= 0:
 * the default).  Failures are returned on every rank, *A = NULL. */
int pd_dmat_create(pd_blacs *g, int n, int nb, pd_dmat **A);
/* Local (frees memory only).  NULL is fine. */
int pd_dmat_destroy(pd_dmat **A);

/* Global row (column) index of local row il (column jl). */
int pd_dmat_row_global(const pd_dmat *A, int il);
int pd_dmat_col_global(const pd_dmat *A, int jl);

/* Local: A(i, j) = f(i, j, ctx) for the entries this rank holds (global
 * 0-based indices). */
typedef double (*pd_dmat_entry_fn)(int i, int j, void *ctx);
int pd_dmat_fill(pd_dmat *A, pd_dmat_entry_fn f, void *ctx);

/* Collective.  The whole matrix, column-major n x n (ld n), into full on
 * rank root of the grid's communicator (full is ignored elsewhere).  For
 * tests and small n. */
int pd_dmat_gather(const pd_dmat *A, int root, double *full);

/* Collective.  Eigen-decomposition of the symmetric matrix A (its lower
 * triangle is read; A is overwritten): eigenvalues in ascending order in
 * w[0..n) on every rank, eigenvectors as the columns of Z (same grid, n and
 * nb as A).  ScaLAPACK pdsyevd with a workspace query. */
int pd_dmat_syevd(pd_dmat *A, double *w, pd_dmat *Z);

/* Collective.  |A - B|_F / |B|_F on every rank (0 if both are zero; A and B
 * have the same grid, n and nb). */
int pd_dmat_rel_dist(const pd_dmat *A, const pd_dmat *B, double *dist);

/* Local: A(i, i) += shift for the diagonal entries this rank holds. */
int pd_dmat_add_diagonal(pd_dmat *A, double shift);

/* Collective.  Solve A x = b for a symmetric positive definite A by
 * Cholesky (ScaLAPACK pdposv; the lower triangle is read and A is
 * overwritten by its factor).  b (length n) is given on every rank and the
 * solution x replaces it, the same bits on every rank.  A matrix that is not
 * positive definite is PD_ERR_NUMERIC on every rank. */
int pd_dmat_posv(pd_dmat *A, double *b);

#endif
