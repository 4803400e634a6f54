#include "phasediag/observe/obs_theory.h"

#include <stdio.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/observe/theory.h"

enum {
  PD_TH_DIST0 = 0,
  PD_TH_DIST1,
  PD_TH_CHANGE,
  PD_TH_LIN_TRAIN,
  PD_TH_LIN_TEST,
  PD_TH_LFP,
  PD_TH_SPLINE,
  PD_TH_PWL,
  PD_TH_XI_C,
  PD_TH_HEAD = 12
};
/* The arrays after the scalars, for T components, S snapshot rows and M
 * test points. */
#define PD_TH_EIG(T) PD_TH_HEAD                              /* [3][T] */
#define PD_TH_PROJ(T) (PD_TH_HEAD + 3 * (T))                 /* [S][T] */
#define PD_TH_PROJ_LIN(T, S) (PD_TH_PROJ(T) + (S) * (T))     /* [S][T] */
#define PD_TH_LOSS_LIN(T, S) (PD_TH_PROJ(T) + 2 * (S) * (T)) /* [S] */
#define PD_TH_CURVES(T, S) (PD_TH_LOSS_LIN(T, S) + (S))      /* [4][M] */
#define PD_TH_LEN(T, S, M) (PD_TH_CURVES(T, S) + 4 * (M))

static int pd_ot_setup(pd_layout *L, const pd_config *cfg, const pd_data *data,
                       const pd_data *test, int *snapshots) {
  (void)test;
  L->ntk = cfg->ntk;
  L->top = cfg->ntk ? (cfg->ntk_top < data->n ? cfg->ntk_top : data->n) : 0;
  *snapshots = L->ntk;
  return PD_OK;
}

static int64_t pd_ot_place(pd_layout *L) {
  return L->ntk ? PD_TH_LEN(L->top, L->S, L->ntest) : 0;
}

static void pd_ot_fields(const pd_layout *L, int64_t o, pd_field *f, int *n) {
  const int64_t T = L->top, S = L->S;
  static const struct {
    const char *name;
    int off;
    const char *what;
  } sc[] = {
      {"/ntk/dist0", PD_TH_DIST0, "|Theta(0) - Theta_inf|_F / |Theta_inf|_F"},
      {"/ntk/dist1", PD_TH_DIST1, "|Theta(t*) - Theta_inf|_F / |Theta_inf|_F"},
      {"/ntk/kernel_change", PD_TH_CHANGE,
       "|Theta(t*) - Theta(0)|_F / |Theta(0)|_F"},
      {"/ntk/linearity_error_train", PD_TH_LIN_TRAIN,
       "|f_net - f_lin| / |f_lin| at the training points"},
      {"/ntk/linearity_error_test", PD_TH_LIN_TEST,
       "|f_net - f_lin| / |f_lin| at the test points"},
      {"/ntk/lfp_error", PD_TH_LFP,
       "|f_net - h_lfp| / |h_lfp| at the test points (1-D)"},
      {"/ntk/spline_error", PD_TH_SPLINE,
       "|f_net - spline| / |spline| at the test points (1-D)"},
      {"/ntk/pwl_error", PD_TH_PWL,
       "|f_net - piecewise linear| / |piecewise linear| (1-D)"},
      {"/ntk/lfp_crossover", PD_TH_XI_C,
       "xi_c = sqrt(g4 / g2): spline below, piecewise linear above"}};
  for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++)
    pd_field_set(&f[(*n)++], sc[i].name, 0, 0, 0, o + sc[i].off, 0, sc[i].what);
  pd_field_set(&f[(*n)++], "/ntk/eigenvalues_closed", 1, T, 0, o + PD_TH_EIG(T),
               0,
               "largest eigenvalues of the infinite-width kernel, "
               "descending");
  pd_field_set(&f[(*n)++], "/ntk/eigenvalues_t0", 1, T, 0, o + PD_TH_EIG(T) + T,
               0, "largest eigenvalues of the empirical NTK at t = 0");
  pd_field_set(&f[(*n)++], "/ntk/eigenvalues_tstar", 1, T, 0,
               o + PD_TH_EIG(T) + 2 * T, 0,
               "largest eigenvalues of the empirical NTK at t*");
  pd_field_set(&f[(*n)++], "/ntk/projection", 2, S, T, o + PD_TH_PROJ(T), 0,
               "residual f - y along the infinite-width kernel's "
               "eigenvectors (largest eigenvalue first) per snapshot");
  pd_field_set(&f[(*n)++], "/ntk/projection_linear", 2, S, T,
               o + PD_TH_PROJ_LIN(T, S), 0,
               "the linear theory's prediction of /ntk/projection");
  pd_field_set(&f[(*n)++], "/ntk/loss_linear", 1, S, 0,
               o + PD_TH_LOSS_LIN(T, S), 0,
               "the linearized loss at each snapshot's flow time");
  if (L->ntest > 0) {
    const int64_t c = o + PD_TH_CURVES(T, S), M = L->ntest;
    pd_field_set(&f[(*n)++], "/ntk/test_prediction", 1, M, 0, c, 0,
                 "kernel regression with Theta_inf at the test points");
    pd_field_set(&f[(*n)++], "/ntk/test_lfp", 1, M, 0, c + M, 0,
                 "LFP minimizer at the test points (1-D)");
    pd_field_set(&f[(*n)++], "/ntk/test_spline", 1, M, 0, c + 2 * M, 0,
                 "natural cubic spline through the training points");
    pd_field_set(&f[(*n)++], "/ntk/test_pwl", 1, M, 0, c + 3 * M, 0,
                 "piecewise-linear interpolant of the training points");
  }
}

static int pd_ot_create(const pd_obs_run *run, double *block, void **state) {
  (void)block;
  pd_theory_options to;
  pd_theory_options_default(&to);
  to.top = (int)run->L->top;
  to.ridge = run->cfg->ntk_ridge;
  to.lfp = run->cfg->ntk_lfp;
  PD_CALL(pd_theory_create(run->net, run->data, run->test, &to,
                           (pd_theory **)state));
  return PD_OK;
}

static int pd_ot_observe(void *state, const pd_obs_run *run,
                         const pd_obs_snapshot *s, double *block) {
  const int64_t T = run->L->top, S = run->L->S, row = s->row;
  PD_CALL(pd_theory_observe(state, s->f, s->t, block + PD_TH_PROJ(T) + row * T,
                            block + PD_TH_PROJ_LIN(T, S) + row * T,
                            block + PD_TH_LOSS_LIN(T, S) + row));
  return PD_OK;
}

static int pd_ot_finish(void *state, const pd_obs_run *run, double *block) {
  pd_theory *th = state;
  const pd_layout *L = run->L;
  pd_theory_summary s;
  PD_CALL(pd_theory_finish(th, run->net, &s));
  double *o = block;
  o[PD_TH_DIST0] = s.dist0;
  o[PD_TH_DIST1] = s.dist1;
  o[PD_TH_CHANGE] = s.kernel_change;
  o[PD_TH_LIN_TRAIN] = s.lin_err_train;
  o[PD_TH_LIN_TEST] = s.lin_err_test;
  o[PD_TH_LFP] = s.lfp_err;
  o[PD_TH_SPLINE] = s.spline_err;
  o[PD_TH_PWL] = s.pwl_err;
  o[PD_TH_XI_C] = s.lfp_xi_c;
  const int64_t T = L->top, S = L->S, M = L->ntest;
  for (int w = 0; w < 3; w++)
    PD_CALL(pd_theory_eigenvalues(th, w, o + PD_TH_EIG(T) + w * T));
  if (M > 0) {
    double *c = o + PD_TH_CURVES(T, S);
    PD_CALL(pd_theory_test_curves(th, c, NULL, c + M, c + 2 * M, c + 3 * M));
  }
  return PD_OK;
}

static int pd_ot_destroy(void **state) {
  pd_theory *th = *state;
  *state = NULL;
  PD_CALL(pd_theory_destroy(&th));
  return PD_OK;
}

static void pd_ot_progress(const pd_layout *L, const double *block, char *buf,
                           size_t size) {
  (void)L;
  snprintf(buf, size,
           "NTK: |emp - inf| %.3g (t=0), kernel change %.3g, "
           "linearity error %.3g (train) %.3g (test)",
           block[PD_TH_DIST0], block[PD_TH_CHANGE], block[PD_TH_LIN_TRAIN],
           block[PD_TH_LIN_TEST]);
}

const pd_observer_type pd_obs_theory_type = {.name = "theory",
                                             .setup = pd_ot_setup,
                                             .place = pd_ot_place,
                                             .fields = pd_ot_fields,
                                             .create = pd_ot_create,
                                             .observe = pd_ot_observe,
                                             .finish = pd_ot_finish,
                                             .destroy = pd_ot_destroy,
                                             .progress = pd_ot_progress};
