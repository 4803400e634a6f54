/* The infinite-width NTK by quadrature (ntk_quad.h): the Gauss-Legendre
 * rule integrates polynomials exactly; for relu the quadrature matches the
 * closed form (the accuracy by order is printed); for the smooth
 * activations it agrees with an independent reference (the trapezoidal rule
 * on a wide grid, which converges geometrically for Gaussian-weighted
 * analytic integrands), for srelu and phi3 with itself at a higher order;
 * the distributed matrix (pd_ntk_fill_infinite) is symmetric and equals the
 * kernel entry by entry; and the empirical NTK of wide nets (means over
 * seeds) agrees with it within the statistical error, for every
 * activation. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/blacs.h"
#include "phasediag/observe/dmat.h"
#include "phasediag/observe/ntk.h"
#include "phasediag/observe/ntk_quad.h"

static const double pi = 3.14159265358979323846;

/* Gauss-Legendre integrates polynomials of degree < 2n exactly */
static void check_rule(void) {
  const int orders[] = {1, 2, 5, 10, 32, 64};
  for (int o = 0; o < 6; o++) {
    const int n = orders[o];
    double x[64], w[64];
    PD_TEST_OK(pd_gauss_legendre(n, x, w));
    double worst = 0;
    for (int k = 0; k < 2 * n && k <= 40; k++) {
      double sum = 0;
      for (int i = 0; i < n; i++) sum += w[i] * pow(x[i], k);
      const double want = k % 2 ? 0 : 2.0 / (k + 1);
      if (fabs(sum - want) > worst) worst = fabs(sum - want);
    }
    int sorted = 1;
    for (int i = 1; i < n; i++) sorted &= x[i] > x[i - 1];
    for (int i = 0; i < n; i++) sorted &= x[i] == -x[n - 1 - i];
    PD_TEST_CHECK(worst < 1e-14 && sorted,
                  "order %d: moments off by %g (ascending, symmetric: %d)", n,
                  worst, sorted);
  }
}

/* E f(u, v) by the trapezoidal rule (step h on [-9, 9]^2) with the same
 * Cholesky factor: an independent reference for smooth f. */
static void trapezoid(const pd_activation *a, double su, double sv, double c,
                      double s, double *ss, double *dd) {
  const double h = 0.08, L = 9;
  const int n = (int)(L / h);
  double tss = 0, tdd = 0;
  for (int i = -n; i <= n; i++) {
    const double g1 = i * h, p1 = exp(-0.5 * g1 * g1);
    const double u = su * g1;
    double is = 0, id = 0;
    for (int j = -n; j <= n; j++) {
      const double g2 = j * h, p2 = exp(-0.5 * g2 * g2);
      const double v = sv * (c * g1 + s * g2);
      is += p2 * a->sigma(v);
      id += p2 * a->dsigma(v);
    }
    tss += p1 * a->sigma(u) * is;
    tdd += p1 * a->dsigma(u) * id;
  }
  const double norm = h * h / (2 * pi);
  *ss = tss * norm;
  *dd = tdd * norm;
}

/* random inputs and scales, the same for every check */
static void random_case(int p, int d, double *x, double *y, pd_scales *s) {
  const uint64_t c = (uint64_t)p;
  for (int j = 0; j < d; j++) {
    x[j] = 2 * pd_rng_uniform(41, c, (uint64_t)j, 0) - 1;
    y[j] = p % 10 == 0 ? x[j] : 2 * pd_rng_uniform(41, c, (uint64_t)j, 1) - 1;
  }
  *s = (pd_scales){0.5 + 2 * pd_rng_uniform(42, c, 0, 0),
                   0.3 + 1.5 * pd_rng_uniform(42, c, 1, 0),
                   (0.2 + 0.8 * pd_rng_uniform(42, c, 2, 0)) / sqrt(d + 1.0)};
}

static void check_relu(void) {
  const pd_activation *relu = pd_activation_find("relu");
  const int orders[] = {4, 6, 8, 0, 16};
  double at_default = 0;
  for (int o = 0; o < 5; o++) {
    pd_ntk_quad *q = NULL;
    PD_TEST_OK(pd_ntk_quad_create(relu, orders[o], &q));
    double worst = 0;
    for (int p = 0; p < 200; p++) {
      const int d = 1 + p % 4;
      double x[4], y[4];
      pd_scales s;
      random_case(p, d, x, y, &s);
      const double m = 1000;
      const double got = pd_ntk_quad_kernel(q, x, y, d, m, &s);
      const double want = pd_ntk_closed_form(x, y, d, m, &s);
      const double e = fabs(got - want) / want;
      if (e > worst) worst = e;
    }
    printf("relu: quadrature of order %d against the closed form: %.2g\n",
           orders[o] ? orders[o] : PD_NTK_QUAD_ORDER, worst);
    if (orders[o] == 0) at_default = worst;
    pd_ntk_quad_destroy(&q);
  }
  PD_TEST_CHECK(at_default < 1e-4,
                "relu: the quadrature is %g off the closed form", at_default);
}

/* The smooth activations against the trapezoidal rule; those by pieces
 * (where the trapezoidal rule converges slowly) against the quadrature at
 * order 24. */
static void check_others(void) {
  int nact;
  const pd_activation *acts = pd_activation_list(&nact);
  for (int a = 0; a < nact; a++) {
    const char *name = acts[a].name;
    if (!strcmp(name, "relu")) continue; /* against its closed form above */
    const int pieces = !strcmp(name, "srelu") || !strcmp(name, "phi3");
    pd_ntk_quad *q = NULL, *ref = NULL;
    PD_TEST_OK(pd_ntk_quad_create(&acts[a], 0, &q));
    PD_TEST_OK(pd_ntk_quad_create(&acts[a], 24, &ref));
    double worst = 0;
    for (int p = 0; p < 12; p++) {
      /* scales 0.2 .. 5 */
      const double su = 0.2 * pow(25, pd_rng_uniform(43, (uint64_t)p, 0, 0));
      const double sv = 0.2 * pow(25, pd_rng_uniform(43, (uint64_t)p, 1, 0));
      const double t = p == 0 ? 0 : pi * pd_rng_uniform(43, (uint64_t)p, 2, 0);
      double ss, dd, rs, rd, ns, nd, r2, d2;
      pd_ntk_quad_moments(q, su, sv, cos(t), sin(t), &ss, &dd);
      /* the scale of the sums: the same at t = 0 */
      pd_ntk_quad_moments(q, su, sv, 1, 0, &ns, &nd);
      if (pieces) {
        pd_ntk_quad_moments(ref, su, sv, cos(t), sin(t), &rs, &rd);
      } else {
        trapezoid(&acts[a], su, sv, cos(t), sin(t), &rs, &rd);
        trapezoid(&acts[a], su, sv, 1, 0, &r2, &d2);
        const double e0 =
            fmax(fabs(ns - r2) / fabs(r2), fabs(nd - d2) / fabs(d2));
        if (e0 > worst) worst = e0;
      }
      const double e = fmax(fabs(ss - rs) / fabs(ns), fabs(dd - rd) / fabs(nd));
      if (e > worst) worst = e;
    }
    printf("%s: quadrature against %s: %.2g\n", name,
           pieces ? "order 24" : "the trapezoidal rule", worst);
    PD_TEST_CHECK(worst < 1e-10, "%s: quadrature off by %g", name, worst);
    pd_ntk_quad_destroy(&q);
    pd_ntk_quad_destroy(&ref);
  }
}

/* the distributed matrix: exactly symmetric, each entry the kernel's */
static void check_fill(void) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const pd_activation *act = pd_activation_find("tanh");
  const int n = 23, d = 3;
  pd_data *data = pd_test_random_data(n, d, 44);
  const pd_scales s = {3, 1.2, 0.8};
  pd_blacs *g = NULL;
  PD_TEST_OK(pd_blacs_create(MPI_COMM_WORLD, &g));
  pd_dmat *K = NULL;
  PD_TEST_OK(pd_dmat_create(g, n, 4, &K));
  PD_TEST_OK(pd_ntk_fill_infinite(K, data, act, 50, &s));
  double *full = NULL;
  PD_TEST_OK(pd_calloc((size_t)n * n, sizeof(double), &full));
  PD_TEST_OK(pd_dmat_gather(K, 0, full));
  if (rank == 0) {
    pd_ntk_quad *q = NULL;
    PD_TEST_OK(pd_ntk_quad_create(act, 0, &q));
    int bad = 0;
    for (int i = 0; i < n; i++)
      for (int j = 0; j <= i; j++) {
        const double k =
            pd_ntk_quad_kernel(q, data->x + i * d, data->x + j * d, d, 50, &s);
        bad += full[(size_t)j * n + i] != full[(size_t)i * n + j] ||
               full[(size_t)j * n + i] != k;
      }
    PD_TEST_CHECK(bad == 0, "%d entries not symmetric or not the kernel's",
                  bad);
    pd_ntk_quad_destroy(&q);
  }
  pd_free(&full);
  pd_dmat_destroy(&K);
  PD_TEST_OK(pd_blacs_destroy(&g));
  pd_data_destroy(&data);
}

/* The empirical NTK at width m over seeds against the infinite-width one:
 * the entries are means of m independent terms, so over S seeds the mean
 * has a standard error that the seeds' spread estimates. */
enum { NP = 5, D = 2, SEEDS = 8 };

static void check_monte_carlo(const pd_activation *act, int64_t m) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pd_data *data = pd_test_random_data(NP, D, 45);
  const pd_scales s = {sqrt((double)m), 1.0, 0.9};
  pd_blacs *g = NULL;
  PD_TEST_OK(pd_blacs_create(MPI_COMM_WORLD, &g));
  pd_dmat *K = NULL, *T = NULL;
  PD_TEST_OK(pd_dmat_create(g, NP, 0, &K));
  PD_TEST_OK(pd_dmat_create(g, NP, 0, &T));
  double full[NP * NP], sum[NP * NP] = {0}, sum2[NP * NP] = {0}, inf[NP * NP];
  PD_TEST_OK(pd_ntk_fill_infinite(T, data, act, (double)m, &s));
  PD_TEST_OK(pd_dmat_gather(T, 0, inf));
  for (int seed = 0; seed < SEEDS; seed++) {
    pd_net_config cfg = {.d = D,
                         .m = m,
                         .scales = s,
                         .seed = (uint64_t)(100 + seed),
                         .task = 0,
                         .act = act};
    pd_net *net = NULL;
    PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
    PD_TEST_OK(pd_ntk_empirical(net, data, K));
    PD_TEST_OK(pd_dmat_gather(K, 0, full));
    for (int e = 0; e < NP * NP; e++) {
      sum[e] += full[e];
      sum2[e] += full[e] * full[e];
    }
    PD_TEST_OK(pd_net_destroy(&net));
  }
  if (rank == 0) {
    double worst_z = 0, worst_rel = 0;
    for (int e = 0; e < NP * NP; e++) {
      const double mean = sum[e] / SEEDS;
      const double var = (sum2[e] / SEEDS - mean * mean) * SEEDS / (SEEDS - 1);
      const double se = sqrt(fmax(var, 0) / SEEDS);
      const double z = fabs(mean - inf[e]) / se;
      if (z > worst_z) worst_z = z;
      const double rel = fabs(mean - inf[e]) / fabs(inf[e]);
      if (rel > worst_rel) worst_rel = rel;
    }
    printf(
        "%-8s m = %lld x %d seeds: empirical mean against the infinite-width "
        "NTK: max %.2f standard errors, max relative %.2g\n",
        act->name, (long long)m, SEEDS, worst_z, worst_rel);
    /* 25 entries (15 distinct), t-distributed with 7 degrees of freedom:
     * 6 standard errors is far out */
    PD_TEST_CHECK(worst_z < 6, "%s: %g standard errors off", act->name,
                  worst_z);
  }
  pd_dmat_destroy(&K);
  pd_dmat_destroy(&T);
  PD_TEST_OK(pd_blacs_destroy(&g));
  pd_data_destroy(&data);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    check_rule();
    check_relu();
    check_others();
  }
  check_fill();
  int nact;
  const pd_activation *acts = pd_activation_list(&nact);
  for (int a = 0; a < nact; a++) check_monte_carlo(&acts[a], 100000);
  return pd_test_end("test_ntk_quad");
}
