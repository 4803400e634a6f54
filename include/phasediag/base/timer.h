/* Named phase timers, accumulated per process and reported as min/avg/max
 * over the ranks of a communicator.  Cheap enough to leave on. */
#ifndef PHASEDIAG_TIMER_H
#define PHASEDIAG_TIMER_H

#include <mpi.h>
#include <stdio.h>

typedef enum {
  PD_T_KERNEL = 0, /* fused neuron x sample loops */
  PD_T_REDUCE,     /* exact cross-rank sums (normalize + allreduce) */
  PD_T_RD,         /* relative distance (theta(0) regenerated) */
  PD_T_LAMBDA,     /* power iterations for lambda_max */
  PD_T_IO,         /* file output */
  PD_T_SNAPSHOT,   /* observers at snapshots (spectra, NTK) */
  PD_T_COUNT
} pd_timer_id;

void pd_timer_start(pd_timer_id id);
void pd_timer_stop(pd_timer_id id);
double pd_timer_seconds(pd_timer_id id);
double pd_timer_count(pd_timer_id id); /* calls so far */
void pd_timer_reset(void);

/* Collective over comm: rank 0 prints one line per timer that ran anywhere:
 * name, calls, and min/avg/max seconds over the ranks. */
int pd_timer_report(MPI_Comm comm, FILE *out);

#endif
