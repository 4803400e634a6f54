#include "phasediag/train.h"

#include <math.h>
#include <string.h>

#include "phasediag/confkeys.h"
#include "phasediag/error.h"
#include "phasediag/log.h"
#include "phasediag/mem.h"
#include "phasediag/timer.h"

const char *pd_status_name(int status) {
  switch (status) {
    case PD_STATUS_CONVERGED: return "converged";
    case PD_STATUS_MAX_STEPS: return "max_steps";
    case PD_STATUS_DIVERGED: return "diverged";
    case PD_STATUS_STALLED: return "stalled";
    default: return "not_run";
  }
}

void pd_train_options_default(pd_train_options *o) {
  *o = (pd_train_options){.progress_seconds = 0}; /* no hooks */
  /* tol ... history_points and snapshots: the job-file key table */
  pd_confkeys_train_defaults(o);
}

int pd_train_options_check(const pd_train_options *o) {
  PD_CHECK(o != NULL, PD_ERR_ARG, "pd_train_options_check: no options");
  /* the ranges of the job-file keys, from the key table */
  PD_CALL(pd_confkeys_check_train(o));
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

/* residual r = f - y, coefficients c = r / n, loss 1/(2n) |r|^2 */
/* loss 1/(2n) |f - y|^2; with c given, also c = (f - y) / n */
static double pd_residual(const pd_data *data, const double *f, double *c) {
  double s = 0;
  for (int64_t i = 0; i < data->n; i++) {
    double r = f[i] - data->y[i];
    s = fma(r, r, s);
    if (c) c[i] = r / (double)data->n;
  }
  return 0.5 * s / (double)data->n;
}

static double pd_cap(const pd_train_options *o, double lambda) {
  double cap = lambda > 0 && isfinite(lambda) ? o->lr_cap / lambda : 1e300;
  return cap < 1e300 ? cap : 1e300;
}

/* The snapshot marks: `count` log-spaced steps in [1, max_steps], strictly
 * increasing (the first ones are 1, 2, ... where log spacing would repeat
 * a step). */
static int64_t pd_snapshot_mark(const pd_train_options *o, int j) {
  const double top = (double)(o->max_steps > 1 ? o->max_steps : 1);
  int64_t prev = 0, mark = 0;
  for (int i = 1; i <= j; i++) {
    mark = (int64_t)llround(pow(top, (double)i / o->snapshots));
    if (mark <= prev) mark = prev + 1;
    prev = mark;
  }
  return mark;
}

/* One observer call, timed apart from the steps. */
static int pd_observe(const pd_train_options *o, pd_net *net,
                      pd_train_result *res, const double *f, int64_t step,
                      double t, double loss) {
  if (!o->observe) return PD_OK;
  pd_timer_start(PD_T_SNAPSHOT);
  double t0 = MPI_Wtime();
  int err = o->observe(o->observe_ctx, net, f, step, t, loss);
  res->snapshot_seconds += MPI_Wtime() - t0;
  res->nsnapshots++;
  pd_timer_stop(PD_T_SNAPSHOT);
  return err;
}

static int pd_record(pd_net *net, pd_train_result *res, int64_t step, double t,
                     double loss) {
  double rd_w, rd_a;
  PD_CALL(pd_net_rd(net, &rd_w, &rd_a));
  pd_history_point *h = &res->history[res->nhistory++];
  *h = (pd_history_point){step, t, loss, rd_w};
  return PD_OK;
}

int pd_train(pd_net *net, const pd_data *data, const pd_train_options *opt,
             pd_train_result *res) {
  MPI_Comm comm = pd_net_comm(net);
  memset(res, 0, sizeof *res);
  res->status = PD_STATUS_NOT_RUN;
  PD_CALL(pd_train_options_check(opt));
  const int64_t n = data->n;
  double *buf = NULL;
  int err = pd_calloc((size_t)n * 5, sizeof(double), &buf);
  if (err == PD_OK)
    err = pd_calloc((size_t)opt->history_points + 1, sizeof(pd_history_point),
                    &res->history);
  PD_COLLECTIVE(comm, err);
  double *f = buf, *fn = buf + n, *c = buf + 2 * n, *v = buf + 3 * n,
         *work = buf + 4 * n;
  const pd_train_state *rs = opt->resume;
  if (rs) { /* the same checks on every rank: the state is replicated */
    int ok = rs->n == n && rs->f && rs->v && rs->steps >= 0 &&
             rs->nhistory >= 1 && rs->nhistory < opt->history_points &&
             rs->history && rs->nrecent >= 0 &&
             rs->nrecent <= PD_TRAIN_WINDOW && rs->next_snap >= 1 &&
             rs->nsnapshots >= 0;
    if (!ok) {
      pd_free(&buf);
      pd_train_result_free(res);
      return pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                            "resume state does not fit the run (n %lld of "
                            "%lld, %d history points)",
                            (long long)rs->n, (long long)n, rs->nhistory);
    }
  }
  double t0 = MPI_Wtime() - (rs ? rs->seconds : 0), last_progress = MPI_Wtime();

  double loss, t = 0;
  if (rs) {
    memcpy(f, rs->f, sizeof(double) * (size_t)n);
    memcpy(v, rs->v, sizeof(double) * (size_t)n);
    pd_residual(data, f, c); /* c from f: the same bits as before the stop */
    loss = rs->loss;
    t = rs->t;
    res->loss0 = rs->loss0;
    res->rejected = rs->rejected;
    res->nsnapshots = rs->nsnapshots;
    res->snapshot_seconds = rs->snapshot_seconds;
    res->nhistory = rs->nhistory;
    memcpy(res->history, rs->history,
           sizeof(pd_history_point) * (size_t)rs->nhistory);
  } else {
    PD_CALL(pd_net_output(net, data, f));
    loss = pd_residual(data, f, c);
    res->loss0 = loss;
  }
  /* history marks: log-spaced steps 0, 1, ..., max_steps */
  double ratio =
      pow((double)(opt->max_steps > 1 ? opt->max_steps : 2),
          1.0 / (opt->history_points - 2 > 0 ? opt->history_points - 2 : 1));
  double next_mark = 1;
  int64_t steps = 0, last_observed = -1;
  int rejects = 0, next_snap = 1, nrecent = 0;
  int64_t mark_step = 0; /* last step that improved the best loss enough */
  double mark_loss = INFINITY;
  /* zeroed: until the window fills, the entries not yet written (index 0
   * until step 10) enter the maximum as 0, below any loss */
  double recent[PD_TRAIN_WINDOW] = {0};
  int64_t snap_mark = opt->snapshots > 0 ? pd_snapshot_mark(opt, 1) : -1;
  double lambda = 0, lr = 0, cap = 0;
  if (rs) {
    next_mark = rs->next_mark;
    steps = rs->steps;
    last_observed = rs->last_observed;
    rejects = rs->rejects;
    next_snap = rs->next_snap;
    nrecent = rs->nrecent;
    mark_step = rs->mark_step;
    mark_loss = rs->mark_loss;
    memcpy(recent, rs->recent, sizeof recent);
    snap_mark = rs->snap_mark;
    lambda = rs->lambda;
    lr = rs->lr;
    cap = rs->cap;
  } else if (!isfinite(loss)) {
    res->status = PD_STATUS_DIVERGED;
  } else {
    PD_CALL(pd_record(net, res, 0, 0, loss));
    PD_CALL(pd_observe(opt, net, res, f, 0, 0, loss));
    last_observed = 0;
    PD_CALL(pd_train_lambda_max(net, data, v, work, 30, &lambda));
    lr = cap = pd_cap(opt, lambda);
  }
  while (res->status == PD_STATUS_NOT_RUN) {
    if (loss < opt->tol) {
      res->status = PD_STATUS_CONVERGED;
      break;
    }
    if (steps >= opt->max_steps) {
      res->status = PD_STATUS_MAX_STEPS;
      break;
    }
    if (opt->poll) opt->poll(opt->poll_ctx);
    const int stop = opt->stop ? opt->stop(opt->stop_ctx) : 0;
    if (stop) {
      if (opt->save_state) {
        pd_train_state st = {.steps = steps,
                             .rejected = res->rejected,
                             .mark_step = mark_step,
                             .snap_mark = snap_mark,
                             .last_observed = last_observed,
                             .rejects = rejects,
                             .nrecent = nrecent,
                             .next_snap = next_snap,
                             .nsnapshots = res->nsnapshots,
                             .nhistory = res->nhistory,
                             .final = stop != PD_TRAIN_SAVE,
                             .t = t,
                             .lr = lr,
                             .cap = cap,
                             .lambda = lambda,
                             .loss = loss,
                             .loss0 = res->loss0,
                             .mark_loss = mark_loss,
                             .next_mark = next_mark,
                             .seconds = MPI_Wtime() - t0,
                             .snapshot_seconds = res->snapshot_seconds,
                             .n = n,
                             .history = res->history,
                             .f = f,
                             .v = v};
        memcpy(st.recent, recent, sizeof recent);
        err = opt->save_state(opt->save_ctx, net, &st);
        if (err != PD_OK) {
          pd_free(&buf);
          return err;
        }
      }
    }
    if (stop && stop != PD_TRAIN_SAVE) {
      pd_free(&buf);
      return pd_error_raise(PD_ERR_INTERRUPTED, __FILE__, __LINE__, __func__,
                            "training interrupted at step %lld",
                            (long long)steps);
    }
    PD_CALL(pd_net_descend(net, data, c, lr, fn));
    const double lossn = pd_residual(data, fn, NULL);
    /* relative size of the step in a and in w */
    double q[4], rel = 0;
    pd_net_step_norms(net, q);
    if (q[0] > 0) rel = fmax(rel, sqrt(q[2] / q[0]));
    if (q[1] > 0) rel = fmax(rel, sqrt(q[3] / q[1]));
    const int too_far = rel > opt->max_rel_step;
    /* non-monotone acceptance (Grippo, Lampariello, Lucidi): the loss may
     * exceed the current one but not the largest of the last
     * PD_TRAIN_WINDOW accepted losses.  A strictly monotone search
     * collapses the step when a ReLU kink zig-zags around a data point
     * (every finite step overshoots the kink); with the window the kink
     * oscillates in a bounded band while the rest of the net descends. */
    double ref = loss;
    for (int i = 0; i < nrecent; i++) ref = fmax(ref, recent[i]);
    if (too_far || !(lossn <= ref)) { /* rose, NaN, or too far: retry */
      pd_net_undo(net);
      lr *= too_far ? fmin(opt->lr_shrink, 0.9 * opt->max_rel_step / rel)
                    : opt->lr_shrink;
      res->rejected++;
      if (++rejects > opt->max_rejects)
        res->status = PD_STATUS_DIVERGED;
      else if (lr < PD_STALL_RATIO * cap)
        res->status = PD_STATUS_STALLED;
      continue;
    }
    rejects = 0;
    steps++;
    t += lr;
    memcpy(f, fn, sizeof(double) * (size_t)n);
    recent[steps % PD_TRAIN_WINDOW] = loss; /* the loss this step left */
    if (nrecent < PD_TRAIN_WINDOW) nrecent++;
    loss = pd_residual(data, f, c);
    if (loss < mark_loss * (1 - PD_PLATEAU_GAIN)) {
      mark_loss = loss;
      mark_step = steps;
    } else if (steps - mark_step >= PD_PLATEAU_STEPS && loss >= opt->tol) {
      res->status = PD_STATUS_STALLED;
    }
    /* grow, but stay under the cap and (as rel scales with lr) the trust
     * bound the last step suggests */
    double next = fmin(lr * opt->lr_grow, cap);
    if (rel > 0) next = fmin(next, lr * opt->max_rel_step / rel);
    lr = next;
    if (steps % opt->lambda_every == 0) {
      PD_CALL(
          pd_train_lambda_max(net, data, v, work, opt->power_iters, &lambda));
      cap = pd_cap(opt, lambda);
      lr = fmin(lr, cap);
    }
    if ((double)steps >= next_mark && res->nhistory < opt->history_points - 1) {
      PD_CALL(pd_record(net, res, steps, t, loss));
      while (next_mark <= (double)steps) next_mark *= ratio;
      if (next_mark < (double)steps + 1) next_mark = (double)steps + 1;
    }
    if (snap_mark > 0 && steps >= snap_mark) {
      PD_CALL(pd_observe(opt, net, res, f, steps, t, loss));
      last_observed = steps;
      while (snap_mark > 0 && snap_mark <= steps)
        snap_mark = ++next_snap <= opt->snapshots
                        ? pd_snapshot_mark(opt, next_snap)
                        : -1;
    }
    if (opt->progress_seconds > 0) {
      double now = MPI_Wtime();
      if (now - last_progress >= opt->progress_seconds) {
        last_progress = now;
        pd_log(comm, PD_LOG_INFO,
               "  step %lld  t %.4g  loss %.4e  lr %.3g  rejected %lld",
               (long long)steps, t, loss, lr, (long long)res->rejected);
      }
    }
  }
  if (last_observed >= 0 && last_observed != steps)
    PD_CALL(pd_observe(opt, net, res, f, steps, t, loss));
  res->steps = steps;
  res->t_star = t;
  res->loss = loss;
  res->lambda_max = lambda;
  PD_CALL(pd_net_rd(net, &res->rd_w, &res->rd_a));
  if (res->nhistory == 0 || res->history[res->nhistory - 1].step != steps)
    res->history[res->nhistory++] =
        (pd_history_point){steps, t, loss, res->rd_w};
  /* agree on the wall time so every rank reports the same figure */
  double sec = MPI_Wtime() - t0;
  PD_CALL_MPI(MPI_Allreduce(&sec, &res->seconds, 1, MPI_DOUBLE, MPI_MAX, comm));
  sec = res->snapshot_seconds;
  PD_CALL_MPI(MPI_Allreduce(&sec, &res->snapshot_seconds, 1, MPI_DOUBLE,
                            MPI_MAX, comm));
  pd_free(&buf);
  return PD_OK;
}

void pd_train_result_free(pd_train_result *res) { pd_free(&res->history); }
