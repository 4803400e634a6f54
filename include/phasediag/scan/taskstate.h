/* The in-flight state of a task, so a stopped task continues from its
 * step on resume: STATE_PREFIX.task-T, written by the group leader
 * (PATH.tmp, then rename), native byte order (a byte-order mark is
 * checked):
 *
 *   "PDTSTATE"                 8 bytes
 *   int64 H[PD_TS_NH]          version, byte-order mark, config hash, task,
 *                              record length, n, d, m, history points K
 *   loop state                 pd_train_state_table's fields in order
 *                              (nhistory, steps, ..., history, f)
 *   char integrator[16]        the integrator's name, zero-padded
 *   integrator state           its type's table's fields in order
 *   record[len]                the record so far
 *   parameters                 (d + 2) x m doubles: a, then each component
 *                              of w, in global neuron order
 *   uint64 checksum            CRC-32C (crc.h) of every byte above, magic
 *                              to the last parameter, zero-extended
 *
 * The leader reads the file and checks the checksum before anything of it
 * is used; then every part must have exactly its size.  Anything else (a
 * damaged file, another job, another layout, another integrator, a
 * truncated file) is ignored with a warning and the task starts from step
 * 0. */
#ifndef PHASEDIAG_TASKSTATE_H
#define PHASEDIAG_TASKSTATE_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "phasediag/model/net.h"
#include "phasediag/scan/task.h"
#include "phasediag/train/train.h"

/* A task's state file being written or read. */
typedef struct {
  const pd_job *job;
  int64_t t;
  MPI_Comm group;
  const double *rec;
  FILE *fp;       /* group leader: the file being written or read */
  int64_t m;      /* width */
  long param_off; /* offset of the parameters in the file */
  uint32_t crc;   /* group leader, writing: CRC-32C of the bytes so far */
} pd_task_state_io;

/* pd_train_hooks.save_state (ctx: a pd_task_state_io): the state to
 * PREFIX.task-T, collective on the group; a failure is a warning (the task
 * then starts over on resume). */
int pd_task_save_state(void *ctx, pd_net *net, const pd_train_state *st);

/* The task's state file into st (its arrays point into *store, the
 * integrator's state is *integ), the record into rec and the parameters
 * into net; *loaded = 0 (and nothing changed) when there is no valid file.
 * Collective on the group. */
int pd_task_load_state(pd_task_state_io *io, pd_net *net, double *rec,
                       pd_train_state *st, unsigned char **store, void **integ,
                       int *loaded);

#endif
