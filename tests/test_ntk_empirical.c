/* The empirical NTK Gram of a wide net: close to the closed form at large
 * width, converging like m^-1/2, the same at any rank count; the
 * distributed closed-form matrix equals the serial formula. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/dmat.h"
#include "phasediag/observe/ntk.h"

enum { N = 20, D = 2, NB = 3 };

/* Empirical Gram at width m on comm with block size nb, gathered to rank 0
 * of comm (into full), and its distance to the closed form. */
static void gram(MPI_Comm comm, int64_t m, int nb, const pd_data *data,
                 double *full, double *dist) {
  pd_blacs *g = NULL;
  PD_TEST_OK(pd_blacs_create(comm, &g));
  pd_net_config cfg = {.d = D,
                       .m = m,
                       .scales = {sqrt((double)m), 1, 1},
                       .asi = 0,
                       .seed = 7,
                       .task = 1};
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(comm, &cfg, &net));
  pd_dmat *K = NULL, *C = NULL;
  PD_TEST_OK(pd_dmat_create(g, N, nb, &K));
  PD_TEST_OK(pd_dmat_create(g, N, nb, &C));
  PD_TEST_OK(pd_ntk_empirical(net, data, K));
  PD_TEST_OK(pd_ntk_fill_closed_form(C, data, (double)m, &cfg.scales));
  PD_TEST_OK(pd_dmat_rel_dist(K, C, dist));
  PD_TEST_OK(pd_dmat_gather(K, 0, full));
  PD_TEST_OK(pd_dmat_destroy(&K));
  PD_TEST_OK(pd_dmat_destroy(&C));
  PD_TEST_OK(pd_net_destroy(&net));
  PD_TEST_OK(pd_blacs_destroy(&g));
}

static double max_rel_diff(const double *a, const double *b, int count) {
  double dmax = 0, amax = 0;
  for (int i = 0; i < count; i++) {
    if (fabs(a[i] - b[i]) > dmax) dmax = fabs(a[i] - b[i]);
    if (fabs(a[i]) > amax) amax = fabs(a[i]);
  }
  return amax > 0 ? dmax / amax : dmax;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  pd_data *data = pd_test_random_data(N, D, 3);
  double kw[N * N], k1[N * N], k1b[N * N], ksmall[N * N];

  /* width 1e5 within 2% of the infinite-width kernel; 1e3 farther by
   * about sqrt(100) */
  double dist5 = 0, dist3 = 0;
  gram(MPI_COMM_WORLD, 100000, NB, data, kw, &dist5);
  gram(MPI_COMM_WORLD, 1000, NB, data, ksmall, &dist3);
  PD_TEST_CHECK(dist5 < 0.02, "m = 1e5: relative distance %g", dist5);
  PD_TEST_CHECK(dist3 / dist5 > 3, "m = 1e3 / m = 1e5 distance ratio %g",
                dist3 / dist5);
  if (rank == 0)
    printf(
        "|K_emp - K_inf|_F / |K_inf|_F: m = 1e3 %.4g, m = 1e5 %.4g, "
        "ratio %.3g (sqrt(100) = 10)\n",
        dist3, dist5, dist3 / dist5);

  /* exactly symmetric */
  if (rank == 0) {
    int asym = 0;
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) asym += kw[i * N + j] != kw[j * N + i];
    PD_TEST_CHECK(asym == 0, "%d entries not symmetric", asym);
  }

  /* the same Gram on one rank, two block sizes */
  if (rank == 0) {
    double d1, d1b;
    gram(MPI_COMM_SELF, 100000, NB, data, k1, &d1);
    gram(MPI_COMM_SELF, 100000, 0, data, k1b, &d1b);
    double e1 = max_rel_diff(k1, kw, N * N), e1b = max_rel_diff(k1b, kw, N * N);
    PD_TEST_CHECK(e1 <= 1e-12, "np %d vs np 1: %g", size, e1);
    PD_TEST_CHECK(e1b <= 1e-12, "np %d vs np 1 (default nb): %g", size, e1b);
    PD_TEST_CHECK(pd_test_rel(d1, dist5) <= 1e-10, "distance np 1 %g, np %d %g",
                  d1, size, dist5);
    printf(
        "np %d vs np 1: max |dK| / max |K| %.3g (nb %d), %.3g (default nb)\n",
        size, e1, NB, e1b);
  }

  /* the distributed closed form equals the serial formula entry by entry */
  pd_blacs *g = NULL;
  PD_TEST_OK(pd_blacs_create(MPI_COMM_WORLD, &g));
  pd_dmat *C = NULL;
  PD_TEST_OK(pd_dmat_create(g, N, 6, &C));
  pd_scales s = {3.0, 0.7, 1.3};
  PD_TEST_OK(pd_ntk_fill_closed_form(C, data, 50.0, &s));
  PD_TEST_OK(pd_dmat_gather(C, 0, kw));
  if (rank == 0) {
    int bad = 0;
    for (int j = 0; j < N; j++)
      for (int i = 0; i < N; i++)
        bad +=
            kw[j * N + i] !=
            pd_ntk_closed_form(data->x + i * D, data->x + j * D, D, 50.0, &s);
    PD_TEST_CHECK(bad == 0, "%d distributed entries differ", bad);
  }

  /* a net on another communicator is refused on every rank */
  if (size > 1) {
    pd_net_config cfg = {.d = D, .m = 512, .scales = {1, 1, 1}, .seed = 1};
    pd_net *net = NULL;
    PD_TEST_OK(pd_net_create(MPI_COMM_SELF, &cfg, &net));
    int err = pd_ntk_empirical(net, data, C);
    PD_TEST_CHECK(err == PD_ERR_ARG, "foreign communicator: %d", err);
    PD_TEST_CHECK(strstr(pd_error_message(), "BLACS grid") != NULL,
                  "message: %s", pd_error_message());
    PD_TEST_OK(pd_net_destroy(&net));
  }
  /* data of the wrong size is refused */
  pd_data *small = pd_test_random_data(N - 1, D, 3);
  pd_net_config cfg = {.d = D, .m = 512, .scales = {1, 1, 1}, .seed = 1};
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  int err = pd_ntk_empirical(net, small, C);
  PD_TEST_CHECK(err == PD_ERR_ARG, "wrong n: %d", err);
  PD_TEST_OK(pd_net_destroy(&net));
  pd_data_destroy(&small);
  PD_TEST_OK(pd_dmat_destroy(&C));
  PD_TEST_OK(pd_blacs_destroy(&g));
  pd_data_destroy(&data);
  return pd_test_end("test_ntk_empirical");
}
