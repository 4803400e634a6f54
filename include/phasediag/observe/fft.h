/* Distributed real-to-complex FFTs of N^d grids (d = 1..4) with FFTW3-MPI,
 * and the shell spectrum of the power |F(k)|^2.
 *
 * Decomposition: slabs along the first dimension.  Rank r holds the rows
 * i0 = local_0_start .. local_0_start + local_n0 - 1 of the first index
 * (FFTW's own split, fftw_mpi_local_size_many; some ranks may hold none).
 * The transform is in place, unnormalized (FFTW's sign -1 convention):
 *
 *   F(k) = sum_x f(x) exp(-2 pi i k . x / N),   x, k in {0..N-1}^d,
 *
 * and only the non-redundant half k_last = 0 .. N/2 is stored.
 *
 * Local real layout (before pd_fft_execute): element (i0, i1, .., i_{d-1}),
 * i0 counted from local_0_start, at
 *
 *   ((i0 * N + i1) * N + ..) * P + i_{d-1},   P = 2 (N/2 + 1) (padding),
 *
 * and the local complex layout (after) at the same index with P replaced by
 * N/2 + 1, as interleaved (re, im) doubles.  The first dimension is not
 * transposed: spectrum rows have the same split as the real rows.
 *
 * d = 1: FFTW-MPI has no 1-D real transform, so the whole line lives on rank
 * 0 (local_n0 = N there, 0 elsewhere) and rank 0 runs FFTW's serial r2c; the
 * shell spectrum is still summed over ranks, so every rank gets it.
 *
 * Plans are made once at creation (FFTW_ESTIMATE, or FFTW_MEASURE with
 * PD_FFT_MEASURE, which overwrites the array) and reused by every execute.
 * fftw_mpi_init() is called once per process by the first creation;
 * fftw_mpi_cleanup() is never called by the library.
 *
 * Collective calls (over the plan's communicator) are marked; all others are
 * local. */
#ifndef PHASEDIAG_FFT_H
#define PHASEDIAG_FFT_H

#include <mpi.h>
#include <stdint.h>

#define PD_FFT_MAXDIM 4

enum {
  PD_FFT_ESTIMATE = 0, /* plan quickly (FFTW_ESTIMATE); array untouched */
  PD_FFT_MEASURE = 1   /* time candidate plans (FFTW_MEASURE) */
};

typedef struct pd_fft pd_fft;

/* Collective.  Duplicate comm and plan an in-place r2c transform of an N^d
 * grid (1 <= d <= PD_FFT_MAXDIM, N >= 2) with planner flags `flags`
 * (PD_FFT_ESTIMATE or PD_FFT_MEASURE).  The local array is allocated and
 * zeroed.  A failure on any rank is returned on every rank, *fft = NULL. */
int pd_fft_create(MPI_Comm comm, int d, int64_t n, int flags, pd_fft **fft);
/* Collective (frees the communicator).  NULL is fine. */
int pd_fft_destroy(pd_fft **fft);

MPI_Comm pd_fft_comm(const pd_fft *fft);
int pd_fft_dim(const pd_fft *fft);
int64_t pd_fft_n(const pd_fft *fft);
/* Rows of the first dimension held here and the first of them. */
int64_t pd_fft_local_n0(const pd_fft *fft);
int64_t pd_fft_local_0_start(const pd_fft *fft);
/* Padded last dimension of the real layout: 2 (N/2 + 1). */
int64_t pd_fft_real_stride(const pd_fft *fft);
/* Complex entries along the last dimension: N/2 + 1. */
int64_t pd_fft_complex_last(const pd_fft *fft);
/* Local real (padded layout) and complex (interleaved re, im) views of the
 * same in-place array. */
double *pd_fft_real(pd_fft *fft);
double *pd_fft_complex(pd_fft *fft);

/* Frequency in cycles per box of index i (0 <= i < N) along a full (not the
 * last) dimension: i for i <= N/2, i - N above.  Pure. */
int64_t pd_fft_freq(int64_t n, int64_t i);

/* Collective.  Transform the local real array in place into its spectrum
 * (the real input is overwritten). */
int pd_fft_execute(pd_fft *fft);

/* Number of integer shells of |k|: floor(sqrt(d) N/2 + 1/2) + 1, so that
 * every stored k falls into one. */
int pd_fft_nshells(const pd_fft *fft);

/* Collective.  After pd_fft_execute: power[s] = sum of |F(k)|^2 over all k
 * of the full spectrum with round(|k|) = s (|k| the Euclidean norm of the
 * signed frequencies), s = 0 .. nshell - 1, identical on every rank.  The
 * half spectrum is counted with multiplicity 2, except k_last = 0 and (N
 * even) k_last = N/2 with 1, so sum_s power[s] = N^d sum_x f(x)^2
 * (Parseval).  nshell must be pd_fft_nshells(fft); count[s] (NULL allowed)
 * receives the number of full-spectrum wave vectors in shell s. */
int pd_fft_shells(pd_fft *fft, int nshell, double *power, double *count);

/* Collective.  Gather the local complex arrays (after execute) into the
 * whole half spectrum on rank `root` of the plan's communicator: out holds
 * N^(d-1) (N/2 + 1) interleaved complex entries, row-major, on root (it is
 * not touched elsewhere and may be NULL there). */
int pd_fft_gather_complex(pd_fft *fft, int root, double *out);

#endif
