/* A failure on one rank becomes an error on every rank -- never a hang. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/net.h"
#include "phasediag/train/train.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int victim = size - 1;
  pd_data *data = NULL;
  PD_TEST_OK(pd_data_paper1d(&data));
  pd_net_config cfg = {.d = 1, .m = 4 * PD_NET_BLOCK, .asi = 1, .seed = 1};
  PD_TEST_OK(pd_scales_scheme(PD_SCHEME_NTK, (double)cfg.m, 1, &cfg.scales));

  /* the n-th allocation of pd_net_create fails on the victim only */
  for (int nth = 1; nth <= 6; nth++) {
    if (rank == victim) pd_mem_fail_after(nth);
    pd_net *net = NULL;
    int err = pd_net_create(MPI_COMM_WORLD, &cfg, &net);
    pd_mem_fail_after(0);
    PD_TEST_CHECK(err != PD_OK && net == NULL,
                  "allocation %d failing on rank %d: create returned %d", nth,
                  victim, err);
    if (rank == victim) {
      PD_TEST_CHECK(err == PD_ERR_ALLOC &&
                        strstr(pd_error_message(), "injected") &&
                        strstr(pd_error_message(), ".c:"),
                    "victim's message: %s", pd_error_message());
    } else {
      char want[64];
      snprintf(want, sizeof want, "rank %d", victim);
      PD_TEST_CHECK(err == PD_ERR_PEER && strstr(pd_error_message(), want),
                    "peer's message: %s", pd_error_message());
    }
  }

  /* a failure in the lazily allocated workspace of a collective call */
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  double f[4];
  if (rank == victim) pd_mem_fail_after(1);
  int err = pd_net_output(net, data, f);
  pd_mem_fail_after(0);
  PD_TEST_CHECK(err == (rank == victim ? PD_ERR_ALLOC : PD_ERR_PEER),
                "output with a failed workspace: %d", err);
  /* the object is still usable afterwards */
  PD_TEST_OK(pd_net_output(net, data, f));
  PD_TEST_CHECK(f[0] == 0.0, "ASI output after recovery %g", f[0]);

  /* and in the trainer's buffers */
  pd_train_options opt;
  pd_train_options_default(&opt);
  pd_train_result r;
  if (rank == victim) pd_mem_fail_after(2);
  err = pd_train(net, data, &opt, NULL, &r);
  pd_mem_fail_after(0);
  PD_TEST_CHECK(err == (rank == victim ? PD_ERR_ALLOC : PD_ERR_PEER),
                "train with a failed allocation: %d", err);
  pd_train_result_free(&r);
  PD_TEST_OK(pd_train(net, data, &opt, NULL, &r));
  PD_TEST_CHECK(r.status == PD_STATUS_CONVERGED, "train after recovery: %s",
                pd_status_name(r.status));
  pd_train_result_free(&r);
  PD_TEST_OK(pd_net_destroy(&net));

  /* invalid configuration: refused on every rank with the reason */
  cfg.d = 0;
  err = pd_net_create(MPI_COMM_WORLD, &cfg, &net);
  PD_TEST_CHECK(err == PD_ERR_ARG && strstr(pd_error_message(), "dimension"),
                "d = 0: %d %s", err, pd_error_message());
  pd_data_destroy(&data);
  return pd_test_end("test_errors");
}
