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
  double **d[] = {&ph->slope,        &ph->stderr_slope,     &ph->slope_tstar,
                  &ph->stderr_tstar, &ph->slope_matched,    &ph->stderr_matched,
                  &ph->loss_ref,     &ph->boundary_distance};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) pd_free(d[i]);
  pd_free(&ph->regime);
  pd_free(&ph->theory);
  pd_free(&ph->agree);
  pd_free(&ph->decided);
  pd_free(&ph->used);
  pd_free(pphase);
}

static int pd_phase_alloc(int P, pd_phase **out) {
  pd_phase *ph = NULL;
  PD_CALL(pd_calloc(1, sizeof *ph, &ph));
  ph->P = P;
  double **d[] = {&ph->slope,        &ph->stderr_slope,     &ph->slope_tstar,
                  &ph->stderr_tstar, &ph->slope_matched,    &ph->stderr_matched,
                  &ph->loss_ref,     &ph->boundary_distance};
  int err = PD_OK;
  for (size_t i = 0; i < sizeof d / sizeof d[0] && !err; i++)
    err = pd_calloc((size_t)P, sizeof(double), d[i]);
  int8_t **c[] = {&ph->regime, &ph->theory, &ph->agree, &ph->decided};
  for (size_t i = 0; i < sizeof c / sizeof c[0] && !err; i++)
    err = pd_calloc((size_t)P, sizeof(int8_t), c[i]);
  if (!err) err = pd_calloc((size_t)P, sizeof(int64_t), &ph->used);
  if (err) pd_phase_destroy(&ph);
  PD_CALL(err);
  *out = ph;
  return PD_OK;
}

/* The least-squares slope of y against x (k points) into *slope, *se;
 * NaN with too few distinct widths (not an error). */
static void pd_phase_fit(const double *x, const double *y, int64_t k,
                         double *slope, double *se) {
  *slope = *se = NAN;
  if (pd_fit_slope(x, y, k, slope, se) != PD_OK) {
    pd_error_clear();
    *slope = *se = NAN;
  }
}

#define PD_CLASSIFY_RUNS 4096 /* widths x seeds of one point, at most */

/* The highest ladder level a record reached (-1: none). */
static int64_t pd_ladder_reached(const pd_layout *L, const double *rec) {
  int64_t k = PD_LADDER_LEVELS - 1;
  while (k >= 0 && !isfinite(rec[L->ladder + k])) k--;
  return k;
}

/* Point p: both fits, the deciding one, the regimes. */
static void pd_classify_point(const pd_plan *plan, const pd_config *cfg,
                              const pd_layout *L, const double *results, int p,
                              double *x, double *y, pd_phase *ph) {
  const double *recs[PD_CLASSIFY_RUNS];
  double lw[PD_CLASSIFY_RUNS]; /* log width of each */
  int64_t nrun = 0, k = 0, kt = 0;
  int all_converged = 1;
  int64_t kref = PD_LADDER_LEVELS - 1;
  for (int w = 0; w < plan->W; w++)
    for (int s = 0; s < plan->S; s++) {
      const double *rec =
          results + ((int64_t)(p * plan->W + w) * plan->S + s) * L->len;
      const int st = (int)rec[PD_R_STATUS];
      if (st == PD_STATUS_NOT_RUN) {
        all_converged = 0;
        continue;
      }
      all_converged &= st == PD_STATUS_CONVERGED;
      if (st == PD_STATUS_CONVERGED && rec[PD_R_RDW] > 0) {
        x[kt] = log((double)plan->widths[w]);
        y[kt] = log(rec[PD_R_RDW]);
        kt++;
      }
      if (st == PD_STATUS_DIVERGED) continue;
      const int64_t r = pd_ladder_reached(L, rec);
      if (r < kref) kref = r;
      lw[nrun] = log((double)plan->widths[w]);
      recs[nrun++] = rec;
    }
  pd_phase_fit(x, y, kt, &ph->slope_tstar[p], &ph->stderr_tstar[p]);
  /* matched loss: rd_w at the lowest level every finished run reached */
  ph->loss_ref[p] = nrun > 0 && kref >= 0 ? pd_ladder_level((int)kref) : NAN;
  for (int64_t i = 0; nrun > 0 && kref >= 0 && i < nrun; i++) {
    const double rd = recs[i][L->ladder + PD_LADDER_LEVELS + kref];
    if (!(rd > 0)) continue;
    x[k] = lw[i];
    y[k] = log(rd);
    k++;
  }
  pd_phase_fit(x, y, k, &ph->slope_matched[p], &ph->stderr_matched[p]);
  const int by_tstar = all_converged && kt > 0;
  ph->decided[p] = by_tstar                         ? PD_DECIDED_TSTAR
                   : isfinite(ph->slope_matched[p]) ? PD_DECIDED_MATCHED
                                                    : PD_DECIDED_NONE;
  ph->slope[p] = by_tstar ? ph->slope_tstar[p] : ph->slope_matched[p];
  ph->stderr_slope[p] = by_tstar ? ph->stderr_tstar[p] : ph->stderr_matched[p];
  ph->used[p] = by_tstar ? kt : k;
  const pd_point *pt = &plan->points[p];
  ph->regime[p] = (int8_t)pd_fit_regime(ph->slope[p], cfg->band);
  ph->theory[p] = (int8_t)pd_theory_regime(pt->gamma, pt->gamma_prime);
  /* a point without a slope has no verdict, not a disagreement */
  ph->agree[p] = ph->regime[p] == PD_REGIME_UNDETERMINED
                     ? -1
                     : ph->regime[p] == ph->theory[p];
  ph->boundary_distance[p] =
      pd_theory_boundary_distance(pt->gamma, pt->gamma_prime);
}

int pd_classify(const pd_plan *plan, const pd_config *cfg, const pd_layout *L,
                const double *results, pd_phase **out) {
  *out = NULL;
  const int P = plan->P, WS = plan->W * plan->S;
  PD_CHECK(WS <= PD_CLASSIFY_RUNS, PD_ERR_ARG,
           "%d runs per point (widths x seeds; at most %d)", WS,
           PD_CLASSIFY_RUNS);
  pd_phase *ph = NULL;
  double *x = NULL, *y = NULL;
  int err = pd_phase_alloc(P, &ph);
  if (!err) err = pd_calloc((size_t)WS, sizeof(double), &x);
  if (!err) err = pd_calloc((size_t)WS, sizeof(double), &y);
  if (err) {
    pd_phase_destroy(&ph);
    pd_free(&x);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "alloc");
  }
  for (int p = 0; p < P; p++)
    pd_classify_point(plan, cfg, L, results, p, x, y, ph);
  pd_free(&x);
  pd_free(&y);
  *out = ph;
  return PD_OK;
}

void pd_phase_print(FILE *out, const pd_plan *plan, const pd_phase *ph) {
  if (plan->W < 2) { /* no slope can exist: no table of verdicts */
    fprintf(out,
            "no phase classification: this job trains one width per point "
            "(the slope of log RD against log m needs at least two widths)\n");
    return;
  }
  fprintf(out, "%8s %8s  %-10s %17s  %-12s %-12s %-5s  %s\n", "gamma", "gamma'",
          "label", "slope +- stderr", "regime", "theory", "agree", "from");
  int agree = 0, far = 0, far_agree = 0, classified = 0, far_classified = 0;
  for (int p = 0; p < ph->P; p++) {
    const pd_point *pt = &plan->points[p];
    char from[32] = "-";
    if (ph->decided[p] == PD_DECIDED_TSTAR)
      snprintf(from, sizeof from, "t*");
    else if (ph->decided[p] == PD_DECIDED_MATCHED)
      snprintf(from, sizeof from, "loss %.2g", ph->loss_ref[p]);
    fprintf(out, "%8.4g %8.4g  %-10s %+8.3f +- %6.3f  %-12s %-12s %-5s  %s\n",
            pt->gamma, pt->gamma_prime, pt->label[0] ? pt->label : "-",
            ph->slope[p], ph->stderr_slope[p], pd_regime_name(ph->regime[p]),
            pd_regime_name(ph->theory[p]),
            ph->agree[p] < 0 ? "-"
            : ph->agree[p]   ? "yes"
                             : "NO",
            from);
    const int verdict = ph->agree[p] >= 0, yes = ph->agree[p] == 1;
    classified += verdict;
    agree += yes;
    if (ph->boundary_distance[p] >= 0.15) {
      far++;
      far_classified += verdict;
      far_agree += yes;
    }
  }
  if (classified == ph->P)
    fprintf(out,
            "%d of %d points agree with the theorem; %d of the %d points at "
            "least 0.15 from the boundary\n",
            agree, ph->P, far_agree, far);
  else
    fprintf(out,
            "%d of %d classified points agree with the theorem; %d of the "
            "%d classified points at least 0.15 from the boundary; %d of %d "
            "points not classified (no slope: runs at fewer than two widths "
            "reached a common loss)\n",
            agree, classified, far_agree, far_classified, ph->P - classified,
            ph->P);
}
