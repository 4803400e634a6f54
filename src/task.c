#include "phasediag/task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/error.h"
#include "phasediag/mem.h"
#include "phasediag/net.h"
#include "phasediag/train.h"

int64_t pd_task_record_len(const pd_config *cfg) {
  return PD_R_HEAD + 4 * (int64_t)cfg->train.history_points +
         4 * (int64_t)cfg->feature_cap;
}

void pd_task_record_clear(const pd_config *cfg, double *rec) {
  int64_t len = pd_task_record_len(cfg);
  for (int64_t i = 0; i < len; i++) rec[i] = NAN;
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

int pd_task_run(MPI_Comm group, const pd_plan *plan, const pd_config *cfg,
                const pd_data *data, int64_t t, void (*poll)(void *),
                void *poll_ctx, double *rec) {
  int p, w, s;
  pd_plan_task(plan, t, &p, &w, &s);
  const int64_t K = cfg->train.history_points, Fcap = cfg->feature_cap;
  pd_task_record_clear(cfg, rec);
  rec[PD_R_TASK] = (double)t;
  pd_net_config nc = {.d = data->d,
                      .m = plan->widths[w],
                      .asi = cfg->asi,
                      .seed = plan->seeds[s],
                      .task = (uint64_t)plan->widths[w]};
  PD_CALL(pd_plan_scales(plan, p, w, cfg->base_scale, &nc.scales));
  pd_net *net = NULL;
  PD_CALL(pd_net_create(group, &nc, &net));
  const int64_t F = Fcap < nc.m ? Fcap : nc.m;
  double *feat = rec + PD_R_HEAD + 4 * K;
  int err = pd_task_features(net, cfg, F, feat, feat + Fcap, &rec[PD_R_COND0]);
  pd_train_options opt = cfg->train;
  opt.poll = poll;
  opt.poll_ctx = poll_ctx;
  pd_train_result r = {0};
  if (!err) err = pd_train(net, data, &opt, &r);
  if (!err)
    err = pd_task_features(net, cfg, F, feat + 2 * Fcap, feat + 3 * Fcap,
                           &rec[PD_R_COND1]);
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
    double *h = rec + PD_R_HEAD;
    for (int i = 0; i < r.nhistory && i < K; i++) {
      h[i] = (double)r.history[i].step;
      h[K + i] = r.history[i].time;
      h[2 * K + i] = r.history[i].loss;
      h[3 * K + i] = r.history[i].rd_w;
    }
  }
  pd_train_result_free(&r);
  pd_net_destroy(&net);
  return err;
}
