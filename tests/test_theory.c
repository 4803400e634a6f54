/* The linear theory beside a trained network (theory.h): under the ntk
 * scheme the trained net approaches the kernel regression and the empirical
 * kernel approaches the closed form as the width grows, the kernel barely
 * moves, the residual decays along the kernel's eigenvectors as the linear
 * dynamics say (large eigenvalues first), and in 1-D the net is close to
 * the LFP minimizer; in the condensed regime the kernel moves a lot.  All
 * numbers are the same on every rank and agree across rank counts. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/rng.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/theory.h"
#include "phasediag/train/train.h"

enum { N = 12, NT = 41, TOP = 8, NW = 3, NSEED = 16 };
#define LFP_TOL 0.02
/* the snapshot: when the loss first drops below MID times its start */
#define MID 0.1

typedef struct {
  pd_theory_summary s;
  double lam_inf[TOP], lam0[TOP], lam1[TOP], p0[TOP];
  double proj0[TOP], lin0[TOP];         /* observed at t = 0 */
  double proj[TOP], lin[TOP], t_mid;    /* observed mid-run */
  double loss_mid, loss_lin_mid;        /* net's and linearized loss */
  double pred[NT], lfp[NT], spline[NT]; /* test curves */
  double t_star, loss, status, steps;   /* the training run */
} result;
#define NRES ((int)(sizeof(result) / sizeof(double)))

static double now(void) { return MPI_Wtime(); }

/* Train (ASI, seed 7) at width m with scales s on comm: to 1% of the
 * initial loss, a snapshot, then to tol. */
static void run(MPI_Comm comm, const pd_scales *s, int64_t m,
                const pd_data *train, const pd_data *test, double mid,
                int to_end, result *out) {
  memset(out, 0, sizeof *out);
  pd_net_config cfg = {.d = 1, .m = m, .scales = *s, .asi = 1, .seed = 7};
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(comm, &cfg, &net));
  pd_theory_options to;
  pd_theory_options_default(&to);
  to.top = TOP;
  pd_theory *th = NULL;
  PD_TEST_OK(pd_theory_create(net, train, test, &to, &th));
  PD_TEST_CHECK(pd_theory_top(th) == TOP && pd_theory_ntest(th) == NT,
                "top %d, ntest %lld", pd_theory_top(th),
                (long long)pd_theory_ntest(th));
  double f[N], loss0 = 0;
  PD_TEST_OK(pd_net_output(net, train, f));
  for (int i = 0; i < N; i++)
    loss0 += (f[i] - train->y[i]) * (f[i] - train->y[i]) / (2.0 * N);
  PD_TEST_OK(pd_theory_observe(th, f, 0, out->proj0, out->lin0, NULL));
  pd_train_options opt;
  pd_train_options_default(&opt);
  opt.lr_cap = 0.1; /* close to the gradient flow the theory describes */
  opt.max_steps = 200000;
  opt.tol = 1e-2 * loss0;
  opt.tol = mid * loss0;
  pd_train_result r;
  if (mid > 0) {
    PD_TEST_OK(pd_train(net, train, &opt, NULL, &r));
    out->t_mid = r.t_star;
    out->status = r.status;
    out->steps = (double)r.steps;
    pd_train_result_free(&r);
    PD_TEST_OK(pd_net_output(net, train, f));
    for (int i = 0; i < N; i++)
      out->loss_mid += (f[i] - train->y[i]) * (f[i] - train->y[i]) / (2.0 * N);
    PD_TEST_OK(pd_theory_observe(th, f, out->t_mid, out->proj, out->lin,
                                 &out->loss_lin_mid));
  }
  if (to_end) {
    opt.tol = 1e-7;
    opt.lr_cap = 1.0; /* the rest only needs to converge */
    PD_TEST_OK(pd_train(net, train, &opt, NULL, &r));
    out->t_star = out->t_mid + r.t_star;
    out->loss = r.loss;
    out->status = r.status;
    out->steps += (double)r.steps;
    pd_train_result_free(&r);
  }
  PD_TEST_OK(pd_theory_finish(th, net, &out->s));
  PD_TEST_OK(pd_theory_eigenvalues(th, 0, out->lam_inf));
  PD_TEST_OK(pd_theory_eigenvalues(th, 1, out->lam0));
  PD_TEST_OK(pd_theory_eigenvalues(th, 2, out->lam1));
  PD_TEST_OK(pd_theory_p0(th, out->p0));
  PD_TEST_OK(
      pd_theory_test_curves(th, out->pred, NULL, out->lfp, out->spline, NULL));
  PD_TEST_OK(pd_theory_destroy(&th));
  PD_TEST_CHECK(th == NULL, "destroy leaves the pointer");
  PD_TEST_OK(pd_net_destroy(&net));
}

/* RMS of dist0 over NSEED nets (seeds 1..NSEED) at width m: create only */
static double dist0_rms(int64_t m, const pd_data *train) {
  double sum = 0;
  for (int seed = 1; seed <= NSEED; seed++) {
    pd_net_config cfg = {.d = 1, .m = m, .asi = 1, .seed = (uint64_t)seed};
    PD_TEST_OK(pd_scales_scheme(PD_SCHEME_NTK, (double)m, 1, &cfg.scales));
    pd_net *net = NULL;
    pd_theory *th = NULL;
    pd_theory_summary s;
    PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
    PD_TEST_OK(pd_theory_create(net, train, NULL, NULL, &th));
    PD_TEST_OK(pd_theory_get_summary(th, &s));
    PD_TEST_CHECK(pd_theory_ntest(th) == 0 && isnan(s.lin_err_test) &&
                      isnan(s.dist1) && isfinite(s.dist0),
                  "without test points: ntest %lld, lin_err_test %g, dist1 %g",
                  (long long)pd_theory_ntest(th), s.lin_err_test, s.dist1);
    sum += s.dist0 * s.dist0;
    PD_TEST_OK(pd_theory_destroy(&th));
    PD_TEST_OK(pd_net_destroy(&net));
  }
  return sqrt(sum / NSEED);
}

static void report(const char *what, int64_t m, const result *r,
                   double seconds) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank) return;
  printf(
      "%s m = %lld: %s, %.0f steps, loss %.3g, t* %.4g, %.2fs | dist0 %.4g "
      "dist1 %.4g "
      "kernel change %.4g | lin err train %.3g test %.3g | lfp %.4g spline "
      "%.4g pwl %.4g xi_c %.4g | lambda_inf %.4g .. %.4g\n",
      what, (long long)m, pd_status_name((int)r->status), r->steps, r->loss,
      r->t_star, seconds, r->s.dist0, r->s.dist1, r->s.kernel_change,
      r->s.lin_err_train, r->s.lin_err_test, r->s.lfp_err, r->s.spline_err,
      r->s.pwl_err, r->s.lfp_xi_c, r->lam_inf[0], r->lam_inf[TOP - 1]);
}

/* |proj - lin| / |lin| over the top components at the mid-run snapshot */
static double proj_gap(const result *r) {
  double num = 0, den = 0;
  for (int j = 0; j < TOP; j++) {
    num += (r->proj[j] - r->lin[j]) * (r->proj[j] - r->lin[j]);
    den += r->lin[j] * r->lin[j];
  }
  return sqrt(num / den);
}

static double pd_test_rel_vec(const double *f, const double *g, int n) {
  double num = 0, den = 0;
  for (int i = 0; i < n; i++) {
    num += (f[i] - g[i]) * (f[i] - g[i]);
    den += g[i] * g[i];
  }
  return sqrt(num / den);
}

/* Every number of r is the same bits on every rank of MPI_COMM_WORLD. */
static void check_replicated(const char *what, const result *r) {
  const double *v = (const double *)r;
  double mn[NRES], mx[NRES];
  MPI_Allreduce(v, mn, NRES, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(v, mx, NRES, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  int bad = 0;
  for (int k = 0; k < NRES; k++)
    if (!(mn[k] == mx[k]) && !(isnan(mn[k]) && isnan(mx[k]))) bad++;
  PD_TEST_CHECK(bad == 0, "%s: %d numbers differ between ranks", what, bad);
}

/* r (on MPI_COMM_WORLD) against ref (on rank 0 alone) to 1e-10, relative
 * to the size of each group of numbers. */
static void check_counts(const char *what, const result *r, const result *ref) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank) return;
  const double lmax = ref->lam_inf[0], pmax = ref->p0[0] + ref->p0[1];
  struct {
    const char *name;
    const double *a, *b;
    int count;
    double scale;
  } g[] = {
      {"summary", (const double *)&r->s, (const double *)&ref->s,
       (int)(sizeof r->s / sizeof(double)), 0},
      {"lambda_inf", r->lam_inf, ref->lam_inf, TOP, lmax},
      {"lambda0", r->lam0, ref->lam0, TOP, lmax},
      {"lambda1", r->lam1, ref->lam1, TOP, lmax},
      {"p0", r->p0, ref->p0, TOP, pmax},
      {"proj", r->proj, ref->proj, TOP, pmax},
      {"lin", r->lin, ref->lin, TOP, pmax},
      {"loss", &r->loss_mid, &ref->loss_mid, 2, 0},
      {"pred", r->pred, ref->pred, NT, 1},
      {"lfp", r->lfp, ref->lfp, NT, 1},
      {"train", &r->t_star, &ref->t_star, 4, 0},
  };
  for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
    double worst = 0;
    int at = 0;
    for (int i = 0; i < g[k].count; i++) {
      const double a = g[k].a[i], b = g[k].b[i];
      if (isnan(a) && isnan(b)) continue;
      const double tol =
          1e-10 * (fabs(a) > fabs(b) ? fabs(a) : fabs(b)) + 1e-10 * g[k].scale;
      const double e = fabs(a - b) - tol;
      if (!(e <= worst)) worst = e, at = i;
    }
    PD_TEST_CHECK(worst <= 0, "%s: %s[%d] %.17g on all ranks, %.17g on one",
                  what, g[k].name, at, g[k].a[at], g[k].b[at]);
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  /* N jittered points in [-1, 1], a smooth target without symmetry (so no
   * eigen-component of the residual vanishes); NT test points */
  pd_data *train = NULL, *test = NULL;
  PD_TEST_OK(pd_data_create(N, 1, &train));
  PD_TEST_OK(pd_data_create(NT, 1, &test));
  for (int i = 0; i < N; i++) {
    const double u = pd_rng_uniform(11, 0, (uint64_t)i, 0) - 0.5;
    const double x = -1 + (2.0 * i + 1 + 0.6 * u) / N;
    train->x[i] = x;
    train->y[i] = sin(2.5 * x + 0.4) + 0.3 * x * x;
  }
  for (int i = 0; i < NT; i++) test->x[i] = -1 + 2.0 * i / (NT - 1);

  /* 1. the ntk scheme at growing widths */
  const int64_t widths[NW] = {1000, 10000, 100000};
  result ntk[NW];
  for (int w = 0; w < NW; w++) {
    pd_scales s;
    PD_TEST_OK(pd_scales_scheme(PD_SCHEME_NTK, (double)widths[w], 1, &s));
    double t0 = now();
    run(MPI_COMM_WORLD, &s, widths[w], train, test, MID, 1, &ntk[w]);
    report("ntk", widths[w], &ntk[w], now() - t0);
    PD_TEST_CHECK(ntk[w].status == PD_STATUS_CONVERGED, "m = %lld: %s",
                  (long long)widths[w], pd_status_name((int)ntk[w].status));
    /* 4. the same bits on every rank */
    check_replicated("ntk", &ntk[w]);
    /* at t = 0 the observation is p itself */
    for (int j = 0; j < TOP; j++)
      PD_TEST_CHECK(ntk[w].proj0[j] == ntk[w].p0[j] &&
                        ntk[w].lin0[j] == ntk[w].p0[j] && ntk[w].p0[j] >= 0,
                    "t = 0, component %d: proj %g, lin %g, p %g", j,
                    ntk[w].proj0[j], ntk[w].lin0[j], ntk[w].p0[j]);
    PD_TEST_CHECK(ntk[w].lam_inf[0] >= ntk[w].lam_inf[TOP - 1] &&
                      ntk[w].lam0[0] >= ntk[w].lam0[TOP - 1] &&
                      ntk[w].lam1[0] >= ntk[w].lam1[TOP - 1],
                  "eigenvalues not largest first");
  }
  for (int w = 1; w < NW; w++) {
    const result *a = &ntk[w - 1], *b = &ntk[w];
    PD_TEST_CHECK(b->s.lin_err_test < 0.75 * a->s.lin_err_test,
                  "linearity error (test) %g at m = %lld, %g at %lld",
                  a->s.lin_err_test, (long long)widths[w - 1],
                  b->s.lin_err_test, (long long)widths[w]);
    PD_TEST_CHECK(b->s.kernel_change < 0.75 * a->s.kernel_change,
                  "kernel change %g at m = %lld, %g at %lld",
                  a->s.kernel_change, (long long)widths[w - 1],
                  b->s.kernel_change, (long long)widths[w]);
    PD_TEST_CHECK(b->s.dist1 < a->s.dist1, "dist1 %g at m = %lld, %g at %lld",
                  a->s.dist1, (long long)widths[w - 1], b->s.dist1,
                  (long long)widths[w]);
  }
  {
    /* the empirical kernel tends to the closed form like m^-1/2: RMS over
     * seeds, as one net's distance fluctuates by a factor ~2 */
    const int64_t mw[3] = {1000, 10000, 100000};
    double d[3];
    for (int w = 0; w < 3; w++) d[w] = dist0_rms(mw[w], train);
    if (rank == 0)
      printf(
          "dist0 RMS over %d seeds: %.4g (1e3) %.4g (1e4) %.4g (1e5); "
          "ratios %.3g %.3g (sqrt(10) = 3.16)\n",
          NSEED, d[0], d[1], d[2], d[0] / d[1], d[1] / d[2]);
    for (int w = 1; w < 3; w++)
      PD_TEST_CHECK(d[w - 1] / d[w] > 1.5 && d[w - 1] / d[w] < 6,
                    "dist0 RMS %g at m = %lld, %g at %lld", d[w - 1],
                    (long long)mw[w - 1], d[w], (long long)mw[w]);
    const double slope = log(d[2] / d[0]) / log(100.0);
    PD_TEST_CHECK(slope > -0.65 && slope < -0.35,
                  "dist0 falls like m^%.3g, not m^-1/2", slope);
    PD_TEST_CHECK(d[0] / d[1] > 2 && d[0] / d[1] < 5,
                  "dist0 RMS %g at m = 1e3, %g at 1e4", d[0], d[1]);
  }
  const result *mid = &ntk[1], *big = &ntk[NW - 1];
  PD_TEST_CHECK(mid->s.kernel_change < 0.02, "kernel change %g at m = 1e4",
                mid->s.kernel_change);
  PD_TEST_CHECK(mid->s.lin_err_test < 0.03 && mid->s.lin_err_train < 0.01,
                "linearity errors %g (test) %g (train) at m = 1e4",
                mid->s.lin_err_test, mid->s.lin_err_train);

  /* 3. the residual along the eigenvectors at the mid-run snapshot */
  for (int w = 0; w < NW; w++) {
    const double gap = proj_gap(&ntk[w]);
    if (rank == 0) {
      printf(
          "m = %lld, snapshot at t = %.4g: |proj - lin| / |lin| %.3g, loss "
          "%.4g (linear %.4g)\n  j  lambda_j   p_j(0)     proj_j      "
          "lin_j\n",
          (long long)widths[w], ntk[w].t_mid, gap, ntk[w].loss_mid,
          ntk[w].loss_lin_mid);
      for (int j = 0; j < TOP; j++)
        printf("  %d %9.4g %9.4g %10.4g %10.4g %10.4g\n", j, ntk[w].lam_inf[j],
               ntk[w].lam0[j], ntk[w].p0[j], ntk[w].proj[j], ntk[w].lin[j]);
    }
    if (w == 1) {
      PD_TEST_CHECK(gap < 0.05, "m = 1e4: proj off lin by %g", gap);
      PD_TEST_CHECK(pd_test_rel(ntk[w].loss_mid, ntk[w].loss_lin_mid) < 0.1,
                    "m = 1e4: loss %g, linearized %g", ntk[w].loss_mid,
                    ntk[w].loss_lin_mid);
    }
  }
  {
    PD_TEST_CHECK(proj_gap(big) < proj_gap(&ntk[0]),
                  "proj off lin by %g at m = 1e3, %g at 1e5", proj_gap(&ntk[0]),
                  proj_gap(big));
    /* large eigenvalues decay first: the decayed fraction of component 0
     * against the smallest-eigenvalue component that started large enough */
    int j = TOP - 1;
    double pnorm = 0;
    for (int k = 0; k < TOP; k++) pnorm += big->p0[k] * big->p0[k];
    while (j > 1 && big->p0[j] < 0.05 * sqrt(pnorm)) j--;
    const double f0 = fabs(big->proj[0]) / big->p0[0];
    const double fj = fabs(big->proj[j]) / big->p0[j];
    if (rank == 0)
      printf("remaining fraction: component 0 %.3g, component %d %.3g\n", f0, j,
             fj);
    PD_TEST_CHECK(j >= 2 && f0 < 0.1 * fj,
                  "component 0 keeps %g, component %d keeps %g", f0, j, fj);
  }

  /* 2. the condensed regime moves the kernel */
  {
    pd_scales s;
    PD_TEST_OK(pd_scales_grid(1.75, 0, (double)widths[1], 1, &s));
    result cond;
    double t0 = now();
    run(MPI_COMM_WORLD, &s, widths[1], train, test, 0, 1, &cond);
    report("(1.75, 0)", widths[1], &cond, now() - t0);
    check_replicated("condensed", &cond);
    /* on these 12 points the condensed net stalls (a kink pinned on a data
     * point, train.h) near loss 0.02 after some 700 steps: the kernel has
     * moved by then all the same */
    PD_TEST_CHECK(cond.status == PD_STATUS_CONVERGED ||
                      cond.status == PD_STATUS_STALLED ||
                      cond.status == PD_STATUS_STATIONARY,
                  "condensed: %s", pd_status_name((int)cond.status));
    PD_TEST_CHECK(cond.s.kernel_change > 10 * mid->s.kernel_change,
                  "kernel change %g condensed, %g ntk", cond.s.kernel_change,
                  mid->s.kernel_change);
  }

  /* 5. LFP: the wide ntk net against the LFP minimizer and its limits */
  {
    const pd_theory_summary *s = &big->s;
    const double better =
        s->spline_err < s->pwl_err ? s->spline_err : s->pwl_err;
    PD_TEST_CHECK(isfinite(s->lfp_xi_c) && s->lfp_xi_c > 0, "xi_c %g",
                  s->lfp_xi_c);
    if (rank == 0)
      printf("kernel regression vs LFP minimizer on the test points: %.4g\n",
             pd_test_rel_vec(big->pred, big->lfp, NT));
    for (int w = 1; w < NW; w++)
      PD_TEST_CHECK(ntk[w].s.lfp_err < ntk[w - 1].s.lfp_err,
                    "LFP error %g at m = %lld, %g at %lld",
                    ntk[w - 1].s.lfp_err, (long long)widths[w - 1],
                    ntk[w].s.lfp_err, (long long)widths[w]);
    /* the widest net is closer to the LFP minimizer than to either limit */
    PD_TEST_CHECK(s->lfp_err < LFP_TOL && s->lfp_err < better,
                  "LFP error %g, spline %g, piecewise linear %g", s->lfp_err,
                  s->spline_err, s->pwl_err);
  }

  {
    /* a bad argument fails on every rank and leaves no object */
    pd_net_config cfg = {.d = 1, .m = 512, .asi = 1, .seed = 3};
    PD_TEST_OK(pd_scales_scheme(PD_SCHEME_NTK, 512, 1, &cfg.scales));
    pd_net *net = NULL;
    PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
    pd_data *bad = NULL;
    PD_TEST_OK(pd_data_create(4, 2, &bad));
    pd_theory *th = NULL;
    int e = pd_theory_create(net, train, bad, NULL, &th);
    PD_TEST_CHECK(e == PD_ERR_ARG && th == NULL,
                  "2-D test points for a 1-D net: error %d", e);
    pd_error_clear();
    /* a repeated node: the ridge makes the kernel regression solvable; the
     * LFP interpolants are not defined and stay NaN (a warning, no error) */
    pd_data *rep = NULL;
    PD_TEST_OK(pd_data_create(5, 1, &rep));
    for (int i = 0; i < 5; i++) {
      rep->x[i] = i < 4 ? -0.6 + 0.4 * i : rep->x[0];
      rep->y[i] = sin(2.5 * rep->x[i]);
    }
    pd_theory_options o;
    pd_theory_options_default(&o);
    o.ridge = 1e-6;
    PD_TEST_OK(pd_theory_create(net, rep, test, &o, &th));
    double pred[NT], lfp[NT];
    PD_TEST_OK(pd_theory_test_curves(th, pred, NULL, lfp, NULL, NULL));
    PD_TEST_CHECK(isfinite(pred[NT / 2]) && isnan(lfp[NT / 2]),
                  "repeated node: prediction %g, LFP %g", pred[NT / 2],
                  lfp[NT / 2]);
    PD_TEST_CHECK(pd_theory_top(th) == 5, "top %d with 5 points",
                  pd_theory_top(th));
    PD_TEST_OK(pd_theory_destroy(&th));
    pd_data_destroy(&rep);
    pd_data_destroy(&bad);
    PD_TEST_OK(pd_net_destroy(&net));
  }

  /* 4. across rank counts: the smallest width again on rank 0 alone */
  if (size > 1) {
    MPI_Comm one;
    MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? 0 : MPI_UNDEFINED, 0, &one);
    result ref;
    if (one != MPI_COMM_NULL) {
      pd_scales s;
      PD_TEST_OK(pd_scales_scheme(PD_SCHEME_NTK, (double)widths[0], 1, &s));
      double t0 = now();
      run(one, &s, widths[0], train, test, MID, 1, &ref);
      report("ntk on 1 rank", widths[0], &ref, now() - t0);
      MPI_Comm_free(&one);
      check_counts("ntk m = 1e3", &ntk[0], &ref);
    }
  }
  pd_data_destroy(&train);
  pd_data_destroy(&test);
  return pd_test_end("test_theory");
}
