#include "phasediag/observe/blacs.h"

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

/* BLACS C interface (Debian libscalapack-openmpi; Int is int). */
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int ctxt);

struct pd_blacs {
  MPI_Comm comm;
  int handle, ctxt; /* system handle and grid context; -1 when unset */
  int nprow, npcol, myrow, mycol;
  int *rank_of; /* 3 size: the rank of position (r, c) at r * npcol + c,
                   then scratch for the gathered positions */
};

void pd_blacs_grid_shape(int size, int *nprow, int *npcol) {
  int p = 1;
  for (int q = 1; (long)q * q <= size; q++)
    if (size % q == 0) p = q;
  *nprow = p;
  *npcol = size > 0 ? size / p : 0;
}

/* Collective: gather the grid positions and build the rank table; a failed
 * check is local (made collective by the caller). */
static int pd_blacs_table(pd_blacs *g, int size) {
  int *pos = g->rank_of + size;
  int me[2] = {g->myrow, g->mycol};
  PD_CALL_MPI(MPI_Allgather(me, 2, MPI_INT, pos, 2, MPI_INT, g->comm));
  for (int i = 0; i < size; i++) g->rank_of[i] = -1;
  for (int r = 0; r < size; r++) {
    int pr = pos[2 * r], pc = pos[2 * r + 1];
    PD_CHECK(pr >= 0 && pr < g->nprow && pc >= 0 && pc < g->npcol &&
                 g->rank_of[pr * g->npcol + pc] < 0,
             PD_ERR_MPI,
             "BLACS grid %d x %d: rank %d has an invalid or repeated position "
             "(%d, %d)",
             g->nprow, g->npcol, r, pr, pc);
    g->rank_of[pr * g->npcol + pc] = r;
  }
  return PD_OK;
}

int pd_blacs_create(MPI_Comm comm, pd_blacs **out) {
  *out = NULL;
  pd_blacs *g = NULL;
  int err = pd_calloc(1, sizeof *g, &g);
  PD_COLLECTIVE(comm, err);
  g->comm = MPI_COMM_NULL;
  g->handle = g->ctxt = -1;
  int rc = MPI_Comm_dup(comm, &g->comm);
  if (rc != MPI_SUCCESS) {
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Comm_dup");
    g->comm = MPI_COMM_NULL;
  }
  int size = 0;
  if (err == PD_OK) {
    MPI_Comm_set_errhandler(g->comm, MPI_ERRORS_RETURN);
    MPI_Comm_size(g->comm, &size);
    err = pd_calloc((size_t)size * 3, sizeof(int), &g->rank_of);
  }
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_blacs_destroy(&g);
    return err;
  }
  /* collective over g->comm; BLACS aborts the job on its own failures */
  pd_blacs_grid_shape(size, &g->nprow, &g->npcol);
  g->handle = Csys2blacs_handle(g->comm);
  int ctxt = g->handle;
  Cblacs_gridinit(&ctxt, "Row", g->nprow, g->npcol);
  g->ctxt = ctxt;
  int nr = -1, nc = -1;
  Cblacs_gridinfo(g->ctxt, &nr, &nc, &g->myrow, &g->mycol);
  if (nr != g->nprow || nc != g->npcol)
    err = pd_error_raise(PD_ERR_MPI, __FILE__, __LINE__, __func__,
                         "BLACS made a %d x %d grid, asked for %d x %d", nr, nc,
                         g->nprow, g->npcol);
  else
    err = pd_blacs_table(g, size);
  err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_blacs_destroy(&g);
    return err;
  }
  *out = g;
  return PD_OK;
}

int pd_blacs_destroy(pd_blacs **pg) {
  pd_blacs *g = *pg;
  if (!g) return PD_OK;
  if (g->ctxt >= 0 && g->myrow >= 0) Cblacs_gridexit(g->ctxt);
  if (g->handle >= 0) Cfree_blacs_system_handle(g->handle);
  if (g->comm != MPI_COMM_NULL) MPI_Comm_free(&g->comm);
  pd_free(&g->rank_of);
  pd_free(pg);
  return PD_OK;
}

MPI_Comm pd_blacs_comm(const pd_blacs *g) { return g->comm; }
int pd_blacs_context(const pd_blacs *g) { return g->ctxt; }

void pd_blacs_shape(const pd_blacs *g, int *nprow, int *npcol, int *myrow,
                    int *mycol) {
  if (nprow) *nprow = g->nprow;
  if (npcol) *npcol = g->npcol;
  if (myrow) *myrow = g->myrow;
  if (mycol) *mycol = g->mycol;
}

int pd_blacs_rank_of(const pd_blacs *g, int prow, int pcol) {
  return g->rank_of[prow * g->npcol + pcol];
}
