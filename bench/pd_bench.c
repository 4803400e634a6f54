/* pd_bench: throughput of the fused forward+backward step.
 *
 *   mpirun -np P build/pd_bench --width M --samples N --dim D --steps S
 *
 * Prints one JSON line.  nsu_per_s counts neuron-sample updates per second
 * of the fused kernel (pd_net_descend: backward, update, forward, reduction):
 * width * samples * steps / seconds.  train_nsu_per_s is the same figure for
 * pd_train over the same number of steps, i.e. with the automatic step-size
 * rule (power iterations, rejected steps) included.  For each integrator
 * (gd, rkc) pd_train runs the same step budget and the line gives its
 * gradient evaluations and the whole-step cost per evaluation, also as a
 * ratio to one fused kernel step (1: nothing but the kernel; rkc's stages
 * are a forward and a backward pass each, not fused). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/timer.h"
#include "phasediag/model/net.h"
#include "phasediag/train/train.h"
#include "phasediag/version.h"

static int arg_i64(int argc, char **argv, const char *name, int64_t def,
                   int64_t *out) {
  *out = def;
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], name)) {
      char *end;
      double v = strtod(argv[i + 1], &end);
      if (*end || v < 1 || v != floor(v)) return 0;
      *out = (int64_t)v;
    }
  return 1;
}

static int bench(MPI_Comm comm, int64_t m, int64_t n, int d, int64_t steps) {
  int size;
  MPI_Comm_size(comm, &size);
  pd_data *data = NULL;
  PD_CALL(pd_data_create(n, d, &data));
  for (int64_t i = 0; i < n; i++) { /* deterministic points in [-1, 1]^d */
    double s = 0;
    for (int j = 0; j < d; j++) {
      double x = -1.0 + 2.0 * (double)((i * (j + 7) + j) % n) /
                            (double)(n - 1 > 0 ? n - 1 : 1);
      data->x[i * d + j] = x;
      s += x;
    }
    data->y[i] = sin(3.0 * s);
  }
  pd_net_config cfg = {.d = d, .m = m, .asi = 1, .seed = 1, .task = 0};
  PD_CALL(pd_scales_scheme(PD_SCHEME_NTK, (double)m, d, &cfg.scales));
  pd_net *net = NULL;
  PD_CALL(pd_net_create(comm, &cfg, &net));
  double *f = NULL, *c = NULL;
  PD_CALL(pd_calloc((size_t)n, sizeof(double), &f));
  PD_CALL(pd_calloc((size_t)n, sizeof(double), &c));
  PD_CALL(pd_net_output(net, data, f));
  for (int64_t i = 0; i < n; i++) c[i] = (f[i] - data->y[i]) / (double)n;
  PD_CALL(pd_net_descend(net, data, c, 1e-3, f)); /* warm-up */
  PD_CALL_MPI(MPI_Barrier(comm));
  pd_timer_reset();
  double t0 = MPI_Wtime();
  for (int64_t s = 0; s < steps; s++) {
    PD_CALL(pd_net_descend(net, data, c, 1e-3, f));
    for (int64_t i = 0; i < n; i++) c[i] = (f[i] - data->y[i]) / (double)n;
  }
  double sec = MPI_Wtime() - t0, kernel_sec;
  PD_CALL_MPI(MPI_Allreduce(&sec, &kernel_sec, 1, MPI_DOUBLE, MPI_MAX, comm));
  PD_CALL(pd_timer_report(comm, stderr));
  PD_CALL(pd_net_destroy(&net));

  static const char *const integ[2] = {"gd", "rkc"};
  pd_train_result res[2];
  for (int k = 0; k < 2; k++) {
    PD_CALL(pd_net_create(comm, &cfg, &net));
    pd_train_options opt;
    pd_train_options_default(&opt);
    opt.tol = 1e-300;
    opt.max_steps = steps;
    opt.history_points = 2;
    snprintf(opt.integrator, sizeof opt.integrator, "%s", integ[k]);
    PD_CALL(pd_train(net, data, &opt, NULL, &res[k]));
    PD_CALL(pd_net_destroy(&net));
  }

  const double work = (double)m * (double)n * (double)steps;
  const double kstep = kernel_sec / (double)steps;
  double per_eval[2];
  for (int k = 0; k < 2; k++)
    per_eval[k] = res[k].seconds /
                  (double)(res[k].evaluations > 0 ? res[k].evaluations : 1);
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0)
    printf(
        "{\"ranks\": %d, \"width\": %lld, \"samples\": %lld, \"dim\": %d, "
        "\"steps\": %lld, \"seconds_per_step\": %.6g, \"nsu_per_s\": %.4g, "
        "\"nsu_per_s_per_rank\": %.4g, \"train_seconds_per_step\": %.6g, "
        "\"train_nsu_per_s\": %.4g, \"train_rejected\": %lld, "
        "\"gd_evaluations\": %lld, \"gd_seconds_per_evaluation\": %.6g, "
        "\"gd_evaluation_vs_kernel\": %.3f, \"rkc_evaluations\": %lld, "
        "\"rkc_seconds_per_evaluation\": %.6g, "
        "\"rkc_evaluation_vs_kernel\": %.3f, "
        "\"bytes_per_neuron\": %g, \"version\": \"%s\", \"commit\": \"%s\"}\n",
        size, (long long)m, (long long)n, d, (long long)steps, kstep,
        work / kernel_sec, work / kernel_sec / size,
        res[0].seconds / (double)res[0].steps,
        (double)m * (double)n * (double)res[0].steps / res[0].seconds,
        (long long)res[0].rejected, (long long)res[0].evaluations, per_eval[0],
        per_eval[0] / kstep, (long long)res[1].evaluations, per_eval[1],
        per_eval[1] / kstep, pd_net_bytes_per_neuron(d, 0), PD_VERSION,
        PD_GIT_COMMIT);
  for (int k = 0; k < 2; k++) pd_train_result_free(&res[k]);
  pd_free(&f);
  pd_free(&c);
  pd_data_destroy(&data);
  return PD_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int64_t m, n, d, s;
  int ok = arg_i64(argc, argv, "--width", 1000000, &m) &&
           arg_i64(argc, argv, "--samples", 64, &n) &&
           arg_i64(argc, argv, "--dim", 1, &d) &&
           arg_i64(argc, argv, "--steps", 20, &s);
  if (!ok || d > (1 << 20)) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
      fprintf(stderr,
              "usage: pd_bench [--width M] [--samples N] [--dim D] "
              "[--steps S]  (positive integers)\n");
    MPI_Finalize();
    return 2;
  }
  int err = bench(MPI_COMM_WORLD, m, n, (int)d, s);
  if (err) pd_error_abort(MPI_COMM_WORLD, err);
  MPI_Finalize();
  return 0;
}
