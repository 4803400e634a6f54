/* The wall-time estimate of --check.
 *
 * How many steps a run takes is not known before it runs: it depends on
 * the data, the point, the width and the seed.  What can be known is the
 * cost of a run's start and of one step on this machine, so the estimate
 * is per step.  Every group of ranks, laid out as the scheduler lays them
 * out, trains this job's data (its first samples on a large set) with the
 * job's integrator at the first point's scales for a fraction of a
 * second, at the plan's smallest width and at its largest (capped so that
 * the calibration stays short), all groups at once as in the scan.  Costs
 * are taken as linear in the width through the two measurements and in
 * proportion to the number of samples.  From them: one step of every task
 * spread over the groups, and the wall time if every task ran its whole
 * step budget.  The observers' snapshots come on top. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "phasediag/base/error.h"
#include "phasediag/base/timer.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/net.h"
#include "phasediag/scan/sched.h"
#include "phasediag/train/train.h"

/* Calibration widths stay below this many neuron-sample-component updates
 * per rank and step, so that one step takes milliseconds. */
#define PD_EST_MAX_WORK 5e7
/* Each width is trained until k more steps last this long (all groups). */
#define PD_EST_SECONDS 0.15
#define PD_EST_MAX_STEPS 16384
/* Larger data sets are calibrated on their first samples. */
#define PD_EST_MAX_SAMPLES 4096

/* What one calibration run measured (the slowest group's wall times). */
typedef struct {
  int64_t steps;
  double seconds, rd_seconds, rd_calls, evals, loss0;
} pd_calrun;

/* Collective on comm (every rank): each group trains the network nc for up
 * to k accepted steps. */
static int train_for(MPI_Comm comm, MPI_Comm group, const pd_net_config *nc,
                     const pd_data *data, pd_train_options opt, int64_t k,
                     pd_calrun *c) {
  opt.max_steps = k;
  pd_net *net = NULL;
  pd_train_result r = {0};
  const double rd0 = pd_timer_seconds(PD_T_RD), n0 = pd_timer_count(PD_T_RD);
  int err = pd_net_create(group, nc, &net);
  if (!err) err = pd_train(net, data, &opt, NULL, &r);
  pd_net_destroy(&net);
  PD_CALL(pd_error_collective(comm, err, __FILE__, __LINE__));
  double mine[2] = {r.seconds, pd_timer_seconds(PD_T_RD) - rd0}, worst[2];
  *c = (pd_calrun){.steps = r.steps,
                   .rd_calls = pd_timer_count(PD_T_RD) - n0,
                   .evals = (double)r.evaluations,
                   .loss0 = r.loss0};
  pd_train_result_free(&r);
  PD_CALL_MPI(MPI_Allreduce(mine, worst, 2, MPI_DOUBLE, MPI_MAX, comm));
  c->seconds = worst[0];
  c->rd_seconds = worst[1];
  return PD_OK;
}

/* Collective on comm: the network of width m with the scales of point 0 at
 * width index w.  A run's start (the lambda_max iterations) is not a step,
 * and its RD records (at the history points and the loss ladder's levels)
 * come per run, not per step; so the cost of a gradient evaluation is the
 * difference between runs of k and 2k steps less their RD time over their
 * difference in evaluations, with k doubled until that difference lasts
 * PD_EST_SECONDS; a step costs the evaluations it took in that difference,
 * and the start the evaluations the run of k steps took beyond its steps. */
static int calibrate(MPI_Comm comm, MPI_Comm group, const pd_plan *plan,
                     const pd_config *cfg, const pd_data *data,
                     const pd_span *span, int w, int64_t m, pd_calib *c) {
  pd_net_config nc = {.d = data->d,
                      .span = span,
                      .m = m,
                      .asi = cfg->asi,
                      .act = pd_activation_find(cfg->activation),
                      .seed = plan->seeds[0],
                      .task = (uint64_t)m};
  PD_CALL(pd_plan_scales(plan, 0, w, cfg->base_scale, &nc.scales));
  pd_train_options opt = cfg->train;
  opt.tol = 1e-300; /* no run converges during the calibration */
  opt.progress_seconds = 0;
  opt.history_points = 2; /* RD records are timed apart: few suffice */
  *c = (pd_calib){.m = m};
  for (int64_t k = 8; k <= PD_EST_MAX_STEPS; k *= 2) {
    pd_calrun r1, r2;
    PD_CALL(train_for(comm, group, &nc, data, opt, k, &r1));
    PD_CALL(train_for(comm, group, &nc, data, opt, 2 * k, &r2));
    /* runs that stop early (stationary, stalled) at the same step give
     * what they have: every evaluation of the longer one, one a step */
    const int diff = r2.evals > r1.evals;
    const double de =
        diff ? r2.evals - r1.evals : (r2.evals > 0 ? r2.evals : 1);
    double dt = r2.seconds - r2.rd_seconds;
    if (diff) dt -= r1.seconds - r1.rd_seconds;
    const int64_t ds = r2.steps - r1.steps;
    c->eval_seconds = dt > 0 ? dt / de : 0;
    c->evals_per_step = ds > 0 ? de / (double)ds : 1;
    c->step_seconds = c->eval_seconds * c->evals_per_step;
    /* the start: the evaluations beyond the steps' (timing the difference
     * of two long runs would drown it in noise) */
    c->start_seconds =
        fmax(0, r1.evals - (double)r1.steps * c->evals_per_step) *
        c->eval_seconds;
    c->rd_seconds =
        (r1.rd_seconds + r2.rd_seconds) /
        (r1.rd_calls + r2.rd_calls > 0 ? r1.rd_calls + r2.rd_calls : 1);
    c->loss0 = r2.loss0;
    if (dt >= PD_EST_SECONDS || ds <= 0) break;
  }
  return PD_OK;
}

/* y = a + b m through (m1, y1) and (m2, y2); with one width, y
 * proportional to m; noise that makes the wider one cheaper gives a
 * constant. */
static void pd_app_estimate_fit(int64_t m1, double y1, int64_t m2, double y2,
                                double *a, double *b) {
  if (m1 == m2) {
    *a = 0;
    *b = y1 / (double)m1;
    return;
  }
  *b = (y2 - y1) / (double)(m2 - m1);
  if (*b < 0) *b = 0;
  *a = y1 - *b * (double)m1;
  if (*a < 0) *a = 0;
}

void pd_app_estimate_finish(pd_estimate *est, const pd_plan *plan,
                            const pd_config *cfg) {
  const pd_calib *lo = &est->lo, *hi = &est->hi;
  pd_app_estimate_fit(lo->m, lo->step_seconds, hi->m, hi->step_seconds, &est->a,
                      &est->b);
  pd_app_estimate_fit(lo->m, lo->start_seconds, hi->m, hi->start_seconds,
                      &est->sa, &est->sb);
  pd_app_estimate_fit(lo->m, lo->rd_seconds, hi->m, hi->rd_seconds, &est->ra,
                      &est->rb);
  /* a step and a start are passes over the data: in proportion to n */
  est->a *= est->nscale;
  est->b *= est->nscale;
  est->sa *= est->nscale;
  est->sb *= est->nscale;
  /* at most: the history points and the ladder's levels from the initial
   * loss down to tol (20 a decade); one record serves every level a step
   * crosses, and a run that stops early reaches fewer */
  double levels = PD_LADDER_PER_DECADE * log10(hi->loss0 / cfg->train.tol);
  if (!(levels > 0)) levels = 0;
  if (levels > PD_LADDER_LEVELS) levels = PD_LADDER_LEVELS;
  est->records = cfg->train.history_points + levels;
  double longest = 0, budget_all = 0;
  est->all_steps = 0;
  for (int w = 0; w < plan->W; w++) {
    const double m = (double)plan->widths[w];
    const double t = est->a + est->b * m;
    const double task = est->sa + est->sb * m +
                        (double)cfg->train.max_steps * t +
                        est->records * (est->ra + est->rb * m);
    est->all_steps += t * plan->P * plan->S;
    budget_all += task * plan->P * plan->S;
    if (task > longest) longest = task;
  }
  /* the groups share the tasks; no scan is shorter than its longest task */
  const double spread = budget_all / est->groups;
  est->budget = spread > longest ? spread : longest;
}

int pd_app_estimate(MPI_Comm world, const pd_plan *plan, const pd_config *cfg,
                    const pd_data *data, const pd_span *span, int g,
                    pd_estimate *est) {
  int rank, size;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  const double t0 = MPI_Wtime();
  /* on a large data set, the first PD_EST_MAX_SAMPLES samples: a pass
   * over the data costs in proportion to n */
  const int64_t nc =
      data->n < PD_EST_MAX_SAMPLES ? data->n : PD_EST_MAX_SAMPLES;
  pd_data *sub = NULL;
  int err = pd_data_create(nc, data->d, &sub);
  PD_CALL(pd_error_collective(world, err, __FILE__, __LINE__));
  memcpy(sub->x, data->x, (size_t)nc * (size_t)data->d * sizeof(double));
  memcpy(sub->y, data->y, (size_t)nc * sizeof(double));
  int wlo = 0, whi = 0;
  for (int w = 1; w < plan->W; w++) {
    if (plan->widths[w] < plan->widths[wlo]) wlo = w;
    if (plan->widths[w] > plan->widths[whi]) whi = w;
  }
  const double per_neuron = (double)nc * (data->d + 1.0) / g;
  int64_t cap = (int64_t)(PD_EST_MAX_WORK / per_neuron);
  cap -= cap % 2; /* antisymmetric pairs */
  if (cap < 2 * (int64_t)g) cap = 2 * (int64_t)g;
  const int64_t mlo = plan->widths[wlo] < cap ? plan->widths[wlo] : cap;
  const int64_t mhi = plan->widths[whi] < cap ? plan->widths[whi] : cap;
  *est = (pd_estimate){.ranks = size,
                       .groups = size / g,
                       .g = g,
                       .samples = nc,
                       .nscale = (double)data->n / (double)nc,
                       .capped = plan->widths[whi] > cap};
  /* the groups of the scan (sched.h), each training its own network */
  MPI_Comm group;
  const int rc =
      MPI_Comm_split(world, pd_sched_group_color(rank, size, g), rank, &group);
  err = rc == MPI_SUCCESS
            ? PD_OK
            : pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Comm_split");
  err = pd_error_collective(world, err, __FILE__, __LINE__);
  if (err) {
    pd_data_destroy(&sub);
    return err;
  }
  err = calibrate(world, group, plan, cfg, sub, span, wlo, mlo, &est->lo);
  if (!err && mhi != mlo)
    err = calibrate(world, group, plan, cfg, sub, span, whi, mhi, &est->hi);
  else
    est->hi = est->lo;
  MPI_Comm_free(&group);
  pd_data_destroy(&sub);
  PD_CALL(err);
  pd_app_estimate_finish(est, plan, cfg);
  est->seconds = MPI_Wtime() - t0;
  return PD_OK;
}

void pd_app_print_estimate(const pd_estimate *est, const pd_config *cfg,
                           const pd_plan *plan) {
  const pd_calib *lo = &est->lo, *hi = &est->hi;
  const int two = hi->m != lo->m;
  char groups[96];
  pd_app_fmt_groups(est->ranks, est->g, groups, sizeof groups);
  printf("time: calibrated on this machine just now (%.2g s): %s", est->seconds,
         groups);
  printf(" trained this job's data");
  if (est->nscale > 1)
    printf(" (its first %lld samples; the costs below are scaled to all %.4g)",
           (long long)est->samples, est->nscale * (double)est->samples);
  printf(" with %s at the first point's scales, m = %lld",
         cfg->train.integrator, (long long)lo->m);
  if (two) printf(" and %lld", (long long)hi->m);
  if (est->capped)
    printf(" (capped from %lld)", (long long)pd_plan_max_width(plan));
  printf("\n  one step: %.3g s at m = %lld", lo->step_seconds * est->nscale,
         (long long)lo->m);
  if (two)
    printf(", %.3g s at m = %lld", hi->step_seconds * est->nscale,
           (long long)hi->m);
  printf(
      " (%.3g gradient evaluations per step at %.3g s each); a run's "
      "start %.3g s; linear in m\n",
      hi->evals_per_step, hi->eval_seconds * est->nscale,
      hi->start_seconds * est->nscale);
  printf(
      "  one RD record (at the history points and the loss levels down to "
      "tol, at most %.0f a run): %.3g s at m = %lld\n",
      est->records, hi->rd_seconds, (long long)hi->m);
  printf("  one step of every task: %.3g s of wall time over the %d group%s\n",
         est->all_steps / est->groups, est->groups, est->groups > 1 ? "s" : "");
  char b[32];
  pd_app_fmt_time(est->budget, b, sizeof b);
  printf(
      "  if every task ran its whole step budget (%lld steps), the scan "
      "would take about %s (%.0f s); the steps a run takes depend on its "
      "data and point, and the observers' snapshots come on top\n",
      (long long)cfg->train.max_steps, b, est->budget);
}
