#include "phasediag/scan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/net.h"

void pd_plan_destroy(pd_plan **pplan) {
  pd_plan *plan = *pplan;
  if (!plan) return;
  pd_free(&plan->points);
  pd_free(&plan->widths);
  pd_free(&plan->seeds);
  pd_free(&plan->order);
  pd_free(pplan);
}

void pd_plan_task(const pd_plan *plan, int64_t t, int *p, int *w, int *s) {
  *s = (int)(t % plan->S);
  *w = (int)(t / plan->S % plan->W);
  *p = (int)(t / plan->S / plan->W);
}

/* order: by width, largest first; ties by task id (stable, deterministic) */
static const pd_plan *pd_sort_plan;
static int pd_cmp_tasks(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  int pa, wa, sa, pb, wb, sb;
  pd_plan_task(pd_sort_plan, a, &pa, &wa, &sa);
  pd_plan_task(pd_sort_plan, b, &pb, &wb, &sb);
  int64_t ma = pd_sort_plan->widths[wa], mb = pd_sort_plan->widths[wb];
  if (ma != mb) return ma > mb ? -1 : 1;
  return a < b ? -1 : a > b;
}

int pd_plan_create(const pd_config *cfg, int64_t n, int d, pd_plan **out) {
  *out = NULL;
  pd_plan *plan = NULL;
  PD_CALL(pd_calloc(1, sizeof *plan, &plan));
  plan->P = cfg->ngamma * cfg->ngamma_prime + cfg->nschemes;
  plan->W = cfg->nwidths;
  plan->S = cfg->nseeds;
  plan->d = d;
  plan->dnet = d;
  plan->n = n;
  plan->ntasks = (int64_t)plan->P * plan->W * plan->S;
  int err = plan->P > 0 && plan->W > 0 && plan->S > 0
                ? PD_OK
                : pd_error_raise(PD_ERR_CONFIG, __FILE__, __LINE__, __func__,
                                 "the scan is empty (%d points, %d widths, "
                                 "%d seeds)",
                                 plan->P, plan->W, plan->S);
  if (!err) err = pd_calloc((size_t)plan->P, sizeof(pd_point), &plan->points);
  if (!err) err = pd_calloc((size_t)plan->W, sizeof(int64_t), &plan->widths);
  if (!err) err = pd_calloc((size_t)plan->S, sizeof(uint64_t), &plan->seeds);
  if (!err)
    err = pd_calloc((size_t)plan->ntasks, sizeof(int64_t), &plan->order);
  if (err) {
    pd_plan_destroy(&plan);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "plan");
  }
  int p = 0;
  for (int i = 0; i < cfg->ngamma; i++)
    for (int j = 0; j < cfg->ngamma_prime; j++, p++)
      plan->points[p] =
          (pd_point){cfg->gamma[i], cfg->gamma_prime[j], PD_SCHEME_GRID, ""};
  for (int k = 0; k < cfg->nschemes; k++, p++) {
    pd_point *pt = &plan->points[p];
    pt->scheme = cfg->schemes[k];
    snprintf(pt->label, sizeof pt->label, "%s",
             pd_scheme_name((pd_scheme_kind)pt->scheme));
    err = pd_scheme_coordinates((pd_scheme_kind)pt->scheme, d, &pt->gamma,
                                &pt->gamma_prime);
    if (err) {
      pd_plan_destroy(&plan);
      return pd_error_trace(err, __FILE__, __LINE__, __func__, "scheme");
    }
  }
  memcpy(plan->widths, cfg->widths, sizeof(int64_t) * (size_t)plan->W);
  memcpy(plan->seeds, cfg->seeds, sizeof(uint64_t) * (size_t)plan->S);
  for (int64_t t = 0; t < plan->ntasks; t++) plan->order[t] = t;
  pd_sort_plan = plan;
  qsort(plan->order, (size_t)plan->ntasks, sizeof(int64_t), pd_cmp_tasks);
  *out = plan;
  return PD_OK;
}

int pd_plan_scales(const pd_plan *plan, int p, int w, double base_scale,
                   pd_scales *scales) {
  const pd_point *pt = &plan->points[p];
  double m = (double)plan->widths[w];
  if (pt->scheme == PD_SCHEME_GRID)
    return pd_scales_grid(pt->gamma, pt->gamma_prime, m, base_scale, scales);
  return pd_scales_scheme((pd_scheme_kind)pt->scheme, m, plan->d, scales);
}

double pd_plan_work_per_step(const pd_plan *plan) {
  double w = 0;
  for (int i = 0; i < plan->W; i++) w += (double)plan->widths[i];
  return w * plan->P * plan->S * (double)plan->n;
}

int64_t pd_plan_max_width(const pd_plan *plan) {
  int64_t m = 0;
  for (int i = 0; i < plan->W; i++)
    if (plan->widths[i] > m) m = plan->widths[i];
  return m;
}

double pd_plan_max_bytes(const pd_plan *plan, int g) {
  const int64_t m = pd_plan_max_width(plan);
  /* whole blocks per rank: the largest shard has ceil(blocks / g) blocks */
  double blocks = (double)((m + PD_NET_BLOCK - 1) / PD_NET_BLOCK);
  double per_rank = ((double)(int64_t)((blocks + g - 1) / g)) * PD_NET_BLOCK;
  if (per_rank > (double)m) per_rank = (double)m;
  return per_rank * pd_net_bytes_per_neuron(plan->dnet, plan->dnet < plan->d);
}
