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
 * are a forward and a backward pass each, not fused).
 *
 * The line also gives the kernel's floating-point rate: kernel_gflops counts
 * per neuron-sample 6 d + 8 flops (forward at the current parameters 2 d,
 * relu and its derivative factor 2, the sample's share of the gradient 2 d +
 * 3, forward at the new parameters 2 d + 1; an FMA is 2) and per neuron
 * 9 (d + 2) (parities added, the factor a, the update, the step's norms),
 * against fma_peak_gflops, this core's FMA peak measured in the same run
 * (independent _mm256_fmadd_pd chains), and against dgemm_gflops, the BLAS
 * dgemm (one thread) on the forward product of the same shape: the shard's
 * (width / ranks) x (d + 1) weights by the (d + 1) x samples inputs.
 *
 *   mpirun -np P build/pd_bench --dims 1,4,16,46,128,784 [--samples N] ...
 *
 * sweeps the input dimension and prints a table instead (one row per d:
 * kernel NSU/s, GFLOP/s, % of the peak, the ratio to dgemm, the previous
 * AVX2 chunk operations' NSU/s where they exist (the shard loop's packing
 * and update are the new ones for both), whole-step NSU/s of gd training).
 * --isa generic|avx2|dn4 forces a kernel implementation (dn4: the previous
 * AVX2 kernel for d > 1).  Figures only: nothing here is a pass/fail test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PB_X86 1
#else
#define PB_X86 0
#endif

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/timer.h"
#include "phasediag/model/kernel.h"
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

/* BLAS (linked through LAPACK); OpenBLAS's thread control where present */
void dgemm_(const char *ta, const char *tb, const int *m, const int *n,
            const int *k, const double *alpha, const double *a, const int *lda,
            const double *b, const int *ldb, const double *beta, double *c,
            const int *ldc);
void openblas_set_num_threads(int threads) __attribute__((weak));

/* This core's double-precision FMA peak in GFLOP/s: 12 independent chains
 * of _mm256_fmadd_pd (more than latency x ports on current x86 cores),
 * best of three; 0 without AVX2+FMA. */
#if PB_X86
__attribute__((target("avx2,fma"))) static double fma_peak_avx2(void) {
  const int64_t iters = 20000000;
  __m256d acc[12];
  const __m256d m = _mm256_set1_pd(0.999999999), b = _mm256_set1_pd(1e-9);
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    for (int c = 0; c < 12; c++) acc[c] = _mm256_set1_pd(1.0 + c);
    double t0 = MPI_Wtime();
    for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
      for (int c = 0; c < 12; c++) acc[c] = _mm256_fmadd_pd(acc[c], m, b);
    }
    double sec = MPI_Wtime() - t0;
    __m256d sum = acc[0];
    for (int c = 1; c < 12; c++) sum = _mm256_add_pd(sum, acc[c]);
    volatile double sink = _mm256_cvtsd_f64(sum);
    (void)sink;
    double gf = 12.0 * 8.0 * (double)iters / sec * 1e-9;
    if (gf > best) best = gf;
  }
  return best;
}
#endif

static double fma_peak_gflops(void) {
#if PB_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return fma_peak_avx2();
#endif
  return 0;
}

/* Seconds of one dgemm (one BLAS thread, best of reps) on the forward
 * product of a shard of mloc neurons: C (mloc x n) = W (mloc x (d + 1),
 * leading dimension mloc, the kernel's layout) times X~ ((d + 1) x n). */
static int dgemm_seconds(int64_t mloc, int64_t n, int d, const double *x,
                         double *out) {
  *out = 0;
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  const int M = (int)mloc, N = (int)n, K = d + 1;
  double *A = NULL, *B = NULL, *C = NULL;
  PD_CALL(pd_calloc((size_t)M * (size_t)K, sizeof(double), &A));
  PD_CALL(pd_calloc((size_t)K * (size_t)N, sizeof(double), &B));
  PD_CALL(pd_calloc((size_t)M * (size_t)N, sizeof(double), &C));
  for (size_t t = 0; t < (size_t)M * (size_t)K; t++)
    A[t] = 1e-3 * (double)(t % 1009) - 0.5;
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < d; j++) B[i * K + j] = x[i * d + j];
    B[i * K + d] = 1.0;
  }
  const double one = 1.0, zero = 0.0;
  double best = 0;
  for (int rep = 0; rep < 4; rep++) { /* the first one warms up */
    double t0 = MPI_Wtime();
    dgemm_("N", "N", &M, &N, &K, &one, A, &M, B, &K, &zero, C, &M);
    double sec = MPI_Wtime() - t0;
    if (rep > 0 && (best == 0 || sec < best)) best = sec;
  }
  *out = best;
  pd_free(&A);
  pd_free(&B);
  pd_free(&C);
  return PD_OK;
}

/* flops of one fused step per neuron (see the header comment) */
static double kernel_flops(int64_t m, int64_t n, int d) {
  return (double)m * ((double)n * (6.0 * d + 8.0) + 9.0 * (d + 2.0));
}

static int make_data(int64_t n, int d, pd_data **out) {
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
  *out = data;
  return PD_OK;
}

/* seconds (max over ranks) of steps fused steps after one warm-up */
static int kernel_seconds(MPI_Comm comm, const pd_net_config *cfg,
                          const pd_data *data, int64_t steps, int report,
                          double *out) {
  const int64_t n = data->n;
  pd_net *net = NULL;
  PD_CALL(pd_net_create(comm, cfg, &net));
  double *f = NULL, *c = NULL;
  PD_CALL(pd_calloc((size_t)n, sizeof(double), &f));
  PD_CALL(pd_calloc((size_t)n, sizeof(double), &c));
  PD_CALL(pd_net_output(net, data, f));
  for (int64_t i = 0; i < n; i++) c[i] = (f[i] - data->y[i]) / (double)n;
  PD_CALL(pd_net_descend(net, data, c, 1e-3, f)); /* warm-up */
  PD_CALL_MPI(MPI_Barrier(comm));
  if (report) pd_timer_reset();
  double t0 = MPI_Wtime();
  for (int64_t s = 0; s < steps; s++) {
    PD_CALL(pd_net_descend(net, data, c, 1e-3, f));
    for (int64_t i = 0; i < n; i++) c[i] = (f[i] - data->y[i]) / (double)n;
  }
  double sec = MPI_Wtime() - t0;
  PD_CALL_MPI(MPI_Allreduce(&sec, out, 1, MPI_DOUBLE, MPI_MAX, comm));
  if (report) PD_CALL(pd_timer_report(comm, stderr));
  PD_CALL(pd_net_destroy(&net));
  pd_free(&f);
  pd_free(&c);
  return PD_OK;
}

/* the slowest rank's dgemm seconds for its shard */
static int dgemm_seconds_all(MPI_Comm comm, int64_t m, const pd_data *data,
                             double *out) {
  int size, rank;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  int64_t mloc = m / size + (rank < m % size);
  double sec;
  PD_CALL(dgemm_seconds(mloc > 0 ? mloc : 1, data->n, data->d, data->x, &sec));
  PD_CALL_MPI(MPI_Allreduce(&sec, out, 1, MPI_DOUBLE, MPI_MAX, comm));
  return PD_OK;
}

static int train_run(MPI_Comm comm, const pd_net_config *cfg,
                     const pd_data *data, const char *integ, int64_t steps,
                     pd_train_result *res) {
  pd_net *net = NULL;
  PD_CALL(pd_net_create(comm, cfg, &net));
  pd_train_options opt;
  pd_train_options_default(&opt);
  opt.tol = 1e-300;
  opt.max_steps = steps;
  opt.history_points = 2;
  snprintf(opt.integrator, sizeof opt.integrator, "%s", integ);
  PD_CALL(pd_train(net, data, &opt, NULL, res));
  PD_CALL(pd_net_destroy(&net));
  return PD_OK;
}

static int bench(MPI_Comm comm, int64_t m, int64_t n, int d, int64_t steps,
                 double peak) {
  int size;
  MPI_Comm_size(comm, &size);
  pd_data *data = NULL;
  PD_CALL(make_data(n, d, &data));
  pd_net_config cfg = {.d = d, .m = m, .asi = 1, .seed = 1, .task = 0};
  PD_CALL(pd_scales_scheme(PD_SCHEME_NTK, (double)m, d, &cfg.scales));
  double kernel_sec, gemm_sec;
  PD_CALL(kernel_seconds(comm, &cfg, data, steps, 1, &kernel_sec));
  PD_CALL(dgemm_seconds_all(comm, m, data, &gemm_sec));

  static const char *const integ[2] = {"gd", "rkc"};
  pd_train_result res[2];
  for (int k = 0; k < 2; k++)
    PD_CALL(train_run(comm, &cfg, data, integ[k], steps, &res[k]));

  const double work = (double)m * (double)n * (double)steps;
  const double kstep = kernel_sec / (double)steps;
  const double kgf = kernel_flops(m, n, d) / kstep * 1e-9 / size;
  const double ggf =
      2.0 * (double)m / size * (d + 1.0) * (double)n / gemm_sec * 1e-9;
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
        "\"bytes_per_neuron\": %g, \"kernel\": \"%s\", "
        "\"kernel_gflops_per_rank\": %.4g, \"fma_peak_gflops\": %.4g, "
        "\"kernel_peak_fraction\": %.3f, \"dgemm_gflops\": %.4g, "
        "\"kernel_vs_dgemm\": %.3f, \"version\": \"%s\", \"commit\": \"%s\"}\n",
        size, (long long)m, (long long)n, d, (long long)steps, kstep,
        work / kernel_sec, work / kernel_sec / size,
        res[0].seconds / (double)res[0].steps,
        (double)m * (double)n * (double)res[0].steps / res[0].seconds,
        (long long)res[0].rejected, (long long)res[0].evaluations, per_eval[0],
        per_eval[0] / kstep, (long long)res[1].evaluations, per_eval[1],
        per_eval[1] / kstep, pd_net_bytes_per_neuron(d, 0), pd_kernel_name(d),
        kgf, peak, peak > 0 ? kgf / peak : 0.0, ggf, kgf / ggf, PD_VERSION,
        PD_GIT_COMMIT);
  for (int k = 0; k < 2; k++) pd_train_result_free(&res[k]);
  pd_data_destroy(&data);
  return PD_OK;
}

/* One row per d: the kernel (and the previous AVX2 kernel for d > 1, timed
 * right after it), dgemm on the same shape, gd training's whole step. */
static int sweep(MPI_Comm comm, int64_t m, int64_t n, const int *dims,
                 int ndims, int64_t steps, double peak, pd_isa isa) {
  int size, rank;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    printf(
        "# pd_bench sweep: %d ranks, width %lld, samples %lld, %lld steps; "
        "FMA peak %.2f GFLOP/s per core (measured)\n",
        size, (long long)m, (long long)n, (long long)steps, peak);
    printf(
        "# kernel GFLOP/s per rank; %%peak of the measured peak; x dgemm: "
        "kernel GFLOP/s over dgemm's on the forward product "
        "(width/ranks) x (d+1) x samples; dn4: the previous AVX2 chunk "
        "operations (with the new packing and update)\n");
    printf("%6s %6s %-9s %12s %9s %7s %9s %8s %12s %8s %12s\n", "d", "n",
           "kernel", "kernel_NSU/s", "GFLOP/s", "%peak", "dgemm_GF", "x_dgemm",
           "dn4_NSU/s", "x_dn4", "train_NSU/s");
    fflush(stdout);
  }
  for (int t = 0; t < ndims; t++) {
    const int d = dims[t];
    pd_data *data = NULL;
    PD_CALL(make_data(n, d, &data));
    pd_net_config cfg = {.d = d, .m = m, .asi = 1, .seed = 1, .task = 0};
    PD_CALL(pd_scales_scheme(PD_SCHEME_NTK, (double)m, d, &cfg.scales));
    double ksec, osec = 0, gsec;
    pd_kernel_set_isa(isa);
    const char *name = pd_kernel_name(d);
    PD_CALL(kernel_seconds(comm, &cfg, data, steps, 0, &ksec));
    const int old = d > 1 && isa != PD_ISA_GENERIC &&
                    pd_kernel_set_isa(PD_ISA_AVX2_DN4) == PD_ISA_AVX2_DN4;
    if (old) PD_CALL(kernel_seconds(comm, &cfg, data, steps, 0, &osec));
    pd_kernel_set_isa(isa);
    PD_CALL(dgemm_seconds_all(comm, m, data, &gsec));
    pd_train_result res;
    PD_CALL(train_run(comm, &cfg, data, "gd", steps, &res));
    const double work = (double)m * (double)n * (double)steps;
    const double kgf =
        kernel_flops(m, n, d) * (double)steps / ksec * 1e-9 / size;
    const double ggf =
        2.0 * (double)m / size * (d + 1.0) * (double)n / gsec * 1e-9;
    if (rank == 0) {
      printf("%6d %6lld %-9s %12.4g %9.3g %6.1f%% %9.3g %8.2f ", d,
             (long long)n, name, work / ksec, kgf,
             peak > 0 ? 100.0 * kgf / peak : 0.0, ggf, kgf / ggf);
      if (old)
        printf("%12.4g %8.2f ", work / osec, osec / ksec);
      else
        printf("%12s %8s ", "-", "-");
      printf("%12.4g\n",
             (double)m * (double)n * (double)res.steps / res.seconds);
      fflush(stdout);
    }
    pd_train_result_free(&res);
    pd_data_destroy(&data);
  }
  pd_kernel_set_isa(PD_ISA_AUTO);
  return PD_OK;
}

/* --dims 1,4,16: positive integers, at most max of them */
static int arg_dims(int argc, char **argv, int *dims, int max, int *count) {
  *count = 0;
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], "--dims")) {
      const char *p = argv[i + 1];
      while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > (1 << 20) || *count >= max) return 0;
        dims[(*count)++] = (int)v;
        p = end;
        if (*p == ',')
          p++;
        else if (*p)
          return 0;
      }
    }
  return 1;
}

static int arg_isa(int argc, char **argv, pd_isa *isa) {
  *isa = PD_ISA_AUTO;
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], "--isa")) {
      if (!strcmp(argv[i + 1], "generic"))
        *isa = PD_ISA_GENERIC;
      else if (!strcmp(argv[i + 1], "avx2"))
        *isa = PD_ISA_AVX2;
      else if (!strcmp(argv[i + 1], "dn4"))
        *isa = PD_ISA_AVX2_DN4;
      else if (strcmp(argv[i + 1], "auto"))
        return 0;
    }
  return 1;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int64_t m, n, d, s;
  int dims[64], ndims;
  pd_isa isa;
  int ok = arg_i64(argc, argv, "--width", 1000000, &m) &&
           arg_i64(argc, argv, "--samples", 64, &n) &&
           arg_i64(argc, argv, "--dim", 1, &d) &&
           arg_i64(argc, argv, "--steps", 20, &s) &&
           arg_dims(argc, argv, dims, 64, &ndims) && arg_isa(argc, argv, &isa);
  if (!ok || d > (1 << 20)) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
      fprintf(stderr,
              "usage: pd_bench [--width M] [--samples N] [--dim D] "
              "[--steps S] [--dims D1,D2,...] [--isa auto|generic|avx2|dn4]  "
              "(positive integers)\n");
    MPI_Finalize();
    return 2;
  }
  /* every rank measures its core's peak (ranks may share a core) */
  double peak = fma_peak_gflops(), peak_min;
  MPI_Allreduce(&peak, &peak_min, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  int err;
  if (ndims > 0) {
    err = sweep(MPI_COMM_WORLD, m, n, dims, ndims, s, peak_min, isa);
  } else {
    pd_kernel_set_isa(isa);
    err = bench(MPI_COMM_WORLD, m, n, (int)d, s, peak_min);
  }
  if (err) pd_error_abort(MPI_COMM_WORLD, err);
  MPI_Finalize();
  return 0;
}
