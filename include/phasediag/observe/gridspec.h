/* Grid spectra of the sharded network for the frequency principle (the
 * frequencies of the whole function, not only at the data): the network h and a
 * target y evaluated on an N^d grid, transformed with the distributed r2c FFT
 * of fft.h, |k| binned into integer shells, and the relative error per shell
 *
 *   rel[s] = sqrt( sum_{round(|k|) = s} |E(k)|^2 / sum_{round(|k|) = s}
 * |Y(k)|^2 ),
 *
 * E = FFT(h - y), Y = FFT(y) (unnormalized, sign -1, the conventions of
 * fft.h; |k| is the Euclidean norm of the signed integer frequencies in
 * cycles per box).
 *
 * Grid.  The box [lo, hi)^d with N points per side: grid index
 * (i_0, .., i_{d-1}) is the point x_j = lo + (hi - lo) i_j / N.  Points are
 * split in slabs of the first index exactly as the FFT splits its rows
 * (pd_fft_local_n0 / pd_fft_local_0_start; at d = 1 rank 0 holds the whole
 * line).  "Slab order" is row-major over the local rows: the first index
 * varies slowest, the last fastest.  A global point index is the row-major
 * index over the whole grid; slabs are consecutive in rank order.
 *
 * Network evaluation, bit for bit.  At every point the neurons are summed in
 * blocks b of PD_NET_BLOCK consecutive global neurons (neurons
 * [256 b, 256 b + 256)); inside a block as a plain double sum in increasing k
 * of a_k * relu(w_k . (x, 1)), the pre-activation taken as
 * w_0 x_0 + .. + w_{d-1} x_{d-1} + w_d in that order (ISO C, no FMA
 * contraction); each block's partial is added exactly into a pd_acc, and
 * h = pd_acc_value / alpha.  Blocks never straddle ranks and the exact sum
 * does not depend on the order, so h has the same bits for both methods
 * below and for every number of ranks.
 *
 * GATHER or REDUCE.  The grid's points are split by slabs, the neurons by
 * blocks, so one side has to move:
 *
 *   GATHER: every rank receives the parameters of all other ranks' neurons
 *     (MPI_Allgatherv in global neuron order, d + 2 doubles per neuron) and
 *     evaluates its own slab with all m neurons.  Per rank, at most
 *       bytes_gather = (m - min_r mloc_r) (d + 2) 8
 *     (the rank holding the fewest neurons receives the most), and
 *     m (d + 2) 8 bytes of memory per rank for the gathered parameters.
 *   REDUCE: every rank evaluates its own neurons at all N^d points, in
 *     chunks of PD_GRIDSPEC_CHUNK points of one slab at a time, and the
 *     chunk's exact partial sums are reduced to the slab's owner
 *     (pd_acc_reduce).  A rank sends one pd_acc (560 bytes) per point of the
 *     other ranks' slabs; as a simple bound, taken as the max over ranks
 *     (tight whenever some rank holds no slab, e.g. d = 1 or P > N):
 *       bytes_reduce = N^d sizeof(pd_acc)   (0 when P = 1)
 *     and O(PD_GRIDSPEC_CHUNK) accumulators of memory per rank.
 *
 *   AUTO takes the method with fewer bytes (GATHER on a tie, e.g. P = 1),
 *   and REDUCE whenever m exceeds an MPI int count (GATHER refuses that).
 *   Parameters are 8 (d + 2) bytes per neuron against 560 bytes per point,
 *   so GATHER wins unless m > 560 N^d / (8 (d + 2)), about 23 N^d at d = 1:
 *   for the usual grids (N^d >= 10^4) and widths up to 10^5..10^6 that is
 *   GATHER; REDUCE pays off only for very wide nets on coarse grids.  The
 *   arithmetic is the same either way (m N^d neuron-point terms in all).
 *
 * Reproducibility of the spectra.  Shell sums here are exact (pd_acc), not
 * pd_fft_shells' MPI_SUM (whose order depends on the ranks), so the shell
 * power is the exactly rounded sum of the given spectrum.  The spectrum
 * itself comes from FFTW-MPI, whose algorithm (and so the last bits) depends
 * on the number of ranks: target power, error power and rel[] agree across
 * rank counts to rounding (tested to 1e-12 relative), not bit for bit; on a
 * given rank count they are the same on every rank and from run to run.
 * The evaluation h is bitwise identical for any rank count.
 *
 * Collective calls (over the grid's communicator) are marked; all others are
 * local. */
#ifndef PHASEDIAG_GRIDSPEC_H
#define PHASEDIAG_GRIDSPEC_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/model/net.h"

/* Points per chunk of the REDUCE method (560 bytes of accumulators each). */
#define PD_GRIDSPEC_CHUNK 2048

/* y[i] = target(x_i) for n points x (n x d, row-major).  Local.  Returns
 * PD_OK or an error code. */
typedef int (*pd_target_fn)(void *ctx, int64_t n, int d, const double *x,
                            double *y);

enum { PD_GRIDSPEC_AUTO = 0, PD_GRIDSPEC_GATHER = 1, PD_GRIDSPEC_REDUCE = 2 };

typedef struct pd_gridspec pd_gridspec;

/* Collective over comm (duplicated and kept).  The N^d grid on [lo, hi)^d
 * (1 <= d <= 4, N >= 2, lo < hi, both finite).  Plans the in-place r2c
 * transform once (pd_fft_create, PD_FFT_ESTIMATE), evaluates the target on
 * this rank's slab (target NULL: all target values 0), transforms it and
 * keeps the target values, the target's shell power and the shell counts.
 * A failure on any rank (arguments, allocation, the target returning an
 * error or a non-finite value) is returned on every rank, *g = NULL. */
int pd_gridspec_create(MPI_Comm comm, int d, int64_t N, double lo, double hi,
                       pd_target_fn target, void *ctx, pd_gridspec **g);
/* Collective.  NULL (or *g NULL) is fine. */
int pd_gridspec_destroy(pd_gridspec **g);

MPI_Comm pd_gridspec_comm(const pd_gridspec *g);
int pd_gridspec_dim(const pd_gridspec *g);
int64_t pd_gridspec_n(const pd_gridspec *g);
/* Number of shells: pd_fft_nshells of the grid. */
int pd_gridspec_nshells(const pd_gridspec *g);
/* Shell s target power (sum of |Y(k)|^2 over the full spectrum, Parseval
 * multiplicities as in pd_fft_shells, summed exactly) and number of wave
 * vectors in the shell: arrays of nshells entries, owned by g, the same on
 * every rank. */
const double *pd_gridspec_target_power(const pd_gridspec *g);
const double *pd_gridspec_shell_count(const pd_gridspec *g);
/* Points on this rank's slab: local_n0 N^(d-1) (0 on ranks without rows). */
int64_t pd_gridspec_local_points(const pd_gridspec *g);
/* Global index of this rank's first point: local_0_start N^(d-1). */
int64_t pd_gridspec_local_offset(const pd_gridspec *g);
/* Coordinates of this rank's points, x[p * d + j], slab order. */
int pd_gridspec_local_coords(const pd_gridspec *g, double *x);
/* Target values at this rank's points (slab order), owned by g. */
const double *pd_gridspec_target_values(const pd_gridspec *g);

/* Pure: the bytes one evaluation moves per rank by each method (formulas
 * above) for a width m, input dimension d, P >= 1 ranks (the neuron
 * partition of pd_net) and a grid of `points` = N^d points. */
void pd_gridspec_bytes(int64_t m, int d, int P, int64_t points,
                       double *bytes_gather, double *bytes_reduce);

/* Local: the method AUTO picks for this net on this grid
 * (PD_GRIDSPEC_GATHER or PD_GRIDSPEC_REDUCE), with the bytes of each
 * (pd_gridspec_bytes with P the size of g's communicator; NULL allowed). */
int pd_gridspec_choose(const pd_gridspec *g, const pd_net *net,
                       double *bytes_gather, double *bytes_reduce);

/* Collective.  h[p] = f(x_p), the network at this rank's points (slab order,
 * pd_gridspec_local_points entries; h may be NULL where there are none).
 * The net's communicator must be congruent with g's (same ranks in the same
 * order, MPI_Comm_compare) and its dimension equal to the grid's, else
 * PD_ERR_ARG on every rank.  method: PD_GRIDSPEC_AUTO, _GATHER or _REDUCE
 * (see above; the same bits either way); *used (NULL allowed) receives the
 * method used. */
int pd_gridspec_eval(pd_gridspec *g, pd_net *net, int method, double *h,
                     int *used);

/* Collective.  The network's error spectrum: evaluate h (method as in
 * pd_gridspec_eval), transform e = h - y with the kept plan, and
 * rel[s] = sqrt(Pe[s] / Py[s]) for s < nshells (NaN where Py[s] == 0), the
 * same on every rank.  hpower (NULL allowed): the network's own shell power
 * (one more transform).  *used as in pd_gridspec_eval. */
int pd_gridspec_error(pd_gridspec *g, pd_net *net, int method, double *rel,
                      double *hpower, int *used);

#endif
