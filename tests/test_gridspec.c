/* Grid spectra of the sharded network: known target spectra land on the
 * right shells with Parseval's values, GATHER and REDUCE evaluate the same
 * bits as each other and on every rank count, agree with a serial double
 * loop, the error spectrum agrees with a naive DFT, the method choice follows
 * its byte formulas, and mismatched communicators are refused on every
 * rank. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/repsum.h"
#include "phasediag/observe/fft.h"
#include "phasediag/observe/gridspec.h"

#define PI 3.14159265358979323846
#define MAXW 4
#define MAXS 128 /* shells at most in these tests */

/* y = c0 + sum_w amp[w] (sin or cos)(2 pi k_w . x / L), L = hi - lo */
typedef struct {
  int nw;
  double c0, L;
  double amp[MAXW];
  int sine[MAXW];
  int k[MAXW][4];
  int fail; /* return an error instead */
} waves;

static int wave_target(void *ctx, int64_t n, int d, const double *x,
                       double *y) {
  const waves *w = ctx;
  if (w->fail) return PD_ERR_NUMERIC;
  for (int64_t i = 0; i < n; i++) {
    double v = w->c0;
    for (int q = 0; q < w->nw; q++) {
      double t = 0;
      for (int j = 0; j < d; j++) t += w->k[q][j] * x[i * d + j];
      t *= 2 * PI / w->L;
      v += w->amp[q] * (w->sine[q] ? sin(t) : cos(t));
    }
    y[i] = v;
  }
  return PD_OK;
}

/* A smooth non-periodic target. */
static int smooth_target(void *ctx, int64_t n, int d, const double *x,
                         double *y) {
  (void)ctx;
  for (int64_t i = 0; i < n; i++) {
    double s = 0, p = 1;
    for (int j = 0; j < d; j++) {
      s += (j + 1) * x[i * d + j];
      p *= x[i * d + j];
    }
    y[i] = exp(0.5 * sin(s)) + p;
  }
  return PD_OK;
}

static int rank_of(MPI_Comm c) {
  int r;
  MPI_Comm_rank(c, &r);
  return r;
}

static int64_t ipow(int64_t n, int d) {
  int64_t t = 1;
  for (int j = 0; j < d; j++) t *= n;
  return t;
}

static int shell_of(const int *k, int d) {
  double q = 0;
  for (int j = 0; j < d; j++) q += (double)k[j] * k[j];
  return (int)floor(sqrt(q) + 0.5);
}

/* ---- 1: target-only spectra ---------------------------------------------- */

static void check_target(int d, int64_t N, double lo, double hi,
                         const waves *w) {
  pd_gridspec *g = NULL;
  PD_TEST_OK(pd_gridspec_create(MPI_COMM_WORLD, d, N, lo, hi,
                                w ? wave_target : NULL, (void *)w, &g));
  const int ns = pd_gridspec_nshells(g);
  const double *py = pd_gridspec_target_power(g);
  const double *cnt = pd_gridspec_shell_count(g);
  const double Nd = (double)ipow(N, d);
  double expect[MAXS] = {0};
  PD_TEST_CHECK(ns <= MAXS, "%d shells", ns);
  if (w) {
    expect[0] = (w->c0 * Nd) * (w->c0 * Nd);
    for (int q = 0; q < w->nw; q++)
      expect[shell_of(w->k[q], d)] += w->amp[q] * w->amp[q] * Nd * Nd / 2;
  }
  double total = 0, ctot = 0;
  for (int s = 0; s < ns; s++) {
    total += expect[s];
    ctot += cnt[s];
  }
  PD_TEST_CHECK(ctot == Nd, "d=%d: shell counts sum to %g, not N^d = %g", d,
                ctot, Nd);
  for (int s = 0; s < ns; s++) {
    if (expect[s] > 0)
      PD_TEST_CHECK(pd_test_rel(py[s], expect[s]) < 1e-12,
                    "d=%d N=%lld shell %d: power %.17g, Parseval %.17g", d,
                    (long long)N, s, py[s], expect[s]);
    else if (w)
      PD_TEST_CHECK(py[s] <= 1e-20 * total,
                    "d=%d N=%lld shell %d: power %g should vanish (total %g)",
                    d, (long long)N, s, py[s], total);
    else
      PD_TEST_CHECK(py[s] == 0, "no target: shell %d power %g", s, py[s]);
  }
  /* d = 1: every shell 1 .. N/2-1 holds the pair +-k */
  if (d == 1)
    for (int s = 0; s < ns; s++)
      PD_TEST_CHECK(cnt[s] == (s == 0 || s == N / 2 ? 1 : 2),
                    "d=1 shell %d count %g", s, cnt[s]);
  /* the target values are those of the function at the coordinates */
  int64_t np = pd_gridspec_local_points(g);
  double *x = NULL, *y = NULL;
  PD_TEST_OK(pd_calloc((size_t)(np + 1) * (size_t)d, sizeof(double), &x));
  PD_TEST_OK(pd_calloc((size_t)(np + 1), sizeof(double), &y));
  PD_TEST_OK(pd_gridspec_local_coords(g, x));
  if (w) wave_target((void *)w, np, d, x, y);
  PD_TEST_CHECK(
      memcmp(y, pd_gridspec_target_values(g), sizeof(double) * (size_t)np) == 0,
      "d=%d: kept target values differ", d);
  int64_t np_all = 0;
  MPI_Allreduce(&np, &np_all, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  PD_TEST_CHECK(np_all == ipow(N, d), "d=%d: %lld points in all", d,
                (long long)np_all);
  pd_free(&x);
  pd_free(&y);
  PD_TEST_OK(pd_gridspec_destroy(&g));
  PD_TEST_CHECK(g == NULL, "destroy leaves the pointer");
}

static void test_target_spectra(void) {
  waves w3 = {.nw = 2, .amp = {1, 0.5}, .sine = {1, 0}};
  w3.k[0][0] = 3;
  w3.k[1][0] = 1;
  w3.k[1][1] = 2;
  w3.L = 2;
  check_target(3, 16, -1, 1, &w3); /* shells 3 and round(sqrt 5) = 2 */

  waves w1 = {.nw = 1, .c0 = 0.7, .amp = {1}, .sine = {1}, .L = 3};
  w1.k[0][0] = 5;
  check_target(1, 32, 0, 3, &w1);

  waves w2 = {.nw = 2, .amp = {1, 0.25}, .sine = {0, 1}, .L = 3};
  w2.k[0][0] = 3, w2.k[0][1] = 4;  /* shell 5 */
  w2.k[1][0] = -2, w2.k[1][1] = 7; /* |k| = 7.28: shell 7 */
  check_target(2, 16, -0.5, 2.5, &w2);

  waves w4 = {.nw = 2, .c0 = -0.2, .amp = {1, 0.3}, .sine = {1, 0}, .L = 1};
  for (int j = 0; j < 4; j++) w4.k[0][j] = 1; /* shell 2 */
  w4.k[1][3] = 3;                             /* shell 3 */
  check_target(4, 8, 0, 1, &w4);

  check_target(2, 6, 0, 1, NULL); /* no target: all zero */
}

/* ---- 2: evaluation, both methods, every rank count ----------------------- */

typedef struct {
  int d;
  int64_t N, m;
  double lo, hi;
} eval_case;

/* Serial double loop over the parameters par (a[k], then w[j * m + k]):
 * ref and the sum of |terms|. */
static void serial_eval(const pd_net_config *cfg, const double *par,
                        const double *x, double *ref, double *scale) {
  const int64_t m = cfg->m;
  double s = 0, a_s = 0;
  for (int64_t k = 0; k < m; k++) {
    double z = par[(cfg->d + 1) * m + k];
    for (int j = 0; j < cfg->d; j++) z += par[(j + 1) * m + k] * x[j];
    double t = par[k] * (z > 0 ? z : 0);
    s += t;
    a_s += fabs(t);
  }
  *ref = s / cfg->scales.alpha;
  *scale = a_s / cfg->scales.alpha;
}

/* Gather the slab values v of grid g onto rank 0 of its communicator. */
static void gather_grid(pd_gridspec *g, const double *v, double *full) {
  MPI_Comm c = pd_gridspec_comm(g);
  int size;
  MPI_Comm_size(c, &size);
  int mine = (int)pd_gridspec_local_points(g);
  int *counts = NULL;
  PD_TEST_OK(pd_calloc((size_t)size, 2 * sizeof(int), &counts));
  int *displs = counts + size;
  MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, c);
  for (int r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  MPI_Gatherv(v, mine, MPI_DOUBLE, full, counts, displs, MPI_DOUBLE, 0, c);
  pd_free(&counts);
}

static void test_eval(const eval_case *ec) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int d = ec->d;
  const int64_t total = ipow(ec->N, d);
  pd_net_config cfg = {.d = d,
                       .m = ec->m,
                       .scales = {.alpha = 3.7, .beta1 = 1.3, .beta2 = 0.9},
                       .asi = 0,
                       .seed = 11,
                       .task = (uint64_t)ec->m};
  double *ref = NULL, *got = NULL; /* full grids on rank 0 */
  double rel_ref[MAXS], rel_got[MAXS];
  PD_TEST_OK(pd_calloc((size_t)total, 2 * sizeof(double), &ref));
  got = ref + total;
  int bitwise_rel = 1;
  double worst_rel = 0;
  for (int q = 1; q <= size; q++) {
    MPI_Comm comm;
    MPI_Comm_split(MPI_COMM_WORLD, rank < q ? 0 : MPI_UNDEFINED, rank, &comm);
    if (comm != MPI_COMM_NULL) {
      pd_gridspec *g = NULL;
      pd_net *net = NULL;
      PD_TEST_OK(pd_gridspec_create(comm, d, ec->N, ec->lo, ec->hi,
                                    smooth_target, NULL, &g));
      PD_TEST_OK(pd_net_create(comm, &cfg, &net));
      int64_t np = pd_gridspec_local_points(g);
      double *h1 = NULL, *h2 = NULL, *h3 = NULL;
      PD_TEST_OK(pd_calloc((size_t)np + 1, 3 * sizeof(double), &h1));
      h2 = h1 + np + 1;
      h3 = h2 + np + 1;
      int u1 = -1, u2 = -1, u3 = -1;
      PD_TEST_OK(pd_gridspec_eval(g, net, PD_GRIDSPEC_GATHER, h1, &u1));
      PD_TEST_OK(pd_gridspec_eval(g, net, PD_GRIDSPEC_REDUCE, h2, &u2));
      PD_TEST_OK(pd_gridspec_eval(g, net, PD_GRIDSPEC_AUTO, h3, &u3));
      PD_TEST_CHECK(u1 == PD_GRIDSPEC_GATHER && u2 == PD_GRIDSPEC_REDUCE,
                    "methods used %d %d", u1, u2);
      PD_TEST_CHECK(u3 == pd_gridspec_choose(g, net, NULL, NULL),
                    "AUTO used %d", u3);
      PD_TEST_CHECK(memcmp(h1, h2, sizeof(double) * (size_t)np) == 0 &&
                        memcmp(h1, h3, sizeof(double) * (size_t)np) == 0,
                    "d=%d m=%lld q=%d: GATHER and REDUCE differ", d,
                    (long long)ec->m, q);
      gather_grid(g, h1, got);
      double rel[MAXS], rel2[MAXS];
      int ns = pd_gridspec_nshells(g);
      if (ns > MAXS) {
        fprintf(stderr, "FAIL: %d shells exceed the test's arrays\n", ns);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
      PD_TEST_OK(
          pd_gridspec_error(g, net, PD_GRIDSPEC_REDUCE, rel, NULL, NULL));
      PD_TEST_OK(
          pd_gridspec_error(g, net, PD_GRIDSPEC_GATHER, rel2, NULL, NULL));
      PD_TEST_CHECK(memcmp(rel, rel2, sizeof(double) * (size_t)ns) == 0,
                    "error spectrum not reproducible with the kept plan");
      memcpy(q == 1 ? rel_ref : rel_got, rel, sizeof(double) * (size_t)ns);
      if (rank == 0 && q == 1) {
        memcpy(ref, got, sizeof(double) * (size_t)total);
        double x[4], *par = NULL;
        int bad = 0;
        PD_TEST_OK(
            pd_calloc((size_t)ec->m * (size_t)(d + 2), sizeof(double), &par));
        for (int64_t k = 0; k < ec->m; k++)
          for (int j = 0; j <= d + 1; j++)
            par[j * ec->m + k] = pd_net_initial_param(&cfg, k, j);
        for (int64_t p = 0; p < total; p++) {
          int64_t r = p;
          for (int j = d - 1; j >= 0; j--) {
            x[j] = ec->lo +
                   (ec->hi - ec->lo) * (double)(r % ec->N) / (double)ec->N;
            r /= ec->N;
          }
          double s, scale;
          serial_eval(&cfg, par, x, &s, &scale);
          if (!(fabs(ref[p] - s) <= 1e-13 * scale)) bad++;
        }
        pd_free(&par);
        PD_TEST_CHECK(bad == 0,
                      "d=%d m=%lld: %d of %lld points differ from the serial "
                      "loop",
                      d, (long long)ec->m, bad, (long long)total);
      }
      if (rank == 0 && q > 1) {
        PD_TEST_CHECK(memcmp(ref, got, sizeof(double) * (size_t)total) == 0,
                      "d=%d m=%lld: h on %d ranks differs from 1 rank", d,
                      (long long)ec->m, q);
        for (int s = 0; s < ns; s++) {
          if (memcmp(&rel_ref[s], &rel_got[s], sizeof(double)) != 0)
            bitwise_rel = 0;
          double e = pd_test_rel(rel_ref[s], rel_got[s]);
          if (e > worst_rel) worst_rel = e;
          PD_TEST_CHECK(e < 1e-12,
                        "d=%d: rel[%d] on %d ranks %.17g, on 1 rank %.17g", d,
                        s, q, rel_got[s], rel_ref[s]);
        }
      }
      pd_free(&h1);
      PD_TEST_OK(pd_net_destroy(&net));
      PD_TEST_OK(pd_gridspec_destroy(&g));
      MPI_Comm_free(&comm);
    }
  }
  if (rank == 0)
    printf(
        "eval d=%d N=%lld m=%lld: h bitwise on 1..%d ranks; rel across "
        "rank counts %s (max rel. diff %.2g)\n",
        d, (long long)ec->N, (long long)ec->m, size,
        bitwise_rel ? "bitwise" : "not bitwise", worst_rel);
  pd_free(&ref);
}

/* ---- 3: error spectrum against a naive DFT ------------------------------- */

static void test_error(int d, int64_t N, int64_t m) {
  const int rank = rank_of(MPI_COMM_WORLD);
  const double lo = -1.5, hi = 0.75;
  pd_net_config cfg = {.d = d,
                       .m = m,
                       .scales = {.alpha = 1.0, .beta1 = 1, .beta2 = 1},
                       .seed = 5,
                       .task = 3};
  pd_gridspec *g = NULL;
  pd_net *net = NULL;
  PD_TEST_OK(pd_gridspec_create(MPI_COMM_WORLD, d, N, lo, hi, smooth_target,
                                NULL, &g));
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  const int ns = pd_gridspec_nshells(g);
  const int64_t total = ipow(N, d), np = pd_gridspec_local_points(g);
  double rel[MAXS], hp[MAXS];
  int used = -1;
  PD_TEST_OK(pd_gridspec_error(g, net, PD_GRIDSPEC_AUTO, rel, hp, &used));
  double *h = NULL, *full = NULL;
  PD_TEST_OK(pd_calloc((size_t)np + 1, sizeof(double), &h));
  PD_TEST_OK(pd_calloc((size_t)total * 3, sizeof(double), &full));
  PD_TEST_OK(pd_gridspec_eval(g, net, PD_GRIDSPEC_AUTO, h, NULL));
  gather_grid(g, h, full);
  if (rank == 0) {
    double *y = full + total, *x = full + 2 * total; /* x: one point */
    double pe[MAXS] = {0}, py[MAXS] = {0}, ph[MAXS] = {0};
    int64_t idx[4];
    for (int64_t p = 0; p < total; p++) {
      int64_t r = p;
      for (int j = d - 1; j >= 0; j--) {
        x[j] = lo + (hi - lo) * (double)(r % N) / (double)N;
        r /= N;
      }
      smooth_target(NULL, 1, d, x, &y[p]);
    }
    for (int64_t kf = 0; kf < total; kf++) {
      int k[4];
      int64_t r = kf;
      for (int j = d - 1; j >= 0; j--) {
        idx[j] = r % N;
        k[j] = (int)pd_fft_freq(N, idx[j]);
        r /= N;
      }
      double er = 0, ei = 0, yr = 0, yi = 0, hr = 0, hi_ = 0;
      for (int64_t p = 0; p < total; p++) {
        int64_t rr = p, ph_ = 0;
        for (int j = d - 1; j >= 0; j--) {
          ph_ += idx[j] * (rr % N);
          rr /= N;
        }
        double t = -2 * PI * (double)(ph_ % N) / (double)N;
        double c = cos(t), s = sin(t), e = full[p] - y[p];
        er += e * c, ei += e * s;
        yr += y[p] * c, yi += y[p] * s;
        hr += full[p] * c, hi_ += full[p] * s;
      }
      int sh = shell_of(k, d);
      pe[sh] += er * er + ei * ei;
      py[sh] += yr * yr + yi * yi;
      ph[sh] += hr * hr + hi_ * hi_;
    }
    const double *gpy = pd_gridspec_target_power(g);
    double ptot = 0, htot = 0;
    for (int s = 0; s < ns; s++) ptot += py[s], htot += ph[s];
    for (int s = 0; s < ns; s++) {
      PD_TEST_CHECK(fabs(gpy[s] - py[s]) <= 1e-12 * ptot,
                    "d=%d shell %d: target power %.17g, naive DFT %.17g", d, s,
                    gpy[s], py[s]);
      PD_TEST_CHECK(fabs(hp[s] - ph[s]) <= 1e-12 * htot,
                    "d=%d shell %d: net power %.17g, naive DFT %.17g", d, s,
                    hp[s], ph[s]);
      double want = sqrt(pe[s] / py[s]);
      PD_TEST_CHECK(py[s] > 0 && pd_test_rel(rel[s], want) < 1e-10,
                    "d=%d shell %d: rel %.17g, naive DFT %.17g", d, s, rel[s],
                    want);
    }
    printf("error d=%d N=%lld m=%lld (%s): rel[0..] = %.3g %.3g %.3g ...\n", d,
           (long long)N, (long long)m,
           used == PD_GRIDSPEC_GATHER ? "gather" : "reduce", rel[0], rel[1],
           rel[2]);
  }
  /* the same numbers on every rank */
  double mx[MAXS], mn[MAXS];
  MPI_Allreduce(rel, mx, ns, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(rel, mn, ns, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  PD_TEST_CHECK(memcmp(mx, rel, sizeof(double) * (size_t)ns) == 0 &&
                    memcmp(mn, rel, sizeof(double) * (size_t)ns) == 0,
                "rel differs between ranks");
  pd_free(&h);
  pd_free(&full);
  PD_TEST_OK(pd_net_destroy(&net));
  PD_TEST_OK(pd_gridspec_destroy(&g));

  /* no target: rel is NaN on every shell, the net's power is finite */
  PD_TEST_OK(pd_gridspec_create(MPI_COMM_WORLD, 2, 6, 0, 1, NULL, NULL, &g));
  cfg.d = 2;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  PD_TEST_OK(pd_gridspec_error(g, net, PD_GRIDSPEC_REDUCE, rel, hp, NULL));
  for (int s = 0; s < pd_gridspec_nshells(g); s++)
    PD_TEST_CHECK(isnan(rel[s]) && isfinite(hp[s]),
                  "no target, shell %d: rel %g hpower %g", s, rel[s], hp[s]);
  PD_TEST_OK(pd_net_destroy(&net));
  PD_TEST_OK(pd_gridspec_destroy(&g));
}

/* ---- 4: choice of the method --------------------------------------------- */

static void test_choose(void) {
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  PD_TEST_CHECK(sizeof(pd_acc) == 560, "pd_acc is %zu bytes", sizeof(pd_acc));
  double bg, br;
  /* 1000 neurons = 4 blocks on 4 ranks: the last holds 1000 - 768 = 232 */
  pd_gridspec_bytes(1000, 3, 4, 4096, &bg, &br);
  PD_TEST_CHECK(bg == (1000 - 232) * 5 * 8.0 && br == 4096 * 560.0,
                "bytes %g %g", bg, br);
  pd_gridspec_bytes(1000, 3, 1, 4096, &bg, &br);
  PD_TEST_CHECK(bg == 0 && br == 0, "one rank moves nothing: %g %g", bg, br);
  /* 300 neurons = 2 blocks on 3 ranks: one rank holds none */
  pd_gridspec_bytes(300, 1, 3, 64, &bg, &br);
  PD_TEST_CHECK(bg == 300 * 3 * 8.0 && br == 64 * 560.0, "bytes %g %g", bg, br);
  /* wide net, tiny grid: REDUCE moves less; 1e7 = 39062 blocks + 128 */
  pd_gridspec_bytes(10000000, 1, 4, 8, &bg, &br);
  PD_TEST_CHECK(bg == (10000000.0 - (9764 * 256 + 128)) * 24 && br == 4480,
                "bytes %g %g", bg, br);

  /* on real objects: the formula with the actual partition */
  const int64_t ms[2] = {300, 70000};
  const int64_t ns[2] = {16, 4};
  for (int c = 0; c < 2; c++) {
    pd_gridspec *g = NULL;
    pd_net *net = NULL;
    pd_net_config cfg = {
        .d = 2, .m = ms[c], .scales = {1, 1, 1}, .seed = 1, .task = 0};
    PD_TEST_OK(
        pd_gridspec_create(MPI_COMM_WORLD, 2, ns[c], 0, 1, NULL, NULL, &g));
    PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
    int64_t mloc = pd_net_get_view(net).mloc, mmin;
    MPI_Allreduce(&mloc, &mmin, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
    int method = pd_gridspec_choose(g, net, &bg, &br);
    double pts = (double)(ns[c] * ns[c]);
    PD_TEST_CHECK(bg == (double)(ms[c] - mmin) * 4 * 8, "gather bytes %g", bg);
    PD_TEST_CHECK(br == (size > 1 ? pts * 560 : 0), "reduce bytes %g", br);
    int want = bg <= br ? PD_GRIDSPEC_GATHER : PD_GRIDSPEC_REDUCE;
    PD_TEST_CHECK(method == want, "choose %d, want %d", method, want);
    if (size == 1)
      PD_TEST_CHECK(method == PD_GRIDSPEC_GATHER, "one rank: gather");
    else
      PD_TEST_CHECK(
          method == (c == 0 ? PD_GRIDSPEC_GATHER : PD_GRIDSPEC_REDUCE),
          "case %d picked %d", c, method);
    double *h = NULL;
    int used = -1;
    PD_TEST_OK(
        pd_calloc((size_t)pd_gridspec_local_points(g) + 1, sizeof(double), &h));
    PD_TEST_OK(pd_gridspec_eval(g, net, PD_GRIDSPEC_AUTO, h, &used));
    PD_TEST_CHECK(used == method, "AUTO used %d, choose %d", used, method);
    pd_free(&h);
    PD_TEST_OK(pd_net_destroy(&net));
    PD_TEST_OK(pd_gridspec_destroy(&g));
  }
}

/* ---- 5: refusals on every rank ------------------------------------------- */

static void expect_fail(int err, const char *what) {
  int bad = err == PD_OK, any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  PD_TEST_CHECK(err != PD_OK && !any, "%s: accepted (err %d on this rank)",
                what, err);
  pd_error_clear();
}

static void test_refusals(void) {
  const int rank = rank_of(MPI_COMM_WORLD);
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  pd_gridspec *g = NULL;
  expect_fail(pd_gridspec_create(MPI_COMM_WORLD, 5, 8, 0, 1, NULL, NULL, &g),
              "d = 5");
  PD_TEST_CHECK(g == NULL, "failed create leaves a grid");
  expect_fail(pd_gridspec_create(MPI_COMM_WORLD, 2, 1, 0, 1, NULL, NULL, &g),
              "N = 1");
  expect_fail(pd_gridspec_create(MPI_COMM_WORLD, 2, 8, 1, 1, NULL, NULL, &g),
              "lo = hi");
  waves bad = {.fail = 1, .L = 1};
  /* d = 1: only rank 0 evaluates the target, the others must learn of it */
  expect_fail(
      pd_gridspec_create(MPI_COMM_WORLD, 1, 8, 0, 1, wave_target, &bad, &g),
      "failing target");
  PD_TEST_CHECK(g == NULL, "failed create leaves a grid");

  PD_TEST_OK(pd_gridspec_create(MPI_COMM_WORLD, 2, 8, 0, 1, NULL, NULL, &g));
  double h[MAXS], rel[MAXS];
  pd_net *net = NULL;
  pd_net_config cfg = {.d = 3, .m = 100, .scales = {1, 1, 1}};
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  expect_fail(pd_gridspec_eval(g, net, PD_GRIDSPEC_GATHER, h, NULL),
              "dimension mismatch");
  PD_TEST_OK(pd_net_destroy(&net));
  cfg.d = 2;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  expect_fail(pd_gridspec_eval(g, net, 7, h, NULL), "unknown method");
  PD_TEST_OK(pd_gridspec_eval(g, net, PD_GRIDSPEC_REDUCE, h, NULL));
  pd_net *net_ok = net;
  net = NULL;
  if (size >= 2) {
    /* a net on a smaller communicator: rank 0 alone, the rest together */
    MPI_Comm sub;
    MPI_Comm_split(MPI_COMM_WORLD, rank == 0, rank, &sub);
    PD_TEST_OK(pd_net_create(sub, &cfg, &net));
    expect_fail(pd_gridspec_eval(g, net, PD_GRIDSPEC_AUTO, h, NULL),
                "net on a smaller communicator (eval)");
    expect_fail(pd_gridspec_error(g, net, PD_GRIDSPEC_REDUCE, rel, NULL, NULL),
                "net on a smaller communicator (error)");
    PD_TEST_OK(pd_net_destroy(&net));
    MPI_Comm_free(&sub);
    /* the same ranks in reverse order */
    MPI_Comm_split(MPI_COMM_WORLD, 0, size - rank, &sub);
    PD_TEST_OK(pd_net_create(sub, &cfg, &net));
    expect_fail(pd_gridspec_eval(g, net, PD_GRIDSPEC_GATHER, h, NULL),
                "net on the ranks in another order");
    PD_TEST_OK(pd_net_destroy(&net));
    MPI_Comm_free(&sub);
  }
  /* allocation failures on the last rank only: agreed on every rank */
  int agreed = 1, failures = 0;
  for (long n = 1; n <= 12; n++) {
    const int methods[2] = {PD_GRIDSPEC_GATHER, PD_GRIDSPEC_REDUCE};
    for (int k = 0; k < 3; k++) {
      pd_gridspec *g2 = NULL;
      if (rank == size - 1) pd_mem_fail_after(n);
      int err = k == 2
                    ? pd_gridspec_create(MPI_COMM_WORLD, 3, 6, 0, 1,
                                         smooth_target, NULL, &g2)
                    : pd_gridspec_error(g, net_ok, methods[k], rel, NULL, NULL);
      pd_mem_fail_after(0);
      int ok = err == PD_OK, lo_ok, hi_ok;
      MPI_Allreduce(&ok, &lo_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
      MPI_Allreduce(&ok, &hi_ok, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
      if (lo_ok != hi_ok) agreed = 0;
      if (!ok) failures++;
      pd_error_clear();
      PD_TEST_OK(pd_gridspec_destroy(&g2));
    }
  }
  PD_TEST_CHECK(agreed && failures > 0,
                "allocation failures not agreed (%d failures)", failures);
  PD_TEST_OK(pd_net_destroy(&net_ok));
  PD_TEST_OK(pd_gridspec_destroy(&g));
  PD_TEST_OK(pd_gridspec_destroy(&g)); /* NULL is fine */
  PD_TEST_OK(pd_gridspec_destroy(NULL));
}

/* ---- pd_acc_reduce: exact sums to any root ------------------------------ */

static void test_acc_reduce(void) {
  const int rank = rank_of(MPI_COMM_WORLD);
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  enum { NA = 5 };
  for (int root = 0; root < size; root++) {
    pd_acc a[NA], b[NA];
    pd_acc_zero(a, NA);
    for (int i = 0; i < NA; i++) {
      /* large cancelling terms and small ones: naive sums would lose them */
      pd_acc_add(&a[i], (rank % 2 ? -1e300 : 1e300) * (i + 1));
      pd_acc_add(&a[i], ldexp(1.0 + rank, -1000 + 10 * i));
      pd_acc_add(&a[i], 0.1 * (rank + 1) * (i + 1));
    }
    memcpy(b, a, sizeof a);
    PD_TEST_OK(pd_acc_reduce(a, NA, root, MPI_COMM_WORLD));
    PD_TEST_OK(pd_acc_allreduce(b, NA, MPI_COMM_WORLD));
    if (rank == root)
      for (int i = 0; i < NA; i++)
        PD_TEST_CHECK(pd_acc_value(&a[i]) == pd_acc_value(&b[i]),
                      "root %d acc %d: reduce %.17g, allreduce %.17g", root, i,
                      pd_acc_value(&a[i]), pd_acc_value(&b[i]));
    /* one rank: 1e300 + tiny + 0.1 rounds to 1e300; several: exact rest */
    if (rank == root && size % 2 == 0) {
      double want = 0;
      for (int r = 0; r < size; r++) want += 0.1 * (r + 1);
      PD_TEST_CHECK(fabs(pd_acc_value(&a[0]) - want) <= 1e-15 * want,
                    "root %d: %.17g, want about %.17g", root,
                    pd_acc_value(&a[0]), want);
    }
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  double t0 = MPI_Wtime();
  test_target_spectra();
  const eval_case cases[] = {
      {1, 64, 1000, -1, 1},     /* 4 blocks */
      {3, 12, 777, -1, 1},      /* not a multiple of 256 */
      {3, 8, 300, -0.5, 1.5},   /* ranks without neurons at np >= 3 */
      {2, 16, 1100, 0.25, 2.0}, /* 5 blocks, some rows empty at np 3 */
      {2, 100, 300, -1, 1.3},   /* FFTW-MPI's last bits depend on the ranks */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    test_eval(&cases[c]);
  test_error(2, 8, 600);
  test_error(3, 8, 600);
  test_choose();
  test_acc_reduce();
  test_refusals();
  if (rank_of(MPI_COMM_WORLD) == 0)
    printf("test_gridspec: %.2f s\n", MPI_Wtime() - t0);
  return pd_test_end("test_gridspec");
}
