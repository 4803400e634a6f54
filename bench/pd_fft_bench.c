/* pd_fft_bench: the distributed 3-D r2c FFT against serial FFTW.
 *
 *   mpirun -np P build/pd_fft_bench [--n N] [--reps R] [--measure]
 *
 * Plans an in-place r2c transform of an N^3 grid (default N = 256) on all
 * ranks with FFTW3-MPI (slab decomposition, pd_fft), fills it with uniform
 * random values, and times R executes (default 5, the fill excluded; the
 * slowest rank's mean).  Then rank 0 gathers the spectrum and transforms the
 * whole grid again with serial FFTW (fftw_plan_dft_r2c_3d, out of place,
 * same planner flags), timed the same way.  Prints one JSON line;
 * max_abs_diff is max |F_mpi - F_serial| over the real and imaginary parts
 * (max_abs_value gives the scale). */
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/rng.h"
#include "phasediag/observe/fft.h"
#include "phasediag/version.h"

static int arg_int(int argc, char **argv, const char *name, int def, int lo,
                   int hi, int *out) {
  *out = def;
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], name)) {
      char *end;
      double v = strtod(argv[i + 1], &end);
      if (*end || v < lo || v > hi || v != floor(v)) return 0;
      *out = (int)v;
    }
  return 1;
}

static double value(int64_t g) { return 2 * pd_rng_uniform(3, 0, g, 0) - 1; }

/* Fill the local slab: global index g = (i0 * N + i1) * N + i2. */
static void fill(pd_fft *f) {
  int64_t n = pd_fft_n(f), P = pd_fft_real_stride(f);
  int64_t l0 = pd_fft_local_0_start(f), ln0 = pd_fft_local_n0(f);
  double *r = pd_fft_real(f);
  for (int64_t a = 0; a < ln0; a++)
    for (int64_t b = 0; b < n; b++)
      for (int64_t c = 0; c < n; c++)
        r[(a * n + b) * P + c] = value(((l0 + a) * n + b) * n + c);
}

static int bench(MPI_Comm comm, int n, int reps, int flags) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  pd_fft *f = NULL;
  PD_CALL(pd_fft_create(comm, 3, n, flags, &f));
  double tsum = 0;
  for (int r = 0; r < reps; r++) {
    fill(f);
    PD_CALL_MPI(MPI_Barrier(comm));
    double t0 = MPI_Wtime();
    PD_CALL(pd_fft_execute(f));
    tsum += MPI_Wtime() - t0;
  }
  double t_mpi = 0, mine = tsum / reps;
  PD_CALL_MPI(MPI_Allreduce(&mine, &t_mpi, 1, MPI_DOUBLE, MPI_MAX, comm));

  const size_t nn = (size_t)n, half = nn / 2 + 1;
  double *got = NULL, *in = NULL;
  fftw_complex *out = NULL;
  int err = PD_OK;
  if (rank == 0) {
    err = pd_calloc(nn * nn * half, 2 * sizeof(double), &got);
    if (err == PD_OK) err = pd_calloc(nn * nn * nn, sizeof(double), &in);
    if (err == PD_OK) {
      out = fftw_alloc_complex(nn * nn * half);
      if (!out)
        err = pd_error_raise(PD_ERR_ALLOC, __FILE__, __LINE__, __func__,
                             "cannot allocate the serial spectrum");
    }
  }
  PD_COLLECTIVE(comm, err);
  PD_CALL(pd_fft_gather_complex(f, 0, got));

  double t_serial = 0, diff = 0, amax = 0;
  if (rank == 0) {
    unsigned fl = flags == PD_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE;
    fftw_plan p = fftw_plan_dft_r2c_3d(n, n, n, in, out, fl);
    if (!p)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "FFTW could not plan the serial transform");
    for (int r = 0; r < reps && err == PD_OK; r++) {
      for (size_t g = 0; g < nn * nn * nn; g++) in[g] = value((int64_t)g);
      double t0 = MPI_Wtime();
      fftw_execute(p);
      t_serial += MPI_Wtime() - t0;
    }
    t_serial /= reps;
    if (err == PD_OK) {
      for (size_t i = 0; i < nn * nn * half; i++) {
        double dr = fabs(got[2 * i] - out[i][0]);
        double di = fabs(got[2 * i + 1] - out[i][1]);
        double a = fabs(out[i][0]) > fabs(out[i][1]) ? fabs(out[i][0])
                                                     : fabs(out[i][1]);
        if (dr > diff) diff = dr;
        if (di > diff) diff = di;
        if (a > amax) amax = a;
      }
    }
    if (p) fftw_destroy_plan(p);
  }
  PD_COLLECTIVE(comm, err);
  if (rank == 0)
    printf(
        "{\"bench\": \"fft_r2c_3d\", \"ranks\": %d, \"n\": %d, \"reps\": %d, "
        "\"planner\": \"%s\", \"seconds_mpi\": %.6g, \"seconds_serial\": "
        "%.6g, \"max_abs_diff\": %.3g, \"max_abs_value\": %.6g, "
        "\"version\": \"%s\", \"commit\": \"%s\"}\n",
        size, n, reps, flags == PD_FFT_MEASURE ? "measure" : "estimate", t_mpi,
        t_serial, diff, amax, PD_VERSION, PD_GIT_COMMIT);
  pd_free(&got);
  pd_free(&in);
  if (out) fftw_free(out);
  PD_CALL(pd_fft_destroy(&f));
  return PD_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int n, reps, flags = PD_FFT_ESTIMATE;
  int ok = arg_int(argc, argv, "--n", 256, 2, 1024, &n) &&
           arg_int(argc, argv, "--reps", 5, 1, 1000, &reps);
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--measure")) flags = PD_FFT_MEASURE;
  if (!ok) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
      fprintf(stderr,
              "usage: pd_fft_bench [--n N (2..1024)] [--reps R] "
              "[--measure]\n");
    MPI_Finalize();
    return 2;
  }
  int err = bench(MPI_COMM_WORLD, n, reps, flags);
  if (err) pd_error_abort(MPI_COMM_WORLD, err);
  MPI_Finalize();
  return 0;
}
