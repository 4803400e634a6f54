#include "phasediag/observe/gridspec.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>

#include "model/activation_defs.h"
#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/base/repsum.h"
#include "phasediag/observe/fft.h"

struct pd_gridspec {
  MPI_Comm comm;
  int rank, size, d, nshell;
  int64_t n, total;  /* N and N^d */
  int64_t npts, off; /* this rank's points and the first's global index */
  double lo, hi;
  pd_fft *fft;
  double *y;        /* target at this rank's points (>= 1 entry) */
  double *py, *cnt; /* shell target power and counts */
  pd_acc *sacc;     /* nshell accumulators for the shell sums */
  int64_t *pts_r;   /* points of every rank, then their offsets */
};

/* ---- helpers ------------------------------------------------------------- */

/* Coordinates of global point gp into x[0..d). */
static void gs_coords(const pd_gridspec *g, int64_t gp, double *x) {
  for (int j = g->d - 1; j >= 0; j--) {
    int64_t i = gp % g->n;
    gp /= g->n;
    x[j] = g->lo + (g->hi - g->lo) * (double)i / (double)g->n;
  }
}

/* Points evaluated together: the sums of different points are independent
 * chains, so lanes of points vectorize without changing any point's order. */
#define GS_LANES 8

/* For GS_LANES points (coordinates xt[j * GS_LANES + p]): s[p] = the plain
 * double sum over neurons kb..ke-1 (one block), in increasing k, of
 * a_k sigma(w_0 x_0 + .. + w_{d-1} x_{d-1} + w_d), parameters w[j*stride+k];
 * a template over the activation act (activation_defs.h). */
PD_TEMPLATE void gs_block_sums_t(int act, const double *a, const double *w,
                                 int64_t stride, int64_t kb, int64_t ke, int d,
                                 const double *xt, double *s) {
  double acc[GS_LANES], z[GS_LANES];
  for (int p = 0; p < GS_LANES; p++) acc[p] = 0.0;
  for (int64_t k = kb; k < ke; k++) {
    const double w0 = w[k];
    for (int p = 0; p < GS_LANES; p++) z[p] = w0 * xt[p];
    for (int j = 1; j < d; j++) {
      const double wj = w[j * stride + k];
      for (int p = 0; p < GS_LANES; p++)
        z[p] = z[p] + wj * xt[j * GS_LANES + p];
    }
    const double bias = w[d * stride + k], ak = a[k];
    for (int p = 0; p < GS_LANES; p++) {
      double zp = z[p] + bias;
      acc[p] = acc[p] + ak * pd_act_sigma(act, zp);
    }
  }
  for (int p = 0; p < GS_LANES; p++) s[p] = acc[p];
}

/* Not inlined: both methods run exactly this code. */
__attribute__((noinline)) static void gs_block_sums(
    int act, const double *a, const double *w, int64_t stride, int64_t kb,
    int64_t ke, int d, const double *xt, double *s) {
  PD_ACT_DISPATCH(act, gs_block_sums_t, a, w, stride, kb, ke, d, xt, s);
}

/* Exact sums into acc[0..np) (np <= GS_LANES points, coordinates xt, unused
 * lanes ignored) of the block partials of neurons 0..mloc-1 of (a, w); local
 * index 0 must start a global block. */
static void gs_points_sum(int act, const double *a, const double *w,
                          int64_t stride, int64_t mloc, int d, const double *xt,
                          int np, pd_acc *acc) {
  double s[GS_LANES];
  for (int64_t kb = 0; kb < mloc; kb += PD_NET_BLOCK) {
    int64_t ke = kb + PD_NET_BLOCK < mloc ? kb + PD_NET_BLOCK : mloc;
    gs_block_sums(act, a, w, stride, kb, ke, d, xt, s);
    for (int p = 0; p < np; p++) pd_acc_add(&acc[p], s[p]);
  }
}

/* Transposed coordinates xt[j * GS_LANES + p] of the np global points
 * gp0 .. gp0+np-1; the unused lanes are zero. */
static void gs_lane_coords(const pd_gridspec *g, int64_t gp0, int np,
                           double *xt) {
  double x[PD_FFT_MAXDIM];
  for (int i = 0; i < GS_LANES * g->d; i++) xt[i] = 0.0;
  for (int p = 0; p < np; p++) {
    gs_coords(g, gp0 + p, x);
    for (int j = 0; j < g->d; j++) xt[j * GS_LANES + p] = x[j];
  }
}

/* Write v[p] - u[p] (u NULL: 0) at this rank's points into the padded real
 * array of the FFT. */
static void gs_fill(pd_gridspec *g, const double *v, const double *u) {
  double *r = pd_fft_real(g->fft);
  const int64_t P = pd_fft_real_stride(g->fft), n = g->n;
  for (int64_t p = 0; p < g->npts; p++)
    r[(p / n) * P + p % n] = u ? v[p] - u[p] : v[p];
}

/* Local: sum of the squared signed frequencies of all but the last index
 * of complex row o held here. */
static int64_t gs_row_k2(const pd_gridspec *g, int64_t o) {
  int64_t k2 = 0, rest = g->off / g->n + o;
  for (int j = 0; j < g->d - 1; j++) {
    int64_t k = pd_fft_freq(g->n, rest % g->n);
    rest /= g->n;
    k2 += k * k;
  }
  return k2;
}

/* Local: the shell of wave vector (row k2, last index kl) and, in *mult,
 * how often the half spectrum counts it (Parseval: 1 at kl = 0 and, N
 * even, kl = N/2; 2 elsewhere). */
static int gs_shell(const pd_gridspec *g, int64_t k2, int64_t kl, int *mult) {
  int s = (int)floor(sqrt((double)(k2 + kl * kl)) + 0.5);
  if (s >= g->nshell) s = g->nshell - 1; /* rounding guard */
  *mult = (kl == 0 || (g->n % 2 == 0 && kl == g->n / 2)) ? 1 : 2;
  return s;
}

/* Collective.  After pd_fft_execute: exact shell power of the spectrum held
 * in the FFT array, the same on every rank. */
static int gs_shells(pd_gridspec *g, double *power) {
  pd_acc_zero(g->sacc, (size_t)g->nshell);
  const int64_t nc = g->n / 2 + 1, outer = g->npts / g->n; /* rows here */
  const double *c = pd_fft_complex(g->fft);
  for (int64_t o = 0; o < outer; o++) {
    const int64_t k2 = gs_row_k2(g, o);
    const double *row = c + 2 * o * nc;
    for (int64_t kl = 0; kl < nc; kl++) {
      int mult;
      const int s = gs_shell(g, k2, kl, &mult);
      double re = row[2 * kl], im = row[2 * kl + 1];
      pd_acc_add(&g->sacc[s], mult * (re * re + im * im));
    }
  }
  int err = pd_acc_allreduce(g->sacc, (size_t)g->nshell, g->comm);
  PD_COLLECTIVE(g->comm, err);
  for (int s = 0; s < g->nshell; s++) power[s] = pd_acc_value(&g->sacc[s]);
  return PD_OK;
}

/* Collective.  Shell counts of the full spectrum (exact integers). */
static int gs_counts(pd_gridspec *g, int64_t *cnt) {
  const int64_t nc = g->n / 2 + 1, outer = g->npts / g->n;
  for (int s = 0; s < g->nshell; s++) cnt[s] = 0;
  for (int64_t o = 0; o < outer; o++) {
    const int64_t k2 = gs_row_k2(g, o);
    for (int64_t kl = 0; kl < nc; kl++) {
      int mult;
      const int s = gs_shell(g, k2, kl, &mult);
      cnt[s] += mult;
    }
  }
  int err = PD_OK;
  int rc = MPI_Allreduce(MPI_IN_PLACE, cnt, g->nshell, MPI_INT64_T, MPI_SUM,
                         g->comm);
  if (rc != MPI_SUCCESS)
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Allreduce");
  PD_COLLECTIVE(g->comm, err);
  return PD_OK;
}

/* ---- creation ------------------------------------------------------------ */

static int gs_check_args(int d, int64_t n, double lo, double hi) {
  PD_CHECK(d >= 1 && d <= PD_FFT_MAXDIM, PD_ERR_ARG,
           "grid dimension %d is not in 1..%d", d, PD_FFT_MAXDIM);
  PD_CHECK(n >= 2 && n <= INT_MAX, PD_ERR_ARG, "grid size %lld is not in 2..%d",
           (long long)n, INT_MAX);
  PD_CHECK(isfinite(lo) && isfinite(hi) && lo < hi, PD_ERR_ARG,
           "grid box [%g, %g) is empty or not finite", lo, hi);
  double total = 1.0;
  for (int j = 0; j < d; j++) total *= (double)n;
  PD_CHECK(total < 0x1p52, PD_ERR_ARG, "grid %lld^%d is too large",
           (long long)n, d);
  return PD_OK;
}

/* Local: the target at this rank's points, in chunks of coordinates. */
static int gs_target(pd_gridspec *g, pd_target_fn target, void *ctx) {
  if (!target || g->npts == 0) return PD_OK;
  const int64_t chunk = PD_GRIDSPEC_CHUNK;
  double *x = NULL;
  PD_CALL(pd_calloc((size_t)chunk * (size_t)g->d, sizeof(double), &x));
  int err = PD_OK;
  for (int64_t p0 = 0; p0 < g->npts && err == PD_OK; p0 += chunk) {
    int64_t c = g->npts - p0 < chunk ? g->npts - p0 : chunk;
    for (int64_t i = 0; i < c; i++) gs_coords(g, g->off + p0 + i, x + i * g->d);
    err = target(ctx, c, g->d, x, g->y + p0);
    if (err != PD_OK)
      err = pd_error_trace(err, __FILE__, __LINE__, __func__, "target");
  }
  for (int64_t p = 0; p < g->npts && err == PD_OK; p++)
    if (!isfinite(g->y[p]))
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "target is not finite at grid point %lld",
                           (long long)(g->off + p));
  pd_free(&x);
  return err;
}

/* Collective part of the creation after the FFT exists. */
static int gs_setup(pd_gridspec *g, pd_target_fn target, void *ctx) {
  const int64_t rowpts = g->total / g->n; /* N^(d-1) */
  g->npts = pd_fft_local_n0(g->fft) * rowpts;
  g->off = pd_fft_local_0_start(g->fft) * rowpts;
  g->nshell = pd_fft_nshells(g->fft);
  int64_t *icnt = NULL;
  int err =
      pd_calloc((size_t)(g->npts > 0 ? g->npts : 1), sizeof(double), &g->y);
  if (err == PD_OK)
    err = pd_calloc((size_t)g->nshell, 2 * sizeof(double), &g->py);
  if (err == PD_OK)
    err = pd_calloc((size_t)g->nshell, sizeof(pd_acc), &g->sacc);
  if (err == PD_OK)
    err = pd_calloc((size_t)g->size, 2 * sizeof(int64_t), &g->pts_r);
  if (err == PD_OK) err = pd_calloc((size_t)g->nshell, sizeof(int64_t), &icnt);
  err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_free(&icnt);
    return err;
  }
  g->cnt = g->py + g->nshell;
  int64_t mine[2] = {g->npts, g->off};
  int rc =
      MPI_Allgather(mine, 2, MPI_INT64_T, g->pts_r, 2, MPI_INT64_T, g->comm);
  if (rc != MPI_SUCCESS)
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Allgather");
  err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  if (err == PD_OK) {
    err = gs_target(g, target, ctx);
    err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  }
  if (err == PD_OK) {
    gs_fill(g, g->y, NULL);
    err = pd_fft_execute(g->fft);
    err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  }
  if (err == PD_OK) err = gs_shells(g, g->py);
  if (err == PD_OK) err = gs_counts(g, icnt);
  if (err == PD_OK)
    for (int s = 0; s < g->nshell; s++) g->cnt[s] = (double)icnt[s];
  pd_free(&icnt);
  return err;
}

int pd_gridspec_create(MPI_Comm comm, int d, int64_t N, double lo, double hi,
                       pd_target_fn target, void *ctx, pd_gridspec **out) {
  *out = NULL;
  int err = gs_check_args(d, N, lo, hi);
  PD_COLLECTIVE(comm, err);
  pd_gridspec *g = NULL;
  err = pd_calloc(1, sizeof *g, &g);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_free(&g);
    return err;
  }
  g->comm = MPI_COMM_NULL;
  g->d = d;
  g->n = N;
  g->lo = lo;
  g->hi = hi;
  g->total = 1;
  for (int j = 0; j < d; j++) g->total *= N;
  int rc = MPI_Comm_dup(comm, &g->comm);
  if (rc != MPI_SUCCESS) {
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Comm_dup");
    g->comm = MPI_COMM_NULL;
  }
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  if (err != PD_OK) {
    pd_gridspec_destroy(&g);
    return err;
  }
  MPI_Comm_set_errhandler(g->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(g->comm, &g->rank);
  MPI_Comm_size(g->comm, &g->size);
  err = pd_fft_create(g->comm, d, N, PD_FFT_ESTIMATE, &g->fft);
  if (err == PD_OK) err = gs_setup(g, target, ctx);
  if (err != PD_OK) { /* every rank is here: the errors were collective */
    pd_gridspec_destroy(&g);
    return err;
  }
  *out = g;
  return PD_OK;
}

int pd_gridspec_destroy(pd_gridspec **pg) {
  if (!pg || !*pg) return PD_OK;
  pd_gridspec *g = *pg;
  pd_fft_destroy(&g->fft);
  pd_free(&g->y);
  pd_free(&g->py);
  pd_free(&g->sacc);
  pd_free(&g->pts_r);
  if (g->comm != MPI_COMM_NULL) MPI_Comm_free(&g->comm);
  pd_free(pg);
  return PD_OK;
}

MPI_Comm pd_gridspec_comm(const pd_gridspec *g) { return g->comm; }
int pd_gridspec_dim(const pd_gridspec *g) { return g->d; }
int64_t pd_gridspec_n(const pd_gridspec *g) { return g->n; }
int pd_gridspec_nshells(const pd_gridspec *g) { return g->nshell; }
const double *pd_gridspec_target_power(const pd_gridspec *g) { return g->py; }
const double *pd_gridspec_shell_count(const pd_gridspec *g) { return g->cnt; }
int64_t pd_gridspec_local_points(const pd_gridspec *g) { return g->npts; }
int64_t pd_gridspec_local_offset(const pd_gridspec *g) { return g->off; }
const double *pd_gridspec_target_values(const pd_gridspec *g) { return g->y; }

int pd_gridspec_local_coords(const pd_gridspec *g, double *x) {
  PD_CHECK(x || g->npts == 0, PD_ERR_ARG, "no coordinate array");
  for (int64_t p = 0; p < g->npts; p++) gs_coords(g, g->off + p, x + p * g->d);
  return PD_OK;
}

/* ---- method choice ------------------------------------------------------- */

void pd_gridspec_bytes(int64_t m, int d, int P, int64_t points,
                       double *bytes_gather, double *bytes_reduce) {
  if (P < 1) P = 1;
  /* the fewest neurons on a rank, by pd_net's partition into whole blocks */
  int64_t nb = (m + PD_NET_BLOCK - 1) / PD_NET_BLOCK, mmin = m;
  int64_t q = nb / P, r = nb % P;
  for (int64_t rank = 0; rank < P; rank++) {
    int64_t b0 = rank * q + (rank < r ? rank : r);
    int64_t b1 = b0 + q + (rank < r ? 1 : 0);
    int64_t e = b1 * PD_NET_BLOCK < m ? b1 * PD_NET_BLOCK : m;
    int64_t k0 = b0 * PD_NET_BLOCK < m ? b0 * PD_NET_BLOCK : m;
    if (e - k0 < mmin) mmin = e - k0;
  }
  if (bytes_gather)
    *bytes_gather = (double)(m - mmin) * (double)(d + 2) * sizeof(double);
  if (bytes_reduce)
    *bytes_reduce = P > 1 ? (double)points * (double)sizeof(pd_acc) : 0.0;
}

int pd_gridspec_choose(const pd_gridspec *g, const pd_net *net,
                       double *bytes_gather, double *bytes_reduce) {
  const int64_t m = pd_net_get_config(net)->m;
  double bg, br;
  pd_gridspec_bytes(m, g->d, g->size, g->total, &bg, &br);
  if (bytes_gather) *bytes_gather = bg;
  if (bytes_reduce) *bytes_reduce = br;
  return m <= INT_MAX && bg <= br ? PD_GRIDSPEC_GATHER : PD_GRIDSPEC_REDUCE;
}

/* ---- evaluation ---------------------------------------------------------- */

/* Collective: every parameter on every rank, evaluate the own slab. */
static int gs_eval_gather(pd_gridspec *g, pd_net *net, double *h) {
  const pd_net_config *cfg = pd_net_get_config(net);
  const pd_net_view v = pd_net_get_view(net);
  const int64_t m = cfg->m;
  const int d = g->d;
  int err = PD_OK;
  if (m > INT_MAX)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "width %lld exceeds an MPI count: the gather method "
                         "cannot be used (take REDUCE)",
                         (long long)m);
  PD_COLLECTIVE(g->comm, err);
  double *par = NULL; /* a[m], then w[j * m + k] */
  int *counts = NULL;
  int64_t *kk = NULL;
  pd_acc acc[GS_LANES];
  err = pd_calloc((size_t)m * (size_t)(d + 2), sizeof(double), &par);
  if (err == PD_OK) err = pd_calloc((size_t)g->size, 2 * sizeof(int), &counts);
  if (err == PD_OK) err = pd_calloc((size_t)g->size, 2 * sizeof(int64_t), &kk);
  err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  if (err != PD_OK) goto done;
  int *displs = counts + g->size;
  int64_t mine[2] = {v.k0, v.mloc};
  int rc = MPI_Allgather(mine, 2, MPI_INT64_T, kk, 2, MPI_INT64_T, g->comm);
  if (rc != MPI_SUCCESS)
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Allgather");
  int64_t next = 0;
  for (int r = 0; r < g->size && err == PD_OK; r++) {
    if (kk[2 * r] != next)
      err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                           "rank %d holds neurons from %lld, expected %lld", r,
                           (long long)kk[2 * r], (long long)next);
    displs[r] = (int)kk[2 * r];
    counts[r] = (int)kk[2 * r + 1];
    next += kk[2 * r + 1];
  }
  if (err == PD_OK && next != m)
    err = pd_error_raise(PD_ERR_NUMERIC, __FILE__, __LINE__, __func__,
                         "ranks hold %lld neurons, the width is %lld",
                         (long long)next, (long long)m);
  err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  if (err != PD_OK) goto done;
  for (int j = -1; j <= d && err == PD_OK; j++) {
    const double *src = j < 0 ? v.a : v.w + (int64_t)j * v.stride;
    double *dst = par + (int64_t)(j + 1) * m;
    rc = MPI_Allgatherv(src, (int)v.mloc, MPI_DOUBLE, dst, counts, displs,
                        MPI_DOUBLE, g->comm);
    if (rc != MPI_SUCCESS)
      err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Allgatherv");
  }
  err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  if (err != PD_OK) goto done;
  double xt[GS_LANES * PD_FFT_MAXDIM];
  for (int64_t p0 = 0; p0 < g->npts; p0 += GS_LANES) {
    int np = g->npts - p0 < GS_LANES ? (int)(g->npts - p0) : GS_LANES;
    gs_lane_coords(g, g->off + p0, np, xt);
    pd_acc_zero(acc, GS_LANES);
    gs_points_sum(cfg->act->id, par, par + m, m, m, d, xt, np, acc);
    for (int p = 0; p < np; p++)
      h[p0 + p] = pd_acc_value(&acc[p]) / cfg->scales.alpha;
  }
done:
  pd_free(&par);
  pd_free(&counts);
  pd_free(&kk);
  return err;
}

/* Collective: own neurons at every point, exact partials reduced to the
 * slab owners chunk by chunk. */
static int gs_eval_reduce(pd_gridspec *g, pd_net *net, double *h) {
  const pd_net_config *cfg = pd_net_get_config(net);
  const pd_net_view v = pd_net_get_view(net);
  const int d = g->d;
  int64_t chunk = 1;
  for (int r = 0; r < g->size; r++)
    if (g->pts_r[2 * r] > chunk) chunk = g->pts_r[2 * r];
  if (chunk > PD_GRIDSPEC_CHUNK) chunk = PD_GRIDSPEC_CHUNK;
  pd_acc *acc = NULL;
  int err = pd_calloc((size_t)chunk, sizeof(pd_acc), &acc);
  PD_COLLECTIVE(g->comm, err);
  double xt[GS_LANES * PD_FFT_MAXDIM];
  /* every rank runs the same loop: the slab sizes are known everywhere */
  for (int r = 0; r < g->size && err == PD_OK; r++) {
    const int64_t np = g->pts_r[2 * r], off = g->pts_r[2 * r + 1];
    for (int64_t p0 = 0; p0 < np && err == PD_OK; p0 += chunk) {
      const int64_t c = np - p0 < chunk ? np - p0 : chunk;
      pd_acc_zero(acc, (size_t)c);
      for (int64_t i = 0; i < c; i += GS_LANES) {
        int nl = c - i < GS_LANES ? (int)(c - i) : GS_LANES;
        gs_lane_coords(g, off + p0 + i, nl, xt);
        gs_points_sum(cfg->act->id, v.a, v.w, v.stride, v.mloc, d, xt, nl,
                      acc + i);
      }
      err = pd_acc_reduce(acc, (size_t)c, r, g->comm);
      if (err == PD_OK && r == g->rank)
        for (int64_t i = 0; i < c; i++)
          h[p0 + i] = pd_acc_value(&acc[i]) / cfg->scales.alpha;
    }
  }
  pd_free(&acc);
  PD_COLLECTIVE(g->comm, err);
  return PD_OK;
}

int pd_gridspec_eval(pd_gridspec *g, pd_net *net, int method, double *h,
                     int *used) {
  int err = PD_OK, cmp = MPI_UNEQUAL;
  int rc = MPI_Comm_compare(g->comm, pd_net_comm(net), &cmp);
  if (rc != MPI_SUCCESS)
    err = pd_error_mpi(rc, __FILE__, __LINE__, __func__, "MPI_Comm_compare");
  else if (cmp != MPI_IDENT && cmp != MPI_CONGRUENT)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "the network's communicator is not congruent with "
                         "the grid's (same ranks in the same order needed)");
  else if (pd_net_get_config(net)->d != g->d)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "network dimension %d differs from the grid's %d",
                         pd_net_get_config(net)->d, g->d);
  else if (method != PD_GRIDSPEC_AUTO && method != PD_GRIDSPEC_GATHER &&
           method != PD_GRIDSPEC_REDUCE)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "unknown evaluation method %d", method);
  else if (!h && g->npts > 0)
    err = pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                         "no output array for %lld points", (long long)g->npts);
  PD_COLLECTIVE(g->comm, err);
  if (method == PD_GRIDSPEC_AUTO)
    method = pd_gridspec_choose(g, net, NULL, NULL);
  if (method == PD_GRIDSPEC_GATHER)
    PD_CALL(gs_eval_gather(g, net, h));
  else
    PD_CALL(gs_eval_reduce(g, net, h));
  if (used) *used = method;
  return PD_OK;
}

int pd_gridspec_error(pd_gridspec *g, pd_net *net, int method, double *rel,
                      double *hpower, int *used) {
  double *h = NULL; /* h at the points, then the error power */
  int err = pd_calloc((size_t)(g->npts + g->nshell), sizeof(double), &h);
  PD_COLLECTIVE(g->comm, err);
  double *pe = h + g->npts;
  err = pd_gridspec_eval(g, net, method, h, used);
  if (err == PD_OK) {
    gs_fill(g, h, g->y);
    err = pd_fft_execute(g->fft);
    err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
  }
  if (err == PD_OK) err = gs_shells(g, pe);
  if (err == PD_OK && hpower) {
    gs_fill(g, h, NULL);
    err = pd_fft_execute(g->fft);
    err = pd_error_collective(g->comm, err, __FILE__, __LINE__);
    if (err == PD_OK) err = gs_shells(g, hpower);
  }
  if (err == PD_OK)
    for (int s = 0; s < g->nshell; s++)
      rel[s] = g->py[s] > 0 ? sqrt(pe[s] / g->py[s]) : NAN;
  pd_free(&h);
  return err;
}
