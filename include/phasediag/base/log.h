/* Rank-0 logging with levels.  The level is process-wide (set once by the
 * front end); messages go to stderr so stdout stays for results. */
#ifndef PHASEDIAG_LOG_H
#define PHASEDIAG_LOG_H

#include <mpi.h>

typedef enum {
  PD_LOG_QUIET = 0,
  PD_LOG_ERROR = 1,
  PD_LOG_WARN = 2,
  PD_LOG_INFO = 3,
  PD_LOG_DEBUG = 4
} pd_log_level;

void pd_log_set_level(pd_log_level level);
pd_log_level pd_log_get_level(void);

/* Print on rank 0 of comm if level is enabled (local: no communication). */
void pd_log(MPI_Comm comm, pd_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
