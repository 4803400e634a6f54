/* The BLAS's own threads.
 *
 * Ranks are phasediag's parallelism; a threaded BLAS under them splits its
 * work over as many threads as the process may use CPUs, which depends on
 * how MPI placed the process, and rounds differently with another count:
 * measured with OpenBLAS, the span's basis (LAPACK's pivoted QR) and the
 * NTK observer's eigenvalues differed in their last bits between np 1 and
 * np 3 (groups of one rank each, so the same calls on the same data).
 * With one thread they are the same.  OpenBLAS is recognised by its own
 * functions (weak references: another BLAS links too; reference BLAS has
 * no threads).  Local; not thread-safe. */
#ifndef PHASEDIAG_BLAS_H
#define PHASEDIAG_BLAS_H

/* OpenBLAS's thread count, or 0 if the BLAS is not OpenBLAS. */
int pd_blas_threads(void);

/* Set OpenBLAS's thread count (n >= 1); nothing for another BLAS. */
void pd_blas_set_threads(int n);

#endif
