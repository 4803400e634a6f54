/* Distributed r2c FFT: known sinusoids land on the right bins and shells,
 * Parseval holds, FFTW-MPI equals serial FFTW on the gathered grid, plans
 * are reusable, bad arguments are refused on every rank. */
#include <fftw3.h>
#include <math.h>
#include <stdint.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"
#include "phasediag/observe/fft.h"

#define PI 3.14159265358979323846

/* Rows of all but the last dimension held here (real and complex layout). */
static int64_t outer_rows(pd_fft *f) {
  int d = pd_fft_dim(f);
  int64_t n = pd_fft_n(f), ln0 = pd_fft_local_n0(f);
  if (d == 1) return ln0 > 0 ? 1 : 0;
  int64_t o = ln0;
  for (int j = 1; j < d - 1; j++) o *= n;
  return o;
}

/* Global indices idx[0..d-2] of outer row o. */
static void outer_index(pd_fft *f, int64_t o, int64_t *idx) {
  int d = pd_fft_dim(f);
  int64_t n = pd_fft_n(f);
  for (int j = d - 2; j >= 1; j--) {
    idx[j] = o % n;
    o /= n;
  }
  if (d >= 2) idx[0] = pd_fft_local_0_start(f) + o;
}

typedef double (*grid_fn)(const int64_t *x, int d, int64_t n, void *ctx);

/* Fill the local real array with fn at the grid points held here. */
static void fill(pd_fft *f, grid_fn fn, void *ctx) {
  int d = pd_fft_dim(f);
  int64_t n = pd_fft_n(f), P = pd_fft_real_stride(f), outer = outer_rows(f);
  double *r = pd_fft_real(f);
  int64_t x[PD_FFT_MAXDIM];
  for (int64_t o = 0; o < outer; o++) {
    outer_index(f, o, x);
    for (int64_t i = 0; i < n; i++) {
      x[d - 1] = i;
      r[o * P + i] = fn(x, d, n, ctx);
    }
  }
}

typedef struct {
  int k0[PD_FFT_MAXDIM], k1[PD_FFT_MAXDIM];
  double a1; /* amplitude of the sine at k1 (0: none) */
} waves;

static double dot_phase(const int *k, const int64_t *x, int d, int64_t n) {
  int64_t s = 0;
  for (int j = 0; j < d; j++) s += (int64_t)k[j] * x[j];
  s %= n;
  if (s < 0) s += n;
  return 2 * PI * (double)s / (double)n;
}

/* 0.25 + cos(2 pi k0.x/N) + a1 sin(2 pi k1.x/N) */
static double wave_fn(const int64_t *x, int d, int64_t n, void *ctx) {
  const waves *w = ctx;
  return 0.25 + cos(dot_phase(w->k0, x, d, n)) +
         w->a1 * sin(dot_phase(w->k1, x, d, n));
}

static int same_k(const int *a, const int64_t *k, int d, int sign) {
  for (int j = 0; j < d; j++)
    if ((int64_t)sign * a[j] != k[j]) return 0;
  return 1;
}

static int shell_of(const int *k, int d) {
  double q = 0;
  for (int j = 0; j < d; j++) q += (double)k[j] * k[j];
  return (int)floor(sqrt(q) + 0.5);
}

static void check_waves(int d, int64_t n, const waves *w) {
  pd_fft *f = NULL;
  PD_TEST_OK(pd_fft_create(MPI_COMM_WORLD, d, n, PD_FFT_ESTIMATE, &f));
  fill(f, wave_fn, (void *)w);
  /* sum of squares of the input, exact order per rank, then reduced */
  double ss = 0;
  {
    int64_t P = pd_fft_real_stride(f), outer = outer_rows(f);
    const double *r = pd_fft_real(f);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < n; i++) ss += r[o * P + i] * r[o * P + i];
    MPI_Allreduce(MPI_IN_PLACE, &ss, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  PD_TEST_OK(pd_fft_execute(f));
  double vol = 1;
  for (int j = 0; j < d; j++) vol *= (double)n;
  /* every stored bin against the exact spectrum */
  int64_t nc = pd_fft_complex_last(f), outer = outer_rows(f);
  const double *c = pd_fft_complex(f);
  double maxerr = 0;
  int64_t x[PD_FFT_MAXDIM], k[PD_FFT_MAXDIM];
  for (int64_t o = 0; o < outer; o++) {
    outer_index(f, o, x);
    for (int j = 0; j < d - 1; j++) k[j] = pd_fft_freq(n, x[j]);
    for (int64_t kl = 0; kl < nc; kl++) {
      k[d - 1] = kl;
      double er = 0, ei = 0;
      int dc = 1;
      for (int j = 0; j < d; j++) dc = dc && k[j] == 0;
      if (dc) er += 0.25 * vol;
      if (same_k(w->k0, k, d, 1)) er += 0.5 * vol;
      if (w->a1 != 0 && same_k(w->k1, k, d, 1)) ei -= 0.5 * w->a1 * vol;
      if (w->a1 != 0 && same_k(w->k1, k, d, -1)) ei += 0.5 * w->a1 * vol;
      double dr = c[2 * (o * nc + kl)] - er, di = c[2 * (o * nc + kl) + 1] - ei;
      double e = sqrt(dr * dr + di * di) / vol;
      if (e > maxerr) maxerr = e;
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, &maxerr, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  PD_TEST_CHECK(maxerr < 1e-12, "d %d N %lld: bin error %.3e", d, (long long)n,
                maxerr);
  /* shells */
  int ns = pd_fft_nshells(f);
  double *pw = NULL, *cnt = NULL;
  PD_TEST_OK(pd_calloc((size_t)ns, sizeof(double), &pw));
  PD_TEST_OK(pd_calloc((size_t)ns, sizeof(double), &cnt));
  PD_TEST_OK(pd_fft_shells(f, ns, pw, cnt));
  double total = 0, tc = 0;
  for (int s = 0; s < ns; s++) {
    total += pw[s];
    tc += cnt[s];
  }
  double parseval = fabs(total - vol * ss) / (vol * ss);
  PD_TEST_CHECK(parseval < 1e-12, "d %d N %lld: Parseval %.3e", d, (long long)n,
                parseval);
  PD_TEST_CHECK(tc == vol, "d %d: shell counts %g of %g", d, tc, vol);
  int s0 = shell_of(w->k0, d), s1 = shell_of(w->k1, d);
  /* |F|^2 of +-k0: 2 (vol/2)^2; +-k1: 2 (a1 vol/2)^2; DC: (vol/4)^2 */
  double e0 = 2 * 0.25 * vol * vol, e1 = 2 * 0.25 * w->a1 * w->a1 * vol * vol,
         edc = vol * vol / 16;
  double maxshell = 0;
  for (int s = 0; s < ns; s++) {
    double e = (s == 0 ? edc : 0) + (s == s0 ? e0 : 0) + (s == s1 ? e1 : 0);
    double dd = fabs(pw[s] - e) / (vol * vol);
    if (dd > maxshell) maxshell = dd;
  }
  PD_TEST_CHECK(maxshell < 1e-12, "d %d N %lld: shell error %.3e", d,
                (long long)n, maxshell);
  /* identical on every rank */
  double first = pw[s0];
  MPI_Bcast(&first, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  PD_TEST_CHECK(first == pw[s0], "shell differs across ranks");
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    printf(
        "waves d %d N %lld: bin err %.2e, Parseval %.2e, shell %d holds "
        "%.6f of the power\n",
        d, (long long)n, maxerr, parseval, s0, pw[s0] / total);
  pd_free(&pw);
  pd_free(&cnt);
  PD_TEST_OK(pd_fft_destroy(&f));
}

static double random_fn(const int64_t *x, int d, int64_t n, void *ctx) {
  uint64_t seed = *(const uint64_t *)ctx, g = 0;
  for (int j = 0; j < d; j++) g = g * (uint64_t)n + (uint64_t)x[j];
  return 2 * pd_rng_uniform(seed, 7, g, 0) - 1;
}

/* FFTW-MPI against serial FFTW of the gathered grid, twice per plan. */
static void check_serial(int d, int64_t n, int flags) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pd_fft *f = NULL;
  PD_TEST_OK(pd_fft_create(MPI_COMM_WORLD, d, n, flags, &f));
  int64_t vol = 1, half = n / 2 + 1;
  for (int j = 0; j < d; j++) vol *= n;
  int64_t csize = vol / n * half;
  double *got = NULL, *in = NULL;
  fftw_complex *ref = NULL;
  if (rank == 0) {
    PD_TEST_OK(pd_calloc((size_t)csize, 2 * sizeof(double), &got));
    PD_TEST_OK(pd_calloc((size_t)vol, sizeof(double), &in));
    ref = fftw_alloc_complex((size_t)csize);
  }
  for (uint64_t seed = 1; seed <= 2; seed++) {
    fill(f, random_fn, &seed);
    PD_TEST_OK(pd_fft_execute(f));
    PD_TEST_OK(pd_fft_gather_complex(f, 0, got));
    if (rank == 0) {
      int dims[PD_FFT_MAXDIM];
      for (int j = 0; j < d; j++) dims[j] = (int)n;
      fftw_plan p = fftw_plan_dft_r2c(d, dims, in, ref, FFTW_ESTIMATE);
      int64_t x[PD_FFT_MAXDIM];
      for (int64_t g = 0; g < vol; g++) {
        int64_t r = g;
        for (int j = d - 1; j >= 0; j--) {
          x[j] = r % n;
          r /= n;
        }
        in[g] = random_fn(x, d, n, &seed);
      }
      fftw_execute(p);
      double md = 0, mx = 0;
      for (int64_t i = 0; i < csize; i++) {
        double dr = got[2 * i] - ref[i][0], di = got[2 * i + 1] - ref[i][1];
        double a = sqrt(ref[i][0] * ref[i][0] + ref[i][1] * ref[i][1]);
        if (fabs(dr) > md) md = fabs(dr);
        if (fabs(di) > md) md = fabs(di);
        if (a > mx) mx = a;
      }
      PD_TEST_CHECK(md <= 1e-12 * mx, "d %d N %lld: max diff %.3e of %.3e", d,
                    (long long)n, md, mx);
      if (seed == 1)
        printf("serial d %d N %lld%s: max |diff| %.2e, relative %.2e\n", d,
               (long long)n, flags == PD_FFT_MEASURE ? " (measure)" : "", md,
               md / mx);
      PD_TEST_CHECK(mx > 1, "d %d N %lld: empty spectrum", d, (long long)n);
      fftw_destroy_plan(p);
    }
  }
  if (rank == 0) {
    pd_free(&got);
    pd_free(&in);
    fftw_free(ref);
  }
  PD_TEST_OK(pd_fft_destroy(&f));
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  waves w1 = {{3}, {0}, 0};
  check_waves(1, 16, &w1);
  check_waves(1, 15, &w1);
  waves w2 = {{-2, 3}, {5, 0}, 0.5};
  check_waves(2, 16, &w2);
  check_waves(2, 15, &w2);
  check_waves(2, 20, &w2);
  waves w3 = {{1, -2, 3}, {0, 6, 0}, 0.5};
  check_waves(3, 16, &w3);
  check_waves(3, 20, &w3);
  waves w4 = {{1, -1, 2, 3}, {0, 0, 5, 0}, 0.5};
  check_waves(4, 12, &w4);

  check_serial(1, 33, PD_FFT_ESTIMATE);
  check_serial(2, 20, PD_FFT_ESTIMATE);
  check_serial(2, 7, PD_FFT_ESTIMATE);
  check_serial(3, 20, PD_FFT_ESTIMATE);
  check_serial(3, 32, PD_FFT_MEASURE);
  check_serial(4, 10, PD_FFT_ESTIMATE);
  check_serial(3, 3, PD_FFT_ESTIMATE); /* np 4: a rank without rows */

  /* refusals, on every rank */
  pd_fft *f = NULL;
  int e = pd_fft_create(MPI_COMM_WORLD, 5, 8, PD_FFT_ESTIMATE, &f);
  PD_TEST_CHECK(e == PD_ERR_ARG && f == NULL, "d = 5 accepted (%d)", e);
  e = pd_fft_create(MPI_COMM_WORLD, 2, 1, PD_FFT_ESTIMATE, &f);
  PD_TEST_CHECK(e == PD_ERR_ARG && f == NULL, "N = 1 accepted (%d)", e);
  PD_TEST_OK(pd_fft_create(MPI_COMM_WORLD, 2, 8, PD_FFT_ESTIMATE, &f));
  double pw[16];
  e = pd_fft_shells(f, 3, pw, NULL);
  PD_TEST_CHECK(e != PD_OK, "wrong shell count accepted");
  PD_TEST_OK(pd_fft_destroy(&f));
  /* an allocation failing on the last rank only fails everywhere */
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (long k = 1; k <= 3; k++) {
    if (rank == size - 1) pd_mem_fail_after(k);
    e = pd_fft_create(MPI_COMM_WORLD, 3, 8, PD_FFT_ESTIMATE, &f);
    pd_mem_fail_after(0);
    if (e == PD_OK) {
      /* creation needs fewer allocations: fail in the shell binning */
      if (rank == size - 1) pd_mem_fail_after(1);
      PD_TEST_OK(pd_fft_execute(f));
      e = pd_fft_shells(f, pd_fft_nshells(f), pw, NULL);
      pd_mem_fail_after(0);
      PD_TEST_OK(pd_fft_destroy(&f));
    }
    PD_TEST_CHECK(e == (rank == size - 1 ? PD_ERR_ALLOC : PD_ERR_PEER),
                  "injected failure %ld: %d", k, e);
  }
  pd_error_clear();
  return pd_test_end("test_fft");
}
