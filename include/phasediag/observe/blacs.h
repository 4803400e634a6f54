/* A BLACS process grid on a communicator (ScaLAPACK's 2-D process grid).
 *
 * The grid is nprow x npcol with nprow * npcol = size of the communicator and
 * nprow the largest divisor of size not above sqrt(size) (1 x 3 on 3 ranks,
 * 2 x 2 on 4, 2 x 3 on 6).  Rank r of the communicator sits at grid position
 * (r / npcol, r % npcol) (row-major); pd_blacs_rank_of() gives the rank of a
 * grid position.  The object duplicates the communicator it is given; its
 * own communicator (pd_blacs_comm) has the same ranks in the same order.
 *
 * Collective calls are marked; all others are local. */
#ifndef PHASEDIAG_BLACS_H
#define PHASEDIAG_BLACS_H

#include <mpi.h>

typedef struct pd_blacs pd_blacs;

/* Collective over comm.  Duplicate comm and build the BLACS grid on it.  A
 * failure on any rank is returned on every rank, *g = NULL. */
int pd_blacs_create(MPI_Comm comm, pd_blacs **g);
/* Collective over the grid's communicator.  NULL is fine. */
int pd_blacs_destroy(pd_blacs **g);

/* The grid's own communicator (a duplicate of the one it was created on). */
MPI_Comm pd_blacs_comm(const pd_blacs *g);
/* The BLACS context (ICTXT) for ScaLAPACK descriptors. */
int pd_blacs_context(const pd_blacs *g);
/* Grid shape and this rank's position; any pointer may be NULL. */
void pd_blacs_shape(const pd_blacs *g, int *nprow, int *npcol, int *myrow,
                    int *mycol);
/* Rank in pd_blacs_comm() of grid position (prow, pcol). */
int pd_blacs_rank_of(const pd_blacs *g, int prow, int pcol);

/* The grid shape chosen for size ranks (pure function). */
void pd_blacs_grid_shape(int size, int *nprow, int *npcol);

#endif
