/* The F-Principle measures of one run, taken at the trainer's snapshots
 * (formulas in fprinciple.h), written into
 * the spectral block of the run's record (pd_spectral_layout below; the
 * task places the block in the record).
 *
 *   dft         1-D: NUDFT of target and output at the training points at
 *               the integer frequencies 0 .. nk-1 per period L, L = the
 *               span of x times n / (n - 1) (exactly the DFT for uniformly
 *               spaced points); the peaks of |y^| (at most sp_peaks, at
 *               least sp_peak_rel of the largest) and Delta_F at each.
 *   projection  the same along the first principal component of the inputs
 *               (v_i = p . x_i).
 *   filter      e_low and e_high of the Gaussian filter for every delta,
 *               rows of the n x n sum split over the group's ranks.
 *   grid        network and target on N^d points of the built-in target's
 *               domain, FFTW-MPI r2c, relative error per shell of |k|
 *               (gridspec.h; the evaluation gathers the parameters or
 *               reduces partial outputs, whichever moves fewer bytes).
 *
 * A peak (shell) has converged at the first snapshot where Delta_F (the
 * relative shell error, e_low, e_high) is below sp_delta_tol.  The verdict
 * of a run is Spearman's rho between frequency and convergence step over
 * the peaks (shells with at least sp_peak_rel of the largest target power;
 * one not converged counts as converging after the last step, the later
 * the larger its final error): positive when low frequencies converge
 * first.  It is taken from grid when on, else
 * dft, else projection.
 *
 * All calls are collective over the communicator given at creation (the
 * group's; the grid plan duplicates it); results are identical on its
 * ranks. */
#ifndef PHASEDIAG_SPECTRAL_H
#define PHASEDIAG_SPECTRAL_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/job/config.h"
#include "phasediag/model/data.h"
#include "phasediag/model/net.h"

/* The spectral block of a record (offsets and sizes in doubles): the
 * parts of the methods in effect, dft, projection, filter, grid, in this
 * order. */
typedef struct {
  int methods; /* [spectral] methods in effect (0: spectral off) */
  int64_t S;   /* snapshot rows */
  int64_t np;  /* peaks tracked (dft, projection) */
  int64_t nd;  /* filter widths */
  int64_t nsh; /* grid shells */
  int64_t dft, proj, filt, grid; /* offsets of the parts in the block */
  int64_t len;                   /* doubles in the block */
} pd_spectral_layout;

/* Offsets inside a peak part of P peaks and S rows (dft, projection):
 * frequency[P], target amplitude[P], converged step[P], rank correlation
 * [1], Delta_F[S][P]. */
#define PD_PK_FREQ(P) 0
#define PD_PK_AMP(P) (P)
#define PD_PK_CONV(P) (2 * (P))
#define PD_PK_RHO(P) (3 * (P))
#define PD_PK_DELTA(P) (3 * (P) + 1)
/* Inside the filter part of D widths: delta[D], converged step of the low
 * and the high part [D] each, e_low[S][D], e_high[S][D]. */
#define PD_FI_DELTA(D) 0
#define PD_FI_CONV_LOW(D) (D)
#define PD_FI_CONV_HIGH(D) (2 * (D))
#define PD_FI_LOW(D) (3 * (D))
/* e_high at PD_FI_LOW(D) + S * D */
/* Inside the grid part of N shells: target power[N], converged step[N],
 * rank correlation, method used, bytes moved by gather and by reduce, then
 * the relative error rel[S][N]. */
#define PD_GR_POWER(N) 0
#define PD_GR_CONV(N) (N)
#define PD_GR_RHO(N) (2 * (N))
#define PD_GR_METHOD(N) (2 * (N) + 1)
#define PD_GR_BYTES(N) (2 * (N) + 2)
#define PD_GR_REL(N) (2 * (N) + 4)

/* Local: the methods and sizes of cfg for d-dimensional data (len 0, S 0).
 * PD_ERR_CONFIG when a method does not fit the data (dft with d > 1, grid
 * with d > 4). */
int pd_spectral_layout_init(pd_spectral_layout *sl, const pd_config *cfg,
                            int d);
/* Local: the parts' offsets and the block's length for S snapshot rows. */
void pd_spectral_layout_place(pd_spectral_layout *sl, int64_t S);

typedef struct pd_spectral pd_spectral;

/* The target side: transforms, peaks, principal component, grid spectrum;
 * writes the per-run constants (frequencies, target amplitudes, deltas,
 * target shell power) into the block.  sl is borrowed. */
int pd_spectral_create(MPI_Comm comm, const pd_config *cfg, const pd_data *data,
                       const pd_spectral_layout *sl, double *block,
                       pd_spectral **sp);
int pd_spectral_destroy(pd_spectral **sp);

/* Snapshot row `row` (< sl->S) for the network net with outputs f at the
 * training points. */
int pd_spectral_observe(pd_spectral *sp, pd_net *net, const double *f,
                        int64_t row, double *block);

/* After the last snapshot (steps[rows]: the snapshot steps filled):
 * convergence steps, rank correlations, and the verdict into *verdict. */
int pd_spectral_finish(pd_spectral *sp, const double *steps, int64_t rows,
                       double *block, double *verdict);

#endif
