/* The arithmetic of --check's wall-time estimate (src/app/app_estimate.c)
 * on fixed calibration figures, against values worked out by hand: the
 * fits linear in m, the scaling by n / samples, a run's start, the RD
 * records per run, the spread over the groups and the longest task as the
 * floor; one width; a noisy wider step clamped to a constant. */
#include <string.h>

#include "app.h"
#include "pd_test.h"

static int close_to(double a, double b) {
  return fabs(a - b) <= 1e-12 * fabs(b) + 1e-300;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int64_t widths[2] = {100, 10000};
  pd_plan plan = {.P = 3, .W = 2, .S = 2, .widths = widths};
  static pd_config cfg; /* zeroed; only the training options count */
  cfg.train.max_steps = 1000;
  cfg.train.tol = 1e-6;
  cfg.train.history_points = 100;

  /* two widths: t(m) = 2 (9e-4 + 1e-6 m), start 2 (0.009 + 1e-5 m),
   * r(m) = 9e-5 + 1e-7 m (not scaled: no pass over the data) */
  pd_estimate est = {.groups = 2,
                     .g = 1,
                     .nscale = 2,
                     .lo = {.m = 100,
                            .step_seconds = 1e-3,
                            .start_seconds = 0.01,
                            .rd_seconds = 1e-4,
                            .loss0 = 1},
                     .hi = {.m = 1100,
                            .step_seconds = 2e-3,
                            .start_seconds = 0.02,
                            .rd_seconds = 2e-4,
                            .loss0 = 1}};
  pd_app_estimate_finish(&est, &plan, &cfg);
  /* 100 history points + 20 levels a decade over 6 decades */
  PD_TEST_CHECK(close_to(est.records, 220), "records %g", est.records);
  PD_TEST_CHECK(close_to(est.a, 1.8e-3) && close_to(est.b, 2e-6),
                "t(m) = %g + %g m", est.a, est.b);
  /* one step of the 6 tasks of each width: 6 (0.002 + 0.0218) */
  PD_TEST_CHECK(close_to(est.all_steps, 0.1428), "all steps %g", est.all_steps);
  /* tasks of 2.042 and 22.2578 s, 6 of each over 2 groups */
  PD_TEST_CHECK(close_to(est.budget, 6 * (2.042 + 22.2578) / 2), "budget %g",
                est.budget);

  /* 16 groups: no faster than the longest task */
  est.groups = 16;
  pd_app_estimate_finish(&est, &plan, &cfg);
  PD_TEST_CHECK(close_to(est.budget, 22.2578), "budget %g (longest task)",
                est.budget);

  /* one width: in proportion to m; no scaling */
  est.groups = 1;
  est.nscale = 1;
  est.hi = est.lo;
  pd_app_estimate_finish(&est, &plan, &cfg);
  PD_TEST_CHECK(est.a == 0 && close_to(est.b, 1e-5), "one width: %g + %g m",
                est.a, est.b);
  const double t1 = 1e-3, t2 = 0.1, s1 = 0.01, s2 = 1, r1 = 1e-4, r2 = 1e-2;
  PD_TEST_CHECK(close_to(est.budget, 6 * (s1 + 1000 * t1 + 220 * r1) +
                                         6 * (s2 + 1000 * t2 + 220 * r2)),
                "one width: budget %g", est.budget);

  /* a wider step measured cheaper (noise): a constant, never negative */
  est.hi = (pd_calib){.m = 1100,
                      .step_seconds = 5e-4,
                      .start_seconds = 0.01,
                      .rd_seconds = 1e-4,
                      .loss0 = 1};
  pd_app_estimate_finish(&est, &plan, &cfg);
  PD_TEST_CHECK(est.b == 0 && close_to(est.a, 1e-3), "clamped: %g + %g m",
                est.a, est.b);

  /* a run that starts below tol: no ladder levels */
  est.lo.loss0 = est.hi.loss0 = 1e-7;
  pd_app_estimate_finish(&est, &plan, &cfg);
  PD_TEST_CHECK(close_to(est.records, 100), "records %g below tol",
                est.records);
  return pd_test_end("test_estimate");
}
