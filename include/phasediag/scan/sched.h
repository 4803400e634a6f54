/* Dynamic scheduling of a scan's tasks over groups of ranks.
 *
 * The ranks of comm split into groups of g consecutive ranks (the last group
 * takes any remainder).  Rank 0 is the master and also the leader of group
 * 0, so no rank idles: between its own training steps it answers the other
 * leaders' requests.  Tasks go out largest width first.  A leader sends the
 * record of its finished task with each request; the master keeps all
 * records.  A task's record does not depend on which group ran it. */
#ifndef PHASEDIAG_SCHED_H
#define PHASEDIAG_SCHED_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

#include "phasediag/job/config.h"
#include "phasediag/model/data.h"
#include "phasediag/scan/plan.h"
#include "phasediag/scan/task.h"

/* Called on the master for every finished task, in completion order. */
typedef void (*pd_sched_done_fn)(int64_t t, const double *rec, void *ctx);

typedef struct {
  pd_sched_done_fn done; /* master: each finished task (may be NULL) */
  void *ctx;
  /* Master: save the completed records of results (a checkpoint), called
   * between training steps and after finished tasks when save_interval
   * seconds have passed since the last save and new tasks have completed.
   * A failure is a warning; the scan goes on (NULL: never). */
  int (*save)(void *ctx, const double *results);
  void *save_ctx;
  double save_interval; /* seconds; 0: never */
  /* A running task saves its in-flight state (job->state_prefix) every
   * state_interval seconds of its training, at a step its group agrees on,
   * as well as when stopped (0: only when stopped). */
  double state_interval;
  /* This rank's stop request, set asynchronously (a signal handler); NULL:
   * none.  See pd_sched_run. */
  const volatile sig_atomic_t *stop;
  /* Master: results already holds completed records (record field
   * PD_R_TASK >= 0, from a checkpoint): keep them and run only the rest. */
  int resume;
  /* Run only the tasks t with t % slice_count == slice_index (a slice of a
   * job array); slice_count 0 or 1: all of them. */
  int64_t slice_index, slice_count;
} pd_sched_options;

/* Does task t belong to the slice of opt (always, without slicing)? */
int pd_sched_in_slice(const pd_sched_options *opt, int64_t t);

/* Group size: requested if > 0 (capped at the rank count), else automatic:
 * one rank per 2^18 neurons of the widest network, at least 1. */
int pd_sched_group_size(const pd_plan *plan, int nranks, int requested);

/* The group of `rank` among `size` ranks in groups of g: size / g groups,
 * the ranks beyond a whole number of groups joining the last one. */
int pd_sched_group_color(int rank, int size, int g);

/* Collective on comm: run every task of plan.  On rank 0, results (ntasks x
 * job->layout.len) receives the records in task order; other ranks may
 * pass NULL.  A task that fails with an error aborts the job on comm with
 * the message (a task that diverges is a result, not an error).
 *
 * Stopping: when *opt->stop becomes non-zero on any rank, every rank agrees
 * within a few training steps: the rank tells the master (a message), the
 * master hands out no more tasks and tells every group leader (a message the
 * leaders look for every PD_SCHED_AGREE_EVERY steps), and inside each group
 * the ranks agree on the step to stop at (a nonblocking allreduce of their
 * flags every PD_SCHED_AGREE_EVERY steps, waited for PD_SCHED_AGREE_EVERY
 * steps later, so it costs no synchronization).  Running tasks save their
 * state at that step when job->state_prefix is set (pd_task_run: they
 * continue from it on resume), else they are dropped (and run again from
 * the start).  Returns PD_ERR_INTERRUPTED
 * on every rank if tasks are left undone, results on rank 0 holding the
 * completed ones; PD_OK if every task completed (a late stop request is
 * then ignored). */
int pd_sched_run(MPI_Comm comm, const pd_plan *plan, const pd_job *job,
                 int group_size, double *results, const pd_sched_options *opt);

/* Training steps between two looks at the stop requests. */
#define PD_SCHED_AGREE_EVERY 8

#endif
