/* Training: convergence on the paper's data, the step-size rule, statuses. */
#include <string.h>

#include "pd_test.h"
#include "phasediag/model/net.h"
#include "phasediag/train/train.h"

static void train(pd_data *data, const pd_net_config *cfg,
                  const pd_train_options *opt, pd_train_result *r) {
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, cfg, &net));
  PD_TEST_OK(pd_train(net, data, opt, NULL, r));
  PD_TEST_OK(pd_net_destroy(&net));
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  pd_data *data = NULL;
  PD_TEST_OK(pd_data_paper1d(&data));
  pd_train_options opt;
  pd_train_options_default(&opt);
  pd_train_result r;

  /* every named scheme and a condensed point converge to loss < 1e-6 with
   * no learning rate given */
  for (int k = PD_SCHEME_NTK; k <= PD_SCHEME_COUNT; k++) {
    pd_net_config cfg = {.d = 1, .m = 2000, .asi = 1, .seed = 3, .task = 0};
    if (k < PD_SCHEME_COUNT)
      PD_TEST_OK(pd_scales_scheme((pd_scheme_kind)k, 2000, 1, &cfg.scales));
    else
      PD_TEST_OK(pd_scales_grid(2.0, 0, 2000, 1, &cfg.scales));
    train(data, &cfg, &opt, &r);
    const char *name =
        k < PD_SCHEME_COUNT ? pd_scheme_name((pd_scheme_kind)k) : "(2, 0)";
    PD_TEST_CHECK(
        r.status == PD_STATUS_CONVERGED && r.loss < 1e-6 && r.loss0 > 1e-3,
        "%s: status %s, loss %g -> %g after %lld steps", name,
        pd_status_name(r.status), r.loss0, r.loss, (long long)r.steps);
    /* the plateau of small initialization is escaped in O(1000) steps */
    PD_TEST_CHECK(r.steps < 5000, "%s: %lld steps", name, (long long)r.steps);
    /* history: starts at step 0 with the initial loss, ends at the stop,
     * steps increasing, loss never rising (accepted steps only) */
    int ok = r.nhistory >= 2 && r.history[0].step == 0 &&
             r.history[0].loss == r.loss0 && r.history[0].rd_w == 0 &&
             r.history[r.nhistory - 1].step == r.steps &&
             r.history[r.nhistory - 1].loss == r.loss;
    for (int h = 1; h < r.nhistory; h++)
      ok = ok && r.history[h].step > r.history[h - 1].step &&
           r.history[h].loss <= r.history[h - 1].loss &&
           r.history[h].time > r.history[h - 1].time;
    PD_TEST_CHECK(ok, "%s: history inconsistent (%d points)", name, r.nhistory);
    PD_TEST_CHECK(r.t_star > 0 && r.rd_w > 0 && r.rd_a > 0,
                  "%s: t* %g rd_w %g rd_a %g", name, r.t_star, r.rd_w, r.rd_a);
    pd_train_result_free(&r);
  }

  /* the step budget is a status */
  pd_net_config cfg = {.d = 1, .m = 1000, .asi = 1, .seed = 3, .task = 0};
  PD_TEST_OK(pd_scales_scheme(PD_SCHEME_NTK, 1000, 1, &cfg.scales));
  opt.max_steps = 7;
  train(data, &cfg, &opt, &r);
  PD_TEST_CHECK(r.status == PD_STATUS_MAX_STEPS && r.steps == 7,
                "max_steps: %s after %lld", pd_status_name(r.status),
                (long long)r.steps);
  pd_train_result_free(&r);

  /* a huge scale overflows: reported as diverged, no crash, no error */
  opt.max_steps = 1000;
  cfg.asi = 0;
  cfg.scales = (pd_scales){1.0, 1e200, 1e200};
  train(data, &cfg, &opt, &r);
  PD_TEST_CHECK(r.status == PD_STATUS_DIVERGED, "overflow: status %s, loss %g",
                pd_status_name(r.status), r.loss);
  pd_train_result_free(&r);

  /* bad options are refused with the option's name */
  pd_train_options bad;
  pd_train_options_default(&bad);
  bad.lr_shrink = 1.5;
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(MPI_COMM_WORLD, &cfg, &net));
  PD_TEST_CHECK(pd_train(net, data, &bad, NULL, &r) == PD_ERR_ARG &&
                    strstr(pd_error_message(), "lr_shrink"),
                "bad option: %s", pd_error_message());
  PD_TEST_OK(pd_net_destroy(&net));
  pd_data_destroy(&data);
  return pd_test_end("test_train");
}
