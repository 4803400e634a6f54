/* The F-Principle measures of one run, taken at the trainer's snapshots
 * (formulas in fprinciple.h), written into
 * the run's record (task.h: pd_layout, the dft / projection / filter / grid
 * blocks).
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

#include "phasediag/config.h"
#include "phasediag/data.h"
#include "phasediag/net.h"
#include "phasediag/task.h"

typedef struct pd_spectral pd_spectral;

/* The target side: transforms, peaks, principal component, grid spectrum;
 * writes the per-run constants (frequencies, target amplitudes, deltas,
 * target shell power) into rec. */
int pd_spectral_create(MPI_Comm comm, const pd_config *cfg, const pd_data *data,
                       const pd_layout *L, double *rec, pd_spectral **sp);
int pd_spectral_destroy(pd_spectral **sp);

/* Snapshot row `row` (< L->S) for the network net with outputs f at the
 * training points. */
int pd_spectral_observe(pd_spectral *sp, pd_net *net, const double *f,
                        int64_t row, double *rec);

/* After the last snapshot (rec's snapshot steps filled, PD_R_NSNAP rows):
 * convergence steps, rank correlations and the verdict PD_R_VERDICT. */
int pd_spectral_finish(pd_spectral *sp, double *rec);

#endif
