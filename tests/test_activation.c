/* The activation registry (lookup, refusals, sigma and sigma' of relu) and
 * the kernels instantiated for every activation: the portable and AVX2
 * instances agree bit for bit on random inputs with exact zeros of the
 * pre-activation, and both match a scalar sum through the table's sigma. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/kernel.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/ntk.h"

static int msg_has(const char *part) {
  return strstr(pd_error_message(), part) != NULL;
}

static void check_registry(void) {
  int n = 0;
  const pd_activation *list = pd_activation_list(&n);
  PD_TEST_CHECK(n >= 1, "%d activations registered", n);
  for (int i = 0; i < n; i++) {
    PD_TEST_CHECK(list[i].name && list[i].sigma && list[i].dsigma,
                  "entry %d incomplete", i);
    PD_TEST_CHECK(list[i].id == i, "entry %d has id %d", i, list[i].id);
    PD_TEST_CHECK(pd_activation_find(list[i].name) == &list[i],
                  "find(%s) is not entry %d", list[i].name, i);
  }
  const pd_activation *relu = pd_activation_find("relu");
  PD_TEST_CHECK(relu && relu == pd_activation_default(), "relu is the default");
  PD_TEST_CHECK(relu && strcmp(relu->name, "relu") == 0 &&
                    relu->multiplicity == 1 && relu->closed_form_ntk == 1,
                "relu's entry");
  const pd_activation *got = NULL;
  PD_TEST_OK(pd_activation_lookup("relu", &got));
  PD_TEST_CHECK(got == relu, "lookup(relu)");

  /* unknown names are refused, naming what is known */
  PD_TEST_CHECK(pd_activation_find("no_such_sigma") == NULL, "unknown found");
  PD_TEST_CHECK(pd_activation_find(NULL) == NULL, "NULL name found");
  PD_TEST_CHECK(pd_activation_find("") == NULL, "empty name found");
  PD_TEST_CHECK(pd_activation_lookup("no_such_sigma", &got) == PD_ERR_CONFIG,
                "unknown name not refused");
  PD_TEST_CHECK(got == NULL && msg_has("unknown activation 'no_such_sigma'") &&
                    msg_has("known: relu"),
                "message: %s", pd_error_message());
  pd_error_clear();

  /* the closed forms accept relu (and no activation) and refuse others */
  PD_TEST_OK(pd_ntk_closed_form_check(relu));
  PD_TEST_OK(pd_ntk_closed_form_check(NULL));
  pd_activation other = *relu;
  other.name = "other";
  other.closed_form_ntk = 0;
  PD_TEST_CHECK(pd_ntk_closed_form_check(&other) == PD_ERR_CONFIG,
                "closed-form NTK accepted an activation without one");
  PD_TEST_CHECK(msg_has("the closed-form infinite-width NTK is known only for "
                        "relu; activation other has none"),
                "message: %s", pd_error_message());
  pd_error_clear();
  /* a net takes only the registry's activations */
  pd_net_config cfg = {.d = 1, .m = 16, .scales = {1, 1, 1}, .act = &other};
  pd_net *net = NULL;
  PD_TEST_CHECK(
      pd_net_create(MPI_COMM_WORLD, &cfg, &net) == PD_ERR_ARG && net == NULL,
      "a net with an unregistered activation");
  pd_error_clear();
}

static int same_bits(double a, double b) { return memcmp(&a, &b, 8) == 0; }

static void check_relu_values(void) {
  const pd_activation *r = pd_activation_find("relu");
  const double z[] = {-2.5, -1e-300, -0.0, 0.0, 1e-300, 0.75, 3e8};
  const double s[] = {0.0, 0.0, 0.0, 0.0, 1e-300, 0.75, 3e8};
  const double ds[] = {0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0};
  for (int i = 0; i < 7; i++) {
    /* bits: relu(-0) is +0, as in the kernels */
    PD_TEST_CHECK(same_bits(r->sigma(z[i]), s[i]), "relu(%g) = %g", z[i],
                  r->sigma(z[i]));
    PD_TEST_CHECK(same_bits(r->dsigma(z[i]), ds[i]), "relu'(%g) = %g", z[i],
                  r->dsigma(z[i]));
  }
  PD_TEST_CHECK(same_bits(r->sigma(NAN), 0.0), "relu(NaN) = %g", r->sigma(NAN));
}

/* ---- kernels: every activation, every instruction set here -------------- */

enum { N = 37, M = 2 * PD_NET_BLOCK + 45 }; /* odd n; a part-filled chunk */

typedef struct {
  pd_shard sh;
  pd_data *data;
  double *c, *P, *tmp, *ga, *gw;
  pd_acc *acc;
} kernel_case;

/* Random parameters with exact zeros of z (w = 0 and a +-0 bias) on some
 * neurons, inputs with a few exact zeros. */
static void case_create(kernel_case *t, const pd_activation *act, int d) {
  const int64_t S = (M + PD_LANES - 1) / PD_LANES * PD_LANES;
  double *a, *w, *an, *wn;
  PD_TEST_OK(pd_calloc((size_t)S, sizeof(double), &a));
  PD_TEST_OK(pd_calloc((size_t)S, sizeof(double), &an));
  PD_TEST_OK(pd_calloc((size_t)(S * (d + 1)), sizeof(double), &w));
  PD_TEST_OK(pd_calloc((size_t)(S * (d + 1)), sizeof(double), &wn));
  for (int64_t k = 0; k < M; k++) {
    a[k] = pd_rng_normal(21, (uint64_t)d, (uint64_t)k, 0);
    for (int j = 0; j <= d; j++)
      w[j * S + k] = pd_rng_normal(21, (uint64_t)d, (uint64_t)k, 1 + j);
    if (k % 7 == 3)
      for (int j = 0; j <= d; j++) w[j * S + k] = (j == d && k % 2) ? -0.0 : 0;
  }
  t->sh = (pd_shard){a, w, an, wn, S, M, act};
  t->data = pd_test_random_data(N, d, 5 + (uint64_t)d);
  for (int64_t i = 0; i < N; i += 5) t->data->x[i * d] = i % 2 ? -0.0 : 0.0;
  PD_TEST_OK(pd_calloc(N, sizeof(double), &t->c));
  for (int64_t i = 0; i < N; i++)
    t->c[i] = pd_rng_normal(22, 0, (uint64_t)i, 0);
  PD_TEST_OK(pd_calloc((size_t)N * PD_LANES, sizeof(double), &t->P));
  PD_TEST_OK(
      pd_calloc((size_t)PD_LANES * 2 * (d + 2), sizeof(double), &t->tmp));
  PD_TEST_OK(pd_calloc((size_t)S, sizeof(double), &t->ga));
  PD_TEST_OK(pd_calloc((size_t)(S * (d + 1)), sizeof(double), &t->gw));
  PD_TEST_OK(pd_calloc(N + 4, sizeof(pd_acc), &t->acc));
}

static void case_destroy(kernel_case *t) {
  double *p[] = {(double *)t->sh.a, (double *)t->sh.w, t->sh.an, t->sh.wn};
  for (int i = 0; i < 4; i++) pd_free(&p[i]);
  double **q[] = {&t->c, &t->P, &t->tmp, &t->ga, &t->gw};
  for (int i = 0; i < 5; i++) pd_free(q[i]);
  pd_free(&t->acc);
  pd_data_destroy(&t->data);
}

/* Every kernel's results, in order, into out (returns the count). */
static int run_kernels(kernel_case *t, int d, double *out) {
  int o = 0;
  const int64_t S = t->sh.stride;
  pd_acc_zero(t->acc, N + 4);
  pd_kernel_output(&t->sh, t->data, t->P, t->acc);
  for (int i = 0; i < N; i++) out[o++] = pd_acc_value(&t->acc[i]);
  pd_acc_zero(t->acc, N + 4);
  pd_kernel_jjt(&t->sh, t->data, t->c, t->tmp, t->P, t->acc);
  for (int i = 0; i < N; i++) out[o++] = pd_acc_value(&t->acc[i]);
  pd_kernel_gradient(&t->sh, t->data, t->c, t->tmp, t->ga, t->gw);
  for (int64_t k = 0; k < M; k++) {
    out[o++] = t->ga[k];
    for (int j = 0; j <= d; j++) out[o++] = t->gw[j * S + k];
  }
  pd_acc_zero(t->acc, N + 4);
  pd_kernel_descend(&t->sh, t->data, t->c, 0.1, t->tmp, t->P, t->acc,
                    t->acc + N);
  for (int i = 0; i < N + 4; i++) out[o++] = pd_acc_value(&t->acc[i]);
  for (int64_t k = 0; k < M; k++) {
    out[o++] = t->sh.an[k];
    for (int j = 0; j <= d; j++) out[o++] = t->sh.wn[j * S + k];
  }
  return o;
}

/* The kernel's output against sum_k a_k sigma(z) through the table. */
static void check_reference(const pd_activation *act, int d, kernel_case *t,
                            const double *out) {
  const int64_t S = t->sh.stride;
  double worst = 0;
  for (int i = 0; i < N; i++) {
    double f = 0, scale = 0;
    for (int64_t k = 0; k < M; k++) {
      double z = t->sh.w[d * S + k];
      for (int j = 0; j < d; j++)
        z += t->sh.w[j * S + k] * t->data->x[i * d + j];
      f += t->sh.a[k] * act->sigma(z);
      scale += fabs(t->sh.a[k] * act->sigma(z));
    }
    double e = fabs(out[i] - f) / (scale + 1e-300);
    if (e > worst) worst = e;
  }
  PD_TEST_CHECK(worst < 1e-13, "%s d = %d: output off the scalar sum by %g",
                act->name, d, worst);
}

static void check_kernels(const pd_activation *act, int d, int avx2, int rank) {
  kernel_case t;
  case_create(&t, act, d);
  const size_t cap = 2 * N + 4 + 2 * (size_t)M * (d + 2) + N;
  double *g = NULL, *v = NULL;
  PD_TEST_OK(pd_calloc(cap, sizeof(double), &g));
  PD_TEST_OK(pd_calloc(cap, sizeof(double), &v));
  pd_kernel_set_isa(PD_ISA_GENERIC);
  const int ng = run_kernels(&t, d, g);
  check_reference(act, d, &t, g);
  if (avx2) {
    pd_kernel_set_isa(PD_ISA_AVX2);
    const int nv = run_kernels(&t, d, v);
    const int same = ng == nv && memcmp(g, v, sizeof(double) * (size_t)ng) == 0;
    PD_TEST_CHECK(same, "%s d = %d: generic and %s kernels differ", act->name,
                  d, pd_kernel_name(d));
    if (rank == 0 && same)
      printf("%s d = %d: generic and %s agree bitwise (%d values)\n", act->name,
             d, pd_kernel_name(d), ng);
  }
  pd_kernel_set_isa(PD_ISA_AUTO);
  pd_free(&g);
  pd_free(&v);
  case_destroy(&t);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, nact;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  check_registry();
  check_relu_values();
  const int avx2 = pd_kernel_set_isa(PD_ISA_AVX2) == PD_ISA_AVX2;
  pd_kernel_set_isa(PD_ISA_AUTO);
  if (!avx2 && rank == 0)
    printf(
        "no AVX2+FMA on this CPU: only the portable kernels run "
        "(AVX2 comparison skipped)\n");
  const pd_activation *acts = pd_activation_list(&nact);
  const int dims[] = {1, 3, 12}; /* d = 1 kernel; small d; past it */
  for (int a = 0; a < nact; a++)
    for (int k = 0; k < 3; k++) check_kernels(&acts[a], dims[k], avx2, rank);
  return pd_test_end("test_activation");
}
