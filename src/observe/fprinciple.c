#include "phasediag/observe/fprinciple.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

#define PD_FP_TWO_PI 6.28318530717958647692

int pd_fp_dft(int64_t n, const double *y, int nk, double *re, double *im) {
  PD_CHECK(n >= 1 && n <= INT_MAX, PD_ERR_ARG, "DFT of %lld points",
           (long long)n);
  PD_CHECK(nk >= 0, PD_ERR_ARG, "%d frequencies", nk);
  for (int k = 0; k < nk; k++) {
    double sr = 0, si = 0;
    int64_t step = (int64_t)k % n, ph = 0; /* ph = k i mod n */
    for (int64_t i = 0; i < n; i++) {
      double t = PD_FP_TWO_PI * (double)ph / (double)n;
      sr += y[i] * cos(t);
      si -= y[i] * sin(t);
      ph += step;
      if (ph >= n) ph -= n;
    }
    re[k] = sr;
    im[k] = si;
  }
  return PD_OK;
}

int pd_fp_nudft(int64_t n, const double *x, const double *y, double L, int nk,
                const double *freq, double *re, double *im) {
  PD_CHECK(n >= 1, PD_ERR_ARG, "NUDFT of %lld points", (long long)n);
  PD_CHECK(nk >= 0, PD_ERR_ARG, "%d frequencies", nk);
  PD_CHECK(L > 0 && isfinite(L), PD_ERR_ARG, "period %g must be positive", L);
  for (int j = 0; j < nk; j++) {
    double sr = 0, si = 0, w = PD_FP_TWO_PI * freq[j] / L;
    for (int64_t i = 0; i < n; i++) {
      double t = w * x[i];
      sr += y[i] * cos(t);
      si -= y[i] * sin(t);
    }
    re[j] = sr;
    im[j] = si;
  }
  return PD_OK;
}

void pd_fp_amplitude(int nk, const double *re, const double *im, double *amp) {
  for (int k = 0; k < nk; k++) amp[k] = hypot(re[k], im[k]);
}

int pd_fp_peaks(int nk, const double *amp, double rel, int maxpeaks, int *peaks,
                int *npeaks) {
  PD_CHECK(nk >= 0 && maxpeaks >= 0, PD_ERR_ARG, "%d amplitudes, %d peaks", nk,
           maxpeaks);
  PD_CHECK(rel >= 0 && rel <= 1, PD_ERR_ARG,
           "relative peak threshold %g is not in [0, 1]", rel);
  double top = 0;
  for (int k = 0; k < nk; k++) {
    PD_CHECK(isfinite(amp[k]) && amp[k] >= 0, PD_ERR_NUMERIC,
             "amplitude %d is %g", k, amp[k]);
    if (amp[k] > top) top = amp[k];
  }
  int count = 0;
  for (int k = 0; k < nk; k++) {
    if (amp[k] <= 0 || amp[k] < rel * top) continue;
    if (k > 0 && !(amp[k] > amp[k - 1])) continue;
    if (k < nk - 1 && !(amp[k] >= amp[k + 1])) continue;
    if (count < maxpeaks) peaks[count] = k;
    count++;
  }
  *npeaks = count;
  return PD_OK;
}

int pd_fp_delta(int npeaks, const int *peaks, const double *amp_y,
                const double *amp_h, double tol, double *delta, int *nconv) {
  if (tol <= 0) tol = PD_FP_DELTA_TOL;
  int conv = 0;
  for (int j = 0; j < npeaks; j++) {
    int k = peaks[j];
    PD_CHECK(k >= 0 && amp_y[k] > 0, PD_ERR_ARG,
             "peak %d (k = %d) has no target amplitude", j, k);
    delta[j] = fabs(amp_h[k] - amp_y[k]) / amp_y[k];
    if (delta[j] < tol) conv++;
  }
  if (nconv) *nconv = conv;
  return PD_OK;
}

/* w = C v for the (unnormalized) covariance of the centered points. */
static void pd_fp_cov_apply(int64_t n, int d, const double *x, const double *mu,
                            const double *v, double *w) {
  for (int j = 0; j < d; j++) w[j] = 0;
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * d;
    double s = 0;
    for (int j = 0; j < d; j++) s += (xi[j] - mu[j]) * v[j];
    for (int j = 0; j < d; j++) w[j] += s * (xi[j] - mu[j]);
  }
}

int pd_fp_principal(int64_t n, int d, const double *x, double *p,
                    double *lambda) {
  PD_CHECK(n >= 1 && d >= 1, PD_ERR_ARG, "principal component of %lld x %d",
           (long long)n, d);
  double *mu = NULL;
  PD_CALL(pd_calloc((size_t)d, 3 * sizeof(double), &mu));
  double *v = mu + d, *w = mu + 2 * d;
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < d; j++) mu[j] += x[i * d + j];
  for (int j = 0; j < d; j++) mu[j] /= (double)n;
  /* start: the centered point of largest norm */
  double best = 0;
  int64_t ib = -1;
  for (int64_t i = 0; i < n; i++) {
    double s = 0;
    for (int j = 0; j < d; j++) {
      double t = x[i * d + j] - mu[j];
      s += t * t;
    }
    if (s > best) {
      best = s;
      ib = i;
    }
  }
  double lam = 0;
  if (ib < 0) {
    for (int j = 0; j < d; j++) p[j] = j == 0 ? 1.0 : 0.0;
  } else {
    double nv = sqrt(best);
    for (int j = 0; j < d; j++) v[j] = (x[ib * d + j] - mu[j]) / nv;
    for (int it = 0; it < 10000; it++) {
      pd_fp_cov_apply(n, d, x, mu, v, w);
      double nw = 0;
      for (int j = 0; j < d; j++) nw += w[j] * w[j];
      nw = sqrt(nw);
      if (!(nw > 0)) break; /* cannot happen from a data point; be safe */
      double move = 0;
      for (int j = 0; j < d; j++) {
        double t = w[j] / nw;
        move += (t - v[j]) * (t - v[j]);
        v[j] = t;
      }
      lam = nw;
      if (sqrt(move) < 1e-12) break;
    }
    int jm = 0;
    for (int j = 1; j < d; j++)
      if (fabs(v[j]) > fabs(v[jm])) jm = j;
    double sg = v[jm] < 0 ? -1.0 : 1.0;
    for (int j = 0; j < d; j++) p[j] = sg * v[j];
  }
  if (lambda) *lambda = lam / (double)n;
  pd_free(&mu);
  return PD_OK;
}

void pd_fp_project(int64_t n, int d, const double *x, const double *p,
                   double *v) {
  for (int64_t i = 0; i < n; i++) {
    double s = 0;
    for (int j = 0; j < d; j++) s += p[j] * x[i * d + j];
    v[i] = s;
  }
}

/* |a - b| / |a| with the conventions of the header. */
static double pd_fp_rel(double diff2, double ref2) {
  if (diff2 == 0) return 0.0;
  if (ref2 == 0) return INFINITY;
  return sqrt(diff2 / ref2);
}

int pd_fp_filter(MPI_Comm comm, const pd_data *data, const double *h,
                 double delta, pd_fp_filtered *res, double *y_low,
                 double *h_low) {
  int rank = 0, size = 1, err = PD_OK;
  PD_CALL_MPI(MPI_Comm_rank(comm, &rank));
  PD_CALL_MPI(MPI_Comm_size(comm, &size));
  if (!(delta > 0 && isfinite(delta)))
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "filter width delta = %g must be positive", delta);
  else if (data->n < 1 || data->n > INT_MAX / 2)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "filtering %lld points exceeds an MPI count",
                         (long long)data->n);
  PD_COLLECTIVE(comm, err);
  const int64_t n = data->n;
  const int d = data->d;
  /* scratch: the gathered low parts (2n, interleaved y, h), this rank's
   * block (2 rows), counts and displacements */
  double *all = NULL;
  int *counts = NULL;
  err = pd_calloc((size_t)n, 2 * sizeof(double), &all);
  if (err == PD_OK) err = pd_calloc((size_t)size, 2 * sizeof(int), &counts);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_free(&all);
    pd_free(&counts);
    return err;
  }
  int *displs = counts + size;
  for (int r = 0; r < size; r++) {
    int64_t a = n * r / size, b = n * (r + 1) / size;
    displs[r] = (int)(2 * a);
    counts[r] = (int)(2 * (b - a));
  }
  const int64_t i0 = n * rank / size, i1 = n * (rank + 1) / size;
  const double scale = -0.5 / delta;
  double *mine = all + 2 * i0;
  for (int64_t i = i0; i < i1; i++) {
    const double *xi = data->x + i * d;
    double s = 0, sy = 0, sh = 0;
    for (int64_t j = 0; j < n; j++) {
      const double *xj = data->x + j * d;
      double r2 = 0;
      for (int c = 0; c < d; c++) {
        double t = xi[c] - xj[c];
        r2 += t * t;
      }
      double q = scale * r2;
      if (q < -746.0) continue; /* exp(q) is exactly 0 */
      double g = exp(q);
      s += g;
      sy += g * data->y[j];
      sh += g * h[j];
    }
    /* s >= G(0) = 1 */
    mine[2 * (i - i0)] = sy / s;
    mine[2 * (i - i0) + 1] = sh / s;
  }
  int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, counts,
                          displs, MPI_DOUBLE, comm);
  if (rc != MPI_SUCCESS)
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Allgatherv");
  if (err == PD_OK) {
    double dl = 0, rl = 0, dh = 0, rh = 0;
    for (int64_t i = 0; i < n; i++) {
      double yl = all[2 * i], hl = all[2 * i + 1];
      double yh = data->y[i] - yl, hh = h[i] - hl;
      dl += (yl - hl) * (yl - hl);
      rl += yl * yl;
      dh += (yh - hh) * (yh - hh);
      rh += yh * yh;
      if (y_low) y_low[i] = yl;
      if (h_low) h_low[i] = hl;
    }
    res->e_low = pd_fp_rel(dl, rl);
    res->e_high = pd_fp_rel(dh, rh);
    res->y_low_norm = sqrt(rl);
    res->y_high_norm = sqrt(rh);
  }
  pd_free(&all);
  pd_free(&counts);
  PD_COLLECTIVE(comm, err);
  return PD_OK;
}

typedef struct {
  double v;
  int64_t i;
} pd_fp_keyed;

static int pd_fp_keyed_cmp(const void *pa, const void *pb) {
  const pd_fp_keyed *a = pa, *b = pb;
  if (a->v < b->v) return -1;
  if (a->v > b->v) return 1;
  return (a->i > b->i) - (a->i < b->i);
}

/* Average ranks (1-based) of v into r, using the scratch s (n entries). */
static void pd_fp_ranks(int64_t n, const double *v, pd_fp_keyed *s, double *r) {
  for (int64_t i = 0; i < n; i++) {
    s[i].v = v[i];
    s[i].i = i;
  }
  qsort(s, (size_t)n, sizeof *s, pd_fp_keyed_cmp);
  for (int64_t a = 0; a < n;) {
    int64_t b = a + 1;
    while (b < n && s[b].v == s[a].v) b++;
    double avg = 0.5 * (double)(a + 1 + b); /* mean of a+1 .. b */
    for (int64_t t = a; t < b; t++) r[s[t].i] = avg;
    a = b;
  }
}

int pd_fp_spearman(int64_t n, const double *a, const double *b, double *rho) {
  PD_CHECK(n >= 2, PD_ERR_ARG, "rank correlation of %lld pairs", (long long)n);
  for (int64_t i = 0; i < n; i++)
    PD_CHECK(!isnan(a[i]) && !isnan(b[i]), PD_ERR_NUMERIC,
             "rank correlation: value %lld is NaN", (long long)i);
  pd_fp_keyed *s = NULL;
  double *ra = NULL;
  PD_CALL(pd_calloc((size_t)n, sizeof *s, &s));
  int err = pd_calloc((size_t)n, 2 * sizeof(double), &ra);
  if (err != PD_OK) {
    pd_free(&s);
    return pd_error_trace(err, __FILE__, __LINE__, __func__, "pd_calloc");
  }
  double *rb = ra + n;
  pd_fp_ranks(n, a, s, ra);
  pd_fp_ranks(n, b, s, rb);
  double m = 0.5 * (double)(n + 1), sab = 0, saa = 0, sbb = 0;
  for (int64_t i = 0; i < n; i++) {
    double u = ra[i] - m, w = rb[i] - m;
    sab += u * w;
    saa += u * u;
    sbb += w * w;
  }
  *rho = (saa > 0 && sbb > 0) ? sab / sqrt(saa * sbb) : NAN;
  pd_free(&s);
  pd_free(&ra);
  return PD_OK;
}
