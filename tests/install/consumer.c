/* A program outside the project that links the installed libphasediag:
 * the version header, the theorem's regime of the ntk scheme, a sharded
 * network on the paper's 1-D data (its outputs are the same bits on every
 * rank) and a distributed FFT (FFTW3-MPI).  A program may use
 * MPI_COMM_WORLD; the library duplicates what it is given.  Prints one line
 * "consumer: ok ..." on rank 0 and exits 0, or prints the error and exits 1. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>

#include "phasediag/base/error.h"
#include "phasediag/model/data.h"
#include "phasediag/model/net.h"
#include "phasediag/model/scheme.h"
#include "phasediag/observe/fft.h"
#include "phasediag/version.h"

static int run(MPI_Comm comm, double *f0) {
  pd_data *data = NULL;
  pd_net *net = NULL;
  pd_fft *fft = NULL;
  double f[4];
  int err = pd_data_paper1d(&data);
  if (err == PD_OK) {
    pd_net_config cfg = {.d = 1, .m = 1000, .seed = 1, .task = 0};
    err = pd_scales_scheme(PD_SCHEME_NTK, (double)cfg.m, cfg.d, &cfg.scales);
    if (err == PD_OK) err = pd_net_create(comm, &cfg, &net);
  }
  if (err == PD_OK) err = pd_net_output(net, data, f);
  if (err == PD_OK) {
    /* the outputs are identical on every rank */
    double lo[4], hi[4];
    MPI_Allreduce(f, lo, 4, MPI_DOUBLE, MPI_MIN, comm);
    MPI_Allreduce(f, hi, 4, MPI_DOUBLE, MPI_MAX, comm);
    for (int i = 0; i < 4; i++)
      if (!isfinite(f[i]) || lo[i] != hi[i])
        err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                             "f(x_%d) = %.17g, %.17g .. %.17g over the ranks",
                             i, f[i], lo[i], hi[i]);
    *f0 = f[0];
  }
  if (err == PD_OK) err = pd_fft_create(comm, 2, 8, PD_FFT_ESTIMATE, &fft);
  if (err == PD_OK) {
    /* a constant 1 on the 8 x 8 grid: F(0, 0) = 64 */
    double *r = pd_fft_real(fft);
    int64_t rows = pd_fft_local_n0(fft), p = pd_fft_real_stride(fft);
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < 8; j++) r[i * p + j] = 1.0;
    err = pd_fft_execute(fft);
    if (err == PD_OK && pd_fft_local_0_start(fft) == 0 && rows > 0 &&
        fabs(pd_fft_complex(fft)[0] - 64.0) > 1e-12)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "F(0, 0) = %.17g, expected 64",
                           pd_fft_complex(fft)[0]);
  }
  pd_fft_destroy(&fft);
  pd_net_destroy(&net);
  pd_data_destroy(&data);
  return err;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  double f0 = 0;
  int err = run(MPI_COMM_WORLD, &f0);
  err = pd_error_collective(MPI_COMM_WORLD, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_error_report(MPI_COMM_WORLD, err);
  } else if (rank == 0) {
    printf("consumer: ok phasediag %s on %d ranks: ntk is %s, f(x_0) = %.17g\n",
           PD_VERSION, size, pd_regime_name(pd_theory_regime(0.5, 0.0)), f0);
  }
  MPI_Finalize();
  return err == PD_OK ? 0 : 1;
}
