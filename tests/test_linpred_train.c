/* The linear regime in practice: ntk-scaled nets (ASI) trained by pd_train
 * on the paper's 1-D data approach the kernel-regression prediction as the
 * width grows, and their loss history follows the linearized loss curve. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/model/net.h"
#include "phasediag/observe/dmat.h"
#include "phasediag/observe/linpred.h"
#include "phasediag/observe/ntk.h"
#include "phasediag/train/train.h"

enum { NX = 41 };

typedef struct {
  double lin_err;   /* linearity error on NX points in [-1, 1] */
  double curve_err; /* max relative gap between history and linear curve */
  double loss, t_star;
  int64_t steps;
  int status;
} run_result;

static void run(pd_blacs *g, const pd_data *data, const pd_data *pts, int64_t m,
                run_result *out) {
  const int n = (int)data->n;
  pd_net_config cfg = {.d = 1, .m = m, .asi = 1, .seed = 5, .task = 0};
  PD_TEST_OK(pd_scales_scheme(PD_SCHEME_NTK, (double)m, 1, &cfg.scales));
  /* the prediction: kernel regression with the closed form at width m */
  pd_dmat *K = NULL, *V = NULL;
  PD_TEST_OK(pd_dmat_create(g, n, 0, &K));
  PD_TEST_OK(pd_ntk_fill_closed_form(K, data, (double)m, &cfg.scales));
  double c[16], pred[NX], lambda[16], r0[16], p[16];
  PD_TEST_OK(pd_linpred_coefficients(K, data->y, 0, c));
  PD_TEST_OK(pd_linpred_predict(MPI_COMM_WORLD, data, c, NULL, (double)m,
                                &cfg.scales, pts->x, NX, pred));
  /* the linearized loss curve */
  PD_TEST_OK(pd_ntk_fill_closed_form(K, data, (double)m, &cfg.scales));
  PD_TEST_OK(pd_dmat_create(g, n, 0, &V));
  PD_TEST_OK(pd_dmat_syevd(K, lambda, V));
  for (int i = 0; i < n; i++) r0[i] = -data->y[i];
  PD_TEST_OK(pd_linpred_project(V, r0, p));
  /* train */
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  pd_train_options opt;
  pd_train_options_default(&opt);
  opt.tol = 1e-9;
  opt.lr_cap = 0.1; /* steps well below 1/lambda_max: close to the flow */
  pd_train_result r;
  PD_TEST_OK(pd_train(net, data, &opt, NULL, &r));
  PD_TEST_OK(pd_linpred_linearity_error(net, pts, pred, &out->lin_err));
  out->curve_err = 0;
  for (int h = 0; h < r.nhistory; h++) {
    double lin = 0;
    PD_TEST_OK(pd_linpred_loss(n, lambda, p, &r.history[h].time, 1, &lin));
    /* down to 1% of the initial loss: later, the O(m^-1/2) error of the
     * kernel's small eigenvalues compounds over the long time */
    if (r.history[h].loss < 1e-2 * r.loss0) break;
    double e = pd_test_rel(r.history[h].loss, lin);
    if (e > out->curve_err) out->curve_err = e;
  }
  out->loss = r.loss;
  out->t_star = r.t_star;
  out->steps = r.steps;
  out->status = r.status;
  pd_train_result_free(&r);
  PD_TEST_OK(pd_net_destroy(&net));
  PD_TEST_OK(pd_dmat_destroy(&K));
  PD_TEST_OK(pd_dmat_destroy(&V));
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  pd_data *data = NULL, *pts = NULL;
  PD_TEST_OK(pd_data_paper1d(&data));
  PD_TEST_OK(pd_data_create(NX, 1, &pts));
  for (int i = 0; i < NX; i++) pts->x[i] = -1 + 2.0 * i / (NX - 1);
  pd_blacs *g = NULL;
  PD_TEST_OK(pd_blacs_create(MPI_COMM_WORLD, &g));
  const int64_t widths[2] = {1000, 100000};
  run_result res[2];
  for (int w = 0; w < 2; w++) {
    run(g, data, pts, widths[w], &res[w]);
    PD_TEST_CHECK(res[w].status == PD_STATUS_CONVERGED, "m = %lld: status %s",
                  (long long)widths[w], pd_status_name(res[w].status));
    if (rank == 0)
      printf(
          "m = %lld: %lld steps, t* %.4g, loss %.3g, linearity error "
          "%.4g, history vs linearized loss curve: max rel gap %.3g\n",
          (long long)widths[w], (long long)res[w].steps, res[w].t_star,
          res[w].loss, res[w].lin_err, res[w].curve_err);
  }
  /* the linearity error falls like m^-1/2: a factor 10 expected here */
  PD_TEST_CHECK(res[0].lin_err > 3 * res[1].lin_err,
                "linearity error %g at m = 1e3, %g at m = 1e5", res[0].lin_err,
                res[1].lin_err);
  PD_TEST_CHECK(res[1].lin_err < 0.05, "linearity error %g at m = 1e5",
                res[1].lin_err);
  PD_TEST_CHECK(res[1].curve_err < 0.1,
                "m = 1e5: loss history off the linearized curve by %g",
                res[1].curve_err);
  PD_TEST_OK(pd_blacs_destroy(&g));
  pd_data_destroy(&data);
  pd_data_destroy(&pts);
  return pd_test_end("test_linpred_train");
}
