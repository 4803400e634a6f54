/* Error codes and checking macros.
 *
 * Every library function returns an int error code (PD_OK on success).  The
 * macros record file, line and function so the first failure reads like a
 * stack: the innermost message is the cause, outer lines are the call path.
 * Messages are kept per process; pd_error_collective() turns a failure on some
 * ranks of a communicator into the same error on every rank, so no rank is
 * left waiting in a collective call that its peers will never make. */
#ifndef PHASEDIAG_ERROR_H
#define PHASEDIAG_ERROR_H

#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  PD_OK = 0,
  PD_ERR_ARG = 1,         /* invalid argument or input */
  PD_ERR_ALLOC = 2,       /* memory allocation failed */
  PD_ERR_MPI = 3,         /* an MPI call failed */
  PD_ERR_IO = 4,          /* file or library I/O failed */
  PD_ERR_CONFIG = 5,      /* bad configuration */
  PD_ERR_NUMERIC = 6,     /* non-finite or impossible numbers */
  PD_ERR_PEER = 7,        /* another rank of the communicator failed */
  PD_ERR_INTERRUPTED = 8, /* stopped on request (a signal): not a failure;
                             the work done so far is checkpointed */
  PD_ERR_NCODES
};

/* Short name of an error code ("allocation failed", ...). */
const char *pd_error_name(int code);

/* Record a new error (clears the previous trace) and return code. */
int pd_error_raise(int code, const char *file, int line, const char *func,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Append a call-site line to the current trace and return code. */
int pd_error_trace(int code, const char *file, int line, const char *func,
                   const char *expr);

/* The recorded trace of the last error on this process ("" if none). */
const char *pd_error_message(void);

/* Forget the recorded error. */
void pd_error_clear(void);

/* Collective over comm: returns PD_OK on every rank if err == PD_OK on every
 * rank.  Otherwise every rank returns an error: the failing ranks keep their
 * code and trace, the others get PD_ERR_PEER with a message naming the lowest
 * failing rank.  If the agreement itself fails the job is aborted on comm. */
int pd_error_collective(MPI_Comm comm, int err, const char *file, int line);

/* Print the trace of this process's error to stderr, prefixed by the rank in
 * comm, and return code. */
int pd_error_report(MPI_Comm comm, int code);

/* Print a message with the trace and MPI_Abort(comm, code). Never returns. */
void pd_error_abort(MPI_Comm comm, int code) __attribute__((noreturn));

#define PD_CHECK(cond, code, ...)                                 \
  do {                                                            \
    if (!(cond))                                                  \
      return pd_error_raise((code), __FILE__, __LINE__, __func__, \
                            __VA_ARGS__);                         \
  } while (0)

#define PD_CALL(expr)                                                   \
  do {                                                                  \
    int pd_call_err_ = (expr);                                          \
    if (pd_call_err_ != PD_OK)                                          \
      return pd_error_trace(pd_call_err_, __FILE__, __LINE__, __func__, \
                            #expr);                                     \
  } while (0)

int pd_error_mpi(int mpierr, const char *file, int line, const char *func,
                 const char *expr);

#define PD_CALL_MPI(expr)                                                    \
  do {                                                                       \
    int pd_mpi_err_ = (expr);                                                \
    if (pd_mpi_err_ != MPI_SUCCESS)                                          \
      return pd_error_mpi(pd_mpi_err_, __FILE__, __LINE__, __func__, #expr); \
  } while (0)

/* Make a local error code collective on comm (see pd_error_collective). */
#define PD_COLLECTIVE(comm, err)                                               \
  do {                                                                         \
    int pd_coll_err_ = pd_error_collective((comm), (err), __FILE__, __LINE__); \
    if (pd_coll_err_ != PD_OK) return pd_coll_err_;                            \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
