/* Frequency-principle measures: DFT peaks and Delta_F, NUDFT = DFT on
 * uniform points, the principal direction, Gaussian filtering errors (the
 * same bits at every rank count) and the Spearman correlation. */
#include <math.h>
#include <stdint.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"
#include "phasediag/observe/fprinciple.h"

#define PI 3.14159265358979323846

static int world_rank(void) {
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

static void check_peaks(void) {
  enum { N = 64, NK = 32 };
  double x[N], y[N], h[N], re[NK], im[NK], ay[NK], ah[NK], fr[NK], nre[NK],
      nim[NK];
  for (int i = 0; i < N; i++) {
    x[i] = 2 * PI * i / N;
    y[i] = sin(x[i]) + sin(3 * x[i]) + sin(5 * x[i]);
    h[i] = sin(x[i]); /* only the lowest peak learnt */
  }
  PD_TEST_OK(pd_fp_dft(N, y, NK, re, im));
  pd_fp_amplitude(NK, re, im, ay);
  int peaks[8], np = 0;
  PD_TEST_OK(pd_fp_peaks(NK, ay, PD_FP_PEAK_REL, 8, peaks, &np));
  PD_TEST_CHECK(np == 3 && peaks[0] == 1 && peaks[1] == 3 && peaks[2] == 5,
                "peaks: %d found (%d %d %d)", np, peaks[0], peaks[1], peaks[2]);
  for (int j = 0; j < np && j < 3; j++)
    PD_TEST_CHECK(fabs(ay[peaks[j]] - N / 2.0) < 1e-12 * N,
                  "peak %d amplitude %.17g", peaks[j], ay[peaks[j]]);
  int np2 = 0, pk2[2];
  PD_TEST_OK(pd_fp_peaks(NK, ay, PD_FP_PEAK_REL, 2, pk2, &np2));
  PD_TEST_CHECK(np2 == 3 && pk2[0] == 1 && pk2[1] == 3, "truncated peaks");

  double delta[3];
  int nconv = -1;
  PD_TEST_OK(pd_fp_delta(3, peaks, ay, ay, 0, delta, &nconv));
  PD_TEST_CHECK(delta[0] == 0 && delta[1] == 0 && delta[2] == 0 && nconv == 3,
                "h = y: Delta_F %g %g %g, %d converged", delta[0], delta[1],
                delta[2], nconv);
  double zero[NK] = {0};
  PD_TEST_OK(pd_fp_delta(3, peaks, ay, zero, 0, delta, &nconv));
  PD_TEST_CHECK(delta[0] == 1 && delta[1] == 1 && delta[2] == 1 && nconv == 0,
                "h = 0: Delta_F %g %g %g", delta[0], delta[1], delta[2]);
  PD_TEST_OK(pd_fp_dft(N, h, NK, re, im));
  pd_fp_amplitude(NK, re, im, ah);
  PD_TEST_OK(pd_fp_delta(3, peaks, ay, ah, 0, delta, &nconv));
  PD_TEST_CHECK(delta[0] < 1e-12 && fabs(delta[1] - 1) < 1e-12 &&
                    fabs(delta[2] - 1) < 1e-12 && nconv == 1,
                "h = sin x: Delta_F %g %g %g, %d converged", delta[0], delta[1],
                delta[2], nconv);

  /* NUDFT on uniform points equals the DFT */
  PD_TEST_OK(pd_fp_dft(N, y, NK, re, im));
  for (int k = 0; k < NK; k++) fr[k] = k;
  PD_TEST_OK(pd_fp_nudft(N, x, y, 2 * PI, NK, fr, nre, nim));
  double md = 0;
  for (int k = 0; k < NK; k++) {
    double d = hypot(nre[k] - re[k], nim[k] - im[k]);
    if (d > md) md = d;
  }
  PD_TEST_CHECK(md < 1e-12 * N, "NUDFT vs DFT: %.3e", md);
  if (world_rank() == 0)
    printf("peaks k = %d %d %d (|y^| = %.15g), NUDFT - DFT max %.2e\n",
           peaks[0], peaks[1], peaks[2], ay[peaks[0]], md);
  PD_TEST_CHECK(pd_fp_nudft(N, x, y, 0, NK, fr, nre, nim) == PD_ERR_ARG,
                "L = 0 accepted");
  pd_error_clear();
}

static void check_projection(void) {
  enum { N = 400, D = 5 };
  double u[D] = {1, -2, 3, 0.5, -1}, c[D] = {0.3, 1, -2, 0, 5}, nu = 0;
  for (int j = 0; j < D; j++) nu += u[j] * u[j];
  for (int j = 0; j < D; j++) u[j] /= sqrt(nu);
  double *x = NULL, *t = NULL, *v = NULL;
  PD_TEST_OK(pd_calloc(N * D, sizeof(double), &x));
  PD_TEST_OK(pd_calloc(N, sizeof(double), &t));
  PD_TEST_OK(pd_calloc(N, sizeof(double), &v));
  for (int pass = 0; pass < 2; pass++) {
    double noise = pass ? 1e-3 : 0;
    for (int i = 0; i < N; i++) {
      t[i] = pd_rng_normal(5, 0, (uint64_t)i, 0);
      for (int j = 0; j < D; j++)
        x[i * D + j] = c[j] + t[i] * u[j] +
                       noise * pd_rng_normal(5, 1, (uint64_t)i, (uint64_t)j);
    }
    double p[D], lam = 0;
    PD_TEST_OK(pd_fp_principal(N, D, x, p, &lam));
    double dp = 0, dm = 0;
    for (int j = 0; j < D; j++) {
      dp += (p[j] - u[j]) * (p[j] - u[j]);
      dm += (p[j] + u[j]) * (p[j] + u[j]);
    }
    double err = sqrt(dp < dm ? dp : dm);
    double tol = pass ? 1e-4 : 1e-10;
    PD_TEST_CHECK(err < tol, "noise %g: |p -+ u| = %.3e", noise, err);
    pd_fp_project(N, D, x, p, v);
    double s = dp < dm ? 1 : -1, pc = 0, mv = 0;
    for (int j = 0; j < D; j++) pc += p[j] * c[j];
    for (int i = 0; i < N; i++) {
      double e = fabs(v[i] - (s * t[i] + pc));
      if (e > mv) mv = e;
    }
    PD_TEST_CHECK(mv < (pass ? 1e-2 : 1e-10), "projection error %.3e", mv);
    if (world_rank() == 0)
      printf(
          "projection noise %g: |p - u| = %.2e, variance %.4f, max "
          "|v - t| %.2e\n",
          noise, err, lam, mv);
  }
  pd_free(&x);
  pd_free(&t);
  pd_free(&v);
}

/* Filtering on the world against each rank alone (MPI_COMM_SELF). */
static void filter_both(const pd_data *data, const double *h, double delta,
                        pd_fp_filtered *res) {
  int64_t n = data->n;
  double *yl = NULL, *hl = NULL, *yl1 = NULL, *hl1 = NULL;
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &yl));
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &hl));
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &yl1));
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &hl1));
  pd_fp_filtered r1;
  PD_TEST_OK(pd_fp_filter(MPI_COMM_WORLD, data, h, delta, res, yl, hl));
  PD_TEST_OK(pd_fp_filter(MPI_COMM_SELF, data, h, delta, &r1, yl1, hl1));
  double md = 0;
  for (int64_t i = 0; i < n; i++) {
    double a = pd_test_rel(yl[i], yl1[i]), b = pd_test_rel(hl[i], hl1[i]);
    if (a > md) md = a;
    if (b > md) md = b;
  }
  PD_TEST_CHECK(md <= 1e-12, "low parts differ from np 1 by %.3e", md);
  PD_TEST_CHECK(pd_test_rel(res->e_low, r1.e_low) <= 1e-12 &&
                    pd_test_rel(res->e_high, r1.e_high) <= 1e-12,
                "errors differ from np 1: %.17g %.17g vs %.17g %.17g",
                res->e_low, res->e_high, r1.e_low, r1.e_high);
  double mine[2] = {res->e_low, res->e_high}, first[2] = {mine[0], mine[1]};
  MPI_Bcast(first, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  PD_TEST_CHECK(first[0] == mine[0] && first[1] == mine[1],
                "filter errors differ across ranks");
  pd_free(&yl);
  pd_free(&hl);
  pd_free(&yl1);
  pd_free(&hl1);
}

static void check_filter(void) {
  /* a smooth target on [-1, 1]^2, h = y and h = y + white noise */
  const int64_t n = 800;
  pd_data *data = pd_test_random_data(n, 2, 11);
  double *h = NULL;
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &h));
  for (int64_t i = 0; i < n; i++) {
    data->y[i] = cos(0.5 * data->x[2 * i]) + 0.3 * data->x[2 * i + 1];
    h[i] = data->y[i];
  }
  pd_fp_filtered r;
  filter_both(data, h, 0.01, &r);
  PD_TEST_CHECK(r.e_low == 0 && r.e_high == 0, "h = y: e_low %g e_high %g",
                r.e_low, r.e_high);
  PD_TEST_CHECK(r.y_high_norm < 0.05 * r.y_low_norm,
                "smooth target: |y_high| %g vs |y_low| %g", r.y_high_norm,
                r.y_low_norm);
  for (int64_t i = 0; i < n; i++)
    h[i] = data->y[i] + 0.01 * (2 * pd_rng_uniform(12, 0, (uint64_t)i, 0) - 1);
  filter_both(data, h, 0.01, &r);
  PD_TEST_CHECK(r.e_high > 10 * r.e_low && r.e_low < 0.01,
                "noise: e_low %g e_high %g", r.e_low, r.e_high);
  if (world_rank() == 0)
    printf(
        "filter smooth + noise: e_low %.3e, e_high %.3e (|y_low| %.3f, "
        "|y_high| %.3f)\n",
        r.e_low, r.e_high, r.y_low_norm, r.y_high_norm);
  /* a constant target: the high part vanishes */
  for (int64_t i = 0; i < n; i++) data->y[i] = h[i] = 2.5;
  filter_both(data, h, 1.0, &r);
  PD_TEST_CHECK(
      r.e_low == 0 && r.e_high == 0 && r.y_high_norm < 1e-12 * r.y_low_norm,
      "constant: e_high %g |y_high| %g", r.e_high, r.y_high_norm);
  /* random data and outputs at d = 3 */
  pd_data *rd = pd_test_random_data(501, 3, 13);
  double *h3 = NULL;
  PD_TEST_OK(pd_calloc(501, sizeof(double), &h3));
  for (int64_t i = 0; i < 501; i++)
    h3[i] = 0.7 * rd->y[i] + pd_rng_normal(14, 0, (uint64_t)i, 0) * 0.2;
  filter_both(rd, h3, 0.05, &r);
  PD_TEST_CHECK(isfinite(r.e_low) && isfinite(r.e_high), "random: %g %g",
                r.e_low, r.e_high);
  /* a bad width is refused on every rank */
  PD_TEST_CHECK(
      pd_fp_filter(MPI_COMM_WORLD, rd, h3, 0, &r, NULL, NULL) == PD_ERR_ARG,
      "delta = 0 accepted");
  /* an allocation failing on the last rank only fails everywhere */
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (long k = 1; k <= 2; k++) {
    if (rank == size - 1) pd_mem_fail_after(k);
    int e = pd_fp_filter(MPI_COMM_WORLD, rd, h3, 0.05, &r, NULL, NULL);
    pd_mem_fail_after(0);
    PD_TEST_CHECK(e == (rank == size - 1 ? PD_ERR_ALLOC : PD_ERR_PEER),
                  "injected failure %ld: %d", k, e);
  }
  pd_error_clear();
  pd_free(&h3);
  pd_data_destroy(&rd);
  pd_free(&h);
  pd_data_destroy(&data);

  /* tens of thousands of points */
  const int64_t big = 20000;
  pd_data *bd = pd_test_random_data(big, 2, 15);
  double *hb = NULL;
  PD_TEST_OK(pd_calloc((size_t)big, sizeof(double), &hb));
  for (int64_t i = 0; i < big; i++) {
    bd->y[i] = sin(2 * bd->x[2 * i]) * cos(bd->x[2 * i + 1]);
    hb[i] = bd->y[i] + 0.05 * pd_rng_normal(16, 0, (uint64_t)i, 0);
  }
  double t0 = MPI_Wtime();
  PD_TEST_OK(pd_fp_filter(MPI_COMM_WORLD, bd, hb, 0.001, &r, NULL, NULL));
  double dt = MPI_Wtime() - t0;
  double mine[2] = {r.e_low, r.e_high}, first[2] = {mine[0], mine[1]};
  MPI_Bcast(first, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  PD_TEST_CHECK(first[0] == mine[0] && first[1] == mine[1],
                "n = 20000: errors differ across ranks");
  PD_TEST_CHECK(r.e_high > r.e_low, "n = 20000: e_low %g e_high %g", r.e_low,
                r.e_high);
  if (world_rank() == 0)
    printf("filter n = %lld, d = 2: e_low %.17g, e_high %.17g, %.2f s\n",
           (long long)big, r.e_low, r.e_high, dt);
  pd_free(&hb);
  pd_data_destroy(&bd);
}

static void check_spearman(void) {
  double a[5] = {1, 2, 3, 4, 5}, b[5] = {1, 3, 2, 5, 4}, c[5], rho = 0;
  for (int i = 0; i < 5; i++) c[i] = exp(a[i]);
  PD_TEST_OK(pd_fp_spearman(5, a, c, &rho));
  PD_TEST_CHECK(rho == 1, "monotone: %g", rho);
  for (int i = 0; i < 5; i++) c[i] = -a[i] * a[i];
  PD_TEST_OK(pd_fp_spearman(5, a, c, &rho));
  PD_TEST_CHECK(rho == -1, "reversed: %g", rho);
  PD_TEST_OK(pd_fp_spearman(5, a, b, &rho));
  PD_TEST_CHECK(fabs(rho - 0.8) < 1e-15, "swaps: %.17g", rho);
  double ta[4] = {1, 2, 2, 3}, tb[4] = {1, 2, 3, 4};
  PD_TEST_OK(pd_fp_spearman(4, ta, tb, &rho));
  PD_TEST_CHECK(fabs(rho - 4.5 / sqrt(22.5)) < 1e-15, "ties: %.17g", rho);
  double k[4] = {7, 7, 7, 7};
  PD_TEST_OK(pd_fp_spearman(4, k, tb, &rho));
  PD_TEST_CHECK(isnan(rho), "constant: %g", rho);
  PD_TEST_CHECK(pd_fp_spearman(1, a, b, &rho) == PD_ERR_ARG, "n = 1 accepted");
  pd_error_clear();
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  check_peaks();
  check_projection();
  check_filter();
  check_spearman();
  return pd_test_end("test_fprinciple");
}
