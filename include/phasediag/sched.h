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
#include <stdint.h>

#include "phasediag/config.h"
#include "phasediag/data.h"
#include "phasediag/plan.h"
#include "phasediag/task.h"

/* Called on the master for every finished task, in completion order. */
typedef void (*pd_sched_done_fn)(int64_t t, const double *rec, void *ctx);

/* Group size: requested if > 0 (capped at the rank count), else automatic:
 * one rank per 2^18 neurons of the widest network, at least 1. */
int pd_sched_group_size(const pd_plan *plan, int nranks, int requested);

/* Collective on comm: run every task of plan.  On rank 0, results (ntasks x
 * job->layout.len) receives the records in task order; other ranks may
 * pass NULL.  A task that fails with an error aborts the job on comm with
 * the message (a task that diverges is a result, not an error). */
int pd_sched_run(MPI_Comm comm, const pd_plan *plan, const pd_job *job,
                 int group_size, double *results, pd_sched_done_fn done,
                 void *ctx);

#endif
