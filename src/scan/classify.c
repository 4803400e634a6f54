#include "phasediag/scan/classify.h"

#include <math.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/fit.h"
#include "phasediag/scan/task.h"
#include "phasediag/train/train.h"

void pd_phase_destroy(pd_phase **pphase) {
  pd_phase *ph = *pphase;
  if (!ph) return;
  pd_free(&ph->slope);
  pd_free(&ph->stderr_slope);
  pd_free(&ph->boundary_distance);
  pd_free(&ph->regime);
  pd_free(&ph->theory);
  pd_free(&ph->agree);
  pd_free(&ph->used);
  pd_free(pphase);
}

int pd_classify(const pd_plan *plan, const pd_config *cfg, int64_t len,
                const double *results, pd_phase **out) {
  *out = NULL;
  const int P = plan->P, WS = plan->W * plan->S;
  pd_phase *ph = NULL;
  double *x = NULL, *y = NULL;
  int err = pd_calloc(1, sizeof *ph, &ph);
  if (!err) {
    ph->P = P;
    err = pd_calloc((size_t)P, sizeof(double), &ph->slope);
  }
  if (!err) err = pd_calloc((size_t)P, sizeof(double), &ph->stderr_slope);
  if (!err) err = pd_calloc((size_t)P, sizeof(double), &ph->boundary_distance);
  if (!err) err = pd_calloc((size_t)P, sizeof(int8_t), &ph->regime);
  if (!err) err = pd_calloc((size_t)P, sizeof(int8_t), &ph->theory);
  if (!err) err = pd_calloc((size_t)P, sizeof(int8_t), &ph->agree);
  if (!err) err = pd_calloc((size_t)P, sizeof(int64_t), &ph->used);
  if (!err) err = pd_calloc((size_t)WS, sizeof(double), &x);
  if (!err) err = pd_calloc((size_t)WS, sizeof(double), &y);
  if (err) {
    pd_phase_destroy(&ph);
    pd_free(&x);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "alloc");
  }
  for (int p = 0; p < P; p++) {
    int k = 0;
    for (int w = 0; w < plan->W; w++)
      for (int s = 0; s < plan->S; s++) {
        const double *rec =
            results + ((int64_t)(p * plan->W + w) * plan->S + s) * len;
        if (rec[PD_R_STATUS] != PD_STATUS_CONVERGED || !(rec[PD_R_RDW] > 0))
          continue;
        x[k] = log((double)plan->widths[w]);
        y[k] = log(rec[PD_R_RDW]);
        k++;
      }
    ph->used[p] = k;
    if (pd_fit_slope(x, y, k, &ph->slope[p], &ph->stderr_slope[p]) != PD_OK)
      pd_error_clear(); /* too few runs: undetermined, not an error */
    const pd_point *pt = &plan->points[p];
    ph->regime[p] = (int8_t)pd_fit_regime(ph->slope[p], cfg->band);
    ph->theory[p] = (int8_t)pd_theory_regime(pt->gamma, pt->gamma_prime);
    ph->agree[p] = ph->regime[p] == ph->theory[p];
    ph->boundary_distance[p] =
        pd_theory_boundary_distance(pt->gamma, pt->gamma_prime);
  }
  pd_free(&x);
  pd_free(&y);
  *out = ph;
  return PD_OK;
}

void pd_phase_print(FILE *out, const pd_plan *plan, const pd_phase *ph) {
  fprintf(out, "%8s %8s  %-10s %17s  %-12s %-12s %s\n", "gamma", "gamma'",
          "label", "slope +- stderr", "regime", "theory", "agree");
  int agree = 0, far = 0, far_agree = 0;
  for (int p = 0; p < ph->P; p++) {
    const pd_point *pt = &plan->points[p];
    fprintf(out, "%8.4g %8.4g  %-10s %+8.3f +- %6.3f  %-12s %-12s %s\n",
            pt->gamma, pt->gamma_prime, pt->label[0] ? pt->label : "-",
            ph->slope[p], ph->stderr_slope[p], pd_regime_name(ph->regime[p]),
            pd_regime_name(ph->theory[p]), ph->agree[p] ? "yes" : "NO");
    agree += ph->agree[p];
    if (ph->boundary_distance[p] >= 0.15) {
      far++;
      far_agree += ph->agree[p];
    }
  }
  fprintf(out,
          "%d of %d points agree with the theorem; %d of the %d points at "
          "least 0.15 from the boundary\n",
          agree, ph->P, far_agree, far);
}
