/* The result file of a scan: parallel HDF5, written atomically.
 *
 * All ranks of comm open NAME.tmp collectively (MPI-IO driver) and take part
 * in every dataset write; rank 0, which holds the records, contributes the
 * data and the others empty selections; every rank makes the same metadata
 * calls (attributes, enum types, dimension scales).  Then the file is
 * closed, rank 0 alone adds the variable-length scheme labels (HDF5 1.10's
 * MPI-IO driver cannot write variable-length data), and the file is moved
 * to NAME, so a reader never sees a half-written file, and only over the
 * file that was there when the run started (files.h).  The layout is in
 * docs/output.md. */
#ifndef PHASEDIAG_OUTPUT_H
#define PHASEDIAG_OUTPUT_H

#include <mpi.h>
#include <stddef.h>

#include "phasediag/base/files.h"
#include "phasediag/job/config.h"
#include "phasediag/scan/classify.h"
#include "phasediag/scan/plan.h"
#include "phasediag/scan/task.h"

typedef struct {
  const char *config_text; /* the job file, verbatim */
  int mpi_ranks, group_size;
  double wall_seconds;
} pd_provenance;

/* Local: the doubles of the writer's scratch (one dataset at a time: the
 * largest per-run field, or K, F, times the tasks; at least the labels). */
int64_t pd_output_scratch(const pd_plan *plan, const pd_layout *L);

/* Collective.  results and phase are read on rank 0 only (others: NULL).
 * expected: what was at path when the run started (pd_file_place): the
 * result replaces only that, else it stays in PATH.tmp. */
int pd_output_write(MPI_Comm comm, const char *path, const pd_file_id *expected,
                    const pd_plan *plan, const pd_job *job,
                    const double *results, const pd_phase *phase,
                    const pd_provenance *prov);

#endif
