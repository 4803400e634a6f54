/* Kernel regression with the closed-form NTK (pdposv) against serial LAPACK
 * dposv, interpolation of the targets, the prediction at new points, and
 * the linearized loss curve and residual from pdsyevd. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"
#include "phasediag/observe/dmat.h"
#include "phasediag/observe/linpred.h"
#include "phasediag/observe/ntk.h"

void dposv_(const char *uplo, const int *n, const int *nrhs, double *a,
            const int *lda, double *b, const int *ldb, int *info, size_t);

enum { N = 40, D = 2, NB = 4, NX = 25, NT = 12 };

static double max_abs(const double *a, int n) {
  double m = 0;
  for (int i = 0; i < n; i++)
    if (fabs(a[i]) > m) m = fabs(a[i]);
  return m;
}

static double max_diff(const double *a, const double *b, int n) {
  double m = 0;
  for (int i = 0; i < n; i++)
    if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
  return m;
}

/* A symmetric positive definite matrix: random symmetric plus n on the
 * diagonal (diagonally dominant). */
static double spd_random(int i, int j, void *ctx) {
  const int n = *(const int *)ctx;
  int lo = i < j ? i : j, hi = i < j ? j : i;
  return 2 * pd_rng_uniform(41, 0, (uint64_t)lo, (uint64_t)hi) - 1 +
         (i == j ? n : 0);
}

/* pd_dmat_posv against dposv on a random SPD matrix of order n, block nb
 * (small orders leave some ranks without rows). */
static void check_posv(pd_blacs *g, int n, int nb) {
  pd_dmat *A = NULL;
  PD_TEST_OK(pd_dmat_create(g, n, nb, &A));
  PD_TEST_OK(pd_dmat_fill(A, spd_random, &n));
  double *full = NULL, *b = NULL, *bs = NULL;
  PD_TEST_OK(pd_calloc((size_t)n * n, sizeof(double), &full));
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &b));
  PD_TEST_OK(pd_calloc((size_t)n, sizeof(double), &bs));
  for (int j = 0; j < n; j++) {
    b[j] = bs[j] = pd_rng_normal(42, 0, (uint64_t)j, 0);
    for (int i = 0; i < n; i++) full[(size_t)j * n + i] = spd_random(i, j, &n);
  }
  PD_TEST_OK(pd_dmat_posv(A, b));
  int one = 1, info = 0;
  dposv_("L", &n, &one, full, &n, bs, &n, &info, 1);
  const double e = max_diff(b, bs, n) / max_abs(bs, n);
  PD_TEST_CHECK(info == 0 && e <= 1e-12, "posv n %d nb %d: %g (info %d)", n, nb,
                e, info);
  pd_free(&full);
  pd_free(&b);
  pd_free(&bs);
  PD_TEST_OK(pd_dmat_destroy(&A));
}

static double minus_identity(int i, int j, void *ctx) {
  (void)ctx;
  return i == j ? -1.0 : 0.0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pd_data *data = pd_test_random_data(N, D, 11);
  pd_data *pts = pd_test_random_data(NX, D, 12);
  const double m = 1e4;
  const pd_scales s = {sqrt(m), 1, 1};
  pd_blacs *g = NULL;
  PD_TEST_OK(pd_blacs_create(MPI_COMM_WORLD, &g));

  const int posv_sizes[4][2] = {{150, 16}, {5, 2}, {3, 1}, {1, 1}};
  for (int t = 0; t < 4; t++) check_posv(g, posv_sizes[t][0], posv_sizes[t][1]);

  /* the serial kernel on every rank */
  static double kfull[N * N], kser[N * N];
  for (int j = 0; j < N; j++)
    for (int i = 0; i < N; i++)
      kfull[j * N + i] =
          pd_ntk_closed_form(data->x + i * D, data->x + j * D, D, m, &s);

  /* coefficients: pdposv against dposv */
  for (int t = 0; t < 2; t++) {
    const double ridge = t == 0 ? 0.0 : 1e-3;
    pd_dmat *K = NULL;
    PD_TEST_OK(pd_dmat_create(g, N, NB, &K));
    PD_TEST_OK(pd_ntk_fill_closed_form(K, data, m, &s));
    double c[N], cs[N];
    PD_TEST_OK(pd_linpred_coefficients(K, data->y, ridge, c));
    memcpy(kser, kfull, sizeof kser);
    for (int i = 0; i < N; i++) kser[i * N + i] += ridge;
    memcpy(cs, data->y, sizeof cs);
    int n = N, one = 1, info = 0;
    dposv_("L", &n, &one, kser, &n, cs, &n, &info, 1);
    PD_TEST_CHECK(info == 0, "dposv info %d", info);
    const double dc = max_diff(c, cs, N) / max_abs(cs, N);
    PD_TEST_CHECK(dc <= 1e-10, "ridge %g: pdposv vs dposv %g", ridge, dc);
    /* the same bits on every rank */
    double cmin[N], cmax[N];
    MPI_Allreduce(c, cmin, N, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(c, cmax, N, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    PD_TEST_CHECK(memcmp(cmin, cmax, sizeof c) == 0,
                  "coefficients differ across ranks");
    /* (K + ridge I) c = y; without ridge the prediction interpolates y */
    double f[N], fx[NX];
    PD_TEST_OK(pd_linpred_predict(MPI_COMM_WORLD, data, c, NULL, m, &s, data->x,
                                  N, f));
    for (int i = 0; i < N; i++) f[i] += ridge * c[i];
    const double dy = max_diff(f, data->y, N) / max_abs(data->y, N);
    PD_TEST_CHECK(dy <= 1e-8,
                  "ridge %g: prediction at the training points "
                  "misses y by %g",
                  ridge, dy);
    /* new points: the serial sum, bit for bit */
    PD_TEST_OK(pd_linpred_predict(MPI_COMM_WORLD, data, c, NULL, m, &s, pts->x,
                                  NX, fx));
    int bad = 0;
    for (int p = 0; p < NX; p++) {
      double sum = 0;
      for (int i = 0; i < N; i++)
        sum += pd_ntk_closed_form(pts->x + p * D, data->x + i * D, D, m, &s) *
               c[i];
      bad += sum != fx[p];
    }
    PD_TEST_CHECK(bad == 0, "%d predictions differ from the serial sum", bad);
    if (rank == 0)
      printf(
          "ridge %g: |c - c_dposv|_max / |c|_max %.3g, |f(X) - y|_max / "
          "|y|_max %.3g\n",
          ridge, dc, dy);
    PD_TEST_OK(pd_dmat_destroy(&K));
  }

  /* a matrix that is not positive definite is refused on every rank */
  {
    pd_dmat *K = NULL;
    PD_TEST_OK(pd_dmat_create(g, N, NB, &K));
    PD_TEST_OK(pd_dmat_fill(K, minus_identity, NULL));
    double c[N];
    int err = pd_linpred_coefficients(K, data->y, 0, c);
    PD_TEST_CHECK(err == PD_ERR_NUMERIC || err == PD_ERR_PEER,
                  "indefinite matrix: %d", err);
    int any_ok = err == PD_OK, all_ok = 0;
    MPI_Allreduce(&any_ok, &all_ok, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    PD_TEST_CHECK(all_ok == 0, "some rank accepted the indefinite matrix");
    pd_error_clear();
    PD_TEST_OK(pd_dmat_destroy(&K));
  }

  /* the linearized loss curve: R(0) = |y|^2 / (2n), decreasing, equal to
   * |r(t)|^2 / (2n), and r(t) solves dr/dt = -(1/n) K r */
  pd_dmat *K = NULL, *V = NULL;
  PD_TEST_OK(pd_dmat_create(g, N, NB, &K));
  PD_TEST_OK(pd_dmat_create(g, N, NB, &V));
  PD_TEST_OK(pd_ntk_fill_closed_form(K, data, m, &s));
  double lambda[N], r0[N], p[N], t[NT], loss[NT];
  PD_TEST_OK(pd_dmat_syevd(K, lambda, V));
  for (int i = 0; i < N; i++) r0[i] = -data->y[i];
  PD_TEST_OK(pd_linpred_project(V, r0, p));
  t[0] = 0;
  for (int j = 1; j < NT; j++) t[j] = 1e-3 * pow(10, 0.5 * j);
  PD_TEST_OK(pd_linpred_loss(N, lambda, p, t, NT, loss));
  double y2 = 0;
  for (int i = 0; i < N; i++) y2 += data->y[i] * data->y[i];
  const double l0 = y2 / (2.0 * N);
  PD_TEST_CHECK(pd_test_rel(loss[0], l0) <= 1e-12, "R(0) %.17g vs %.17g",
                loss[0], l0);
  int rising = 0;
  for (int j = 1; j < NT; j++) rising += !(loss[j] < loss[j - 1]);
  PD_TEST_CHECK(rising == 0, "the loss rises %d times", rising);
  double dmax = 0, curve = 0;
  for (int j = 0; j < NT; j++) {
    double r[N], r2 = 0;
    PD_TEST_OK(pd_linpred_residual(V, lambda, p, t[j], r));
    for (int i = 0; i < N; i++) r2 += r[i] * r[i];
    if (j == 0) dmax = max_diff(r, r0, N) / max_abs(r0, N);
    double e = pd_test_rel(r2 / (2.0 * N), loss[j]);
    if (e > curve) curve = e;
  }
  PD_TEST_CHECK(dmax <= 1e-12, "r(0) off by %g", dmax);
  PD_TEST_CHECK(curve <= 1e-10, "R(t) vs |r(t)|^2/(2n): %g", curve);
  /* central difference of r(t) at t = 1 against -(1/n) K r(t) */
  {
    const double t1 = 1.0, h = 1e-4;
    double rp[N], rm[N], r1[N], ode = 0, scale = 0;
    PD_TEST_OK(pd_linpred_residual(V, lambda, p, t1 + h, rp));
    PD_TEST_OK(pd_linpred_residual(V, lambda, p, t1 - h, rm));
    PD_TEST_OK(pd_linpred_residual(V, lambda, p, t1, r1));
    for (int i = 0; i < N; i++) {
      double kr = 0;
      for (int j = 0; j < N; j++) kr += kfull[j * N + i] * r1[j];
      kr /= -N;
      double e = fabs((rp[i] - rm[i]) / (2 * h) - kr);
      if (e > ode) ode = e;
      if (fabs(kr) > scale) scale = fabs(kr);
    }
    PD_TEST_CHECK(ode / scale <= 1e-6, "dr/dt vs -(1/n) K r: %g", ode / scale);
    if (rank == 0)
      printf(
          "loss curve: R(0) %.6g = |y|^2/(2n) (rel %.2g), R(t=%g) %.4g, "
          "|r(0) - r0| %.2g, |R - |r|^2/(2n)| %.2g, dr/dt check %.2g\n",
          loss[0], pd_test_rel(loss[0], l0), t[NT - 1], loss[NT - 1], dmax,
          curve, ode / scale);
  }
  /* projecting r(t) back: p_k(t) = exp(-lambda_k t / n) p_k(0), so the
   * components along large eigenvalues decay first */
  {
    double r[N], q[N], e = 0;
    PD_TEST_OK(pd_linpred_residual(V, lambda, p, 5.0, r));
    PD_TEST_OK(pd_linpred_project(V, r, q));
    for (int k = 0; k < N; k++)
      e = fmax(e, fabs(q[k] - exp(-lambda[k] * 5.0 / N) * p[k]));
    PD_TEST_CHECK(e <= 1e-12 * max_abs(p, N), "V^T r(t) off by %g", e);
    PD_TEST_CHECK(fabs(q[N - 1] / p[N - 1]) < fabs(q[0] / p[0]),
                  "the top component decays slower than the bottom one");
  }
  if (rank == 0) {
    printf(
        "lambda in [%.4g, %.4g]; p_k^2 e^{-2 lambda_k t/n} at t = %g: "
        "largest lambda %.3g, smallest %.3g\n",
        lambda[0], lambda[N - 1], t[6],
        p[N - 1] * p[N - 1] * exp(-2 * lambda[N - 1] * t[6] / N),
        p[0] * p[0] * exp(-2 * lambda[0] * t[6] / N));
  }
  PD_TEST_OK(pd_dmat_destroy(&K));
  PD_TEST_OK(pd_dmat_destroy(&V));
  PD_TEST_OK(pd_blacs_destroy(&g));
  pd_data_destroy(&data);
  pd_data_destroy(&pts);
  return pd_test_end("test_linpred");
}
