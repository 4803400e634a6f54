/* One task of a scan -- a (point, width, seed) -- trained on a group
 * communicator with its observers, and its result as a record
 * (record.h). */
#ifndef PHASEDIAG_TASK_H
#define PHASEDIAG_TASK_H

#include <mpi.h>
#include <stdint.h>

#include "phasediag/job/config.h"
#include "phasediag/model/data.h"
#include "phasediag/model/span.h"
#include "phasediag/observe/record.h"
#include "phasediag/scan/plan.h"
#include "phasediag/train/train.h"

/* A job: what every task reads. */
typedef struct {
  const pd_config *cfg;
  const pd_data *data; /* training set */
  const pd_data *test; /* test set or NULL */
  /* What the networks train and are evaluated on: data and test, or their
   * coordinates in span when the networks train in the span of the data
   * (span.h; NULL: they do not). */
  const pd_span *span;
  const pd_data *net_data, *net_test;
  pd_layout layout;
  /* In-flight state (state_prefix NULL or "": none).  A task stopped by its
   * trainer's stop hook saves its complete state to STATE_PREFIX.task-T
   * (pd_checkpoint_task_path); a task whose state file exists and belongs
   * to this job (config_hash, task, record layout, n, d, width) resumes
   * from it instead of step 0, bitwise as if never stopped, on a group of
   * any size.  A file of another job, or a damaged one (its CRC-32C does
   * not match), is ignored with a warning and the task starts over. */
  const char *state_prefix;
  uint64_t config_hash;
} pd_job;

/* Collective on group: train task t and fill rec (identical on every rank
 * of group).  hooks (may be NULL): its poll and stop hooks are the
 * trainer's (pd_train_hooks; the rest of it is ignored: the task sets its
 * observers and in-flight state hooks itself).  With
 * job->state_prefix: resumes from the task's state file if there is a
 * valid one (logged as "task T resumed at step S"), saves the state when
 * the trainer is stopped (PD_ERR_INTERRUPTED is still returned; a failed
 * save is a warning) and removes the file when the task completes. */
int pd_task_run(MPI_Comm group, const pd_plan *plan, const pd_job *job,
                int64_t t, const pd_train_hooks *hooks, double *rec);

#endif
