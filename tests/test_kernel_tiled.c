/* The tiled AVX2 kernel for d > 1 against the portable one and the previous
 * AVX2 kernel (four samples at a time), bit for bit: outputs, J J^T v, five
 * descent steps and the parameters' fingerprint, for every registered
 * activation, at dimensions that leave every remainder of the component
 * tiles (3) and sample counts past the sample blocks (48) and forward tiles
 * (6). */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/kernel.h"
#include "phasediag/model/net.h"

enum { NMAX = 101 };

/* out: n outputs, n of J J^T y, n after five steps, the fingerprint */
static void run_isa(pd_isa isa, const pd_activation *act, int d, int n,
                    double *out) {
  pd_kernel_set_isa(isa);
  pd_data *data = pd_test_random_data(n, d, 1234 + (uint64_t)d);
  pd_net_config cfg = {.d = d,
                       .m = 2 * PD_NET_BLOCK + 24,
                       .scales = {2.0, 1.0, 1.0},
                       .seed = 5,
                       .task = 0,
                       .act = act};
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  double f[NMAX], c[NMAX];
  PD_TEST_OK(pd_net_output(net, data, out));
  PD_TEST_OK(pd_net_jjt(net, data, data->y, out + n));
  memcpy(f, out, sizeof(double) * (size_t)n);
  for (int s = 0; s < 5; s++) {
    for (int i = 0; i < n; i++) c[i] = (f[i] - data->y[i]) / (double)n;
    PD_TEST_OK(pd_net_descend(net, data, c, 0.05, f));
  }
  memcpy(out + 2 * n, f, sizeof(double) * (size_t)n);
  uint64_t fp;
  PD_TEST_OK(pd_net_fingerprint(net, &fp));
  memcpy(out + 3 * n, &fp, sizeof fp);
  PD_TEST_OK(pd_net_destroy(&net));
  pd_data_destroy(&data);
  pd_kernel_set_isa(PD_ISA_AUTO);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, nact;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const int avx2 = pd_kernel_set_isa(PD_ISA_AVX2) == PD_ISA_AVX2;
  pd_kernel_set_isa(PD_ISA_AUTO);
  if (!avx2) {
    if (rank == 0) printf("no AVX2+FMA on this CPU: nothing to compare\n");
    return pd_test_end("test_kernel_tiled");
  }
  const pd_activation *acts = pd_activation_list(&nact);
  const int dims[] = {2, 4, 5, 9, 46, 130};
  const int ns[] = {7, 48, 49, 101};
  static double g[3 * NMAX + 1], v[3 * NMAX + 1], o[3 * NMAX + 1];
  int cases = 0;
  for (int a = 0; a < nact; a++)
    for (int kd = 0; kd < 6; kd++)
      for (int kn = 0; kn < 4; kn++) {
        const int d = dims[kd], n = ns[kn];
        if (d == 130 && kn != 3 && a > 0) continue; /* keep it short */
        const size_t bytes = sizeof(double) * (size_t)(3 * n + 1);
        run_isa(PD_ISA_GENERIC, &acts[a], d, n, g);
        run_isa(PD_ISA_AVX2, &acts[a], d, n, v);
        run_isa(PD_ISA_AVX2_DN4, &acts[a], d, n, o);
        PD_TEST_CHECK(memcmp(g, v, bytes) == 0,
                      "%s d = %d n = %d: portable and tiled kernels differ",
                      acts[a].name, d, n);
        PD_TEST_CHECK(memcmp(o, v, bytes) == 0,
                      "%s d = %d n = %d: dn4 and tiled kernels differ",
                      acts[a].name, d, n);
        cases++;
      }
  if (rank == 0)
    printf("tiled kernel: %d cases compared with generic and dn4\n", cases);
  return pd_test_end("test_kernel_tiled");
}
