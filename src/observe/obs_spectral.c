#include "phasediag/observe/obs_spectral.h"

#include <math.h>
#include <stdio.h>

#include "phasediag/base/error.h"
#include "phasediag/observe/obs_snapshots.h"
#include "phasediag/observe/spectral.h"

/* Inside the block: the verdict, then the spectral measures (spectral.h) */
enum { PD_SO_VERDICT, PD_SO_MEASURES };

static int pd_so_setup(pd_layout *L, const pd_config *cfg, const pd_data *data,
                       const pd_data *test, int *snapshots) {
  (void)test;
  PD_CALL(pd_spectral_layout_init(&L->sp, cfg, data->d));
  *snapshots = L->sp.methods != 0;
  return PD_OK;
}

static int64_t pd_so_place(pd_layout *L) {
  if (!L->sp.methods) return 0;
  pd_spectral_layout_place(&L->sp, L->S);
  return PD_SO_MEASURES + L->sp.len;
}

/* The fields of a peak block (dft or projection) under group g. */
static void pd_peak_fields(const pd_layout *L, const char *g, int64_t off,
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
}

static void pd_so_fields(const pd_layout *L, int64_t off, pd_field *f, int *n) {
  const int64_t S = L->S, D = L->sp.nd, N = L->sp.nsh;
  const int64_t sp = off + PD_SO_MEASURES;
  pd_field_set(&f[(*n)++], "/spectral/verdict", 0, 0, 0, off + PD_SO_VERDICT, 0,
               "Spearman rho of frequency against convergence step (grid "
               "shells if on, else dft, else projection peaks); above 0.5: "
               "low frequencies first");
  if (L->sp.methods & PD_SP_DFT)
    pd_peak_fields(L, "/spectral/dft", sp + L->sp.dft, f, n);
  if (L->sp.methods & PD_SP_PROJECTION)
    pd_peak_fields(L, "/spectral/projection", sp + L->sp.proj, f, n);
  if (L->sp.methods & PD_SP_FILTER) {
    const int64_t o = sp + L->sp.filt;
    pd_field_set(&f[(*n)++], "/spectral/filter/delta", 1, D, 0,
                 o + PD_FI_DELTA(D), 0, "filter width delta");
    pd_field_set(&f[(*n)++], "/spectral/filter/converged_step_low", 1, D, 0,
                 o + PD_FI_CONV_LOW(D), 0,
                 "first snapshot step with e_low < delta_tol");
    pd_field_set(&f[(*n)++], "/spectral/filter/converged_step_high", 1, D, 0,
                 o + PD_FI_CONV_HIGH(D), 0,
                 "first snapshot step with e_high < delta_tol");
    pd_field_set(&f[(*n)++], "/spectral/filter/e_low", 2, S, D,
                 o + PD_FI_LOW(D), 0,
                 "|y_low - h_low| / |y_low| per snapshot and delta");
    pd_field_set(&f[(*n)++], "/spectral/filter/e_high", 2, S, D,
                 o + PD_FI_LOW(D) + S * D, 0,
                 "|y_high - h_high| / |y_high| per snapshot and delta");
  }
  if (L->sp.methods & PD_SP_GRID) {
    const int64_t o = sp + L->sp.grid;
    pd_field_set(&f[(*n)++], "/spectral/grid/target_power", 1, N, 0,
                 o + PD_GR_POWER(N), 0,
                 "sum of |Y(k)|^2 over the shell round(|k|) = s");
    pd_field_set(&f[(*n)++], "/spectral/grid/converged_step", 1, N, 0,
                 o + PD_GR_CONV(N), 0,
                 "first snapshot step with relative shell error < "
                 "delta_tol (NaN: never, or a shell without target power)");
    pd_field_set(&f[(*n)++], "/spectral/grid/rank_correlation", 0, 0, 0,
                 o + PD_GR_RHO(N), 0,
                 "Spearman rho of shell |k| against converged step over the "
                 "shells with target power");
    pd_field_set(&f[(*n)++], "/spectral/grid/method", 0, 0, 0,
                 o + PD_GR_METHOD(N), 1,
                 "network evaluation on the grid: 1 gather parameters, 2 "
                 "reduce partial outputs");
    pd_field_set(&f[(*n)++], "/spectral/grid/bytes", 1, 2, 0,
                 o + PD_GR_BYTES(N), 0,
                 "bytes one evaluation moves per rank: gather, reduce");
    pd_field_set(&f[(*n)++], "/spectral/grid/rel_error", 2, S, N,
                 o + PD_GR_REL(N), 0,
                 "sqrt(sum |H - Y|^2 / sum |Y|^2) over each shell, per "
                 "snapshot");
  }
}

static int pd_so_create(const pd_obs_run *run, double *block, void **state) {
  PD_CALL(pd_spectral_create(run->group, run->cfg, run->data, &run->L->sp,
                             block + PD_SO_MEASURES, (pd_spectral **)state));
  return PD_OK;
}

static int pd_so_observe(void *state, const pd_obs_run *run,
                         const pd_obs_snapshot *s, double *block) {
  PD_CALL(pd_spectral_observe(state, run->net, s->f, s->row,
                              block + PD_SO_MEASURES));
  return PD_OK;
}

static int pd_so_finish(void *state, const pd_obs_run *run, double *block) {
  int64_t rows;
  const double *steps = pd_obs_snapshots_steps(run->L, run->rec, &rows);
  PD_CALL(pd_spectral_finish(state, steps, rows, block + PD_SO_MEASURES,
                             &block[PD_SO_VERDICT]));
  return PD_OK;
}

static int pd_so_destroy(void **state) {
  pd_spectral *sp = *state;
  *state = NULL;
  PD_CALL(pd_spectral_destroy(&sp));
  return PD_OK;
}

static void pd_so_progress(const pd_layout *L, const double *block, char *buf,
                           size_t size) {
  (void)L;
  const double v = block[PD_SO_VERDICT];
  snprintf(buf, size, "F-Principle: rank correlation (frequency, step) %.3f%s",
           v,
           v > PD_FP_ORDERED_RHO ? ": low frequencies first"
           : isnan(v)            ? ": undetermined"
                                 : ": not ordered");
}

const pd_observer_type pd_obs_spectral_type = {.name = "spectral",
                                               .setup = pd_so_setup,
                                               .place = pd_so_place,
                                               .fields = pd_so_fields,
                                               .create = pd_so_create,
                                               .observe = pd_so_observe,
                                               .finish = pd_so_finish,
                                               .destroy = pd_so_destroy,
                                               .progress = pd_so_progress};
