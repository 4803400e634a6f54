/* The result file of a scan: parallel HDF5, written atomically.
 *
 * All ranks of comm open NAME.tmp collectively (MPI-IO driver) and take part
 * in every dataset write; rank 0, which holds the records, contributes the
 * data and the others empty selections.  Then the file is closed and renamed
 * to NAME, so a reader never sees a half-written file.  The layout is in
 * docs/output.md. */
#ifndef PHASEDIAG_OUTPUT_H
#define PHASEDIAG_OUTPUT_H

#include <mpi.h>
#include <stddef.h>

#include "phasediag/classify.h"
#include "phasediag/config.h"
#include "phasediag/plan.h"
#include "phasediag/task.h"

typedef struct {
  const char *config_text; /* the job file, verbatim */
  int mpi_ranks, group_size;
  double wall_seconds;
} pd_provenance;

/* Local: the directory part of a file path into dir ("." for a bare name,
 * "/" for a file in /). */
void pd_path_dir(const char *path, char *dir, size_t size);

/* Collective.  Local check before any work: the output may be created
 * (refuses an existing file unless overwrite, and an unwritable directory).
 * Only rank 0 looks; the verdict is shared. */
int pd_output_check(MPI_Comm comm, const char *path, int overwrite);

/* Collective.  results and phase are read on rank 0 only (others: NULL). */
int pd_output_write(MPI_Comm comm, const char *path, const pd_plan *plan,
                    const pd_job *job, const double *results,
                    const pd_phase *phase, const pd_provenance *prov);

#endif
