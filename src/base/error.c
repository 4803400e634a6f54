#include "phasediag/base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One trace per process: the library is single-threaded inside a rank. */
static char pd_trace[8192];
static size_t pd_trace_len;

static const char *const pd_names[PD_ERR_NCODES] = {
    "success",           "invalid argument",
    "allocation failed", "MPI error",
    "I/O error",         "configuration error",
    "numerical error",   "failure on another rank",
    "interrupted"};

const char *pd_error_name(int code) {
  if (code < 0 || code >= PD_ERR_NCODES) return "unknown error";
  return pd_names[code];
}

static void pd_trace_append(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void pd_trace_append(const char *fmt, ...) {
  if (pd_trace_len >= sizeof pd_trace - 1) return;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(pd_trace + pd_trace_len, sizeof pd_trace - pd_trace_len,
                    fmt, ap);
  va_end(ap);
  if (w > 0) {
    pd_trace_len += (size_t)w;
    if (pd_trace_len > sizeof pd_trace - 1) pd_trace_len = sizeof pd_trace - 1;
  }
}

int pd_error_raise(int code, const char *file, int line, const char *func,
                   const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  pd_error_clear();
  pd_trace_append("%s\n  at %s:%d (%s) [%s]", msg, file, line, func,
                  pd_error_name(code));
  return code;
}

int pd_error_trace(int code, const char *file, int line, const char *func,
                   const char *expr) {
  if (pd_trace_len == 0)
    pd_trace_append("%s (no message recorded)", pd_error_name(code));
  pd_trace_append("\n  from %s:%d (%s): %s", file, line, func, expr);
  return code;
}

int pd_error_mpi(int mpierr, const char *file, int line, const char *func,
                 const char *expr) {
  char s[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(mpierr, s, &len) != MPI_SUCCESS) {
    snprintf(s, sizeof s, "MPI error %d", mpierr);
  }
  return pd_error_raise(PD_ERR_MPI, file, line, func, "%s failed: %s", expr, s);
}

const char *pd_error_message(void) { return pd_trace; }

void pd_error_clear(void) {
  pd_trace[0] = '\0';
  pd_trace_len = 0;
}

int pd_error_collective(MPI_Comm comm, int err, const char *file, int line) {
  int rank = 0, size = 1;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS ||
      MPI_Comm_size(comm, &size) != MPI_SUCCESS) {
    fprintf(stderr, "phasediag: invalid communicator at %s:%d\n", file, line);
    MPI_Abort(MPI_COMM_SELF, PD_ERR_MPI); /* comm is unusable */
  }
  int mine = err != PD_OK ? rank : size, first = size;
  if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) {
    /* Agreement is impossible: abort rather than let peers hang. */
    fprintf(stderr, "phasediag: rank %d: error agreement failed at %s:%d\n%s\n",
            rank, file, line, pd_trace);
    MPI_Abort(comm, PD_ERR_MPI);
  }
  if (first == size) return PD_OK;
  if (err != PD_OK) {
    pd_trace_append("\n  agreed at %s:%d", file, line);
    return err;
  }
  return pd_error_raise(PD_ERR_PEER, file, line, "pd_error_collective",
                        "rank %d of this communicator failed (see its message)",
                        first);
}

int pd_error_report(MPI_Comm comm, int code) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  fprintf(stderr, "phasediag: rank %d: error: %s\n", rank,
          pd_trace_len ? pd_trace : pd_error_name(code));
  fflush(stderr);
  return code;
}

void pd_error_abort(MPI_Comm comm, int code) {
  pd_error_report(comm, code);
  MPI_Abort(comm, code ? code : 1);
  abort(); /* MPI_Abort does not return; keep the compiler informed */
}
