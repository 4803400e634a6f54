#include "phasediag/base/timer.h"

#include "phasediag/base/error.h"

static const char *const pd_timer_names[PD_T_COUNT] = {
    "kernel", "reduce", "rd", "lambda", "io", "snapshot"};
static double pd_timer_total[PD_T_COUNT], pd_timer_begin[PD_T_COUNT];
static double pd_timer_calls[PD_T_COUNT];

void pd_timer_start(pd_timer_id id) { pd_timer_begin[id] = MPI_Wtime(); }

void pd_timer_stop(pd_timer_id id) {
  pd_timer_total[id] += MPI_Wtime() - pd_timer_begin[id];
  pd_timer_calls[id] += 1;
}

double pd_timer_seconds(pd_timer_id id) { return pd_timer_total[id]; }

double pd_timer_count(pd_timer_id id) { return pd_timer_calls[id]; }

void pd_timer_reset(void) {
  for (int i = 0; i < PD_T_COUNT; i++)
    pd_timer_total[i] = pd_timer_calls[i] = 0;
}

int pd_timer_report(MPI_Comm comm, FILE *out) {
  int rank, size;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  PD_CALL_MPI(MPI_Comm_size(comm, &size));
  double mn[PD_T_COUNT], mx[PD_T_COUNT], sum[PD_T_COUNT], calls[PD_T_COUNT];
  PD_CALL_MPI(
      MPI_Reduce(pd_timer_total, mn, PD_T_COUNT, MPI_DOUBLE, MPI_MIN, 0, comm));
  PD_CALL_MPI(
      MPI_Reduce(pd_timer_total, mx, PD_T_COUNT, MPI_DOUBLE, MPI_MAX, 0, comm));
  PD_CALL_MPI(MPI_Reduce(pd_timer_total, sum, PD_T_COUNT, MPI_DOUBLE, MPI_SUM,
                         0, comm));
  PD_CALL_MPI(MPI_Reduce(pd_timer_calls, calls, PD_T_COUNT, MPI_DOUBLE, MPI_MAX,
                         0, comm));
  if (rank == 0) {
    fprintf(out, "%-8s %10s %10s %10s %10s  (seconds over %d ranks)\n", "timer",
            "calls", "min", "avg", "max", size);
    for (int i = 0; i < PD_T_COUNT; i++)
      if (calls[i] > 0)
        fprintf(out, "%-8s %10.0f %10.4f %10.4f %10.4f\n", pd_timer_names[i],
                calls[i], mn[i], sum[i] / size, mx[i]);
    fflush(out);
  }
  return PD_OK;
}
