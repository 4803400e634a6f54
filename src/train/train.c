#include "phasediag/train/train.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/log.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/timer.h"
#include "phasediag/job/confkeys.h"

const char *pd_status_name(int status) {
  switch (status) {
    case PD_STATUS_CONVERGED: return "converged";
    case PD_STATUS_MAX_STEPS: return "max_steps";
    case PD_STATUS_DIVERGED: return "diverged";
    case PD_STATUS_STALLED: return "stalled";
    case PD_STATUS_STATIONARY: return "stationary";
    default: return "not_run";
  }
}

void pd_train_options_default(pd_train_options *o) {
  *o = (pd_train_options){.progress_seconds = 0};
  /* tol ... history_points and snapshots: the job-file key table */
  pd_confkeys_train_defaults(o);
}

int pd_train_options_check(const pd_train_options *o) {
  PD_CHECK(o != NULL, PD_ERR_ARG, "pd_train_options_check: no options");
  /* the ranges of the job-file keys, from the key table */
  PD_CALL(pd_confkeys_check_train(o));
  PD_CHECK(pd_integrator_find(o->integrator) != NULL, PD_ERR_ARG,
           "integrator = \"%.16s\" is not a registered integrator",
           o->integrator);
  /* not a job-file key */
  PD_CHECK(o->progress_seconds >= 0, PD_ERR_ARG,
           "progress_seconds = %g must be >= 0", o->progress_seconds);
  return PD_OK;
}

static double pd_norm(const double *v, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s = fma(v[i], v[i], s);
  return sqrt(s);
}

int pd_train_lambda_max(pd_net *net, const pd_data *data, double *v,
                        double *work, int iters, double *lambda) {
  const int64_t n = data->n;
  pd_timer_start(PD_T_LAMBDA);
  double nv = pd_norm(v, n), est = 0;
  if (!(nv > 0) || !isfinite(nv)) { /* restart from a generic vector */
    for (int64_t i = 0; i < n; i++) v[i] = 1.0 + (double)i / (double)n;
    nv = pd_norm(v, n);
  }
  for (int64_t i = 0; i < n; i++) v[i] /= nv;
  int err = PD_OK;
  for (int it = 0; it < iters; it++) {
    if ((err = pd_net_jjt(net, data, v, work)) != PD_OK) break;
    for (int64_t i = 0; i < n; i++) work[i] /= (double)n;
    est = pd_norm(work, n); /* |G v| with |v| = 1: at most lambda_max */
    if (!(est > 0) || !isfinite(est)) break;
    for (int64_t i = 0; i < n; i++) v[i] = work[i] / est;
  }
  pd_timer_stop(PD_T_LAMBDA);
  PD_CALL(err);
  *lambda = est;
  return PD_OK;
}

/* loss 1/(2n) |f - y|^2; with c given, also c = (f - y) / n */
double pd_train_residual(const pd_data *data, const double *f, double *c) {
  double s = 0;
  for (int64_t i = 0; i < data->n; i++) {
    double r = f[i] - data->y[i];
    s = fma(r, r, s);
    if (c) c[i] = r / (double)data->n;
  }
  return 0.5 * s / (double)data->n;
}

/* The loop state that a checkpoint keeps, in file order. */
#define PD_TS_AT(f) offsetof(pd_train_state, f)
#define PD_TS_I(f) \
  { #f, PD_FIELD_INT64, PD_TS_AT(f), 1, 0 }
#define PD_TS_D(f) \
  { #f, PD_FIELD_DOUBLE, PD_TS_AT(f), 1, 0 }
static const pd_state_field pd_train_fields[] = {
    PD_TS_I(nhistory),
    PD_TS_I(steps),
    PD_TS_I(rejected),
    PD_TS_I(mark_step),
    PD_TS_I(tmark_step),
    PD_TS_I(snap_mark),
    PD_TS_I(last_observed),
    PD_TS_I(next_snap),
    PD_TS_I(nsnapshots),
    PD_TS_I(evaluations),
    PD_TS_I(next_level),
    PD_TS_D(t),
    PD_TS_D(loss),
    PD_TS_D(loss0),
    PD_TS_D(mark_loss),
    PD_TS_D(gnorm0),
    PD_TS_D(gnorm),
    PD_TS_D(tmark),
    PD_TS_D(tmark_loss),
    PD_TS_D(next_mark),
    PD_TS_D(seconds),
    PD_TS_D(snapshot_seconds),
    /* a history point is 4 8-byte items: the int64 step and 3 doubles */
    {"history", PD_FIELD_RECORDS, PD_TS_AT(history), 4, PD_TS_AT(nhistory)},
    {"f", PD_FIELD_SAMPLES, PD_TS_AT(f), 1, 0},
    {"ladder", PD_FIELD_DOUBLE, PD_TS_AT(ladder), 2 * PD_LADDER_LEVELS, 0}};
_Static_assert(sizeof(pd_history_point) == 4 * 8,
               "a history point is 4 8-byte items");
const pd_state_table pd_train_state_table = {
    pd_train_fields, (int)(sizeof pd_train_fields / sizeof pd_train_fields[0])};

/* The snapshot marks: `count` log-spaced steps in [1, max_steps], strictly
 * increasing (the first ones are 1, 2, ... where log spacing would repeat
 * a step). */
static int64_t pd_snapshot_mark(const pd_train_options *o, int64_t j) {
  const double top = (double)(o->max_steps > 1 ? o->max_steps : 1);
  int64_t prev = 0, mark = 0;
  for (int64_t i = 1; i <= j; i++) {
    mark = (int64_t)llround(pow(top, (double)i / o->snapshots));
    if (mark <= prev) mark = prev + 1;
    prev = mark;
  }
  return mark;
}

/* The loop: its state S (f and history are its buffers), the step rule. */
typedef struct {
  pd_net *net;
  const pd_data *data;
  const pd_train_options *opt;
  const pd_train_hooks *hk;
  MPI_Comm comm;
  pd_train_state S;
  double *buf, *fn, *c; /* f = S.f, trial outputs, coefficients */
  const pd_integrator_type *it;
  void *is;     /* its state */
  double ratio; /* history marks: log-spaced steps 0, 1, ..., max_steps */
  double t0, last_progress;
} pd_loop;

/* One observer call, timed apart from the steps. */
static int pd_observe(pd_loop *L) {
  const pd_train_hooks *hk = L->hk;
  pd_train_state *S = &L->S;
  if (!hk->observe) return PD_OK;
  pd_timer_start(PD_T_SNAPSHOT);
  double t0 = MPI_Wtime();
  int err = hk->observe(hk->observe_ctx, L->net, S->f, S->steps, S->t, S->loss);
  S->snapshot_seconds += MPI_Wtime() - t0;
  S->nsnapshots++;
  pd_timer_stop(PD_T_SNAPSHOT);
  return err;
}

double pd_ladder_level(int k) {
  return pow(10.0, PD_LADDER_TOP - (double)k / PD_LADDER_PER_DECADE);
}

/* The ladder levels the loss is below now and was not before: their flow
 * time and rd_w (one rd_w for all of them; levels at or above the initial
 * loss count as reached at t = 0 with rd_w = 0). */
static int pd_ladder(pd_loop *L) {
  pd_train_state *S = &L->S;
  const int64_t K = PD_LADDER_LEVELS;
  if (S->next_level >= K || !(S->loss < pd_ladder_level((int)S->next_level)))
    return PD_OK;
  double rd_w = 0, rd_a;
  if (S->steps > 0) PD_CALL(pd_net_rd(L->net, &rd_w, &rd_a));
  while (S->next_level < K && S->loss < pd_ladder_level((int)S->next_level)) {
    S->ladder[S->next_level] = S->t;
    S->ladder[K + S->next_level] = rd_w;
    S->next_level++;
  }
  return PD_OK;
}

static int pd_record(pd_loop *L) {
  pd_train_state *S = &L->S;
  double rd_w, rd_a;
  PD_CALL(pd_net_rd(L->net, &rd_w, &rd_a));
  S->history[S->nhistory++] = (pd_history_point){S->steps, S->t, S->loss, rd_w};
  return PD_OK;
}

/* Buffers and the integrator (collective). */
static int pd_loop_setup(pd_loop *L, pd_train_result *res) {
  const int64_t n = L->data->n;
  L->it = pd_integrator_find(L->opt->integrator);
  int err = pd_calloc((size_t)n * 3, sizeof(double), &L->buf);
  if (err == PD_OK)
    err = pd_calloc((size_t)L->opt->history_points + 1,
                    sizeof(pd_history_point), &res->history);
  if (err == PD_OK)
    err = pd_calloc(2 * PD_LADDER_LEVELS, sizeof(double), &res->ladder);
  if (err == PD_OK) err = pd_integrator_create(L->it, n, &L->is);
  PD_COLLECTIVE(L->comm, err);
  L->S.f = L->buf;
  L->fn = L->buf + n;
  L->c = L->buf + 2 * n;
  L->S.history = res->history;
  return PD_OK;
}

/* Continue from hooks->resume (the same checks on every rank: the state
 * is replicated). */
static int pd_loop_resume(pd_loop *L) {
  const pd_train_state *rs = L->hk->resume;
  const int64_t n = L->data->n;
  int ok = rs->n == n && rs->f && rs->steps >= 0 && rs->nhistory >= 1 &&
           rs->nhistory < L->opt->history_points && rs->history &&
           rs->next_snap >= 1 && rs->nsnapshots >= 0 && rs->integ == L->it &&
           rs->integ_state;
  PD_CHECK(ok, PD_ERR_ARG,
           "resume state does not fit the run (n %lld of %lld, %lld history "
           "points, integrator %s)",
           (long long)rs->n, (long long)n, (long long)rs->nhistory,
           rs->integ ? rs->integ->name : "none");
  pd_state_copy(&pd_train_state_table, &L->S, rs, n);
  pd_state_copy(&L->it->state, L->is, rs->integ_state, n);
  /* c from f: the same bits as before the stop */
  pd_train_residual(L->data, L->S.f, L->c);
  int64_t evals = 0;
  PD_CALL(L->it->start(L->is, L->net, L->data, L->opt, 1, &evals));
  L->S.evaluations += evals;
  return PD_OK;
}

/* Step 0: the outputs, the loss, the first record and observation, the
 * integrator's start. */
static int pd_loop_begin(pd_loop *L, pd_train_result *res) {
  pd_train_state *S = &L->S;
  const pd_train_options *opt = L->opt;
  L->ratio =
      pow((double)(opt->max_steps > 1 ? opt->max_steps : 2),
          1.0 / (opt->history_points - 2 > 0 ? opt->history_points - 2 : 1));
  if (L->hk->resume) return pd_loop_resume(L);
  PD_CALL(pd_net_output(L->net, L->data, S->f));
  S->loss = pd_train_residual(L->data, S->f, L->c);
  S->loss0 = S->loss;
  S->next_mark = 1;
  S->last_observed = -1;
  S->next_snap = 1;
  S->mark_step = 0; /* last step that improved the best loss enough */
  S->mark_loss = INFINITY;
  S->gnorm0 = S->gnorm = NAN;
  S->tmark_step = 0;
  S->tmark = 0;
  S->tmark_loss = INFINITY;
  S->snap_mark = opt->snapshots > 0 ? pd_snapshot_mark(opt, 1) : -1;
  for (int k = 0; k < 2 * PD_LADDER_LEVELS; k++) S->ladder[k] = NAN;
  S->next_level = 0;
  /* the levels above the initial loss: reached at t = 0 */
  while (isfinite(S->loss) && S->next_level < PD_LADDER_LEVELS &&
         S->loss <= pd_ladder_level((int)S->next_level)) {
    S->ladder[S->next_level] = 0;
    S->ladder[PD_LADDER_LEVELS + S->next_level] = 0;
    S->next_level++;
  }
  if (!isfinite(S->loss)) {
    res->status = PD_STATUS_DIVERGED;
    return PD_OK;
  }
  PD_CALL(pd_record(L));
  PD_CALL(pd_observe(L));
  S->last_observed = 0;
  int64_t evals = 0;
  PD_CALL(L->it->start(L->is, L->net, L->data, opt, 0, &evals));
  S->evaluations += evals;
  return PD_OK;
}

/* The stop hook said stop (or save): save the state, then stop or not. */
static int pd_loop_stop(pd_loop *L, int stop) {
  const pd_train_hooks *hk = L->hk;
  if (hk->save_state) {
    L->S.seconds = MPI_Wtime() - L->t0;
    L->S.final = stop != PD_TRAIN_SAVE;
    L->S.n = L->data->n;
    L->S.integ = L->it;
    L->S.integ_state = L->is;
    PD_CALL(hk->save_state(hk->save_ctx, L->net, &L->S));
  }
  if (stop != PD_TRAIN_SAVE)
    return pd_error_raise(PD_ERR_INTERRUPTED, __FILE__, __LINE__, __func__,
                          "training interrupted at step %lld",
                          (long long)L->S.steps);
  return PD_OK;
}

/* After an accepted step: history, snapshots, progress. */
static int pd_loop_after(pd_loop *L) {
  pd_train_state *S = &L->S;
  const pd_train_options *opt = L->opt;
  PD_CALL(pd_ladder(L));
  if ((double)S->steps >= S->next_mark &&
      S->nhistory < opt->history_points - 1) {
    PD_CALL(pd_record(L));
    while (S->next_mark <= (double)S->steps) S->next_mark *= L->ratio;
    if (S->next_mark < (double)S->steps + 1)
      S->next_mark = (double)S->steps + 1;
  }
  if (S->snap_mark > 0 && S->steps >= S->snap_mark) {
    PD_CALL(pd_observe(L));
    S->last_observed = S->steps;
    while (S->snap_mark > 0 && S->snap_mark <= S->steps)
      S->snap_mark = ++S->next_snap <= opt->snapshots
                         ? pd_snapshot_mark(opt, S->next_snap)
                         : -1;
  }
  if (opt->progress_seconds > 0) {
    double now = MPI_Wtime();
    if (now - L->last_progress >= opt->progress_seconds) {
      double lr, lambda;
      L->it->info(L->is, &lr, &lambda);
      L->last_progress = now;
      pd_log(L->comm, PD_LOG_INFO,
             "  step %lld  t %.4g  loss %.4e  step size %.3g (1/lambda_max "
             "%.3g)  rejected %lld",
             (long long)S->steps, S->t, S->loss, lr, 1 / lambda,
             (long long)S->rejected);
    }
  }
  return PD_OK;
}

static int pd_loop_run(pd_loop *L, pd_train_result *res) {
  pd_train_state *S = &L->S;
  const pd_train_options *opt = L->opt;
  const pd_train_hooks *hk = L->hk;
  const size_t fbytes = sizeof(double) * (size_t)L->data->n;
  while (res->status == PD_STATUS_NOT_RUN) {
    if (S->loss < opt->tol) {
      res->status = PD_STATUS_CONVERGED;
      break;
    }
    if (S->steps >= opt->max_steps) {
      res->status = PD_STATUS_MAX_STEPS;
      break;
    }
    if (hk->poll) hk->poll(hk->poll_ctx);
    const int stop = hk->stop ? hk->stop(hk->stop_ctx) : 0;
    if (stop) PD_CALL(pd_loop_stop(L, stop));
    pd_integ_step o;
    PD_CALL(L->it->step(L->is, L->net, L->data, opt, S->steps, S->loss, L->c,
                        L->fn, &o));
    S->evaluations += o.evals;
    if (!o.accepted) { /* undone: retried, unless the rule gave up */
      S->rejected++;
      res->status = o.status;
      continue;
    }
    S->steps++;
    S->t += o.dt;
    memcpy(S->f, L->fn, fbytes);
    S->loss = pd_train_residual(L->data, S->f, L->c);
    if (S->loss < S->mark_loss * (1 - PD_PLATEAU_GAIN)) {
      S->mark_loss = S->loss;
      S->mark_step = S->steps;
    } else if (opt->plateau_steps > 0 &&
               S->steps - S->mark_step >= opt->plateau_steps &&
               S->loss >= opt->tol) {
      res->status = PD_STATUS_STALLED;
    }
    if (S->steps - S->tmark_step >= PD_STALL_TIME_STEPS) {
      if (S->t <= S->tmark * (1 + PD_STALL_TIME_GAIN) &&
          S->loss >= S->tmark_loss * (1 - PD_PLATEAU_GAIN) &&
          S->loss >= opt->tol)
        res->status = PD_STATUS_STALLED;
      S->tmark = S->t;
      S->tmark_loss = S->loss;
      S->tmark_step = S->steps;
    }
    /* a critical point: the gradient has all but vanished (relative to
     * the start, so that the test does not depend on the scale of the
     * initialization or of the data); the more telling end where both
     * hold */
    S->gnorm = o.gnorm;
    if (!(S->gnorm0 >= 0)) S->gnorm0 = o.gnorm;
    if (S->gnorm <= opt->stationary_tol * S->gnorm0 && S->loss >= opt->tol)
      res->status = PD_STATUS_STATIONARY;
    if (o.status != PD_STATUS_NOT_RUN) res->status = o.status;
    PD_CALL(pd_loop_after(L));
  }
  return PD_OK;
}

/* The result from the loop state: the last observation and history point,
 * the wall times agreed on (every rank reports the same figures). */
static int pd_loop_finish(pd_loop *L, pd_train_result *res) {
  pd_train_state *S = &L->S;
  if (S->last_observed >= 0 && S->last_observed != S->steps)
    PD_CALL(pd_observe(L));
  double lr;
  L->it->info(L->is, &lr, &res->lambda_max);
  res->steps = S->steps;
  res->rejected = S->rejected;
  res->t_star = S->t;
  res->loss0 = S->loss0;
  res->loss = S->loss;
  res->nsnapshots = (int)S->nsnapshots;
  res->evaluations = S->evaluations;
  memcpy(res->ladder, S->ladder, sizeof S->ladder);
  PD_CALL(pd_net_rd(L->net, &res->rd_w, &res->rd_a));
  if (S->nhistory == 0 || S->history[S->nhistory - 1].step != S->steps)
    S->history[S->nhistory++] =
        (pd_history_point){S->steps, S->t, S->loss, res->rd_w};
  res->nhistory = (int)S->nhistory;
  double sec = MPI_Wtime() - L->t0;
  PD_CALL_MPI(
      MPI_Allreduce(&sec, &res->seconds, 1, MPI_DOUBLE, MPI_MAX, L->comm));
  sec = S->snapshot_seconds;
  PD_CALL_MPI(MPI_Allreduce(&sec, &res->snapshot_seconds, 1, MPI_DOUBLE,
                            MPI_MAX, L->comm));
  return PD_OK;
}

int pd_train(pd_net *net, const pd_data *data, const pd_train_options *opt,
             const pd_train_hooks *hooks, pd_train_result *res) {
  static const pd_train_hooks none = {0};
  memset(res, 0, sizeof *res);
  res->status = PD_STATUS_NOT_RUN;
  PD_CALL(pd_train_options_check(opt));
  pd_loop L = {.net = net,
               .data = data,
               .opt = opt,
               .hk = hooks ? hooks : &none,
               .comm = pd_net_comm(net)};
  int err = pd_loop_setup(&L, res);
  L.t0 = MPI_Wtime() - (L.hk->resume ? L.hk->resume->seconds : 0);
  L.last_progress = MPI_Wtime();
  if (!err) err = pd_loop_begin(&L, res);
  if (!err) err = pd_loop_run(&L, res);
  if (!err) err = pd_loop_finish(&L, res);
  /* one exit: everything freed whatever happened */
  pd_free(&L.buf);
  if (L.is) pd_integrator_destroy(L.it, &L.is);
  if (err) {
    pd_train_result_free(res);
    res->nhistory = 0;
  }
  return err;
}

void pd_train_result_free(pd_train_result *res) {
  pd_free(&res->history);
  pd_free(&res->ladder);
}
