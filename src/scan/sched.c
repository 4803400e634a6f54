#include "phasediag/scan/sched.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "phasediag/base/error.h"
#include "phasediag/base/log.h"
#include "phasediag/base/mem.h"
#include "phasediag/scan/task.h"
#include "phasediag/train/train.h"

/* REQUEST: leader -> master, its finished record (PD_R_TASK: the task; -1
 * none yet; PD_SCHED_INTERRUPTED: its task was stopped).  TASK: master ->
 * leader, the next task, or PD_SCHED_END / PD_SCHED_END_STOPPED (no more
 * tasks; the latter says a STOP message was sent too, to be received).
 * SIGNAL: any rank -> master, once: a stop was requested here.  STOP:
 * master -> leader, once: stop the running task. */
enum {
  PD_TAG_REQUEST = 101,
  PD_TAG_TASK = 102,
  PD_TAG_SIGNAL = 103,
  PD_TAG_STOP = 104
};
#define PD_SCHED_INTERRUPTED (-2.0)
enum { PD_SCHED_END = -1, PD_SCHED_END_STOPPED = -2 };

typedef struct {
  MPI_Comm comm;  /* duplicate of the caller's: our tags cannot collide */
  MPI_Comm group; /* this rank's training group */
  const pd_plan *plan;
  const pd_sched_options *opt;
  int g, gsize, ngroups, master, leader;
  int64_t next, len;
  int pending_stops; /* leaders (other than the master) not yet stopped */
  double *results;
  double *buf;  /* this rank's record (own task, or the result it sends) */
  double *rbuf; /* master: records received from other leaders */
  /* stopping */
  int told;           /* this rank has reported its stop request */
  MPI_Request tell;   /* non-master: the SIGNAL message */
  int stop_local;     /* this rank wants its group to stop */
  int got_stop;       /* leader: the master's STOP message received */
  int stopping;       /* master: no more tasks go out */
  int signals_in;     /* master: SIGNAL messages received */
  int *stop_sent;     /* master: per group, STOP sent to its leader */
  int *ended;         /* master: per group, its leader was sent an END */
  MPI_Request *stops; /* master: the STOP sends */
  /* in-group agreement on the step to stop at */
  int64_t calls;
  int agree_pending, agree_in, agree_out;
  MPI_Request agree;
  /* checkpoints */
  double last_state; /* leader: the running task's last in-flight save */
  double last_save;
  int64_t unsaved;
} pd_sched;

int pd_sched_group_size(const pd_plan *plan, int nranks, int requested) {
  int g = requested;
  if (g <= 0) {
    g = (int)(pd_plan_max_width(plan) >> 18);
    if (g < 1) g = 1;
  }
  return g < nranks ? g : nranks;
}

static void pd_sched_mpi(pd_sched *s, int mpierr, const char *what) {
  if (mpierr == MPI_SUCCESS) return;
  pd_error_mpi(mpierr, __FILE__, __LINE__, __func__, what);
  pd_error_abort(s->comm, PD_ERR_MPI); /* never leave peers waiting */
}

/* Master: the next task not yet done (a resumed scan skips those restored
 * from the checkpoint); -1 when none is left or the scan is stopping. */
int pd_sched_in_slice(const pd_sched_options *opt, int64_t t) {
  return opt->slice_count <= 1 || t % opt->slice_count == opt->slice_index;
}

static int64_t pd_sched_next(pd_sched *s) {
  while (!s->stopping && s->next < s->plan->ntasks) {
    const int64_t t = s->plan->order[s->next++];
    if (!(s->results[t * s->len + PD_R_TASK] >= 0) &&
        pd_sched_in_slice(s->opt, t))
      return t;
  }
  return -1;
}

/* Master: save a checkpoint if one is due. */
static void pd_sched_tick(pd_sched *s) {
  const pd_sched_options *o = s->opt;
  if (!o->save || !(o->save_interval > 0) || s->unsaved == 0) return;
  const double now = MPI_Wtime();
  if (now - s->last_save < o->save_interval) return;
  s->last_save = now;
  if (o->save(o->save_ctx, s->results) == PD_OK)
    s->unsaved = 0;
  else /* the scan is worth more than its checkpoint: go on */
    pd_log(s->comm, PD_LOG_WARN, "checkpoint not written: %s",
           pd_error_message());
}

static void pd_sched_record(pd_sched *s, const double *rec) {
  int64_t t = (int64_t)rec[PD_R_TASK];
  memcpy(s->results + t * s->len, rec, sizeof(double) * (size_t)s->len);
  s->unsaved++;
  if (s->opt->done) s->opt->done(t, rec, s->opt->ctx);
  pd_sched_tick(s);
}

/* Master: stop handing out tasks and tell the leaders that still train. */
static void pd_sched_begin_stop(pd_sched *s, const char *why) {
  if (s->stopping) return;
  s->stopping = 1;
  s->stop_local = 1;
  pd_log(s->comm, PD_LOG_INFO, "stop requested (%s): stopping all groups", why);
  for (int c = 1; c < s->ngroups; c++) {
    if (s->ended[c]) continue;
    pd_sched_mpi(s,
                 MPI_Isend(NULL, 0, MPI_INT, c * s->g, PD_TAG_STOP, s->comm,
                           &s->stops[c]),
                 "MPI_Isend(STOP)");
    s->stop_sent[c] = 1;
  }
}

/* Local: has a stop been requested on this rank?  The first time, report it
 * to the master (the master acts on its own). */
static void pd_sched_check_signal(pd_sched *s) {
  if (s->told || !s->opt->stop || !*s->opt->stop) return;
  s->told = 1;
  s->stop_local = 1;
  if (s->master)
    pd_sched_begin_stop(s, "signal on rank 0");
  else
    pd_sched_mpi(
        s, MPI_Isend(NULL, 0, MPI_INT, 0, PD_TAG_SIGNAL, s->comm, &s->tell),
        "MPI_Isend(SIGNAL)");
}

/* Master: take in the stop reports of other ranks. */
static void pd_sched_signals(pd_sched *s) {
  for (;;) {
    MPI_Status st;
    int flag = 0;
    pd_sched_mpi(s,
                 MPI_Iprobe(MPI_ANY_SOURCE, PD_TAG_SIGNAL, s->comm, &flag, &st),
                 "MPI_Iprobe(SIGNAL)");
    if (!flag) return;
    pd_sched_mpi(s,
                 MPI_Recv(NULL, 0, MPI_INT, st.MPI_SOURCE, PD_TAG_SIGNAL,
                          s->comm, MPI_STATUS_IGNORE),
                 "MPI_Recv(SIGNAL)");
    s->signals_in++;
    char why[64];
    snprintf(why, sizeof why, "signal on rank %d", st.MPI_SOURCE);
    pd_sched_begin_stop(s, why);
  }
}

/* Master: answer requests; one (blocking) or all that are waiting.  While
 * blocking it naps instead of spinning, and watches for stop requests. */
static void pd_sched_serve(pd_sched *s, int blocking) {
  const struct timespec nap = {0, 500000}; /* 0.5 ms */
  for (;;) {
    pd_sched_check_signal(s);
    pd_sched_signals(s);
    MPI_Status st;
    int flag = 0;
    pd_sched_mpi(
        s, MPI_Iprobe(MPI_ANY_SOURCE, PD_TAG_REQUEST, s->comm, &flag, &st),
        "MPI_Iprobe(REQUEST)");
    if (!flag) {
      if (!blocking) return;
      nanosleep(&nap, NULL);
      continue;
    }
    pd_sched_mpi(s,
                 MPI_Recv(s->rbuf, (int)s->len, MPI_DOUBLE, st.MPI_SOURCE,
                          PD_TAG_REQUEST, s->comm, MPI_STATUS_IGNORE),
                 "MPI_Recv(REQUEST)");
    const int c = st.MPI_SOURCE / s->g;
    if (s->rbuf[PD_R_TASK] >= 0)
      pd_sched_record(s, s->rbuf);
    else if (s->rbuf[PD_R_TASK] == PD_SCHED_INTERRUPTED) {
      pd_sched_signals(s); /* the report that caused it, if it is here */
      pd_sched_begin_stop(s, "a group was interrupted");
    }
    int64_t t = pd_sched_next(s);
    if (t < 0) t = s->stop_sent[c] ? PD_SCHED_END_STOPPED : PD_SCHED_END;
    pd_sched_mpi(
        s, MPI_Send(&t, 1, MPI_INT64_T, st.MPI_SOURCE, PD_TAG_TASK, s->comm),
        "MPI_Send(TASK)");
    if (t < 0) {
      s->ended[c] = 1;
      s->pending_stops--;
    }
    if (blocking) return;
  }
}

/* Master, once per training step of its own task. */
static void pd_sched_poll(void *ctx) {
  pd_sched *s = ctx;
  if (s->ngroups > 1) pd_sched_serve(s, 0);
  pd_sched_check_signal(s);
  pd_sched_tick(s);
}

/* Leader: is an in-flight save of the running task due?  Never at the
 * task's first look: its state there is the one it started from (step 0,
 * or the step it resumed at), and a slow set-up (the initial draw and
 * lambda_max estimate of a wide network on a busy machine) would otherwise
 * write that useless state before any step is taken. */
static int pd_sched_state_due(const pd_sched *s) {
  return s->leader && s->opt->state_interval > 0 && s->calls > 1 &&
         MPI_Wtime() - s->last_state >= s->opt->state_interval;
}

/* Every rank, once per training step: the same answer on every rank of the
 * group at the same step.  Looks every PD_SCHED_AGREE_EVERY steps; a group
 * of more than one rank agrees by a nonblocking allreduce started at one
 * look and completed at the next, so no rank waits for its peers. */
static int pd_sched_stop(void *ctx) {
  pd_sched *s = ctx;
  if (s->calls++ % PD_SCHED_AGREE_EVERY != 0) return 0;
  pd_sched_check_signal(s);
  if (s->leader && !s->master && !s->got_stop) {
    int flag = 0;
    pd_sched_mpi(s,
                 MPI_Iprobe(0, PD_TAG_STOP, s->comm, &flag, MPI_STATUS_IGNORE),
                 "MPI_Iprobe(STOP)");
    if (flag) {
      pd_sched_mpi(s,
                   MPI_Recv(NULL, 0, MPI_INT, 0, PD_TAG_STOP, s->comm,
                            MPI_STATUS_IGNORE),
                   "MPI_Recv(STOP)");
      s->got_stop = 1;
      s->stop_local = 1;
    }
  }
  if (s->gsize == 1) {
    if (s->stop_local) return 1;
    if (pd_sched_state_due(s)) {
      s->last_state = MPI_Wtime();
      return PD_TRAIN_SAVE;
    }
    return 0;
  }
  /* bit 1: stop; bit 2: save the state (the leader's clock decides) */
  int out = 0;
  if (s->agree_pending) {
    pd_sched_mpi(s, MPI_Wait(&s->agree, MPI_STATUS_IGNORE), "MPI_Wait");
    s->agree_pending = 0;
    out = s->agree_out;
  }
  if (out & 1) return 1;
  if (out & 2) s->last_state = MPI_Wtime();
  s->agree_in = s->stop_local | (pd_sched_state_due(s) ? 2 : 0);
  pd_sched_mpi(s,
               MPI_Iallreduce(&s->agree_in, &s->agree_out, 1, MPI_INT, MPI_BOR,
                              s->group, &s->agree),
               "MPI_Iallreduce(stop)");
  s->agree_pending = 1;
  return out & 2 ? PD_TRAIN_SAVE : 0;
}

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

static void pd_sched_free(pd_sched *s) {
  pd_free(&s->buf);
  pd_free(&s->rbuf);
  pd_free(&s->stop_sent);
  pd_free(&s->ended);
  pd_free(&s->stops);
}

/* The master's and the leaders' loop over tasks, then the common end:
 * everyone leaves together and learns whether tasks are left undone
 * (*undone).  Every early return leaves the caller to free s. */
static int pd_sched_loop(pd_sched *s, MPI_Comm comm, const pd_plan *plan,
                         const pd_job *tjob, int *undone) {
  const int master = s->master, leader = s->leader, ngroups = s->ngroups;
  double *results = s->results;
  if (master && !s->opt->resume)
    for (int64_t t = 0; t < plan->ntasks; t++)
      pd_record_clear(&tjob->layout, results + t * s->len);
  s->last_save = MPI_Wtime();
  s->buf[PD_R_TASK] = -1; /* the first request carries no result */
  for (;;) {
    int64_t t = -1;
    if (master) {
      pd_sched_check_signal(s);
      if (ngroups > 1) pd_sched_signals(s);
      t = pd_sched_next(s);
    } else if (leader) {
      pd_sched_check_signal(s);
      PD_CALL_MPI(MPI_Send(s->buf, (int)s->len, MPI_DOUBLE, 0, PD_TAG_REQUEST,
                           s->comm));
      MPI_Request req;
      PD_CALL_MPI(MPI_Irecv(&t, 1, MPI_INT64_T, 0, PD_TAG_TASK, s->comm, &req));
      PD_CALL(pd_sched_wait(&req));
      if (t == PD_SCHED_END_STOPPED && !s->got_stop) {
        PD_CALL_MPI(MPI_Recv(NULL, 0, MPI_INT, 0, PD_TAG_STOP, s->comm,
                             MPI_STATUS_IGNORE));
        s->got_stop = 1;
      }
    }
    MPI_Request req;
    PD_CALL_MPI(MPI_Ibcast(&t, 1, MPI_INT64_T, 0, s->group, &req));
    PD_CALL(pd_sched_wait(&req));
    if (t < 0) break;
    s->calls = 0;
    s->last_state = MPI_Wtime();
    /* the trainer answers peers (master) and stops on request */
    const pd_train_hooks hooks = {.poll = master ? pd_sched_poll : NULL,
                                  .poll_ctx = s,
                                  .stop = pd_sched_stop,
                                  .stop_ctx = s};
    int err = pd_task_run(s->group, plan, tjob, t, &hooks, s->buf);
    if (s->agree_pending) { /* every rank of the group has one, or none */
      PD_CALL_MPI(MPI_Wait(&s->agree, MPI_STATUS_IGNORE));
      s->agree_pending = 0;
    }
    if (err == PD_ERR_INTERRUPTED) { /* its state is saved (task.c) or it
                                        runs again from step 0 on resume */
      pd_error_clear();
      s->buf[PD_R_TASK] = PD_SCHED_INTERRUPTED;
      if (master) pd_sched_begin_stop(s, "group 0 was interrupted");
      continue;
    }
    if (err != PD_OK) pd_error_abort(comm, err); /* never leave peers waiting */
    if (master) pd_sched_record(s, s->buf);
  }
  if (master)
    while (s->pending_stops > 0) pd_sched_serve(s, 1);
  /* Everyone leaves together, without spinning while the last tasks run,
   * and learns whether the scan is complete; the master takes in the stop
   * reports still on their way, so no message outlives the communicator. */
  int mine[2] = {s->told && !master, 0}, all[2] = {0, 0};
  if (master)
    for (int64_t t = 0; t < plan->ntasks; t++)
      if (!(results[t * s->len + PD_R_TASK] >= 0) &&
          pd_sched_in_slice(s->opt, t))
        mine[1] = 1;
  MPI_Request req;
  PD_CALL_MPI(MPI_Iallreduce(mine, all, 2, MPI_INT, MPI_SUM, s->comm, &req));
  PD_CALL(pd_sched_wait(&req));
  if (master)
    for (; s->signals_in < all[0]; s->signals_in++)
      PD_CALL_MPI(MPI_Recv(NULL, 0, MPI_INT, MPI_ANY_SOURCE, PD_TAG_SIGNAL,
                           s->comm, MPI_STATUS_IGNORE));
  PD_CALL_MPI(MPI_Wait(&s->tell, MPI_STATUS_IGNORE));
  if (master) PD_CALL_MPI(MPI_Waitall(ngroups, s->stops, MPI_STATUSES_IGNORE));
  *undone = all[1];
  return PD_OK;
}

int pd_sched_group_color(int rank, int size, int g) {
  const int ngroups = size / g;
  return rank / g < ngroups ? rank / g : ngroups - 1;
}

int pd_sched_run(MPI_Comm comm, const pd_plan *plan, const pd_job *job,
                 int group_size, double *results, const pd_sched_options *opt) {
  static const pd_sched_options none = {0};
  int rank, size;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  PD_CALL_MPI(MPI_Comm_size(comm, &size));
  const int g = group_size < 1 ? 1 : group_size > size ? size : group_size;
  const int ngroups = size / g;
  int color = pd_sched_group_color(rank, size, g);
  pd_sched s = {.comm = MPI_COMM_NULL,
                .group = MPI_COMM_NULL,
                .plan = plan,
                .opt = opt ? opt : &none,
                .g = g,
                .ngroups = ngroups,
                .master = rank == 0,
                .len = job->layout.len,
                .pending_stops = ngroups - 1,
                .results = results,
                .stops = NULL,
                .tell = MPI_REQUEST_NULL,
                .agree = MPI_REQUEST_NULL};
  PD_CHECK(s.len <= INT32_MAX, PD_ERR_ARG, "task record of %lld doubles",
           (long long)s.len);
  PD_CHECK(rank != 0 || results, PD_ERR_ARG, "rank 0 needs a results array");
  int err = pd_calloc((size_t)s.len, sizeof(double), &s.buf);
  if (!err) err = pd_calloc((size_t)s.len, sizeof(double), &s.rbuf);
  if (!err) err = pd_calloc((size_t)ngroups, sizeof(int), &s.stop_sent);
  if (!err) err = pd_calloc((size_t)ngroups, sizeof(int), &s.ended);
  if (!err) err = pd_calloc((size_t)ngroups, sizeof(MPI_Request), &s.stops);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  int undone = 0;
  if (!err) {
    for (int c = 0; c < ngroups; c++) s.stops[c] = MPI_REQUEST_NULL;
    if (MPI_Comm_dup(comm, &s.comm) != MPI_SUCCESS ||
        MPI_Comm_split(comm, color, rank, &s.group) != MPI_SUCCESS)
      err = pd_error_raise(PD_ERR_MPI, __FILE__, __LINE__, __func__,
                           "cannot make the scheduler's communicators");
    if (!err) {
      int grank;
      MPI_Comm_rank(s.group, &grank);
      MPI_Comm_size(s.group, &s.gsize);
      s.leader = grank == 0;
      err = pd_sched_loop(&s, comm, plan, job, &undone);
    }
  }
  /* one exit: every buffer and communicator freed whatever happened */
  pd_sched_free(&s);
  if (s.group != MPI_COMM_NULL) MPI_Comm_free(&s.group);
  if (s.comm != MPI_COMM_NULL) MPI_Comm_free(&s.comm);
  PD_CALL(err);
  if (undone)
    return pd_error_raise(PD_ERR_INTERRUPTED, __FILE__, __LINE__, __func__,
                          "the scan was stopped with tasks left undone");
  return PD_OK;
}
