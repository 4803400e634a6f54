/* Scales and coordinates of the parameterizations; the theorems' regimes. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/model/fit.h"
#include "phasediag/model/scheme.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  /* the named schemes' (gamma, gamma') from their scales (alpha, beta1,
   * beta2 as powers of m) and the regimes the theorems give them */
  struct {
    pd_scheme_kind k;
    double g, gp;
    pd_regime r;
  } t[] = {{PD_SCHEME_NTK, 0.5, 0, PD_REGIME_LINEAR},
           {PD_SCHEME_MEAN_FIELD, 1, 0, PD_REGIME_CRITICAL},
           {PD_SCHEME_XAVIER, 1, 0, PD_REGIME_CRITICAL},
           {PD_SCHEME_LECUN, 0.5, 0.5, PD_REGIME_LINEAR},
           {PD_SCHEME_HE, 0.5, 0.5, PD_REGIME_LINEAR}};
  for (int d = 1; d <= 784; d += 783)
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
      double g, gp;
      PD_TEST_OK(pd_scheme_coordinates(t[i].k, d, &g, &gp));
      PD_TEST_CHECK(fabs(g - t[i].g) < 1e-9 && fabs(gp - t[i].gp) < 1e-9,
                    "%s d=%d: (%.12g, %.12g), expected (%g, %g)",
                    pd_scheme_name(t[i].k), d, g, gp, t[i].g, t[i].gp);
      PD_TEST_CHECK(pd_theory_regime(g, gp) == t[i].r, "%s regime %s",
                    pd_scheme_name(t[i].k),
                    pd_regime_name(pd_theory_regime(g, gp)));
      pd_scheme_kind back;
      PD_TEST_OK(pd_scheme_from_name(pd_scheme_name(t[i].k), &back));
      PD_TEST_CHECK(back == t[i].k, "name round trip");
    }
  pd_scheme_kind k;
  PD_TEST_CHECK(pd_scheme_from_name("glorot", &k) == PD_ERR_ARG,
                "unknown scheme accepted");
  PD_TEST_CHECK(strstr(pd_error_message(), "mean_field") != NULL,
                "message should list the valid names: %s", pd_error_message());

  /* grid scales realize the coordinates exactly: log-log slopes */
  double g = 1.75, gp = -0.5, m1 = 1e3, m2 = 1e6;
  pd_scales s1, s2;
  PD_TEST_OK(pd_scales_grid(g, gp, m1, 2.0, &s1));
  PD_TEST_OK(pd_scales_grid(g, gp, m2, 2.0, &s2));
  PD_TEST_CHECK(s1.beta2 == 2.0, "beta2 is the base scale");
  double dg = -(log(s2.beta1 * s2.beta2 / s2.alpha) -
                log(s1.beta1 * s1.beta2 / s1.alpha)) /
              log(m2 / m1);
  double dgp =
      -(log(s2.beta1 / s2.beta2) - log(s1.beta1 / s1.beta2)) / log(m2 / m1);
  PD_TEST_CHECK(fabs(dg - g) < 1e-12 && fabs(dgp - gp) < 1e-12,
                "grid slopes (%.15g, %.15g)", dg, dgp);
  PD_TEST_CHECK(pd_scales_grid(1, 0, 100, -1, &s1) == PD_ERR_ARG,
                "negative base scale accepted");

  /* Theorems 1 and 2 */
  PD_TEST_CHECK(pd_theory_regime(0.75, 0) == PD_REGIME_LINEAR, "gamma < 1");
  PD_TEST_CHECK(pd_theory_regime(1.5, 1.0) == PD_REGIME_LINEAR,
                "gamma' > gamma - 1");
  PD_TEST_CHECK(pd_theory_regime(1.5, 0) == PD_REGIME_CONDENSED, "condensed");
  PD_TEST_CHECK(pd_theory_regime(2, -1) == PD_REGIME_CONDENSED, "condensed 2");
  PD_TEST_CHECK(pd_theory_regime(1, -0.5) == PD_REGIME_CRITICAL,
                "gamma = 1, gamma' <= 0");
  PD_TEST_CHECK(pd_theory_regime(1.5, 0.5) == PD_REGIME_CRITICAL,
                "gamma' = gamma - 1");
  PD_TEST_CHECK(pd_theory_regime(1, 0.5) == PD_REGIME_LINEAR,
                "gamma = 1, gamma' > 0");

  /* slope fit and band */
  double x[4] = {1, 2, 3, 4}, y[4] = {3, 2.5, 2, 1.5}, b, se;
  PD_TEST_OK(pd_fit_slope(x, y, 4, &b, &se));
  PD_TEST_CHECK(fabs(b + 0.5) < 1e-15 && se < 1e-12, "slope %g +- %g", b, se);
  PD_TEST_CHECK(pd_fit_regime(-0.5, 0.1) == PD_REGIME_LINEAR &&
                    pd_fit_regime(0.05, 0.1) == PD_REGIME_CRITICAL &&
                    pd_fit_regime(0.3, 0.1) == PD_REGIME_CONDENSED &&
                    pd_fit_regime(NAN, 0.1) == PD_REGIME_UNDETERMINED,
                "band classification");
  return pd_test_end("test_scheme");
}
