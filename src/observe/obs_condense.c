#include "phasediag/observe/obs_condense.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

enum {
  PD_CD_XMAX,     /* max_i |(x_i, 1)| over the training points */
  PD_CD_INIT_ROW, /* the last snapshot row of the initial stage */
  PD_CD_INIT_CL,  /* its cluster count */
  PD_CD_MIN_ROW,  /* the first row of the fewest clusters in the stage */
  PD_CD_MIN_CL,   /* that count */
  PD_CD_ENDED,    /* 1 once a row left the initial stage */
  PD_CD_COUNT,    /* neurons clustered, F */
  PD_CD_MCOUNT,   /* neurons of the matrices, M */
  PD_CD_HEAD = 12
};
/* the parts after the head, S rows, M matrix neurons */
#define PD_CD_ROWS(S, k) (PD_CD_HEAD + (k) * (S)) /* clusters, eff, sig, z */
#define PD_CD_COS(S, M, k) (PD_CD_HEAD + 4 * (S) + (k) * (M) * (M))
#define PD_CD_AMP(S, M, k) (PD_CD_COS(S, M, 3) + (k) * (M))
#define PD_CD_LEN(S, M) PD_CD_AMP(S, M, 3)

/* amplitude order, heaviest first; ties by index, so that the clusters do
 * not depend on qsort's order among equals */
typedef struct {
  double amp;
  int64_t k;
} pd_cd_item;
static int pd_cd_cmp(const void *x, const void *y) {
  const pd_cd_item *p = x, *q = y;
  if (p->amp != q->amp) return p->amp > q->amp ? -1 : 1;
  return p->k < q->k ? -1 : p->k > q->k;
}

/* |v| of d1 numbers, summed in order */
static double pd_cd_norm(int d1, const double *v) {
  double s = 0;
  for (int j = 0; j < d1; j++) s += v[j] * v[j];
  return sqrt(s);
}

int pd_orientation_clusters(int64_t F, int d, const double *a, const double *w,
                            double cos_threshold, double amp_cut,
                            int64_t *clusters, int64_t *significant,
                            double *effective) {
  const int d1 = d + 1;
  *clusters = 0;
  *significant = 0;
  *effective = NAN;
  if (F <= 0) return PD_OK;
  pd_cd_item *it = NULL;
  double *u = NULL, *mass = NULL;
  int64_t *leader = NULL;
  int err = pd_calloc((size_t)F, sizeof *it, &it);
  if (!err) err = pd_calloc((size_t)F * (size_t)d1, sizeof *u, &u);
  if (!err) err = pd_calloc((size_t)F, sizeof *mass, &mass);
  if (!err) err = pd_calloc((size_t)F, sizeof *leader, &leader);
  if (err) goto done;
  double top = 0;
  for (int64_t k = 0; k < F; k++) {
    const double nw = pd_cd_norm(d1, w + k * d1);
    it[k].amp = fabs(a[k]) * nw;
    it[k].k = k;
    for (int j = 0; j < d1; j++)
      u[k * d1 + j] = nw > 0 ? w[k * d1 + j] / nw : 0;
    if (it[k].amp > top) top = it[k].amp;
  }
  if (!(top > 0)) goto done; /* no neuron carries anything (or NaN) */
  qsort(it, (size_t)F, sizeof *it, pd_cd_cmp);
  const double cut = amp_cut * top;
  int64_t nc = 0, ns = 0;
  double total = 0;
  for (int64_t r = 0; r < F && it[r].amp >= cut; r++) {
    const double *uk = u + it[r].k * d1;
    int64_t c = 0;
    for (; c < nc; c++) {
      const double *v = u + leader[c] * d1;
      double cs = 0;
      for (int j = 0; j < d1; j++) cs += uk[j] * v[j];
      if (cs >= cos_threshold) break;
    }
    if (c == nc) leader[nc++] = it[r].k;
    mass[c] += it[r].amp;
    total += it[r].amp;
    ns++;
  }
  double sq = 0;
  for (int64_t c = 0; c < nc; c++) sq += mass[c] * mass[c];
  *clusters = nc;
  *significant = ns;
  *effective = sq > 0 ? total * total / sq : NAN;
done:
  pd_free(&it);
  pd_free(&u);
  pd_free(&mass);
  pd_free(&leader);
  return err;
}

void pd_cosine_matrix(int64_t M, int d, const double *a, const double *w,
                      double *C, double *amp) {
  const int d1 = d + 1;
  for (int64_t i = 0; i < M; i++) {
    const double ni = pd_cd_norm(d1, w + i * d1);
    amp[i] = fabs(a[i]) * ni;
    for (int64_t j = 0; j < M; j++) {
      const double nj = pd_cd_norm(d1, w + j * d1);
      double s = 0;
      for (int q = 0; q < d1; q++) s += w[i * d1 + q] * w[j * d1 + q];
      C[i * M + j] = ni > 0 && nj > 0 ? s / (ni * nj) : 0;
    }
  }
}

/* F and M of this run: the caps, or the width if it is smaller */
static int64_t pd_cd_min(int64_t cap, const pd_obs_run *run) {
  const int64_t m = pd_net_get_config(run->net)->m;
  return cap < m ? cap : m;
}

/* Collective: n sampled neurons of the current parameters. */
static int pd_cd_sample(const pd_obs_run *run, int64_t n, double **a,
                        double **w) {
  const int d1 = pd_net_input_dim(run->net) + 1;
  int err = pd_calloc((size_t)n, sizeof(double), a);
  if (!err) err = pd_calloc((size_t)n * (size_t)d1, sizeof(double), w);
  PD_COLLECTIVE(pd_net_comm(run->net), err);
  PD_CALL(pd_net_sample(run->net, n, *a, *w));
  return PD_OK;
}

/* Collective: the cosine matrix k (0: t = 0, 1: initial stage, 2: end). */
static int pd_cd_matrix(const pd_obs_run *run, double *block, int k) {
  const int64_t S = run->L->S, Mc = run->L->C, M = pd_cd_min(Mc, run);
  double *a = NULL, *w = NULL;
  int err = pd_cd_sample(run, M, &a, &w);
  if (!err)
    pd_cosine_matrix(M, pd_net_input_dim(run->net), a, w,
                     block + PD_CD_COS(S, Mc, k), block + PD_CD_AMP(S, Mc, k));
  pd_free(&a);
  pd_free(&w);
  return err;
}

static int pd_cd_setup(pd_layout *L, const pd_config *cfg, const pd_data *data,
                       const pd_data *test, int *snapshots) {
  (void)data;
  (void)test;
  L->C = cfg->feature_track ? cfg->feature_matrix : 0;
  *snapshots = cfg->feature_track != 0;
  return PD_OK;
}

static int64_t pd_cd_place(pd_layout *L) {
  return L->C > 0 && L->S > 0 ? PD_CD_LEN(L->S, L->C) : 0;
}

static void pd_cd_fields(const pd_layout *L, int64_t off, pd_field *f, int *n) {
  const int64_t S = L->S, M = L->C;
  pd_field_set(&f[(*n)++], "/condensation/clusters", 1, S, 0,
               off + PD_CD_ROWS(S, 0), 1,
               "orientation clusters of the significant sampled neurons at "
               "each snapshot: greedy, heaviest first, signed cosine >= "
               "[features] cos_threshold to a cluster's leader (u and -u "
               "are two clusters); -1: not reached");
  pd_field_set(&f[(*n)++], "/condensation/significant", 1, S, 0,
               off + PD_CD_ROWS(S, 2), 1,
               "sampled neurons with |a_k| |(w_k, b_k)| >= [features] "
               "amp_cut times the largest, at each snapshot (the ones "
               "clustered)");
  pd_field_set(&f[(*n)++], "/condensation/effective", 1, S, 0,
               off + PD_CD_ROWS(S, 1), 0,
               "effective number of orientations of the significant "
               "neurons, (sum_c A_c)^2 / sum_c A_c^2, at each snapshot");
  pd_field_set(&f[(*n)++], "/condensation/preactivation", 1, S, 0,
               off + PD_CD_ROWS(S, 3), 0,
               "bound on the pre-activations of the sampled neurons, "
               "max_k |(w_k, b_k)| max_i |(x_i, 1)|, at each snapshot");
  pd_field_set(&f[(*n)++], "/condensation/initial_row", 0, 0, 0,
               off + PD_CD_INIT_ROW, 1,
               "the last snapshot row of the initial stage: the rows before "
               "preactivation first exceeds 1");
  pd_field_set(&f[(*n)++], "/condensation/initial_clusters", 0, 0, 0,
               off + PD_CD_INIT_CL, 1,
               "orientation clusters at initial_row (see clusters)");
  pd_field_set(&f[(*n)++], "/condensation/initial_min_row", 0, 0, 0,
               off + PD_CD_MIN_ROW, 1,
               "the first row of the initial stage with the fewest clusters");
  pd_field_set(&f[(*n)++], "/condensation/initial_min_clusters", 0, 0, 0,
               off + PD_CD_MIN_CL, 1,
               "the fewest orientation clusters in the initial stage");
  pd_field_set(&f[(*n)++], "/condensation/count", 0, 0, 0, off + PD_CD_COUNT, 1,
               "neurons sampled for the clusters: min([features] cap, m)");
  pd_field_set(&f[(*n)++], "/condensation/matrix_count", 0, 0, 0,
               off + PD_CD_MCOUNT, 1,
               "neurons of the cosine matrices: min([features] matrix, m), "
               "evenly spaced over the network");
  static const char *const mat[3][2] = {
      {"/condensation/cosine0",
       "cosine of the input-weight directions (w_i, b_i) / |(w_i, b_i)| "
       "of the matrix neurons at t = 0 (NaN past matrix_count)"},
      {"/condensation/cosine_initial",
       "cosine matrix (see cosine0) at initial_row"},
      {"/condensation/cosine1", "cosine matrix (see cosine0) at the end"}};
  static const char *const amp[3][2] = {
      {"/condensation/amplitude0",
       "|a_k| |(w_k, b_k)| of the matrix neurons at t = 0"},
      {"/condensation/amplitude_initial",
       "|a_k| |(w_k, b_k)| of the matrix neurons at initial_row"},
      {"/condensation/amplitude1",
       "|a_k| |(w_k, b_k)| of the matrix neurons at the end"}};
  for (int k = 0; k < 3; k++)
    pd_field_set(&f[(*n)++], mat[k][0], 2, M, M, off + PD_CD_COS(S, M, k), 0,
                 mat[k][1]);
  for (int k = 0; k < 3; k++)
    pd_field_set(&f[(*n)++], amp[k][0], 1, M, 0, off + PD_CD_AMP(S, M, k), 0,
                 amp[k][1]);
}

static int pd_cd_create(const pd_obs_run *run, double *block, void **state) {
  (void)state;
  const pd_data *x = run->data;
  double xmax = 0;
  for (int64_t i = 0; i < x->n; i++) {
    double s = 1; /* the bias input */
    for (int j = 0; j < x->d; j++) s += x->x[i * x->d + j] * x->x[i * x->d + j];
    if (s > xmax) xmax = s;
  }
  block[PD_CD_XMAX] = sqrt(xmax);
  block[PD_CD_COUNT] = (double)pd_cd_min(run->L->F, run);
  block[PD_CD_MCOUNT] = (double)pd_cd_min(run->L->C, run);
  block[PD_CD_ENDED] = 0;
  PD_CALL(pd_cd_matrix(run, block, 0));
  return PD_OK;
}

static int pd_cd_observe(void *state, const pd_obs_run *run,
                         const pd_obs_snapshot *s, double *block) {
  (void)state;
  const int64_t S = run->L->S, F = pd_cd_min(run->L->F, run), r = s->row;
  const int d1 = pd_net_input_dim(run->net) + 1;
  double *a = NULL, *w = NULL;
  int64_t nc = 0, ns = 0;
  double eff = NAN, wmax = 0;
  int err = pd_cd_sample(run, F, &a, &w);
  if (!err)
    err = pd_orientation_clusters(F, d1 - 1, a, w, run->cfg->cos_threshold,
                                  run->cfg->feature_amp_cut, &nc, &ns, &eff);
  for (int64_t k = 0; !err && k < F; k++) {
    const double nw = pd_cd_norm(d1, w + k * d1);
    if (!(nw <= wmax)) wmax = nw; /* NaN propagates */
  }
  pd_free(&a);
  pd_free(&w);
  PD_CALL(err);
  const double z = wmax * block[PD_CD_XMAX];
  block[PD_CD_ROWS(S, 0) + r] = (double)nc;
  block[PD_CD_ROWS(S, 1) + r] = eff;
  block[PD_CD_ROWS(S, 2) + r] = (double)ns;
  block[PD_CD_ROWS(S, 3) + r] = z;
  if (block[PD_CD_ENDED] != 0) return PD_OK;
  /* the stage ends at the first row whose weights leave the Taylor
   * regime (a NaN ends it too) */
  if (!(z <= PD_INITIAL_PREACTIVATION)) {
    block[PD_CD_ENDED] = 1;
    return PD_OK;
  }
  block[PD_CD_INIT_ROW] = (double)r;
  block[PD_CD_INIT_CL] = (double)nc;
  if (!(block[PD_CD_MIN_CL] <= (double)nc)) { /* NaN before the first row */
    block[PD_CD_MIN_ROW] = (double)r;
    block[PD_CD_MIN_CL] = (double)nc;
  }
  PD_CALL(pd_cd_matrix(run, block, 1));
  return PD_OK;
}

static int pd_cd_finish(void *state, const pd_obs_run *run, double *block) {
  (void)state;
  PD_CALL(pd_cd_matrix(run, block, 2));
  return PD_OK;
}

static void pd_cd_progress(const pd_layout *L, const double *block, char *buf,
                           size_t size) {
  const int64_t S = L->S;
  const double *cl = block + PD_CD_ROWS(S, 0);
  int64_t last = -1;
  for (int64_t r = 0; r < S; r++)
    if (isfinite(cl[r])) last = r;
  snprintf(buf, size,
           "orientation clusters: %.0f at t = 0; initial stage: %.0f at its "
           "end (snapshot %.0f), fewest %.0f (snapshot %.0f); %.0f at the "
           "end",
           cl[0], block[PD_CD_INIT_CL], block[PD_CD_INIT_ROW],
           block[PD_CD_MIN_CL], block[PD_CD_MIN_ROW],
           last >= 0 ? cl[last] : NAN);
}

const pd_observer_type pd_obs_condense_type = {.name = "condense",
                                               .setup = pd_cd_setup,
                                               .place = pd_cd_place,
                                               .fields = pd_cd_fields,
                                               .create = pd_cd_create,
                                               .observe = pd_cd_observe,
                                               .finish = pd_cd_finish,
                                               .progress = pd_cd_progress};
