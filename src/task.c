#include "phasediag/task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/activation.h"
#include "phasediag/checkpoint.h"
#include "phasediag/crc.h"
#include "phasediag/error.h"
#include "phasediag/log.h"
#include "phasediag/mem.h"
#include "phasediag/net.h"
#include "phasediag/obs_theory.h"
#include "phasediag/spectral.h"
#include "phasediag/taskstate.h"
#include "phasediag/theory.h"
#include "phasediag/train.h"

int pd_layout_init(pd_layout *L, const pd_config *cfg, const pd_data *data,
                   const pd_data *test) {
  memset(L, 0, sizeof *L);
  const int d = data->d;
  L->K = cfg->train.history_points;
  L->F = cfg->feature_cap;
  PD_CALL(pd_spectral_layout_init(&L->sp, cfg, d));
  L->ntk = cfg->ntk;
  L->top = cfg->ntk ? (cfg->ntk_top < data->n ? cfg->ntk_top : data->n) : 0;
  L->ntest = test ? test->n : 0;
  L->S = L->sp.methods || L->ntk ? cfg->train.snapshots + 2 : 0;
  const int64_t S = L->S;
  int64_t o = PD_R_HEAD;
  L->hist = o;
  o += 4 * L->K;
  L->feat = o;
  o += 4 * L->F;
  L->snap = o;
  o += 3 * S; /* step, time, loss */
  L->spec = o;
  pd_spectral_layout_place(&L->sp, S);
  o += L->sp.len;
  L->theory = o;
  o += pd_obs_theory_block(L);
  L->test = o;
  o += L->ntest; /* the trained network on the test set */
  L->len = o;
  return PD_OK;
}

void pd_field_set(pd_field *f, const char *name, int rank, int64_t d0,
                  int64_t d1, int64_t offset, int integer,
                  const char *description) {
  memset(f, 0, sizeof *f);
  snprintf(f->name, sizeof f->name, "%s", name);
  f->rank = rank;
  f->dims[0] = d0;
  f->dims[1] = d1;
  f->offset = offset;
  f->integer = integer;
  f->description = description;
}

/* The fields of a peak block (dft or projection) under group g. */
static int pd_peak_fields(const pd_layout *L, const char *g, int64_t off,
                          pd_field *f, int *n) {
  const int64_t P = L->sp.np;
  char name[64];
  snprintf(name, sizeof name, "%s/frequency", g);
  pd_field_set(&f[(*n)++], name, 1, P, 0, off + PD_PK_FREQ(P), 0,
               "peak frequency (cycles per period of the coordinate); NaN "
               "past the peaks found");
  snprintf(name, sizeof name, "%s/target_amplitude", g);
  pd_field_set(&f[(*n)++], name, 1, P, 0, off + PD_PK_AMP(P), 0,
               "|y^| at the peak");
  snprintf(name, sizeof name, "%s/converged_step", g);
  pd_field_set(&f[(*n)++], name, 1, P, 0, off + PD_PK_CONV(P), 0,
               "first snapshot step with Delta_F < delta_tol (NaN: never)");
  snprintf(name, sizeof name, "%s/rank_correlation", g);
  pd_field_set(&f[(*n)++], name, 0, 0, 0, off + PD_PK_RHO(P), 0,
               "Spearman rho of peak frequency against converged step");
  snprintf(name, sizeof name, "%s/delta", g);
  pd_field_set(&f[(*n)++], name, 2, L->S, P, off + PD_PK_DELTA(P), 0,
               "Delta_F = ||h^| - |y^|| / |y^| per snapshot and peak");
  return PD_OK;
}

int pd_layout_fields(const pd_layout *L, pd_field *f, int max, int *count) {
  PD_CHECK(max >= 64, PD_ERR_ARG, "room for %d fields", max);
  int n = 0;
  const int64_t S = L->S, D = L->sp.nd, N = L->sp.nsh;
  if (S > 0) {
    pd_field_set(&f[n++], "/snapshots/step", 1, S, 0, L->snap, 1,
                 "training step of each snapshot (-1: not reached)");
    pd_field_set(&f[n++], "/snapshots/time", 1, S, 0, L->snap + S, 0,
                 "flow time of each snapshot");
    pd_field_set(&f[n++], "/snapshots/loss", 1, S, 0, L->snap + 2 * S, 0,
                 "training loss at each snapshot");
  }
  if (L->sp.methods) {
    pd_field_set(&f[n++], "/spectral/verdict", 0, 0, 0, PD_R_VERDICT, 0,
                 "Spearman rho of frequency against convergence step (grid "
                 "shells if on, else dft, else projection peaks); > 0: low "
                 "frequencies first");
  }
  if (L->sp.methods & PD_SP_DFT)
    pd_peak_fields(L, "/spectral/dft", L->spec + L->sp.dft, f, &n);
  if (L->sp.methods & PD_SP_PROJECTION)
    pd_peak_fields(L, "/spectral/projection", L->spec + L->sp.proj, f, &n);
  if (L->sp.methods & PD_SP_FILTER) {
    const int64_t o = L->spec + L->sp.filt;
    pd_field_set(&f[n++], "/spectral/filter/delta", 1, D, 0, o + PD_FI_DELTA(D),
                 0, "filter width delta");
    pd_field_set(&f[n++], "/spectral/filter/converged_step_low", 1, D, 0,
                 o + PD_FI_CONV_LOW(D), 0,
                 "first snapshot step with e_low < delta_tol");
    pd_field_set(&f[n++], "/spectral/filter/converged_step_high", 1, D, 0,
                 o + PD_FI_CONV_HIGH(D), 0,
                 "first snapshot step with e_high < delta_tol");
    pd_field_set(&f[n++], "/spectral/filter/e_low", 2, S, D, o + PD_FI_LOW(D),
                 0, "|y_low - h_low| / |y_low| per snapshot and delta");
    pd_field_set(&f[n++], "/spectral/filter/e_high", 2, S, D,
                 o + PD_FI_LOW(D) + S * D, 0,
                 "|y_high - h_high| / |y_high| per snapshot and delta");
  }
  if (L->sp.methods & PD_SP_GRID) {
    const int64_t o = L->spec + L->sp.grid;
    pd_field_set(&f[n++], "/spectral/grid/target_power", 1, N, 0,
                 o + PD_GR_POWER(N), 0,
                 "sum of |Y(k)|^2 over the shell round(|k|) = s");
    pd_field_set(&f[n++], "/spectral/grid/converged_step", 1, N, 0,
                 o + PD_GR_CONV(N), 0,
                 "first snapshot step with relative shell error < "
                 "delta_tol (NaN: never, or a shell without target power)");
    pd_field_set(&f[n++], "/spectral/grid/rank_correlation", 0, 0, 0,
                 o + PD_GR_RHO(N), 0,
                 "Spearman rho of shell |k| against converged step over the "
                 "shells with target power");
    pd_field_set(&f[n++], "/spectral/grid/method", 0, 0, 0, o + PD_GR_METHOD(N),
                 1,
                 "network evaluation on the grid: 1 gather parameters, 2 "
                 "reduce partial outputs");
    pd_field_set(&f[n++], "/spectral/grid/bytes", 1, 2, 0, o + PD_GR_BYTES(N),
                 0, "bytes one evaluation moves per rank: gather, reduce");
    pd_field_set(&f[n++], "/spectral/grid/rel_error", 2, S, N, o + PD_GR_REL(N),
                 0,
                 "sqrt(sum |H - Y|^2 / sum |Y|^2) over each shell, per "
                 "snapshot");
  }
  pd_obs_theory_fields(L, f, &n);
  if (L->ntest > 0) {
    pd_field_set(&f[n++], "/runs/test_loss", 0, 0, 0, PD_R_TEST_LOSS, 0,
                 "1/(2 n_test) sum (f - y)^2 on the test set");
    pd_field_set(&f[n++], "/runs/test_rel_error", 0, 0, 0, PD_R_TEST_REL, 0,
                 "|f - y| / |y| on the test set");
    pd_field_set(&f[n++], "/runs/test_accuracy", 0, 0, 0, PD_R_TEST_ACC, 0,
                 "fraction of test points with sign(f) = sign(y)");
    pd_field_set(&f[n++], "/runs/train_accuracy", 0, 0, 0, PD_R_TRAIN_ACC, 0,
                 "fraction of training points with sign(f) = sign(y)");
    pd_field_set(&f[n++], "/test/output", 1, L->ntest, 0, L->test, 0,
                 "the trained network at the test points");
  }
  if (S > 0)
    pd_field_set(&f[n++], "/snapshots/seconds", 0, 0, 0, PD_R_SNAP_SECONDS, 0,
                 "wall time spent in the snapshot observers");
  *count = n;
  return PD_OK;
}

void pd_task_record_clear(const pd_layout *L, double *rec) {
  for (int64_t i = 0; i < L->len; i++) rec[i] = NAN;
  rec[PD_R_STATUS] = PD_STATUS_NOT_RUN;
}

/* amplitude order, heaviest first; ties by index for determinism */
static const double *pd_sort_amp;
static int pd_cmp_amp(const void *x, const void *y) {
  int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
  if (pd_sort_amp[i] != pd_sort_amp[j])
    return pd_sort_amp[i] > pd_sort_amp[j] ? -1 : 1;
  return i < j ? -1 : i > j;
}

int pd_task_condensation(int64_t F, int d, const double *a, const double *w,
                         double cos_threshold, double *orient, double *amp,
                         double *measure) {
  const int d1 = d + 1;
  double *u = NULL, *mass = NULL;
  int64_t *idx = NULL, *center = NULL;
  int err = pd_calloc((size_t)F * (size_t)d1, sizeof(double), &u);
  if (!err) err = pd_calloc((size_t)F, sizeof(double), &mass);
  if (!err) err = pd_calloc((size_t)F, sizeof(int64_t), &idx);
  if (!err) err = pd_calloc((size_t)F, sizeof(int64_t), &center);
  if (err) goto done;
  for (int64_t k = 0; k < F; k++) {
    double nw = 0;
    for (int j = 0; j < d1; j++) nw += w[k * d1 + j] * w[k * d1 + j];
    nw = sqrt(nw);
    amp[k] = fabs(a[k]) * nw;
    for (int j = 0; j < d1; j++)
      u[k * d1 + j] = nw > 0 ? w[k * d1 + j] / nw : 0;
    idx[k] = k;
  }
  pd_sort_amp = amp;
  qsort(idx, (size_t)F, sizeof(int64_t), pd_cmp_amp);
  /* greedy clustering, heaviest first: join the first cluster whose leader
   * is within the cosine threshold, else lead a new one */
  int64_t nc = 0;
  double total = 0;
  for (int64_t r = 0; r < F; r++) {
    int64_t k = idx[r], c = 0;
    for (; c < nc; c++) {
      double cs = 0;
      for (int j = 0; j < d1; j++) cs += u[k * d1 + j] * u[center[c] * d1 + j];
      if (cs >= cos_threshold) break;
    }
    if (c == nc) center[nc++] = k;
    mass[c] += amp[k];
    total += amp[k];
  }
  double sq = 0;
  for (int64_t c = 0; c < nc; c++) sq += mass[c] * mass[c];
  *measure = sq > 0 ? total * total / sq : NAN;
  /* orientation: the angle in the (w, b) plane for d = 1; otherwise the
   * angle to the heaviest cluster's direction */
  int64_t heavy = 0;
  for (int64_t c = 1; c < nc; c++)
    if (mass[c] > mass[heavy]) heavy = c;
  for (int64_t k = 0; k < F; k++) {
    if (d == 1) {
      orient[k] = atan2(w[k * 2 + 1], w[k * 2]);
    } else {
      double cs = 0;
      for (int j = 0; j < d1; j++)
        cs += u[k * d1 + j] * u[center[heavy] * d1 + j];
      orient[k] = acos(cs > 1 ? 1 : cs < -1 ? -1 : cs);
    }
  }
done:
  pd_free(&u);
  pd_free(&mass);
  pd_free(&idx);
  pd_free(&center);
  return err;
}

/* features of the current parameters into orient[F], amp[F] */
static int pd_task_features(pd_net *net, const pd_config *cfg, int64_t F,
                            double *orient, double *amp, double *measure) {
  const int d1 = pd_net_get_config(net)->d + 1;
  double *a = NULL, *w = NULL;
  int err = pd_calloc((size_t)F, sizeof(double), &a);
  if (!err) err = pd_calloc((size_t)F * (size_t)d1, sizeof(double), &w);
  PD_COLLECTIVE(pd_net_comm(net), err);
  err = pd_net_sample(net, F, a, w);
  if (!err)
    err = pd_task_condensation(F, d1 - 1, a, w, cfg->cos_threshold, orient, amp,
                               measure);
  pd_free(&a);
  pd_free(&w);
  return err;
}

/* The observers of one run, called at the trainer's snapshots. */
typedef struct {
  const pd_layout *L;
  const pd_data *data;
  double *rec;
  int64_t row;
  pd_spectral *sp;
  pd_theory *th;
} pd_observers;

static int pd_task_observe(void *ctx, pd_net *net, const double *f,
                           int64_t step, double t, double loss) {
  pd_observers *ob = ctx;
  const pd_layout *L = ob->L;
  if (ob->row >= L->S) return PD_OK; /* cannot happen: S = marks + 2 */
  double *snap = ob->rec + L->snap;
  snap[ob->row] = (double)step;
  snap[L->S + ob->row] = t;
  snap[2 * L->S + ob->row] = loss;
  if (ob->sp)
    PD_CALL(pd_spectral_observe(ob->sp, net, f, ob->row, ob->rec + L->spec));
  if (ob->th)
    PD_CALL(
        pd_obs_theory_observe(ob->th, L, f, t, ob->row, ob->rec + L->theory));
  ob->row++;
  ob->rec[PD_R_NSNAP] = (double)ob->row;
  return PD_OK;
}

/* Sign agreement of f with y over n points. */
static double pd_sign_accuracy(int64_t n, const double *f, const double *y) {
  int64_t hit = 0;
  for (int64_t i = 0; i < n; i++) hit += (f[i] > 0) == (y[i] > 0);
  return n > 0 ? (double)hit / (double)n : NAN;
}

/* Test-set measures of the trained net (and the training accuracy). */
static int pd_task_test(pd_net *net, const pd_job *job, double *rec) {
  const pd_data *test = job->test, *data = job->data;
  double *f = NULL;
  const int64_t n = test->n > data->n ? test->n : data->n;
  int err = pd_calloc((size_t)n, sizeof(double), &f);
  PD_COLLECTIVE(pd_net_comm(net), err);
  err = pd_net_output(net, data, f);
  if (!err) {
    rec[PD_R_TRAIN_ACC] = pd_sign_accuracy(data->n, f, data->y);
    err = pd_net_output(net, test, f);
  }
  if (!err) {
    double se = 0, sy = 0;
    for (int64_t i = 0; i < test->n; i++) {
      se += (f[i] - test->y[i]) * (f[i] - test->y[i]);
      sy += test->y[i] * test->y[i];
    }
    rec[PD_R_TEST_LOSS] = 0.5 * se / (double)test->n;
    rec[PD_R_TEST_REL] = sy > 0 ? sqrt(se / sy) : NAN;
    rec[PD_R_TEST_ACC] = pd_sign_accuracy(test->n, f, test->y);
    memcpy(rec + job->layout.test, f, sizeof(double) * (size_t)test->n);
  }
  pd_free(&f);
  PD_CALL(err);
  return PD_OK;
}

int pd_task_run(MPI_Comm group, const pd_plan *plan, const pd_job *job,
                int64_t t, const pd_train_hooks *hooks, double *rec) {
  const pd_config *cfg = job->cfg;
  const pd_data *data = job->data;
  const pd_layout *L = &job->layout;
  int p, w, s;
  pd_plan_task(plan, t, &p, &w, &s);
  const int64_t K = L->K, Fcap = L->F;
  pd_task_record_clear(L, rec);
  rec[PD_R_TASK] = (double)t;
  pd_net_config nc = {.d = data->d,
                      .m = plan->widths[w],
                      .asi = cfg->asi,
                      .act = pd_activation_find(cfg->activation),
                      .seed = plan->seeds[s],
                      .task = (uint64_t)plan->widths[w]};
  int serr = pd_plan_scales(plan, p, w, cfg->base_scale, &nc.scales);
  if (serr == PD_ERR_NUMERIC) {
    /* scales that overflow (a huge base scale, extreme coordinates): the
     * run diverges before its first step; the scan goes on */
    pd_log(group, PD_LOG_WARN, "task %lld diverged: %s", (long long)t,
           pd_error_message());
    pd_error_clear();
    rec[PD_R_STATUS] = PD_STATUS_DIVERGED;
    return PD_OK;
  }
  PD_CALL(serr);
  pd_net *net = NULL;
  PD_CALL(pd_net_create(group, &nc, &net));
  const int64_t F = Fcap < nc.m ? Fcap : nc.m;
  double *feat = rec + L->feat;
  pd_observers ob = {.L = L, .data = data, .rec = rec};
  int err = pd_task_features(net, cfg, F, feat, feat + Fcap, &rec[PD_R_COND0]);
  if (!err && L->sp.methods)
    err = pd_spectral_create(group, cfg, data, &L->sp, rec + L->spec, &ob.sp);
  if (!err && L->ntk)
    err = pd_obs_theory_create(net, cfg, data, job->test, L, &ob.th);
  pd_train_hooks hk = {0}; /* poll and stop from the caller */
  if (hooks) {
    hk.poll = hooks->poll;
    hk.poll_ctx = hooks->poll_ctx;
    hk.stop = hooks->stop;
    hk.stop_ctx = hooks->stop_ctx;
  }
  if (L->S > 0) {
    hk.observe = pd_task_observe;
    hk.observe_ctx = &ob;
  }
  /* in flight: the observers and theta(0)'s features above are made
   * exactly as at a fresh start; the state file then replaces the record
   * and the parameters */
  const int stateful = job->state_prefix && job->state_prefix[0];
  pd_task_state_io io = {.job = job, .t = t, .group = group, .rec = rec};
  pd_train_state st;
  unsigned char *store = NULL;
  void *integ = NULL;
  if (!err && stateful) {
    int loaded = 0;
    err = pd_task_load_state(&io, net, rec, &st, &store, &integ, &loaded);
    if (!err && loaded) {
      hk.resume = &st;
      ob.row = (int)st.nsnapshots;
      pd_log(group, PD_LOG_INFO, "task %lld resumed at step %lld", (long long)t,
             (long long)st.steps);
    }
  }
  if (stateful) {
    hk.save_state = pd_task_save_state;
    hk.save_ctx = &io;
  }
  pd_train_result r = {0};
  if (!err) err = pd_train(net, data, &cfg->train, &hk, &r);
  pd_free(&store);
  pd_free(&integ);
  if (!err)
    err = pd_task_features(net, cfg, F, feat + 2 * Fcap, feat + 3 * Fcap,
                           &rec[PD_R_COND1]);
  if (!err && ob.sp)
    err = pd_spectral_finish(ob.sp, rec + L->snap, (int64_t)rec[PD_R_NSNAP],
                             rec + L->spec, &rec[PD_R_VERDICT]);
  if (!err && ob.th) err = pd_obs_theory_finish(ob.th, net, L, rec + L->theory);
  if (!err && job->test) err = pd_task_test(net, job, rec);
  if (!err) {
    rec[PD_R_STATUS] = r.status;
    rec[PD_R_STEPS] = (double)r.steps;
    rec[PD_R_REJECTED] = (double)r.rejected;
    rec[PD_R_TSTAR] = r.t_star;
    rec[PD_R_LOSS0] = r.loss0;
    rec[PD_R_LOSS] = r.loss;
    rec[PD_R_RDW] = r.rd_w;
    rec[PD_R_RDA] = r.rd_a;
    rec[PD_R_SECONDS] = r.seconds;
    rec[PD_R_LAMBDA] = r.lambda_max;
    rec[PD_R_NHIST] = r.nhistory;
    rec[PD_R_NFEAT] = (double)F;
    if (L->S > 0) rec[PD_R_SNAP_SECONDS] = r.snapshot_seconds;
    double *h = rec + L->hist;
    for (int i = 0; i < r.nhistory && i < K; i++) {
      h[i] = (double)r.history[i].step;
      h[K + i] = r.history[i].time;
      h[2 * K + i] = r.history[i].loss;
      h[3 * K + i] = r.history[i].rd_w;
    }
  }
  pd_train_result_free(&r);
  if (!err && stateful) { /* done: its state file has served (one left
                             behind is harmless: it resumes the same run) */
    int grank = -1;
    char path[4200];
    pd_checkpoint_task_path(job->state_prefix, t, path, sizeof path);
    if (MPI_Comm_rank(group, &grank) == MPI_SUCCESS && grank == 0) remove(path);
  }
  int err2 = pd_spectral_destroy(&ob.sp);
  int err3 = pd_theory_destroy(&ob.th);
  pd_net_destroy(&net);
  PD_CALL(err);
  PD_CALL(err2);
  PD_CALL(err3);
  return PD_OK;
}
