/* The files a run reads and writes, guarded so that nothing a user owns
 * is lost:
 *
 *  - at start, before any training, every refusal: an output name that
 *    cannot work (empty, a directory, a device or FIFO, too long for the
 *    file system or for MPI-IO's helper files, an unwritable directory), an
 *    output or checkpoint that is one of the job's inputs (by device and
 *    inode, or by name when it does not exist yet), a checkpoint that is
 *    the output, an existing output without overwrite; and a probe file
 *    with the temporary name's length created and removed collectively
 *    through HDF5's MPI-IO driver in the output's directory;
 *  - for the whole run, an advisory lock beside the output and beside the
 *    checkpoint (PATH.lock, files.h), so two runs never write one file;
 *  - space held for the final checkpoint (CHECKPOINT.reserve), released
 *    just before that checkpoint is written, so the records of every task
 *    reach the disk even when it fills up during the run;
 *  - at the end, the result placed only over the file that was there at
 *    start (files.h, pd_file_place).
 *
 * Collective calls: rank 0 looks at the file system, every rank gets the
 * verdict. */
#ifndef PHASEDIAG_RUNFILES_H
#define PHASEDIAG_RUNFILES_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/base/files.h"

typedef struct {
  const char *job;        /* the job file (an input) */
  const char *output;     /* the result file; NULL: none (a slice) */
  const char *checkpoint; /* the checkpoint or a slice's records; NULL: none */
  int overwrite;          /* an existing output may be replaced */
  int64_t ntasks;         /* names the longest task-state file */
  uint64_t hash;          /* the job's config hash, recorded in the locks */
  int ninputs;            /* further inputs: data files, slice files */
  const char *const *inputs;
  const char *const *input_what; /* "data file", ...; NULL: slice files */
} pd_runfiles_spec;

typedef struct {
  pd_file_id output_at_start; /* what may be replaced at the end */
  pd_file_lock output_lock, checkpoint_lock;
  char reserve[4200]; /* rank 0: the reserve file, "" if none */
} pd_runfiles;

/* Collective.  Every check above, nothing created but the probe (removed
 * again).  PD_ERR_CONFIG (bad input, exit status 2) with a message naming
 * the files. */
int pd_runfiles_check(MPI_Comm comm, const pd_runfiles_spec *spec);

/* Collective.  pd_runfiles_check, then the locks.  On error nothing is
 * held. */
int pd_runfiles_open(MPI_Comm comm, const pd_runfiles_spec *spec,
                     pd_runfiles *rf);

/* Collective.  Rank 0 holds `bytes` of disk space in CHECKPOINT.reserve
 * (posix_fallocate).  Refused space is PD_ERR_IO with the numbers. */
int pd_runfiles_reserve(MPI_Comm comm, const char *checkpoint, double bytes,
                        pd_runfiles *rf);

/* Local.  Free the reserve (before the final checkpoint is written). */
void pd_runfiles_unreserve(pd_runfiles *rf);

/* Local.  Release the locks and the reserve (safe to call twice). */
void pd_runfiles_close(pd_runfiles *rf);

#endif
