/* Memory estimate per rank of a scan, from its plan, configuration and
 * record layout, before anything large is allocated.
 *
 * The estimate is for the fullest rank: rank 0, which is the scheduler's
 * master (it holds the result records) and a member of the first training
 * group, while it trains the widest network of the plan.  Every term that
 * grows with the samples n, the test points, the width m, a spectral grid
 * N^d, the NTK kernels n x n or the number of tasks is counted; the
 * transient buffers of one phase are counted at their largest.  It may
 * overestimate somewhat (buffers of phases that do not overlap are added)
 * but should never fall below the resident size of the run.
 *
 * Components (bytes; n samples, t test points, s = max(n, t), d input
 * dimension, g ranks per group, m the widest width, A = sizeof(pd_acc)):
 *
 *   parameters   the widest shard's two parameter sets (pd_plan_max_bytes)
 *   data         every rank's copy of the training and test sets,
 *                8 (n + t) (d + 1)
 *   samples      the per-sample buffers: the net's exact accumulators, the
 *                scaled residual and the 8 lane partials, (A + 8 + 64) s;
 *                the trainer's outputs, candidate outputs, residuals, power
 *                iteration vector and scratch, 40 n; the test-set outputs,
 *                8 s; with g > 1 the MPI reduction's scratch for a chunk of
 *                at most 2^20 accumulators, A min(s, 2^20)
 *   observers    spectral lines (NUDFT scratch 4n, the dft and projection
 *                coordinates n each, the peak search's 4 min(max_freq, n/2)
 *                or the filter's 2n gather); the grid spectrum (the target
 *                and the network on this rank's slab of the N^d grid, the
 *                FFTW-MPI array of its slab of N^(d-1) (N/2 + 1) complex
 *                values, twice with g > 1 for the transposes, the gathered
 *                parameters 8 (d + 2) m or the reduce chunk's accumulators)
 *   theory       the NTK observer: four block-cyclic n x n matrices on the
 *                group (eigenvectors, Theta(0) and two work matrices) of
 *                this rank's share, plus the largest of pdsyevd's workspace
 *                (about two more shares), the LFP system (n + 2)^2 (d = 1
 *                with a test set, replicated) and the projection's n
 *                accumulators; the replicated vectors and data copies
 *   records      rank 0: the result records 8 T len, plus the largest of the
 *                checkpoint's copy 8 T (len + 1) and the output writer's
 *                scratch (T tasks, len doubles per record)
 *   checkpoint   the in-flight save streams the parameters through one
 *                buffer of 2^20 doubles (no gather of (d + 2) m); a resumed
 *                task holds its state (f, v, history, record) during
 *                training
 *   runtime      the libraries (MPI, HDF5, FFTW, BLAS) and the program */
#ifndef PHASEDIAG_MEMEST_H
#define PHASEDIAG_MEMEST_H

#include <stdio.h>

#include "phasediag/job/config.h"
#include "phasediag/scan/plan.h"
#include "phasediag/scan/task.h"

enum {
  PD_MEM_PARAMETERS = 0,
  PD_MEM_DATA,
  PD_MEM_SAMPLES,
  PD_MEM_OBSERVERS,
  PD_MEM_THEORY,
  PD_MEM_RECORDS,
  PD_MEM_CHECKPOINT,
  PD_MEM_RUNTIME,
  PD_MEM_NPARTS
};

typedef struct {
  double parameters; /* network shards (two parameter sets) */
  double data;       /* training and test sets */
  double samples;    /* per-sample buffers of the net and the trainer */
  double observers;  /* spectral and grid observers */
  double theory;     /* NTK kernels and their workspace */
  double records;    /* result records (rank 0) */
  double checkpoint; /* parameter stream and resumed state */
  double runtime;    /* libraries */
  double total;      /* the sum */
} pd_memest;

/* Local: the estimate for plan, cfg and layout L with groups of g ranks
 * (bytes per rank, the fullest rank).  PD_ERR_ARG on a missing argument or
 * g < 1. */
int pd_memest_compute(const pd_plan *plan, const pd_config *cfg,
                      const pd_layout *L, int g, pd_memest *est);

/* Component i (PD_MEM_*) in bytes, and its name ("data", "per-sample
 * buffers", ...). */
double pd_memest_part(const pd_memest *est, int i);
const char *pd_memest_name(int i);

/* The largest component (PD_MEM_*). */
int pd_memest_largest(const pd_memest *est);

/* What the largest component scales with, for messages: e.g. "the
 * per-sample buffers (n = 1e+07 samples)"; and advice on reducing it. */
void pd_memest_describe(const pd_memest *est, const pd_plan *plan,
                        const pd_config *cfg, char *buf, size_t size);
const char *pd_memest_advice(int part);

/* Print "memory per rank (estimate): TOTAL = part1 + part2 + ..." (the
 * components above 0.05% of the total, largest first) and the largest
 * one's description, on out. */
void pd_memest_print(FILE *out, const pd_memest *est, const pd_plan *plan,
                     const pd_config *cfg);

/* Bytes as a short string with a binary unit ("6.41 GiB"). */
void pd_memest_format(double bytes, char *buf, size_t size);

#endif
