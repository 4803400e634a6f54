/* Every activation's forms (activation_defs.h, white box): the AVX2 forms
 * give the bits of the scalar ones on a large set of inputs with the edge
 * cases (+-0, subnormals, the knots, the saturation of exp, +-inf, NaN);
 * sigma' matches central differences of sigma; the multiplicity p is the
 * order of the zero at 0; exp, expm1 and the smooth activations against
 * libm's long double functions (the measured maximum relative errors are
 * printed). */
#include <float.h>
#include <string.h>

#include "model/activation_defs.h"
#include "pd_test.h"
#include "phasediag/base/rng.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/kernel.h"

static int same_bits(double a, double b) { return memcmp(&a, &b, 8) == 0; }

/* the same value, or NaN in both */
static int same_value(double a, double b) {
  return same_bits(a, b) || (isnan(a) && isnan(b));
}

enum { NRAND = 200000 };

/* The inputs: edge cases, the knots and their neighbours, then random ones
 * (log-uniform magnitudes 1e-310 .. 1e3 and uniform in [-40, 40]). */
static int make_inputs(double *z, int cap) {
  const double edge[] = {
      0.0,   DBL_TRUE_MIN, 1e-310, DBL_MIN, 1e-300, 1e-20,   1e-8,     1e-4,
      0.25,  0.5,          1.0,    1.5,     2.0,    2.5,     3.0,      18.7,
      19.1,  20.0,         36.0,   37.5,    354.0,  373.0,   400.0,    708.0,
      709.8, 745.0,        746.0,  800.0,   1e300,  DBL_MAX, INFINITY, NAN};
  const int ne = (int)(sizeof edge / sizeof edge[0]);
  int n = 0;
  for (int i = 0; i < ne; i++) {
    z[n++] = edge[i];
    z[n++] = -edge[i];
    if (isfinite(edge[i]) && edge[i] > 0) {
      z[n++] = nextafter(edge[i], 0);
      z[n++] = nextafter(edge[i], INFINITY);
    }
  }
  for (int i = 0; i < NRAND && n < cap; i++) {
    const double u = pd_rng_uniform(31, 0, (uint64_t)i, 0);
    const double sgn = pd_rng_uniform(31, 0, (uint64_t)i, 1) < 0.5 ? -1 : 1;
    z[n++] = i % 2 ? sgn * pow(10.0, -310 + 313 * u) : 80 * u - 40;
  }
  return n;
}

/* ---- (a) the AVX2 forms against the scalar forms, bit for bit ------------ */

#if PD_HAVE_AVX2
typedef struct {
  double s, d, m; /* sigma, dmul(c), dmul(1) */
} forms;

PD_AVX2 static void vector_forms(int act, const double *z, const double *c,
                                 forms *out) {
  const __m256d vz = _mm256_loadu_pd(z), vc = _mm256_loadu_pd(c);
  double s[4], d[4], m[4];
  _mm256_storeu_pd(s, pd_act_sigma_v(act, vz));
  _mm256_storeu_pd(d, pd_act_dmul_v(act, vz, vc));
  _mm256_storeu_pd(m, pd_act_dmul_v(act, vz, _mm256_set1_pd(1.0)));
  for (int l = 0; l < 4; l++) out[l] = (forms){s[l], d[l], m[l]};
}

static void check_vector(const pd_activation *act, const double *z, int n) {
  long bad = 0, nans = 0;
  for (int i = 0; i + 4 <= n; i += 4) {
    double c[4];
    for (int l = 0; l < 4; l++) {
      const double u = pd_rng_normal(32, 0, (uint64_t)(i + l), 0);
      c[l] = (i + l) % 13 == 0 ? -0.0 : u;
    }
    forms v[4];
    vector_forms(act->id, z + i, c, v);
    for (int l = 0; l < 4; l++) {
      const double x = z[i + l];
      const double s = pd_act_sigma(act->id, x);
      const double d = pd_act_dmul(act->id, x, c[l]);
      const double m = pd_act_dmul(act->id, x, 1.0);
      const int ok =
          same_bits(s, v[l].s) && same_bits(d, v[l].d) && same_bits(m, v[l].m);
      /* NaN results (from NaN inputs only, checked below) may carry
       * different payloads */
      const int ok_nan = same_value(s, v[l].s) && same_value(d, v[l].d) &&
                         same_value(m, v[l].m);
      nans += !ok && ok_nan;
      if (!ok_nan && bad++ < 5)
        PD_TEST_CHECK(0,
                      "%s(%.17g): scalar %.17g %.17g, AVX2 %.17g %.17g "
                      "(sigma, c sigma')",
                      act->name, x, s, d, v[l].s, v[l].d);
    }
  }
  PD_TEST_CHECK(bad == 0, "%s: %ld inputs differ between scalar and AVX2",
                act->name, bad);
  printf("%-8s scalar and AVX2 forms: same bits on %d inputs%s\n", act->name, n,
         nans ? " (NaN payloads aside)" : "");
}
#endif

/* ---- scalar properties --------------------------------------------------- */

/* the activations written by pieces on the knots 0 .. 3 */
static int piecewise(const pd_activation *act) {
  return strcmp(act->name, "relu") == 0 || strcmp(act->name, "srelu") == 0 ||
         strcmp(act->name, "phi3") == 0;
}

/* the kinks of sigma', where central differences do not apply */
static int near_kink(const pd_activation *act, double z) {
  const int kinked = piecewise(act);
  for (int k = 0; kinked && k <= 3; k++)
    if (fabs(z - k) < 1e-3) return 1;
  return 0;
}

static void check_scalar(const pd_activation *act, const double *z, int n) {
  const int id = act->id;
  /* dsigma is dmul with c = 1, the table's function pointers are the forms */
  long off = 0, nonfinite = 0;
  for (int i = 0; i < n; i++) {
    const double x = z[i], s = act->sigma(x), d = act->dsigma(x);
    off += !same_value(d, pd_act_dmul(id, x, 1.0)) ||
           !same_value(s, pd_act_sigma(id, x));
    nonfinite += !isnan(x) && (isnan(s) || isnan(d));
  }
  PD_TEST_CHECK(off == 0, "%s: dsigma != dmul(z, 1) on %ld inputs", act->name,
                off);
  PD_TEST_CHECK(nonfinite == 0, "%s: NaN from %ld non-NaN inputs", act->name,
                nonfinite);

  /* sigma' against central differences of sigma on [-6, 6] */
  double worst = 0;
  for (int i = 0; i < 4000; i++) {
    const double x = -6 + 12 * pd_rng_uniform(33, (uint64_t)id, (uint64_t)i, 0);
    if (near_kink(act, x)) continue;
    const double h = 1e-5;
    const double fd = (act->sigma(x + h) - act->sigma(x - h)) / (2 * h);
    const double e = fabs(fd - act->dsigma(x)) / (1 + fabs(act->dsigma(x)));
    if (e > worst) worst = e;
  }
  PD_TEST_CHECK(worst < 1e-9, "%s: sigma' off the differences by %g", act->name,
                worst);

  /* the multiplicity: sigma(0) != 0 for p = 0, else sigma(2h) / sigma(h) ->
   * 2^p as h -> 0+ */
  const int p = act->multiplicity;
  if (p == 0) {
    PD_TEST_CHECK(act->sigma(0.0) != 0, "%s: p = 0 but sigma(0) = 0",
                  act->name);
  } else {
    const double h = 1e-5, ratio = act->sigma(2 * h) / act->sigma(h);
    PD_TEST_CHECK(act->sigma(0.0) == 0 && fabs(ratio - ldexp(1, p)) < 1e-3,
                  "%s: p = %d but sigma(2h) / sigma(h) = %g", act->name, p,
                  ratio);
  }
  printf("%-8s p = %d, sigma' vs central differences: %.2g\n", act->name, p,
         worst);
}

/* Limits and signs that a careless formula gets wrong. */
static void check_edges(void) {
  const struct {
    const char *name;
    double z, s, d;
  } want[] = {
      {"tanh", INFINITY, 1, 0},
      {"tanh", -INFINITY, -1, 0},
      {"tanh", -0.0, -0.0, 1},
      {"tanh", 1e-310, 1e-310, 1},
      {"sigmoid", INFINITY, 1, 0},
      {"sigmoid", -INFINITY, 0, 0},
      {"sigmoid", 0, 0.5, 0.25},
      {"softplus", INFINITY, INFINITY, 1},
      {"softplus", -INFINITY, 0, 0},
      {"softplus", 800, 800, 1},
      {"xtanh", INFINITY, INFINITY, 1},
      {"xtanh", -INFINITY, INFINITY, -1},
      {"xtanh", -0.0, 0, 0},
      {"srelu", 0.5, 0.25, 0},
      {"srelu", 1, 0, 0},
      {"srelu", 0, 0, 0},
      {"phi3", 1, 0.5, 1},
      {"phi3", 2, 0.5, -1},
      {"phi3", 1.5, 0.75, 0},
      {"phi3", 3, 0, 0},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const pd_activation *a = pd_activation_find(want[i].name);
    PD_TEST_CHECK(a != NULL, "%s not registered", want[i].name);
    if (!a) continue;
    const double s = a->sigma(want[i].z), d = a->dsigma(want[i].z);
    PD_TEST_CHECK(same_bits(s, want[i].s) && d == want[i].d,
                  "%s(%g) = %.17g, sigma' %.17g; want %g, %g", want[i].name,
                  want[i].z, s, d, want[i].s, want[i].d);
  }
  /* NaN in: NaN out for the smooth ones, 0 for those by pieces (as
   * relu) */
  int n;
  const pd_activation *list = pd_activation_list(&n);
  for (int i = 0; i < n; i++) {
    const double s = list[i].sigma(NAN);
    PD_TEST_CHECK(piecewise(&list[i]) ? s == 0 : isnan(s), "%s(NaN) = %g",
                  list[i].name, s);
  }
}

/* ---- accuracy against libm ----------------------------------------------- */

static double rel(double got, long double want) {
  if (want == 0) return got == 0 ? 0 : INFINITY;
  return (double)fabsl(((long double)got - want) / want);
}

static void check_accuracy(void) {
  double e_exp = 0, e_em1 = 0, e_tanh = 0, e_sech = 0, e_sig = 0, e_dsig = 0,
         e_sp = 0, e_xt = 0;
  const pd_activation *tanh_a = pd_activation_find("tanh");
  const pd_activation *sig = pd_activation_find("sigmoid");
  const pd_activation *sp = pd_activation_find("softplus");
  const pd_activation *xt = pd_activation_find("xtanh");
  for (int i = 0; i < 400000; i++) {
    const double u = pd_rng_uniform(34, 0, (uint64_t)i, 0);
    /* y in [-708, 0] (normal results), half of them log-uniform near 0 */
    const double y = i % 2 ? -708 * u : -pow(10.0, -300 + 302.8 * u);
    double e, em1;
    pd_expm(y, &e, &em1);
    const long double yl = y;
    double r = rel(e, expl(yl));
    if (r > e_exp) e_exp = r;
    r = rel(em1, expm1l(yl));
    if (r > e_em1) e_em1 = r;
    /* z in [-40, 40] and log-uniform magnitudes 1e-300 .. 40 */
    const double z = i % 2 ? 80 * u - 40 : (i % 4 ? 1 : -1) * (-y / 25);
    const long double zl = z, th = tanhl(zl), ch = coshl(zl);
    r = rel(tanh_a->sigma(z), th);
    if (r > e_tanh) e_tanh = r;
    r = rel(tanh_a->dsigma(z), 1 / (ch * ch));
    if (r > e_sech) e_sech = r;
    r = fabs(z) > 1e-150 ? rel(xt->sigma(z), zl * th) : 0; /* no underflow */
    if (r > e_xt) e_xt = r;
    /* sigmoid and softplus on [-700, 40] */
    const double zs = i % 2 ? -700 + 740 * u : z;
    const long double zsl = zs, ex = expl(-fabsl(zsl));
    const long double sl = zs >= 0 ? 1 / (1 + ex) : ex / (1 + ex);
    r = rel(sig->sigma(zs), sl);
    if (r > e_sig) e_sig = r;
    r = rel(sig->dsigma(zs), ex / ((1 + ex) * (1 + ex)));
    if (r > e_dsig) e_dsig = r;
    r = rel(sp->sigma(zs), (zs > 0 ? zsl : 0) + log1pl(ex));
    if (r > e_sp) e_sp = r;
  }
  const double eps = DBL_EPSILON;
  printf(
      "max relative error against long double libm (in units of 2^-52):\n"
      "  exp %.2f, expm1 %.2f, tanh %.2f, tanh' %.2f, x tanh x %.2f,\n"
      "  sigmoid %.2f, sigmoid' %.2f, softplus %.2f\n",
      e_exp / eps, e_em1 / eps, e_tanh / eps, e_sech / eps, e_xt / eps,
      e_sig / eps, e_dsig / eps, e_sp / eps);
  const double worst[] = {e_exp, e_em1, e_tanh, e_sech,
                          e_xt,  e_sig, e_dsig, e_sp};
  for (int i = 0; i < 8; i++)
    PD_TEST_CHECK(worst[i] < 4 * eps, "relative error %g (case %d)", worst[i],
                  i);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  static double z[NRAND + 256];
  const int n = make_inputs(z, NRAND + 256);
  int nact;
  const pd_activation *acts = pd_activation_list(&nact);
  PD_TEST_CHECK(nact == PD_ACT_COUNT, "%d activations, %d in the list", nact,
                PD_ACT_COUNT);
  for (int a = 0; a < nact; a++) check_scalar(&acts[a], z, n);
  check_edges();
  check_accuracy();
#if PD_HAVE_AVX2
  const int avx2 = pd_kernel_set_isa(PD_ISA_AVX2) == PD_ISA_AVX2;
  pd_kernel_set_isa(PD_ISA_AUTO);
  for (int a = 0; avx2 && a < nact; a++) check_vector(&acts[a], z, n);
  if (!avx2) printf("no AVX2+FMA on this CPU: vector forms not compared\n");
#else
  printf("not an x86-64 GCC build: no vector forms to compare\n");
#endif
  return pd_test_end("test_activation_math");
}
