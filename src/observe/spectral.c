#include "phasediag/observe/spectral.h"

#include <math.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/job/dataset.h"
#include "phasediag/observe/fprinciple.h"
#include "phasediag/observe/gridspec.h"

/* A transform along one coordinate (dft: x itself; projection: p . x). */
typedef struct {
  double *v;                     /* n coordinates */
  double L;                      /* period */
  int npeaks;                    /* found (<= L->np) */
  int peaks[PD_CONFIG_MAX_LIST]; /* frequencies (cycles per period) */
  double amp_y[PD_CONFIG_MAX_LIST];
} pd_sp_line;

struct pd_spectral {
  MPI_Comm comm; /* borrowed: the group's */
  const pd_config *cfg;
  const pd_data *data;
  const pd_spectral_layout *L;
  pd_sp_line dft, proj;
  pd_gridspec *grid;
  double *work; /* 2 n + 2 np: NUDFT scratch */
};

int pd_spectral_layout_init(pd_spectral_layout *L, const pd_config *cfg,
                            int d) {
  memset(L, 0, sizeof *L);
  if (!cfg->spectral) return PD_OK;
  L->methods = cfg->sp_methods ? cfg->sp_methods
               : d == 1        ? PD_SP_DFT
                               : PD_SP_PROJECTION | PD_SP_FILTER;
  PD_CHECK(!(L->methods & PD_SP_DFT) || d == 1, PD_ERR_CONFIG,
           "%s: [spectral] methods = dft needs 1-D inputs, but the data "
           "have d = %d (use projection, filter or grid)",
           cfg->path, d);
  PD_CHECK(!(L->methods & PD_SP_GRID) || d <= 4, PD_ERR_CONFIG,
           "%s: [spectral] methods = grid supports d = 1 to 4, but the "
           "data have d = %d",
           cfg->path, d);
  L->np = cfg->sp_peaks;
  L->nd = cfg->sp_ndeltas;
  if (L->methods & PD_SP_GRID)
    L->nsh =
        (int64_t)floor(sqrt((double)d) * (double)(cfg->sp_grid_n / 2) + 0.5) +
        1;
  return PD_OK;
}

void pd_spectral_layout_place(pd_spectral_layout *L, int64_t S) {
  const int64_t P = L->np;
  int64_t o = 0;
  L->S = S;
  L->dft = o;
  if (L->methods & PD_SP_DFT) o += PD_PK_DELTA(P) + S * P;
  L->proj = o;
  if (L->methods & PD_SP_PROJECTION) o += PD_PK_DELTA(P) + S * P;
  L->filt = o;
  if (L->methods & PD_SP_FILTER) o += PD_FI_LOW(L->nd) + 2 * S * L->nd;
  L->grid = o;
  if (L->methods & PD_SP_GRID) o += PD_GR_REL(L->nsh) + S * L->nsh;
  L->len = o;
}

static int pd_sp_target(void *ctx, int64_t n, int d, const double *x,
                        double *y) {
  PD_CALL(pd_dataset_target((const pd_config *)ctx, n, d, x, y));
  return PD_OK;
}

/* The line's period and the peaks of the target's amplitude; the peak
 * frequencies and amplitudes go to the block at b. */
static int pd_sp_line_setup(pd_spectral *sp, pd_sp_line *ln, double *b) {
  const int64_t n = sp->data->n, P = sp->L->np;
  double lo = ln->v[0], hi = ln->v[0];
  for (int64_t i = 1; i < n; i++) {
    lo = fmin(lo, ln->v[i]);
    hi = fmax(hi, ln->v[i]);
  }
  ln->L = n > 1 && hi > lo ? (hi - lo) * (double)n / (double)(n - 1) : 1.0;
  int nk = sp->cfg->sp_max_freq > 0 ? sp->cfg->sp_max_freq : (int)(n / 2);
  if (nk < 2) nk = 2;
  double *freq = NULL, *re = NULL, *im = NULL, *amp = NULL;
  int err = pd_calloc((size_t)nk * 4, sizeof(double), &freq);
  PD_COLLECTIVE(sp->comm, err);
  re = freq + nk;
  im = re + nk;
  amp = im + nk;
  for (int k = 0; k < nk; k++) freq[k] = k;
  err = pd_fp_nudft(n, ln->v, sp->data->y, ln->L, nk, freq, re, im);
  if (!err) {
    pd_fp_amplitude(nk, re, im, amp);
    err = pd_fp_peaks(nk, amp, sp->cfg->sp_peak_rel, (int)P, ln->peaks,
                      &ln->npeaks);
  }
  if (!err) {
    if (ln->npeaks > P) ln->npeaks = (int)P;
    for (int j = 0; j < ln->npeaks; j++) {
      ln->amp_y[j] = amp[ln->peaks[j]];
      b[PD_PK_FREQ(P) + j] = ln->peaks[j];
      b[PD_PK_AMP(P) + j] = amp[ln->peaks[j]];
    }
  }
  pd_free(&freq);
  PD_CALL(err);
  return PD_OK;
}

int pd_spectral_create(MPI_Comm comm, const pd_config *cfg, const pd_data *data,
                       const pd_spectral_layout *L, double *block,
                       pd_spectral **out) {
  *out = NULL;
  pd_spectral *sp = NULL;
  const int64_t n = data->n;
  int err = pd_calloc(1, sizeof *sp, &sp);
  if (!err)
    err = pd_calloc((size_t)(4 * n + 4 * L->np + 8), sizeof(double), &sp->work);
  if (!err && L->methods & PD_SP_DFT)
    err = pd_calloc((size_t)n, sizeof(double), &sp->dft.v);
  if (!err && L->methods & PD_SP_PROJECTION)
    err = pd_calloc((size_t)n, sizeof(double), &sp->proj.v);
  if (err && sp) {
    pd_free(&sp->work);
    pd_free(&sp->dft.v);
    pd_free(&sp);
  }
  PD_COLLECTIVE(comm, err);
  *sp = (pd_spectral){.comm = comm,
                      .cfg = cfg,
                      .data = data,
                      .L = L,
                      .dft = sp->dft,
                      .proj = sp->proj,
                      .work = sp->work};
  if (L->methods & PD_SP_DFT) {
    memcpy(sp->dft.v, data->x, sizeof(double) * (size_t)n);
    err = pd_sp_line_setup(sp, &sp->dft, block + L->dft);
  }
  if (!err && L->methods & PD_SP_PROJECTION) {
    double p[PD_CONFIG_MAX_LIST];
    double *pc = data->d <= PD_CONFIG_MAX_LIST ? p : NULL;
    if (!pc) err = pd_calloc((size_t)data->d, sizeof(double), &pc);
    if (!err) err = pd_fp_principal(n, data->d, data->x, pc, NULL);
    if (!err) pd_fp_project(n, data->d, data->x, pc, sp->proj.v);
    if (pc != p) pd_free(&pc);
    if (!err) err = pd_sp_line_setup(sp, &sp->proj, block + L->proj);
  }
  if (!err && L->methods & PD_SP_FILTER)
    for (int64_t k = 0; k < L->nd; k++)
      block[L->filt + PD_FI_DELTA(L->nd) + k] = cfg->sp_deltas[k];
  if (!err && L->methods & PD_SP_GRID) {
    double lo, hi;
    pd_dataset_domain(cfg, &lo, &hi);
    err = pd_gridspec_create(comm, data->d, cfg->sp_grid_n, lo, hi,
                             pd_sp_target, (void *)cfg, &sp->grid);
    if (!err && pd_gridspec_nshells(sp->grid) != L->nsh)
      err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                           "grid spectrum: %d shells, the layout has %lld",
                           pd_gridspec_nshells(sp->grid), (long long)L->nsh);
    if (!err)
      memcpy(block + L->grid + PD_GR_POWER(L->nsh),
             pd_gridspec_target_power(sp->grid),
             sizeof(double) * (size_t)L->nsh);
  }
  if (err) {
    pd_spectral_destroy(&sp);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "spectral set-up");
  }
  *out = sp;
  return PD_OK;
}

int pd_spectral_destroy(pd_spectral **psp) {
  pd_spectral *sp = *psp;
  if (!sp) return PD_OK;
  int err = pd_gridspec_destroy(&sp->grid);
  pd_free(&sp->dft.v);
  pd_free(&sp->proj.v);
  pd_free(&sp->work);
  pd_free(psp);
  return err;
}

/* Delta_F at the line's peaks for outputs f into row `row` of block b. */
static int pd_sp_line_observe(pd_spectral *sp, const pd_sp_line *ln,
                              const double *f, int64_t row, double *b) {
  const int64_t P = sp->L->np;
  if (ln->npeaks == 0) return PD_OK;
  double *freq = sp->work, *re = freq + P, *im = re + P, *amp = im + P;
  for (int j = 0; j < ln->npeaks; j++) freq[j] = ln->peaks[j];
  PD_CALL(pd_fp_nudft(sp->data->n, ln->v, f, ln->L, ln->npeaks, freq, re, im));
  pd_fp_amplitude(ln->npeaks, re, im, amp);
  double *delta = b + PD_PK_DELTA(P) + row * P;
  for (int j = 0; j < ln->npeaks; j++)
    delta[j] =
        ln->amp_y[j] > 0 ? fabs(amp[j] - ln->amp_y[j]) / ln->amp_y[j] : NAN;
  return PD_OK;
}

int pd_spectral_observe(pd_spectral *sp, pd_net *net, const double *f,
                        int64_t row, double *block) {
  const pd_spectral_layout *L = sp->L;
  PD_CHECK(row >= 0 && row < L->S, PD_ERR_ARG, "snapshot row %lld of %lld",
           (long long)row, (long long)L->S);
  if (L->methods & PD_SP_DFT)
    PD_CALL(pd_sp_line_observe(sp, &sp->dft, f, row, block + L->dft));
  if (L->methods & PD_SP_PROJECTION)
    PD_CALL(pd_sp_line_observe(sp, &sp->proj, f, row, block + L->proj));
  if (L->methods & PD_SP_FILTER) {
    double *b = block + L->filt;
    for (int64_t k = 0; k < L->nd; k++) {
      pd_fp_filtered r;
      PD_CALL(pd_fp_filter(sp->comm, sp->data, f, sp->cfg->sp_deltas[k], &r,
                           NULL, NULL));
      b[PD_FI_LOW(L->nd) + row * L->nd + k] = r.e_low;
      b[PD_FI_LOW(L->nd) + L->S * L->nd + row * L->nd + k] = r.e_high;
    }
  }
  if (L->methods & PD_SP_GRID) {
    double *b = block + L->grid;
    int used = 0;
    PD_CALL(pd_gridspec_error(sp->grid, net, sp->cfg->sp_grid_method,
                              b + PD_GR_REL(L->nsh) + row * L->nsh, NULL,
                              &used));
    /* a shell the target does not reach has no relative error to speak
     * of (its power is rounding noise) */
    const double *pw = b + PD_GR_POWER(L->nsh);
    double top = 0;
    for (int64_t k = 0; k < L->nsh; k++) top = fmax(top, pw[k]);
    for (int64_t k = 0; k < L->nsh; k++)
      if (!(pw[k] > 1e-12 * top)) b[PD_GR_REL(L->nsh) + row * L->nsh + k] = NAN;
    double bg = 0, br = 0;
    (void)pd_gridspec_choose(sp->grid, net, &bg, &br); /* returns a method */
    b[PD_GR_METHOD(L->nsh)] = used;
    b[PD_GR_BYTES(L->nsh)] = bg;
    b[PD_GR_BYTES(L->nsh) + 1] = br;
  }
  return PD_OK;
}

/* The first snapshot step at which series[r * stride] < tol (rows r <
 * rows), NaN if none. */
static double pd_sp_first_below(const double *series, int64_t stride,
                                int64_t rows, const double *steps, double tol) {
  for (int64_t r = 0; r < rows; r++)
    if (series[r * stride] < tol) return steps[r];
  return NAN;
}

/* Convergence steps of `count` series (column j of rows x stride at
 * series + j) into conv[j]; Spearman's rho of freq[] against them (not
 * converged: after the last step) into *rho. */
static int pd_sp_rank(const double *series, int64_t stride, int count,
                      int64_t rows, const double *steps, double tol,
                      const double *freq, double *conv, double *rho,
                      double *work) {
  *rho = NAN;
  const double never = rows > 0 ? steps[rows - 1] + 1 : 1;
  for (int j = 0; j < count; j++) {
    conv[j] = pd_sp_first_below(series + j, stride, rows, steps, tol);
    /* not converged: after the last step, the larger the final error the
     * later (so that partial progress still orders the frequencies) */
    double last = rows > 0 ? series[(rows - 1) * stride + j] : NAN;
    work[j] = !isnan(conv[j])  ? conv[j]
              : isfinite(last) ? never * (1 + last)
                               : INFINITY;
  }
  if (count >= 2) PD_CALL(pd_fp_spearman(count, freq, work, rho));
  return PD_OK;
}

int pd_spectral_finish(pd_spectral *sp, const double *steps, int64_t rows,
                       double *block, double *verdict_out) {
  const pd_spectral_layout *L = sp->L;
  const double tol = sp->cfg->sp_delta_tol;
  const int64_t P = L->np;
  double *work = NULL, *freq = NULL;
  int64_t most = P > L->nsh ? P : L->nsh;
  int err = pd_calloc((size_t)(2 * most + 2), sizeof(double), &work);
  PD_COLLECTIVE(sp->comm, err);
  freq = work + most;
  double verdict = NAN;
  const pd_sp_line *lines[2] = {&sp->dft, &sp->proj};
  const int64_t offs[2] = {L->dft, L->proj};
  const int bits[2] = {PD_SP_DFT, PD_SP_PROJECTION};
  for (int i = 1; i >= 0 && !err; i--) {
    if (!(L->methods & bits[i])) continue;
    double *b = block + offs[i];
    for (int j = 0; j < lines[i]->npeaks; j++) freq[j] = lines[i]->peaks[j];
    err = pd_sp_rank(b + PD_PK_DELTA(P), P, lines[i]->npeaks, rows, steps, tol,
                     freq, b + PD_PK_CONV(P), b + PD_PK_RHO(P), work);
    verdict = b[PD_PK_RHO(P)]; /* dft over projection */
  }
  if (!err && L->methods & PD_SP_FILTER) {
    double *b = block + L->filt;
    for (int64_t k = 0; k < L->nd; k++) {
      b[PD_FI_CONV_LOW(L->nd) + k] =
          pd_sp_first_below(b + PD_FI_LOW(L->nd) + k, L->nd, rows, steps, tol);
      b[PD_FI_CONV_HIGH(L->nd) + k] = pd_sp_first_below(
          b + PD_FI_LOW(L->nd) + L->S * L->nd + k, L->nd, rows, steps, tol);
    }
  }
  if (!err && L->methods & PD_SP_GRID) {
    /* shells that carry the target: at least peak_rel of the largest */
    double *b = block + L->grid;
    const double *pw = b + PD_GR_POWER(L->nsh);
    double top = 0;
    for (int64_t s = 0; s < L->nsh; s++) top = fmax(top, pw[s]);
    int count = 0;
    double *series = NULL;
    err = pd_calloc((size_t)(rows * L->nsh + 1), sizeof(double), &series);
    if (!err) {
      for (int64_t s = 0; s < L->nsh; s++) {
        if (!(pw[s] >= sp->cfg->sp_peak_rel * top && top > 0)) continue;
        for (int64_t r = 0; r < rows; r++)
          series[r * L->nsh + count] = b[PD_GR_REL(L->nsh) + r * L->nsh + s];
        freq[count++] = (double)s;
      }
      double *conv = work + 0; /* reuse: ranks in freq order */
      double tmp[PD_CONFIG_MAX_LIST];
      double *w2 = count <= PD_CONFIG_MAX_LIST ? tmp : NULL;
      if (!w2) err = pd_calloc((size_t)count, sizeof(double), &w2);
      if (!err)
        err = pd_sp_rank(series, L->nsh, count, rows, steps, tol, freq, conv,
                         &b[PD_GR_RHO(L->nsh)], w2);
      if (!err) {
        for (int64_t s = 0; s < L->nsh; s++) b[PD_GR_CONV(L->nsh) + s] = NAN;
        for (int j = 0; j < count; j++)
          b[PD_GR_CONV(L->nsh) + (int64_t)freq[j]] = conv[j];
        verdict = b[PD_GR_RHO(L->nsh)];
      }
      if (w2 != tmp) pd_free(&w2);
    }
    pd_free(&series);
  }
  pd_free(&work);
  PD_CALL(err);
  *verdict_out = verdict;
  return PD_OK;
}
