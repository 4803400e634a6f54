#include "phasediag/obs_theory.h"

#include <stdio.h>
#include <string.h>

#include "phasediag/error.h"

int64_t pd_obs_theory_block(const pd_layout *L) {
  return L->ntk ? PD_TH_LEN(L->top, L->S, L->ntest) : 0;
}

void pd_obs_theory_fields(const pd_layout *L, pd_field *f, int *n) {
  if (!L->ntk) return;
  const int64_t o = L->theory, T = L->top, S = L->S;
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
               "residual f - y along the closed-form eigenvectors (largest "
               "eigenvalue first) per snapshot");
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

int pd_obs_theory_create(pd_net *net, const pd_config *cfg, const pd_data *data,
                         const pd_data *test, const pd_layout *L,
                         pd_theory **th) {
  pd_theory_options to;
  pd_theory_options_default(&to);
  to.top = (int)L->top;
  to.ridge = cfg->ntk_ridge;
  to.lfp = cfg->ntk_lfp;
  PD_CALL(pd_theory_create(net, data, test, &to, th));
  return PD_OK;
}

int pd_obs_theory_observe(pd_theory *th, const pd_layout *L, const double *f,
                          double t, int64_t row, double *block) {
  const int64_t T = L->top, S = L->S;
  PD_CALL(pd_theory_observe(th, f, t, block + PD_TH_PROJ(T) + row * T,
                            block + PD_TH_PROJ_LIN(T, S) + row * T,
                            block + PD_TH_LOSS_LIN(T, S) + row));
  return PD_OK;
}

int pd_obs_theory_finish(pd_theory *th, pd_net *net, const pd_layout *L,
                         double *block) {
  pd_theory_summary s;
  PD_CALL(pd_theory_finish(th, net, &s));
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

void pd_obs_theory_progress(const double *block, char *buf, size_t size) {
  snprintf(buf, size,
           "NTK: |emp - closed| %.3g (t=0), kernel change %.3g, "
           "linearity error %.3g (train) %.3g (test)",
           block[PD_TH_DIST0], block[PD_TH_CHANGE], block[PD_TH_LIN_TRAIN],
           block[PD_TH_LIN_TEST]);
}
