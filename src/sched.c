#include "phasediag/sched.h"

#include <string.h>
#include <time.h>

#include "phasediag/error.h"
#include "phasediag/mem.h"
#include "phasediag/task.h"

enum { PD_TAG_REQUEST = 101, PD_TAG_TASK = 102 };

typedef struct {
  MPI_Comm comm; /* duplicate of the caller's: our tags cannot collide */
  const pd_plan *plan;
  int64_t next, len;
  int pending_stops; /* leaders (other than the master) not yet stopped */
  double *results;
  double *buf;  /* this rank's record (own task, or the result it sends) */
  double *rbuf; /* master: records received from other leaders */
  pd_sched_done_fn done;
  void *ctx;
} pd_sched;

int pd_sched_group_size(const pd_plan *plan, int nranks, int requested) {
  int g = requested;
  if (g <= 0) {
    g = (int)(pd_plan_max_width(plan) >> 18);
    if (g < 1) g = 1;
  }
  return g < nranks ? g : nranks;
}

static int64_t pd_sched_next(pd_sched *s) {
  return s->next < s->plan->ntasks ? s->plan->order[s->next++] : -1;
}

static void pd_sched_record(pd_sched *s, const double *rec) {
  int64_t t = (int64_t)rec[PD_R_TASK];
  memcpy(s->results + t * s->len, rec, sizeof(double) * (size_t)s->len);
  if (s->done) s->done(t, rec, s->ctx);
}

/* Master: answer requests; one (blocking) or all that are waiting. */
static void pd_sched_serve(pd_sched *s, int blocking) {
  for (;;) {
    MPI_Status st;
    int flag = 1;
    if (blocking)
      MPI_Probe(MPI_ANY_SOURCE, PD_TAG_REQUEST, s->comm, &st);
    else
      MPI_Iprobe(MPI_ANY_SOURCE, PD_TAG_REQUEST, s->comm, &flag, &st);
    if (!flag) return;
    if (MPI_Recv(s->rbuf, (int)s->len, MPI_DOUBLE, st.MPI_SOURCE,
                 PD_TAG_REQUEST, s->comm, MPI_STATUS_IGNORE) != MPI_SUCCESS)
      pd_error_abort(s->comm, PD_ERR_MPI);
    if (s->rbuf[PD_R_TASK] >= 0) pd_sched_record(s, s->rbuf);
    int64_t t = pd_sched_next(s);
    if (MPI_Send(&t, 1, MPI_INT64_T, st.MPI_SOURCE, PD_TAG_TASK, s->comm) !=
        MPI_SUCCESS)
      pd_error_abort(s->comm, PD_ERR_MPI);
    if (t < 0) s->pending_stops--;
    if (blocking) return;
  }
}

static void pd_sched_poll(void *ctx) { pd_sched_serve(ctx, 0); }

/* Wait for a request without spinning: ranks that wait (idle leaders, the
 * members of a group between tasks, everyone at the end) would otherwise
 * busy-poll and starve the ranks that train when the run is oversubscribed
 * (-np 256 on a laptop). */
static int pd_sched_wait(MPI_Request *req) {
  const struct timespec nap = {0, 500000}; /* 0.5 ms */
  for (;;) {
    int done = 0;
    PD_CALL_MPI(MPI_Test(req, &done, MPI_STATUS_IGNORE));
    if (done) return PD_OK;
    nanosleep(&nap, NULL);
  }
}

int pd_sched_run(MPI_Comm comm, const pd_plan *plan, const pd_job *job,
                 int group_size, double *results, pd_sched_done_fn done,
                 void *ctx) {
  int rank, size;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  PD_CALL_MPI(MPI_Comm_size(comm, &size));
  const int g = group_size < 1 ? 1 : group_size > size ? size : group_size;
  const int ngroups = size / g;
  int color = rank / g < ngroups ? rank / g : ngroups - 1;
  pd_sched s = {.comm = MPI_COMM_NULL,
                .plan = plan,
                .len = job->layout.len,
                .pending_stops = ngroups - 1,
                .results = results,
                .done = done,
                .ctx = ctx};
  PD_CHECK(s.len <= INT32_MAX, PD_ERR_ARG, "task record of %lld doubles",
           (long long)s.len);
  MPI_Comm group = MPI_COMM_NULL;
  int err = pd_calloc((size_t)s.len, sizeof(double), &s.buf);
  if (!err) err = pd_calloc((size_t)s.len, sizeof(double), &s.rbuf);
  if (err) pd_free(&s.buf);
  PD_COLLECTIVE(comm, err);
  PD_CALL_MPI(MPI_Comm_dup(comm, &s.comm));
  PD_CALL_MPI(MPI_Comm_split(comm, color, rank, &group));
  int grank;
  MPI_Comm_rank(group, &grank);
  const int master = rank == 0, leader = grank == 0;
  if (master && results)
    for (int64_t t = 0; t < plan->ntasks; t++)
      pd_task_record_clear(&job->layout, results + t * s.len);
  s.buf[PD_R_TASK] = -1; /* the first request carries no result */
  for (;;) {
    int64_t t = -1;
    if (master) {
      t = pd_sched_next(&s);
    } else if (leader) {
      PD_CALL_MPI(
          MPI_Send(s.buf, (int)s.len, MPI_DOUBLE, 0, PD_TAG_REQUEST, s.comm));
      MPI_Request req;
      PD_CALL_MPI(MPI_Irecv(&t, 1, MPI_INT64_T, 0, PD_TAG_TASK, s.comm, &req));
      PD_CALL(pd_sched_wait(&req));
    }
    MPI_Request req;
    PD_CALL_MPI(MPI_Ibcast(&t, 1, MPI_INT64_T, 0, group, &req));
    PD_CALL(pd_sched_wait(&req));
    if (t < 0) break;
    err = pd_task_run(group, plan, job, t,
                      master && ngroups > 1 ? pd_sched_poll : NULL, &s, s.buf);
    if (err != PD_OK) pd_error_abort(comm, err); /* never leave peers waiting */
    if (master) pd_sched_record(&s, s.buf);
  }
  if (master)
    while (s.pending_stops > 0) pd_sched_serve(&s, 1);
  /* everyone leaves together, without spinning while the last tasks run */
  MPI_Request req;
  PD_CALL_MPI(MPI_Ibarrier(s.comm, &req));
  PD_CALL(pd_sched_wait(&req));
  pd_free(&s.buf);
  pd_free(&s.rbuf);
  MPI_Comm_free(&group);
  MPI_Comm_free(&s.comm);
  return PD_OK;
}
