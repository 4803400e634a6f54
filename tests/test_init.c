/* Initialization: Gaussian statistics, rank-count independence, ASI. */
#include <math.h>
#include <string.h>

#include <Random123/philox.h>

#include "pd_test.h"
#include "phasediag/base/repsum.h"
#include "phasediag/base/rng.h"
#include "phasediag/model/net.h"

/* The initialization's recipe written out independently of rng.c:
 * Philox-4x64-10 with key (seed, task) and counter (neuron, param, 0, 0),
 * two 53-bit uniforms in (0, 1), Box-Muller. */
static double ref_normal(uint64_t seed, uint64_t task, uint64_t neuron,
                         uint64_t param) {
  philox4x64_ctr_t c = {{neuron, param, 0, 0}};
  philox4x64_key_t key = {{seed, task}};
  philox4x64_ctr_t r = philox4x64_R(10, c, key);
  const double u1 = ((double)(r.v[0] >> 11) + 0.5) * 0x1p-53;
  const double u2 = ((double)(r.v[1] >> 11) + 0.5) * 0x1p-53;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* communicator of the first p ranks (MPI_COMM_NULL on the others) */
static MPI_Comm first_ranks(int p) {
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm c;
  MPI_Comm_split(MPI_COMM_WORLD, rank < p ? 0 : MPI_UNDEFINED, rank, &c);
  return c;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  /* the generator itself: Random123's known answer for Philox-4x64-10 with
   * a zero key and counter (its kat_vectors) */
  philox4x64_ctr_t c0 = {{0, 0, 0, 0}};
  philox4x64_key_t k0 = {{0, 0}};
  philox4x64_ctr_t r0 = philox4x64_R(10, c0, k0);
  PD_TEST_CHECK(
      r0.v[0] == 0x16554d9eca36314cull && r0.v[1] == 0xdb20fe9d672d0fdcull &&
          r0.v[2] == 0xd7e772cee186176bull && r0.v[3] == 0x7e68b68aec7ba23bull,
      "Philox-4x64-10 known answer: %016llx %016llx",
      (unsigned long long)r0.v[0], (unsigned long long)r0.v[1]);

  /* statistics: a ~ N(0, beta1^2), w ~ N(0, beta2^2 I), independent */
  enum { d = 3 };
  const int64_t m = 200000;
  pd_net_config cfg = {.d = d,
                       .m = m,
                       .scales = {10.0, 0.5, 2.0},
                       .asi = 0,
                       .seed = 42,
                       .task = 3};
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  pd_net_view v = pd_net_get_view(net);
  /* sums: a, a^2, w_j, w_j^2 (j = 0..d), a*w_0, w_0*w_1 */
  enum { NS = 2 + 2 * (d + 1) + 2 };
  double loc[NS] = {0}, glob[NS];
  for (int64_t k = 0; k < v.mloc; k++) {
    double a = v.a[k];
    loc[0] += a;
    loc[1] += a * a;
    for (int j = 0; j <= d; j++) {
      double w = v.w[j * v.stride + k];
      loc[2 + 2 * j] += w;
      loc[3 + 2 * j] += w * w;
    }
    loc[NS - 2] += a * v.w[k];
    loc[NS - 1] += v.w[k] * v.w[v.stride + k];
  }
  PD_TEST_OK(pd_repsum(loc, glob, NS, MPI_COMM_WORLD));
  const double M = (double)m, z = 5.0; /* 5 sigma: false alarm ~ 1e-6 */
  PD_TEST_CHECK(fabs(glob[0] / M) < z * 0.5 / sqrt(M), "mean of a %g",
                glob[0] / M);
  PD_TEST_CHECK(fabs(glob[1] / M / 0.25 - 1) < z * sqrt(2 / M),
                "var of a %g, expected 0.25", glob[1] / M);
  for (int j = 0; j <= d; j++) {
    PD_TEST_CHECK(fabs(glob[2 + 2 * j] / M) < z * 2 / sqrt(M),
                  "mean of w_%d %g", j, glob[2 + 2 * j] / M);
    PD_TEST_CHECK(fabs(glob[3 + 2 * j] / M / 4 - 1) < z * sqrt(2 / M),
                  "var of w_%d %g, expected 4", j, glob[3 + 2 * j] / M);
  }
  PD_TEST_CHECK(fabs(glob[NS - 2] / M) < z * 1.0 / sqrt(M), "cov(a, w0) %g",
                glob[NS - 2] / M);
  PD_TEST_CHECK(fabs(glob[NS - 1] / M) < z * 4.0 / sqrt(M), "cov(w0, w1) %g",
                glob[NS - 1] / M);
  /* every stored value is the documented draw of (seed, task, neuron,
   * param), computed here from Random123 directly, not by the library */
  int mism = 0;
  for (int64_t k = 0; k < v.mloc; k += 997) {
    const uint64_t K = (uint64_t)(v.k0 + k);
    mism += v.a[k] != 0.5 * ref_normal(cfg.seed, cfg.task, K, 0);
    for (int j = 0; j <= d; j++)
      mism += v.w[j * v.stride + k] !=
              2.0 * ref_normal(cfg.seed, cfg.task, K, (uint64_t)j + 1);
  }
  PD_TEST_CHECK(mism == 0, "%d parameters differ from the Philox draw", mism);
  uint64_t fp_world;
  PD_TEST_OK(pd_net_fingerprint(net, &fp_world));
  PD_TEST_OK(pd_net_destroy(&net));

  /* the same parameters, bit for bit, on 1 .. size ranks */
  for (int p = 1; p < size; p++) {
    MPI_Comm c = first_ranks(p);
    uint64_t fp = fp_world;
    if (c != MPI_COMM_NULL) {
      PD_TEST_OK(pd_net_create(c, &cfg, &net));
      PD_TEST_OK(pd_net_fingerprint(net, &fp));
      PD_TEST_OK(pd_net_destroy(&net));
      MPI_Comm_free(&c);
    }
    PD_TEST_CHECK(fp == fp_world, "digest on %d ranks differs from %d ranks", p,
                  size);
  }
  /* a different seed or task gives different parameters */
  pd_net_config other = cfg;
  other.task = 4;
  uint64_t fp_other;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &other, &net));
  PD_TEST_OK(pd_net_fingerprint(net, &fp_other));
  PD_TEST_OK(pd_net_destroy(&net));
  PD_TEST_CHECK(fp_other != fp_world, "task does not enter the key");

  /* ASI: mirrored pairs, f == 0 exactly, at an odd number of blocks */
  pd_data *data = pd_test_random_data(17, d, 5);
  pd_net_config asi = cfg;
  asi.asi = 1;
  asi.m = 3 * PD_NET_BLOCK + 42;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &asi, &net));
  v = pd_net_get_view(net);
  int bad = 0;
  for (int64_t k = 0; k + 1 < v.mloc; k += 2) {
    bad += v.a[k] != -v.a[k + 1] || v.a[k] == 0;
    for (int j = 0; j <= d; j++)
      bad += v.w[j * v.stride + k] != v.w[j * v.stride + k + 1];
  }
  PD_TEST_CHECK(bad == 0 && v.k0 % 2 == 0 && v.mloc % 2 == 0,
                "%d broken pairs (k0 %lld, mloc %lld)", bad, (long long)v.k0,
                (long long)v.mloc);
  double f[17];
  PD_TEST_OK(pd_net_output(net, data, f));
  int nonzero = 0;
  for (int i = 0; i < 17; i++) nonzero += f[i] != 0.0;
  PD_TEST_CHECK(nonzero == 0, "%d outputs are not exactly zero under ASI",
                nonzero);
  PD_TEST_OK(pd_net_destroy(&net));
  /* without ASI the outputs are not zero */
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  PD_TEST_OK(pd_net_output(net, data, f));
  PD_TEST_CHECK(f[0] != 0.0, "plain init gave f == 0");
  PD_TEST_OK(pd_net_destroy(&net));
  /* ASI needs an even width, refused on every rank */
  asi.m = 1001;
  int err = pd_net_create(MPI_COMM_WORLD, &asi, &net);
  PD_TEST_CHECK(err == PD_ERR_ARG && net == NULL, "odd ASI width: %d", err);
  PD_TEST_CHECK(strstr(pd_error_message(), "even width") != NULL, "message: %s",
                pd_error_message());
  pd_data_destroy(&data);
  return pd_test_end("test_init");
}
