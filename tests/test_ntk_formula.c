/* The infinite-width NTK against an independent serial formula: the
 * arc-cosine kernels as integrals over the angle in the plane of x~ and x~'
 * (Gauss-Legendre quadrature), the angle from the cross product. */
#include "pd_test.h"
#include "phasediag/base/rng.h"
#include "phasediag/observe/ntk.h"

enum { NGL = 24 };
static double gl_x[NGL], gl_w[NGL];

/* Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_NGL). */
static void gauss_legendre(void) {
  const double pi = 3.14159265358979323846;
  for (int i = 0; i < NGL; i++) {
    double x = cos(pi * (i + 0.75) / (NGL + 0.5)), dp = 1;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = x;
      for (int k = 2; k <= NGL; k++) {
        double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = NGL * (x * p1 - p0) / (x * x - 1);
      double dx = p1 / dp;
      x -= dx;
      if (fabs(dx) < 1e-16) break;
    }
    gl_x[i] = x;
    gl_w[i] = 2 / ((1 - x * x) * dp * dp);
  }
}

/* With u, v unit vectors at angle t and w ~ N(0, I) projected to their
 * plane (polar angle phi, E r^2 = 2):
 *   E relu(w.u) relu(w.v) = (2 / 2pi) int_{t - pi/2}^{pi/2} cos(phi)
 *   cos(phi - t) dphi,     P(w.u > 0, w.v > 0) = (pi - t) / (2 pi). */
static double reference(const double *x, const double *y, int d, double m,
                        const pd_scales *s) {
  const double pi = 3.14159265358979323846;
  double xt[8], yt[8];
  for (int j = 0; j < d; j++) {
    xt[j] = x[j];
    yt[j] = y[j];
  }
  xt[d] = yt[d] = 1;
  const int D = d + 1;
  double xx = 0, yy = 0, xy = 0;
  for (int j = 0; j < D; j++) {
    xx += xt[j] * xt[j];
    yy += yt[j] * yt[j];
    xy += xt[j] * yt[j];
  }
  double cr2;
  if (D == 3) { /* |x cross y|^2 */
    double c0 = xt[1] * yt[2] - xt[2] * yt[1];
    double c1 = xt[2] * yt[0] - xt[0] * yt[2];
    double c2 = xt[0] * yt[1] - xt[1] * yt[0];
    cr2 = c0 * c0 + c1 * c1 + c2 * c2;
  } else { /* sum over pairs (Lagrange) */
    cr2 = 0;
    for (int i = 0; i < D; i++)
      for (int j = i + 1; j < D; j++) {
        double c = xt[i] * yt[j] - xt[j] * yt[i];
        cr2 += c * c;
      }
  }
  const double t = atan2(sqrt(cr2), xy);
  const double lo = t - pi / 2, hi = pi / 2, h = (hi - lo) / 2;
  double integral = 0;
  for (int q = 0; q < NGL; q++) {
    double phi = lo + h * (gl_x[q] + 1);
    integral += gl_w[q] * h * cos(phi) * cos(phi - t);
  }
  double relu2 = s->beta2 * s->beta2 * sqrt(xx * yy) * integral / pi;
  double step = s->beta1 * s->beta1 * xy * (hi - lo) / (2 * pi);
  return m / (s->alpha * s->alpha) * (relu2 + step);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  gauss_legendre();
  double worst = 0;
  int dims[3] = {1, 2, 5};
  for (int di = 0; di < 3; di++) {
    const int d = dims[di];
    for (int p = 0; p < 400; p++) {
      uint64_t c = (uint64_t)(di * 1000 + p);
      double x[8], y[8];
      for (int j = 0; j < d; j++) {
        x[j] = 6 * pd_rng_uniform(11, c, (uint64_t)j, 0) - 3;
        y[j] = p % 50 == 0 ? x[j] /* theta = 0 */
                           : 6 * pd_rng_uniform(11, c, (uint64_t)j, 1) - 3;
      }
      pd_scales s = {0.1 + 5 * pd_rng_uniform(12, c, 0, 0),
                     0.1 + 3 * pd_rng_uniform(12, c, 1, 0),
                     0.1 + 3 * pd_rng_uniform(12, c, 2, 0)};
      double m = 1 + 1e6 * pd_rng_uniform(12, c, 3, 0);
      double got = pd_ntk_closed_form(x, y, d, m, &s);
      double want = reference(x, y, d, m, &s);
      double rel = pd_test_rel(got, want);
      if (rel > worst) worst = rel;
      PD_TEST_CHECK(rel <= 1e-12, "d %d point %d: %.17g vs %.17g (rel %g)", d,
                    p, got, want, rel);
      /* symmetric in its arguments */
      PD_TEST_CHECK(
          pd_test_rel(got, pd_ntk_closed_form(y, x, d, m, &s)) <= 1e-15,
          "not symmetric at d %d point %d", d, p);
    }
  }
  /* x = x': Theta = (m/alpha^2)(beta2^2 + beta1^2) |x~|^2 / 2 exactly */
  double x1[2] = {0.3, -0.7};
  pd_scales s1 = {2, 1.5, 0.5};
  double diag = pd_ntk_closed_form(x1, x1, 2, 4, &s1);
  double want = 4 / 4.0 * (0.25 + 2.25) * (1 + 0.09 + 0.49) / 2;
  PD_TEST_CHECK(pd_test_rel(diag, want) <= 1e-15, "diagonal %.17g vs %.17g",
                diag, want);
  printf("closed form vs quadrature: max relative difference %.3g\n", worst);
  return pd_test_end("test_ntk_formula");
}
