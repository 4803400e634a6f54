/* The regime theorem on the paper's data: the slope of log RD(t*) against
 * log m over widths 1e2, 1e3, 1e4 (two seeds each) is about -1/2 for ntk,
 * about 0 for mean_field, and clearly positive at (gamma, gamma') = (1.75, 0).
 */
#include "pd_test.h"
#include "phasediag/model/fit.h"
#include "phasediag/model/net.h"
#include "phasediag/train/train.h"

static double slope_of(pd_scheme_kind kind, double g, double gp,
                       const pd_data *data, double *se) {
  const int64_t widths[] = {100, 1000, 10000};
  double lx[6], ly[6];
  int k = 0, stalled = 0;
  pd_train_options opt;
  pd_train_options_default(&opt);
  for (int w = 0; w < 3; w++)
    for (uint64_t seed = 1; seed <= 2; seed++, k++) {
      double m = (double)widths[w];
      pd_net_config cfg = {
          .d = 1, .m = widths[w], .asi = 1, .seed = seed, .task = (uint64_t)w};
      if (kind == PD_SCHEME_GRID)
        PD_TEST_OK(pd_scales_grid(g, gp, m, 1.0, &cfg.scales));
      else
        PD_TEST_OK(pd_scales_scheme(kind, m, 1, &cfg.scales));
      pd_net *net = NULL;
      PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
      pd_train_result r;
      PD_TEST_OK(pd_train(net, data, &opt, NULL, &r));
      /* a run may stall on a ReLU kink (or end at a critical point) short
       * of tol: it is left out of the t* fit, as the scan does, but at most
       * one of six may */
      if (r.status != PD_STATUS_CONVERGED) {
        stalled++;
        PD_TEST_CHECK((r.status == PD_STATUS_STALLED ||
                       r.status == PD_STATUS_STATIONARY) &&
                          r.loss < 1e-4,
                      "m=%g seed %d: %s, loss %g", m, (int)seed,
                      pd_status_name(r.status), r.loss);
      }
      lx[k] = log(m);
      ly[k] = r.status == PD_STATUS_CONVERGED ? log(r.rd_w) : NAN;
      pd_train_result_free(&r);
      PD_TEST_OK(pd_net_destroy(&net));
    }
  PD_TEST_CHECK(stalled <= 1, "%d of 6 runs did not converge", stalled);
  double b;
  PD_TEST_OK(pd_fit_slope(lx, ly, 6, &b, se));
  return b;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pd_data *data = NULL;
  PD_TEST_OK(pd_data_paper1d(&data));
  double se;
  double s_ntk = slope_of(PD_SCHEME_NTK, 0, 0, data, &se);
  if (rank == 0) printf("ntk        slope %+.3f +- %.3f\n", s_ntk, se);
  PD_TEST_CHECK(s_ntk > -0.65 && s_ntk < -0.35, "ntk slope %g", s_ntk);
  PD_TEST_CHECK(pd_fit_regime(s_ntk, 0.1) == pd_theory_regime(0.5, 0),
                "ntk regime");
  double s_mf = slope_of(PD_SCHEME_MEAN_FIELD, 0, 0, data, &se);
  if (rank == 0) printf("mean_field slope %+.3f +- %.3f\n", s_mf, se);
  PD_TEST_CHECK(fabs(s_mf) < 0.1, "mean_field slope %g", s_mf);
  PD_TEST_CHECK(pd_fit_regime(s_mf, 0.1) == pd_theory_regime(1, 0),
                "mean_field regime");
  double s_c = slope_of(PD_SCHEME_GRID, 1.75, 0, data, &se);
  if (rank == 0) printf("(1.75, 0)  slope %+.3f +- %.3f\n", s_c, se);
  PD_TEST_CHECK(s_c > 0.2 && s_c - 3 * se > 0.1, "condensed slope %g +- %g",
                s_c, se);
  PD_TEST_CHECK(pd_fit_regime(s_c, 0.1) == pd_theory_regime(1.75, 0),
                "condensed regime");
  pd_data_destroy(&data);
  return pd_test_end("test_regimes");
}
