/* A whole training run is bitwise the same on 1, 2, 3, 4 and 7 ranks:
 * the loss history, steps, evaluations, RD and the final parameters, with
 * each integrator and each registered activation. */
#include <stdio.h>
#include <string.h>

#include "pd_test.h"
#include "phasediag/base/rng.h"
#include "phasediag/model/activation.h"
#include "phasediag/model/net.h"
#include "phasediag/train/train.h"

#define NSUM 512

/* everything a run produces, as raw doubles */
static int summarize(const pd_train_result *r, uint64_t fp, double *s) {
  int k = 0;
  s[k++] = r->status;
  s[k++] = (double)r->steps;
  s[k++] = (double)r->rejected;
  s[k++] = r->t_star;
  s[k++] = r->loss0;
  s[k++] = r->loss;
  s[k++] = r->rd_w;
  s[k++] = r->rd_a;
  s[k++] = r->lambda_max;
  s[k++] = (double)r->evaluations;
  memcpy(&s[k++], &fp, sizeof fp);
  for (int h = 0; h < r->nhistory && k + 4 <= NSUM; h++) {
    s[k++] = (double)r->history[h].step;
    s[k++] = r->history[h].time;
    s[k++] = r->history[h].loss;
    s[k++] = r->history[h].rd_w;
  }
  return k;
}

static void run(MPI_Comm comm, const pd_net_config *cfg, const pd_data *data,
                const pd_train_options *opt, double *s, int *k) {
  pd_net *net = NULL;
  PD_TEST_OK(pd_net_create(comm, cfg, &net));
  pd_train_result r;
  PD_TEST_OK(pd_train(net, data, opt, NULL, &r));
  uint64_t fp;
  PD_TEST_OK(pd_net_fingerprint(net, &fp));
  *k = summarize(&r, fp, s);
  pd_train_result_free(&r);
  PD_TEST_OK(pd_net_destroy(&net));
}

static void compare_counts(const char *what, const pd_net_config *cfg,
                           const pd_data *data, const pd_train_options *opt) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  static double ref[NSUM], got[NSUM];
  int kref = 0, kgot = 0;
  const int counts[] = {1, 2, 3, 4, 7};
  for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
    int p = counts[c];
    if (p > size) break;
    MPI_Comm comm;
    MPI_Comm_split(MPI_COMM_WORLD, rank < p ? 0 : MPI_UNDEFINED, rank, &comm);
    if (comm != MPI_COMM_NULL) {
      run(comm, cfg, data, opt, c == 0 ? ref : got, c == 0 ? &kref : &kgot);
      MPI_Comm_free(&comm);
    }
    if (rank == 0 && c == 0)
      printf("%s: status %s, %g steps, %g rejected, loss %.6e, rd_w %.6g\n",
             what, pd_status_name((int)ref[0]), ref[1], ref[2], ref[5], ref[6]);
    if (rank == 0 && c > 0) {
      PD_TEST_CHECK(
          kgot == kref && memcmp(ref, got, sizeof(double) * (size_t)kref) == 0,
          "%s: the run on %d ranks differs from 1 rank "
          "(steps %g vs %g, loss %.17g vs %.17g, rd_w %.17g vs %.17g)",
          what, p, got[1], ref[1], got[5], ref[5], got[6], ref[6]);
    }
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  pd_train_options opt;
  pd_train_options_default(&opt);

  /* the paper's data, a condensed point: many rejected steps on the way */
  pd_data *p1 = NULL;
  PD_TEST_OK(pd_data_paper1d(&p1));
  pd_net_config c1 = {.d = 1, .m = 3000, .asi = 1, .seed = 1, .task = 0};
  PD_TEST_OK(pd_scales_grid(1.75, 0, 3000, 1, &c1.scales));
  opt.tol = 1e-6;
  compare_counts("paper1d (1.75, 0) m=3000", &c1, p1, &opt);

  /* d = 3 random data, no ASI, stopped by the step budget */
  pd_data *p3 = NULL;
  PD_TEST_OK(pd_data_create(12, 3, &p3));
  for (int i = 0; i < 12; i++) {
    for (int j = 0; j < 3; j++)
      p3->x[i * 3 + j] = 2 * pd_rng_uniform(4, 0, (uint64_t)i, (uint64_t)j) - 1;
    p3->y[i] = sin(3 * p3->x[i * 3]) + p3->x[i * 3 + 1] * p3->x[i * 3 + 2];
  }
  pd_net_config c3 = {.d = 3, .m = 2501, .asi = 0, .seed = 2, .task = 7};
  PD_TEST_OK(pd_scales_scheme(PD_SCHEME_MEAN_FIELD, 2501, 3, &c3.scales));
  opt.tol = 1e-12;
  opt.max_steps = 400;
  compare_counts("random d=3 mean_field m=2501", &c3, p3, &opt);

  /* the rkc integrator: its norms and stage combinations too */
  snprintf(opt.integrator, sizeof opt.integrator, "rkc");
  opt.tol = 1e-6;
  opt.max_steps = 1000000;
  PD_TEST_OK(pd_scales_grid(0.75, 0.5, 3000, 1, &c1.scales));
  compare_counts("rkc paper1d (0.75, 0.5) m=3000", &c1, p1, &opt);
  opt.tol = 1e-12;
  opt.max_steps = 300;
  compare_counts("rkc random d=3 mean_field m=2501", &c3, p3, &opt);

  /* every other activation (relu was above): short gd runs on the d = 3
   * data, so that the transcendental forms enter the sums */
  snprintf(opt.integrator, sizeof opt.integrator, "gd");
  opt.max_steps = 60;
  int nact;
  const pd_activation *acts = pd_activation_list(&nact);
  for (int a = 0; a < nact; a++) {
    if (&acts[a] == pd_activation_default()) continue;
    pd_net_config ca = c3;
    ca.m = 1001;
    ca.act = &acts[a];
    PD_TEST_OK(pd_scales_scheme(PD_SCHEME_MEAN_FIELD, ca.m, 3, &ca.scales));
    char what[64];
    snprintf(what, sizeof what, "%s random d=3 m=1001", acts[a].name);
    compare_counts(what, &ca, p3, &opt);
  }
  pd_data_destroy(&p1);
  pd_data_destroy(&p3);
  return pd_test_end("test_repro");
}
