#include "phasediag/base/log.h"

#include <stdarg.h>
#include <stdio.h>

static pd_log_level pd_level = PD_LOG_INFO;

void pd_log_set_level(pd_log_level level) { pd_level = level; }
pd_log_level pd_log_get_level(void) { return pd_level; }

void pd_log(MPI_Comm comm, pd_log_level level, const char *fmt, ...) {
  int rank = 0;
  if (level > pd_level) return;
  if (comm != MPI_COMM_NULL) MPI_Comm_rank(comm, &rank);
  if (rank != 0) return;
  static const char *const tag[] = {"", "error: ", "warning: ", "", "debug: "};
  fprintf(stderr, "[phasediag] %s", tag[level]);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
}
