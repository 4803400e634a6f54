#include "phasediag/scan/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/log.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/observers.h"
#include "phasediag/scan/checkpoint.h"
#include "phasediag/scan/taskstate.h"
#include "phasediag/train/train.h"

/* The trainer's observe hook: one snapshot for every observer. */
static int pd_task_observe(void *ctx, pd_net *net, const double *f,
                           int64_t step, double t, double loss) {
  (void)net; /* the observers hold it */
  pd_obs_snapshot s = {.f = f, .step = step, .t = t, .loss = loss};
  PD_CALL(pd_observers_observe(ctx, &s));
  return PD_OK;
}

/* The trainer's result into the record's head and history. */
static void pd_task_fill(const pd_layout *L, const pd_train_result *r,
                         double *rec) {
  const int64_t K = L->K;
  rec[PD_R_STATUS] = r->status;
  rec[PD_R_STEPS] = (double)r->steps;
  rec[PD_R_REJECTED] = (double)r->rejected;
  rec[PD_R_TSTAR] = r->t_star;
  rec[PD_R_LOSS0] = r->loss0;
  rec[PD_R_LOSS] = r->loss;
  rec[PD_R_RDW] = r->rd_w;
  rec[PD_R_RDA] = r->rd_a;
  rec[PD_R_SECONDS] = r->seconds;
  rec[PD_R_LAMBDA] = r->lambda_max;
  rec[PD_R_NHIST] = r->nhistory;
  rec[PD_R_EVALS] = (double)r->evaluations;
  memcpy(rec + L->ladder, r->ladder,
         sizeof(double) * (size_t)(2 * PD_LADDER_LEVELS));
  double *h = rec + L->hist;
  for (int i = 0; i < r->nhistory && i < K; i++) {
    h[i] = (double)r->history[i].step;
    h[K + i] = r->history[i].time;
    h[2 * K + i] = r->history[i].loss;
    h[3 * K + i] = r->history[i].rd_w;
  }
}

int pd_task_run(MPI_Comm group, const pd_plan *plan, const pd_job *job,
                int64_t t, const pd_train_hooks *hooks, double *rec) {
  const pd_config *cfg = job->cfg;
  const pd_data *data = job->net_data;
  const pd_layout *L = &job->layout;
  int p, w, s;
  pd_plan_task(plan, t, &p, &w, &s);
  pd_record_clear(L, rec);
  rec[PD_R_TASK] = (double)t;
  pd_net_config nc = {.d = data->d,
                      .m = plan->widths[w],
                      .asi = cfg->asi,
                      .act = pd_activation_find(cfg->activation),
                      .span = job->span,
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
  const pd_obs_run run = {.group = group,
                          .net = net,
                          .cfg = cfg,
                          .data = data,
                          .test = job->net_test,
                          .L = L,
                          .rec = rec};
  pd_observers ob;
  int err = pd_observers_create(&ob, &run);
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
  /* in flight: the observers above are made exactly as at a fresh start
   * (from theta(0)); the state file then replaces the record and the
   * parameters */
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
  if (!err) err = pd_observers_finish(&ob, &r);
  if (!err) pd_task_fill(L, &r, rec);
  pd_train_result_free(&r);
  if (!err && stateful) { /* done: its state file has served (one left
                             behind is harmless: it resumes the same run) */
    int grank = -1;
    char path[4200];
    pd_checkpoint_task_path(job->state_prefix, t, path, sizeof path);
    if (MPI_Comm_rank(group, &grank) == MPI_SUCCESS && grank == 0) remove(path);
  }
  int err2 = pd_observers_destroy(&ob);
  pd_net_destroy(&net);
  PD_CALL(err);
  PD_CALL(err2);
  return PD_OK;
}
