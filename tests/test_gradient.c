/* Gradient, Gram product and descent step against finite differences; the
 * AVX2 and portable kernels against each other, bit for bit; both for every
 * registered activation. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/kernel.h"
#include "phasediag/model/net.h"

static double loss(pd_net *net, const pd_data *data, double *f) {
  PD_TEST_OK(pd_net_output(net, data, f));
  double s = 0;
  for (int64_t i = 0; i < data->n; i++)
    s += (f[i] - data->y[i]) * (f[i] - data->y[i]);
  return 0.5 * s / (double)data->n;
}

static void check_dim(const pd_activation *act, int d) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int64_t n = 9;
  pd_data *data = pd_test_random_data(n, d, 11 + (uint64_t)d);
  pd_net_config cfg = {.d = d,
                       .m = 2 * PD_NET_BLOCK + 24,
                       .scales = {3.0, 0.7, 1.1},
                       .seed = 5,
                       .task = 1,
                       .act = act};
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  pd_net_view v = pd_net_get_view(net);
  double f[9], c[9], u[9], fp[9], fm[9];
  double L0 = loss(net, data, f);
  for (int64_t i = 0; i < n; i++) c[i] = (f[i] - data->y[i]) / (double)n;
  double *ga = NULL, *gw = NULL;
  PD_TEST_OK(pd_calloc((size_t)v.stride, sizeof(double), &ga));
  PD_TEST_OK(
      pd_calloc((size_t)v.stride * (size_t)(d + 1), sizeof(double), &gw));
  PD_TEST_OK(pd_net_gradient(net, data, c, ga, gw));

  /* central differences of R for a spread of neurons and every parameter */
  int64_t picks[] = {0, 7, 255, 256, 300, 511, 512, 2 * PD_NET_BLOCK + 23};
  double worst = 0;
  for (size_t p = 0; p < sizeof picks / sizeof picks[0]; p++) {
    int64_t K = picks[p];
    int owner = K >= v.k0 && K < v.k0 + v.mloc;
    for (int j = 0; j <= d + 1; j++) {
      double *param = NULL, g = 0;
      if (owner) {
        int64_t k = K - v.k0;
        param = j == 0 ? &v.a[k] : &v.w[(j - 1) * v.stride + k];
        g = j == 0 ? ga[k] : gw[(j - 1) * v.stride + k];
      }
      /* fourth-order differences: with h = 1e-4 the rounding of R (larger
       * where sigma(0) != 0 and the outputs do not cancel) costs ~1e-12,
       * the truncation h^4 R^(5) less */
      double h = 1e-4, keep = param ? *param : 0, Lh[4];
      const double steps[4] = {2 * h, h, -h, -2 * h};
      for (int q = 0; q < 4; q++) {
        if (param) *param = keep + steps[q];
        Lh[q] = loss(net, data, fp);
      }
      if (param) *param = keep;
      double fd = (8 * (Lh[1] - Lh[2]) - (Lh[0] - Lh[3])) / (12 * h);
      if (owner) {
        double err = fabs(fd - g) / (fabs(g) + 1e-7);
        if (err > worst) worst = err;
        PD_TEST_CHECK(err < 1e-5,
                      "%s d=%d neuron %lld param %d: grad %.10g, "
                      "finite difference %.10g",
                      act->name, d, (long long)K, j, g, fd);
      }
    }
  }
  (void)L0;

  /* J J^T v against the directional derivative of f along g = J^T v */
  double vv[9];
  for (int64_t i = 0; i < n; i++) vv[i] = pd_rng_normal(3, 3, (uint64_t)i, 0);
  PD_TEST_OK(pd_net_jjt(net, data, vv, u));
  PD_TEST_OK(pd_net_gradient(net, data, vv, ga, gw)); /* g = J^T v */
  double eps = 1e-6;
  for (int sgn = -1; sgn <= 1; sgn += 2) {
    for (int64_t k = 0; k < v.mloc; k++) {
      v.a[k] += sgn * eps * ga[k];
      for (int j = 0; j <= d; j++)
        v.w[j * v.stride + k] += sgn * eps * gw[j * v.stride + k];
    }
    PD_TEST_OK(pd_net_output(net, data, sgn > 0 ? fp : fm));
    for (int64_t k = 0; k < v.mloc; k++) {
      v.a[k] -= sgn * eps * ga[k];
      for (int j = 0; j <= d; j++)
        v.w[j * v.stride + k] -= sgn * eps * gw[j * v.stride + k];
    }
  }
  for (int64_t i = 0; i < n; i++) {
    double fd = (fp[i] - fm[i]) / (2 * eps);
    PD_TEST_CHECK(fabs(fd - u[i]) <= 1e-5 * (fabs(u[i]) + 1e-3),
                  "%s d=%d (J J^T v)_%lld = %.10g, finite difference %.10g",
                  act->name, d, (long long)i, u[i], fd);
  }

  /* a descent step is theta - lr grad exactly; undo restores theta */
  uint64_t before, after, undone;
  PD_TEST_OK(pd_net_fingerprint(net, &before));
  PD_TEST_OK(pd_net_gradient(net, data, c, ga, gw));
  double lr = 0.37;
  PD_TEST_OK(pd_net_descend(net, data, c, lr, fp));
  pd_net_view nv = pd_net_get_view(net);
  int off = 0;
  for (int64_t k = 0; k < v.mloc; k++) {
    off += nv.a[k] != fma(-lr, ga[k], v.a[k]);
    for (int j = 0; j <= d; j++)
      off += nv.w[j * v.stride + k] !=
             fma(-lr, gw[j * v.stride + k], v.w[j * v.stride + k]);
  }
  PD_TEST_CHECK(off == 0, "d=%d: %d parameters differ from theta - lr grad", d,
                off);
  PD_TEST_OK(pd_net_output(net, data, fm));
  PD_TEST_CHECK(memcmp(fp, fm, sizeof fp) == 0,
                "outputs returned by descend differ from a fresh forward");
  PD_TEST_OK(pd_net_fingerprint(net, &after));
  pd_net_undo(net);
  PD_TEST_OK(pd_net_fingerprint(net, &undone));
  PD_TEST_CHECK(after != before && undone == before, "undo");
  if (rank == 0)
    printf("%s d = %d: gradient against differences %.2g (rank 0's)\n",
           act->name, d, worst);
  pd_free(&ga);
  pd_free(&gw);
  PD_TEST_OK(pd_net_destroy(&net));
  pd_data_destroy(&data);
}

/* outputs, J J^T v and 5 descent steps with each kernel implementation */
static void run_isa(pd_isa isa, const pd_activation *act, int d, double *out) {
  pd_kernel_set_isa(isa);
  pd_data *data = pd_test_random_data(33, d, 77);
  pd_net_config cfg = {.d = d,
                       .m = 5 * PD_NET_BLOCK + 40,
                       .scales = {2.0, 1.0, 1.0},
                       .seed = 9,
                       .task = 0,
                       .act = act};
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  double f[33], c[33];
  PD_TEST_OK(pd_net_output(net, data, out));
  PD_TEST_OK(pd_net_jjt(net, data, data->y, out + 33));
  memcpy(f, out, sizeof f);
  for (int s = 0; s < 5; s++) {
    for (int i = 0; i < 33; i++) c[i] = (f[i] - data->y[i]) / 33.0;
    PD_TEST_OK(pd_net_descend(net, data, c, 0.05, f));
  }
  memcpy(out + 66, f, sizeof f);
  uint64_t fp;
  PD_TEST_OK(pd_net_fingerprint(net, &fp));
  memcpy(out + 99, &fp, sizeof fp);
  PD_TEST_OK(pd_net_destroy(&net));
  pd_data_destroy(&data);
  pd_kernel_set_isa(PD_ISA_AUTO);
}

/* The AVX2 kernels against the portable ones for activation act. */
static void compare_isas(const pd_activation *act, int rank) {
  double g[100], x[100];
  /* d = 1 (its own AVX2 kernel), small d, d past the small-d path, odd n
   * (33) against the 4-sample blocking */
  const int dims[] = {1, 3, 20};
  for (int k = 0; k < 3; k++) {
    run_isa(PD_ISA_GENERIC, act, dims[k], g);
    pd_kernel_set_isa(PD_ISA_AVX2);
    const char *name = pd_kernel_name(dims[k]);
    run_isa(PD_ISA_AVX2, act, dims[k], x);
    PD_TEST_CHECK(memcmp(g, x, sizeof g) == 0,
                  "%s d = %d: portable and %s kernels differ", act->name,
                  dims[k], name);
    if (rank == 0)
      printf("%s d = %d: kernel %s compared with generic\n", act->name, dims[k],
             name);
    pd_kernel_set_isa(PD_ISA_AUTO);
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, nact;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const pd_activation *acts = pd_activation_list(&nact);
  for (int a = 0; a < nact; a++) {
    check_dim(&acts[a], 1);
    check_dim(&acts[a], 2);
    check_dim(&acts[a], 10); /* beyond the small-d register path */
  }
  const int avx2 = pd_kernel_set_isa(PD_ISA_AVX2) == PD_ISA_AVX2;
  pd_kernel_set_isa(PD_ISA_AUTO);
  if (!avx2 && rank == 0)
    printf(
        "no AVX2+FMA on this CPU: the AVX2 kernels are not compared "
        "(skipped; the portable kernels were checked above)\n");
  for (int a = 0; avx2 && a < nact; a++) compare_isas(&acts[a], rank);
  return pd_test_end("test_gradient");
}
