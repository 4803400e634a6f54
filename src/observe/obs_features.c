#include "phasediag/observe/obs_features.h"

#include <math.h>
#include <stdlib.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

/* Inside the block: F = L->F */
enum { PD_FE_COND0, PD_FE_COND1, PD_FE_COUNT, PD_FE_HEAD };
#define PD_FE_PART(F, k) \
  (PD_FE_HEAD + (k) * (F)) /* k: orient0 amp0 orient1 amp1 */

/* amplitude order, heaviest first; ties by index for determinism */
static const double *pd_sort_amp;
static int pd_cmp_amp(const void *x, const void *y) {
  int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
  if (pd_sort_amp[i] != pd_sort_amp[j])
    return pd_sort_amp[i] > pd_sort_amp[j] ? -1 : 1;
  return i < j ? -1 : i > j;
}

int pd_condensation(int64_t F, int d, const double *a, const double *w,
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

/* The neurons sampled: F = min(feature_cap, m). */
static int64_t pd_fe_count(const pd_obs_run *run) {
  const int64_t m = pd_net_get_config(run->net)->m;
  return run->L->F < m ? run->L->F : m;
}

/* The features of the current parameters into the block: orientation and
 * amplitude into parts k and k + 1, the measure into *measure. */
static int pd_fe_take(const pd_obs_run *run, double *block, int k,
                      double *measure) {
  const int64_t F = pd_fe_count(run), Fcap = run->L->F;
  const int d1 = pd_net_input_dim(run->net) + 1;
  double *a = NULL, *w = NULL;
  int err = pd_calloc((size_t)F, sizeof(double), &a);
  if (!err) err = pd_calloc((size_t)F * (size_t)d1, sizeof(double), &w);
  PD_COLLECTIVE(pd_net_comm(run->net), err);
  err = pd_net_sample(run->net, F, a, w);
  if (!err)
    err = pd_condensation(F, d1 - 1, a, w, run->cfg->cos_threshold,
                          block + PD_FE_PART(Fcap, k),
                          block + PD_FE_PART(Fcap, k + 1), measure);
  pd_free(&a);
  pd_free(&w);
  return err;
}

static int64_t pd_fe_place(pd_layout *L) { return PD_FE_HEAD + 4 * L->F; }

static void pd_fe_fields(const pd_layout *L, int64_t off, pd_field *f, int *n) {
  const int64_t F = L->F;
  pd_field_set(&f[(*n)++], "/features/condensation0", 0, 0, 0,
               off + PD_FE_COND0, 0,
               "effective number of neuron directions at t = 0 (see "
               "condensation1)");
  pd_field_set(&f[(*n)++], "/features/condensation1", 0, 0, 0,
               off + PD_FE_COND1, 0,
               "effective number of neuron directions, (sum A)^2 / sum "
               "A_c^2 over clusters with cosine >= cos_threshold; 0 = "
               "initial, 1 = at t*");
  pd_field_set(&f[(*n)++], "/features/count", 0, 0, 0, off + PD_FE_COUNT, 1,
               "neurons sampled: min(feature_cap, m)");
  static const char *const part[4][2] = {
      {"/features/orientation0",
       "orientation of each sampled neuron at t = 0: atan2(b, w) (d = 1), "
       "else the angle to the heaviest cluster's direction"},
      {"/features/amplitude0", "|a_k| |(w_k, b_k)| at t = 0"},
      {"/features/orientation1", "orientation at t* (see orientation0)"},
      {"/features/amplitude1", "|a_k| |(w_k, b_k)| at t*"}};
  for (int k = 0; k < 4; k++)
    pd_field_set(&f[(*n)++], part[k][0], 1, F, 0, off + PD_FE_PART(F, k), 0,
                 part[k][1]);
}

static int pd_fe_create(const pd_obs_run *run, double *block, void **state) {
  (void)state;
  block[PD_FE_COUNT] = (double)pd_fe_count(run);
  PD_CALL(pd_fe_take(run, block, 0, &block[PD_FE_COND0]));
  return PD_OK;
}

static int pd_fe_finish(void *state, const pd_obs_run *run, double *block) {
  (void)state;
  PD_CALL(pd_fe_take(run, block, 2, &block[PD_FE_COND1]));
  return PD_OK;
}

const pd_observer_type pd_obs_features_type = {.name = "features",
                                               .place = pd_fe_place,
                                               .fields = pd_fe_fields,
                                               .create = pd_fe_create,
                                               .finish = pd_fe_finish};
