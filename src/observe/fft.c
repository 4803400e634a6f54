#include "phasediag/observe/fft.h"

#include <fftw3-mpi.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>

#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"

struct pd_fft {
  MPI_Comm comm;
  int d, rank, size;
  int64_t n, local_n0, local_0_start;
  int64_t alloc_complex; /* complex entries allocated here */
  double *data;          /* in place: real padded, then complex */
  fftw_plan plan;        /* NULL on ranks without work (d = 1, rank > 0) */
};

static int pd_fftw_mpi_ready;

/* Once per process; needs MPI to be initialized. */
static void pd_fft_init_library(void) {
  if (!pd_fftw_mpi_ready) {
    fftw_mpi_init();
    pd_fftw_mpi_ready = 1;
  }
}

int64_t pd_fft_freq(int64_t n, int64_t i) { return i <= n / 2 ? i : i - n; }

/* Local checks of the arguments; the sizes of the whole grid must fit. */
static int pd_fft_check_args(int d, int64_t n, int flags) {
  PD_CHECK(d >= 1 && d <= PD_FFT_MAXDIM, PD_ERR_ARG,
           "FFT dimension %d is not in 1..%d", d, PD_FFT_MAXDIM);
  PD_CHECK(n >= 2, PD_ERR_ARG, "FFT grid size %lld is below 2", (long long)n);
  PD_CHECK(flags == PD_FFT_ESTIMATE || flags == PD_FFT_MEASURE, PD_ERR_ARG,
           "unknown FFT planner flags %d", flags);
  double total = 2.0 * ((double)(n / 2 + 1));
  for (int j = 1; j < d; j++) total *= (double)n;
  PD_CHECK(total < 0x1p62 && n <= INT_MAX, PD_ERR_ARG,
           "FFT grid %lld^%d is too large", (long long)n, d);
  return PD_OK;
}

/* Local part of the creation: sizes, array and plan (collective FFTW calls
 * inside for d >= 2, made on every rank). */
static int pd_fft_setup(pd_fft *f, int flags) {
  const unsigned fl = flags == PD_FFT_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE;
  const int64_t nc = f->n / 2 + 1;
  if (f->d == 1) {
    f->local_n0 = f->rank == 0 ? f->n : 0;
    f->local_0_start = 0;
    f->alloc_complex = f->rank == 0 ? nc : 0;
    PD_CALL(pd_calloc((size_t)f->alloc_complex, 2 * sizeof(double), &f->data));
    if (f->rank == 0) {
      f->plan =
          fftw_plan_dft_r2c_1d((int)f->n, f->data, (fftw_complex *)f->data, fl);
      PD_CHECK(f->plan != NULL, PD_ERR_NUMERIC,
               "FFTW could not plan a 1-D r2c transform of size %lld",
               (long long)f->n);
      for (int64_t i = 0; i < 2 * nc; i++) f->data[i] = 0;
    }
    return PD_OK;
  }
  ptrdiff_t dims[PD_FFT_MAXDIM], cdims[PD_FFT_MAXDIM];
  for (int j = 0; j < f->d; j++) dims[j] = cdims[j] = (ptrdiff_t)f->n;
  cdims[f->d - 1] = (ptrdiff_t)nc;
  ptrdiff_t ln0 = 0, l0s = 0;
  ptrdiff_t alloc = fftw_mpi_local_size_many(
      f->d, cdims, 1, FFTW_MPI_DEFAULT_BLOCK, f->comm, &ln0, &l0s);
  f->local_n0 = ln0;
  f->local_0_start = l0s;
  f->alloc_complex = alloc;
  int err = pd_calloc((size_t)alloc, 2 * sizeof(double), &f->data);
  /* the planner is collective: every rank has to take part */
  PD_COLLECTIVE(f->comm, err);
  f->plan = fftw_mpi_plan_many_dft_r2c(f->d, dims, 1, FFTW_MPI_DEFAULT_BLOCK,
                                       FFTW_MPI_DEFAULT_BLOCK, f->data,
                                       (fftw_complex *)f->data, f->comm, fl);
  PD_CHECK(f->plan != NULL, PD_ERR_NUMERIC,
           "FFTW-MPI could not plan an r2c transform of %lld^%d",
           (long long)f->n, f->d);
  for (int64_t i = 0; i < 2 * f->alloc_complex; i++) f->data[i] = 0;
  return PD_OK;
}

int pd_fft_create(MPI_Comm comm, int d, int64_t n, int flags, pd_fft **out) {
  *out = NULL;
  int err = pd_fft_check_args(d, n, flags);
  PD_COLLECTIVE(comm, err);
  pd_fft *f = NULL;
  err = pd_calloc(1, sizeof *f, &f);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_free(&f); /* allocated on the ranks that did not fail */
    return err;
  }
  f->comm = MPI_COMM_NULL;
  f->d = d;
  f->n = n;
  int rc = MPI_Comm_dup(comm, &f->comm);
  if (rc != MPI_SUCCESS) {
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Comm_dup");
    f->comm = MPI_COMM_NULL;
  }
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_fft_destroy(&f);
    return err;
  }
  MPI_Comm_set_errhandler(f->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(f->comm, &f->rank);
  MPI_Comm_size(f->comm, &f->size);
  pd_fft_init_library();
  err = pd_fft_setup(f, flags);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_fft_destroy(&f);
    return err;
  }
  *out = f;
  return PD_OK;
}

int pd_fft_destroy(pd_fft **pf) {
  pd_fft *f = *pf;
  if (!f) return PD_OK;
  if (f->plan) fftw_destroy_plan(f->plan);
  pd_free(&f->data);
  if (f->comm != MPI_COMM_NULL) MPI_Comm_free(&f->comm);
  pd_free(pf);
  return PD_OK;
}

MPI_Comm pd_fft_comm(const pd_fft *f) { return f->comm; }
int pd_fft_dim(const pd_fft *f) { return f->d; }
int64_t pd_fft_n(const pd_fft *f) { return f->n; }
int64_t pd_fft_local_n0(const pd_fft *f) { return f->local_n0; }
int64_t pd_fft_local_0_start(const pd_fft *f) { return f->local_0_start; }
int64_t pd_fft_real_stride(const pd_fft *f) { return 2 * (f->n / 2 + 1); }
int64_t pd_fft_complex_last(const pd_fft *f) { return f->n / 2 + 1; }
double *pd_fft_real(pd_fft *f) { return f->data; }
double *pd_fft_complex(pd_fft *f) { return f->data; }

int pd_fft_execute(pd_fft *f) {
  if (f->plan) fftw_execute(f->plan);
  return PD_OK;
}

int pd_fft_nshells(const pd_fft *f) {
  return (int)floor(sqrt((double)f->d) * (double)(f->n / 2) + 0.5) + 1;
}

/* Complex rows ("outer" indices: all but the last dimension) held here. */
static int64_t pd_fft_outer(const pd_fft *f) {
  if (f->d == 1) return f->rank == 0 ? 1 : 0;
  int64_t o = f->local_n0;
  for (int j = 1; j < f->d - 1; j++) o *= f->n;
  return o;
}

int pd_fft_shells(pd_fft *f, int nshell, double *power, double *count) {
  int err = PD_OK;
  if (nshell != pd_fft_nshells(f))
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "%d shells asked, the grid has %d", nshell,
                         pd_fft_nshells(f));
  PD_COLLECTIVE(f->comm, err);
  double *acc = NULL;
  err = pd_calloc((size_t)nshell, 2 * sizeof(double), &acc);
  err = pd_error_collective(f->comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_free(&acc);
    return err;
  }
  const int64_t n = f->n, nc = n / 2 + 1, outer = pd_fft_outer(f);
  double *cnt = acc + nshell;
  for (int64_t o = 0; o < outer; o++) {
    /* signed frequencies of the outer index o: squared norm */
    int64_t k2 = 0, rest = o;
    for (int j = f->d - 2; j >= 1; j--) {
      int64_t k = pd_fft_freq(n, rest % n);
      rest /= n;
      k2 += k * k;
    }
    if (f->d >= 2) {
      int64_t k = pd_fft_freq(n, f->local_0_start + rest);
      k2 += k * k;
    }
    const double *row = f->data + 2 * o * nc;
    for (int64_t kl = 0; kl < nc; kl++) {
      int64_t q = k2 + kl * kl;
      int s = (int)floor(sqrt((double)q) + 0.5);
      if (s >= nshell) s = nshell - 1; /* rounding guard */
      double mult = (kl == 0 || (n % 2 == 0 && kl == n / 2)) ? 1.0 : 2.0;
      double re = row[2 * kl], im = row[2 * kl + 1];
      acc[s] += mult * (re * re + im * im);
      cnt[s] += mult;
    }
  }
  /* reduce then broadcast: the same bits on every rank */
  err = PD_OK;
  int rc = MPI_Reduce(f->rank == 0 ? MPI_IN_PLACE : acc, acc, 2 * nshell,
                      MPI_DOUBLE, MPI_SUM, 0, f->comm);
  if (rc == MPI_SUCCESS)
    rc = MPI_Bcast(acc, 2 * nshell, MPI_DOUBLE, 0, f->comm);
  if (rc != MPI_SUCCESS)
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "shell reduction");
  if (err == PD_OK) {
    for (int s = 0; s < nshell; s++) {
      power[s] = acc[s];
      if (count) count[s] = cnt[s];
    }
  }
  pd_free(&acc);
  PD_COLLECTIVE(f->comm, err);
  return PD_OK;
}

int pd_fft_gather_complex(pd_fft *f, int root, double *out) {
  int err = PD_OK;
  const int64_t nc = f->n / 2 + 1;
  int64_t total = 2 * nc;
  for (int j = 1; j < f->d; j++) total *= f->n;
  if (root < 0 || root >= f->size)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "root %d is not a rank of %d", root, f->size);
  else if (total > INT_MAX)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "spectrum of %lld doubles exceeds an MPI count",
                         (long long)total);
  else if (f->rank == root && !out)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "no output array on the root");
  PD_COLLECTIVE(f->comm, err);
  int *counts = NULL;
  err = pd_calloc((size_t)f->size, 2 * sizeof(int), &counts);
  err = pd_error_collective(f->comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_free(&counts);
    return err;
  }
  int *displs = counts + f->size;
  int mine = (int)(pd_fft_outer(f) * 2 * nc);
  int rc = MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, f->comm);
  if (rc == MPI_SUCCESS) {
    int64_t off = 0;
    for (int r = 0; r < f->size; r++) {
      displs[r] = (int)off;
      off += counts[r];
    }
    if (off != total)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "slabs hold %lld doubles, the spectrum %lld",
                           (long long)off, (long long)total);
  } else {
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Allgather");
  }
  err = pd_error_collective(f->comm, err, __FILE__, __LINE__);
  if (err == PD_OK) {
    rc = MPI_Gatherv(f->data, mine, MPI_DOUBLE, out, counts, displs, MPI_DOUBLE,
                     root, f->comm);
    if (rc != MPI_SUCCESS)
      err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Gatherv");
    err = pd_error_collective(f->comm, err, __FILE__, __LINE__);
  }
  pd_free(&counts);
  return err;
}
