/* The linear F-Principle in 1-D: the coefficients of gamma^2, the natural
 * cubic spline and the piecewise-linear interpolant on known cases, and the
 * general minimizer against both in its two limits. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/rng.h"
#include "phasediag/observe/lfp.h"

enum { N = 9, NQ = 201 };

static const double pi = 3.14159265358979323846;

static double max_diff(const double *a, const double *b, int n) {
  double m = 0;
  for (int i = 0; i < n; i++)
    if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
  return m;
}

/* A natural cubic spline with knots 0, 1, 2, 3 in closed form:
 * sum c_i |x - i|^3 with sum c_i = sum c_i x_i = 0 is linear beyond the
 * knots, plus a line. */
static double known_spline(double x) {
  return pow(fabs(x), 3) - pow(fabs(x - 1), 3) - pow(fabs(x - 2), 3) +
         pow(fabs(x - 3), 3) + 0.5 * x - 1;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);

  /* coefficients: d = 1 in closed form; d = 3 against Monte Carlo */
  pd_scales s = {1, 0.7, 1.3};
  pd_lfp_coef c;
  PD_TEST_OK(pd_lfp_coefficients(1, &s, &c));
  const double g4 = 2 * sqrt(2 / pi) * pow(1.3, 3) / (16 * pow(pi, 4));
  const double g2 = sqrt(2 / pi) * 0.49 * 1.3 / (4 * pi * pi);
  PD_TEST_CHECK(pd_test_rel(c.g4, g4) < 1e-14 && pd_test_rel(c.g2, g2) < 1e-14,
                "d = 1: g4 %g (%g), g2 %g (%g)", c.g4, g4, c.g2, g2);
  PD_TEST_CHECK(pd_test_rel(pd_lfp_gamma2(&c, 0.5), g4 * 16 + g2 * 4) < 1e-14,
                "gamma^2(1/2) %g", pd_lfp_gamma2(&c, 0.5));
  {
    pd_lfp_coef c3;
    PD_TEST_OK(pd_lfp_coefficients(3, &s, &c3));
    double er3 = 0, ea2r = 0;
    const int S = 200000;
    for (int k = 0; k < S; k++) {
      double r2 = 0;
      for (int j = 0; j < 3; j++) {
        double w = 1.3 * pd_rng_normal(9, 1, (uint64_t)k, (uint64_t)j);
        r2 += w * w;
      }
      const double a = 0.7 * pd_rng_normal(9, 2, (uint64_t)k, 0);
      er3 += pow(r2, 1.5);
      ea2r += a * a * sqrt(r2);
    }
    er3 /= S;
    ea2r /= S;
    const double e4 = pd_test_rel(c3.g4, er3 / (16 * pow(pi, 4)));
    const double e2 = pd_test_rel(c3.g2, ea2r / (4 * pi * pi));
    PD_TEST_CHECK(e4 < 0.01 && e2 < 0.01, "d = 3 vs Monte Carlo: %g, %g", e4,
                  e2);
    if (rank == 0)
      printf(
          "d = 3: g4, g2 against a 2e5-sample Monte Carlo mean: rel "
          "%.2g, %.2g\n",
          e4, e2);
  }

  /* nodes in no order, unevenly spaced; queries beyond them */
  double x[N], y[N], xq[NQ], h1[NQ], h2[NQ];
  for (int i = 0; i < N; i++) {
    x[i] = -1 + 2.0 * ((i * 5) % N) / (N - 1) +
           0.05 * (pd_rng_uniform(3, 0, (uint64_t)i, 0) - 0.5);
    y[i] = sin(3 * x[i]) + pd_rng_normal(3, 1, (uint64_t)i, 0);
  }
  for (int j = 0; j < NQ; j++) xq[j] = -1.5 + 3.0 * j / (NQ - 1);
  double ylin[N], fq[NQ];

  /* piecewise linear: lines exactly, constant beyond the ends */
  for (int i = 0; i < N; i++) ylin[i] = 2 - 0.75 * x[i];
  PD_TEST_OK(pd_lfp_piecewise_linear(N, x, ylin, NQ, xq, h1));
  double lo = x[0], hi = x[0];
  for (int i = 1; i < N; i++) {
    lo = fmin(lo, x[i]);
    hi = fmax(hi, x[i]);
  }
  for (int j = 0; j < NQ; j++) fq[j] = 2 - 0.75 * fmin(fmax(xq[j], lo), hi);
  const double e_pwl = max_diff(h1, fq, NQ);
  PD_TEST_CHECK(e_pwl < 1e-14, "piecewise linear misses a line by %g", e_pwl);
  PD_TEST_OK(pd_lfp_piecewise_linear(N, x, y, N, x, h1));
  PD_TEST_CHECK(max_diff(h1, y, N) == 0, "piecewise linear at the nodes");

  /* natural cubic spline: lines exactly; a hand case; a closed-form spline */
  PD_TEST_OK(pd_lfp_cubic_spline(N, x, ylin, NQ, xq, h1));
  for (int j = 0; j < NQ; j++) fq[j] = 2 - 0.75 * xq[j];
  const double e_sl = max_diff(h1, fq, NQ);
  PD_TEST_CHECK(e_sl < 1e-13, "spline misses a line by %g", e_sl);
  {
    /* through (0,0), (1,1), (2,0): 1.5 t - 0.5 t^3 on [0, 1], symmetric */
    const double xs[3] = {2, 0, 1}, ys[3] = {0, 0, 1},
                 tq[4] = {0.5, 1.5, -1, 3};
    const double want[4] = {0.6875, 0.6875, -1.5, -1.5};
    double got[4];
    PD_TEST_OK(pd_lfp_cubic_spline(3, xs, ys, 4, tq, got));
    PD_TEST_CHECK(max_diff(got, want, 4) < 1e-15, "hand spline: %g %g %g %g",
                  got[0], got[1], got[2], got[3]);
  }
  double e_known = 0;
  {
    const double xs[4] = {3, 1, 0, 2};
    double ys[4], hk[NQ];
    for (int i = 0; i < 4; i++) ys[i] = known_spline(xs[i]);
    double tq[NQ];
    for (int j = 0; j < NQ; j++) tq[j] = -2 + 7.0 * j / (NQ - 1);
    PD_TEST_OK(pd_lfp_cubic_spline(4, xs, ys, NQ, tq, hk));
    for (int j = 0; j < NQ; j++) fq[j] = known_spline(tq[j]);
    e_known = max_diff(hk, fq, NQ);
    PD_TEST_CHECK(e_known < 1e-12, "closed-form spline reproduced to %g",
                  e_known);
  }

  /* the minimizer: |xi|^4 term only = spline, |xi|^2 only = piecewise
   * linear, everywhere (also beyond the nodes) */
  double ymax = 0;
  for (int i = 0; i < N; i++) ymax = fmax(ymax, fabs(y[i]));
  pd_lfp_coef only4 = {1, 1e-3, 0}, only2 = {1, 0, 2.5};
  PD_TEST_OK(pd_lfp_minimizer(&only4, N, x, y, NQ, xq, h1));
  PD_TEST_OK(pd_lfp_cubic_spline(N, x, y, NQ, xq, h2));
  const double e4 = max_diff(h1, h2, NQ) / ymax;
  PD_TEST_CHECK(e4 <= 1e-8, "|xi|^4 only vs natural spline: %g", e4);
  PD_TEST_OK(pd_lfp_minimizer(&only2, N, x, y, NQ, xq, h1));
  PD_TEST_OK(pd_lfp_piecewise_linear(N, x, y, NQ, xq, h2));
  const double e2 = max_diff(h1, h2, NQ) / ymax;
  PD_TEST_CHECK(e2 <= 1e-8, "|xi|^2 only vs piecewise linear: %g", e2);

  /* both terms: interpolates, and tends to each limit; compare on the data
   * range (beyond it the null space {1, x} stays when g4 > 0) */
  int nin = 0;
  double xin[NQ];
  for (int j = 0; j < NQ; j++)
    if (xq[j] >= lo && xq[j] <= hi) xin[nin++] = xq[j];
  double ratio[5] = {1e-8, 1e-2, 1, 1e2, 1e8}, dsp[5], dpl[5];
  for (int r = 0; r < 5; r++) {
    pd_lfp_coef mix = {1, 1.0, ratio[r]}; /* g2 / g4 */
    double hn[N];
    PD_TEST_OK(pd_lfp_minimizer(&mix, N, x, y, N, x, hn));
    PD_TEST_CHECK(max_diff(hn, y, N) / ymax < 1e-10,
                  "g2/g4 = %g: misses the nodes by %g", ratio[r],
                  max_diff(hn, y, N));
    PD_TEST_OK(pd_lfp_minimizer(&mix, N, x, y, nin, xin, h1));
    PD_TEST_OK(pd_lfp_cubic_spline(N, x, y, nin, xin, h2));
    dsp[r] = max_diff(h1, h2, nin) / ymax;
    PD_TEST_OK(pd_lfp_piecewise_linear(N, x, y, nin, xin, h2));
    dpl[r] = max_diff(h1, h2, nin) / ymax;
  }
  PD_TEST_CHECK(dsp[0] < 1e-6 && dpl[4] < 1e-6,
                "limits: %g from the spline at g2/g4 = 1e-8, %g from the "
                "piecewise-linear at 1e8",
                dsp[0], dpl[4]);
  int mono = 1;
  for (int r = 1; r < 5; r++)
    mono = mono && dsp[r] >= dsp[r - 1] && dpl[r] <= dpl[r - 1];
  PD_TEST_CHECK(mono, "distances to the limits not monotone in g2/g4");

  /* bad input */
  double xd[3] = {0, 1, 0}, yd[3] = {0, 1, 2}, hd[1];
  PD_TEST_CHECK(pd_lfp_minimizer(&only4, 3, xd, yd, 1, xd, hd) == PD_ERR_ARG,
                "repeated node accepted");
  pd_lfp_coef d2 = {2, 1, 1}, zero = {1, 0, 0};
  PD_TEST_CHECK(pd_lfp_minimizer(&d2, N, x, y, 1, x, hd) == PD_ERR_ARG,
                "d = 2 accepted");
  PD_TEST_CHECK(pd_lfp_minimizer(&zero, N, x, y, 1, x, hd) == PD_ERR_ARG,
                "zero coefficients accepted");
  pd_error_clear();

  if (rank == 0) {
    printf(
        "piecewise linear: line %.2g; spline: line %.2g, closed-form "
        "spline %.2g\n",
        e_pwl, e_sl, e_known);
    printf(
        "minimizer vs spline (|xi|^4 only) %.3g, vs piecewise linear "
        "(|xi|^2 only) %.3g (relative to max |y|)\n",
        e4, e2);
    for (int r = 0; r < 5; r++)
      printf(
          "g2/g4 = %-6g: distance to spline %.3g, to piecewise linear "
          "%.3g\n",
          ratio[r], dsp[r], dpl[r]);
    /* the paper's data under ntk scales: which limit rules */
    pd_scales ntk = {1, 1, 1};
    PD_TEST_OK(pd_lfp_coefficients(1, &ntk, &c));
    printf(
        "ntk (beta1 = beta2 = 1): g4 %.4g, g2 %.4g, crossover xi_c = "
        "sqrt(g4/g2) %.4g\n",
        c.g4, c.g2, sqrt(c.g4 / c.g2));
  }
  return pd_test_end("test_lfp");
}
