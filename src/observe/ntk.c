#include "phasediag/observe/ntk.h"

#include <math.h>
#include <stddef.h>

#include "model/activation_defs.h"
#include "phasediag/base/error.h"
#include "phasediag/base/mem.h"
#include "phasediag/observe/ntk_quad.h"

/* BLAS (Fortran, gfortran ABI). */
void dgemm_(const char *transa, const char *transb, const int *m, const int *n,
            const int *k, const double *alpha, const double *a, const int *lda,
            const double *b, const int *ldb, const double *beta, double *c,
            const int *ldc, size_t transa_len, size_t transb_len);

static const double pd_pi = 3.14159265358979323846;

int pd_ntk_closed_form_check(const pd_activation *act) {
  PD_CALL(pd_activation_require_closed_form(act, "infinite-width NTK"));
  return PD_OK;
}

double pd_ntk_closed_form(const double *x, const double *xp, int d, double m,
                          const pd_scales *s) {
  double nx, ny, dot;
  const double theta = pd_ntk_angle(x, xp, d, &nx, &ny, &dot);
  const double b1 = s->beta1, b2 = s->beta2;
  const double k1 = nx * ny * sin(theta) + (pd_pi - theta) * dot;
  const double k0 = (pd_pi - theta) * dot;
  return m / (s->alpha * s->alpha) * (b2 * b2 * k1 + b1 * b1 * k0) /
         (2 * pd_pi);
}

typedef struct {
  const pd_data *data;
  double m;
  const pd_scales *s;
} pd_ntk_ctx;

static double pd_ntk_entry(int i, int j, void *vctx) {
  const pd_ntk_ctx *c = vctx;
  const int d = c->data->d;
  return pd_ntk_closed_form(c->data->x + (size_t)i * d,
                            c->data->x + (size_t)j * d, d, c->m, c->s);
}

int pd_ntk_fill_closed_form(pd_dmat *K, const pd_data *data, double m,
                            const pd_scales *s) {
  PD_CHECK(data->n == K->n, PD_ERR_ARG, "%lld samples for a matrix of order %d",
           (long long)data->n, K->n);
  PD_CHECK(isfinite(m) && m > 0 && isfinite(s->alpha) && s->alpha > 0,
           PD_ERR_ARG, "bad width %g or alpha %g", m, s->alpha);
  pd_ntk_ctx ctx = {data, m, s};
  PD_CALL(pd_dmat_fill(K, pd_ntk_entry, &ctx));
  return PD_OK;
}

int pd_ntk_fill_infinite(pd_dmat *K, const pd_data *data,
                         const pd_activation *act, double m,
                         const pd_scales *s) {
  if (!act) act = pd_activation_default();
  if (act->closed_form_ntk) {
    PD_CALL(pd_ntk_fill_closed_form(K, data, m, s));
    return PD_OK;
  }
  pd_ntk_quad *q = NULL;
  PD_CALL(pd_ntk_quad_create(act, 0, &q));
  int err = pd_ntk_quad_fill(K, data, q, m, s);
  pd_ntk_quad_destroy(&q);
  PD_CALL(err);
  return PD_OK;
}

/* ---- empirical ---------------------------------------------------------- */

enum { PD_NTK_CHUNK = PD_NET_BLOCK };

typedef struct {
  double *RI, *SI, *RJ, *SJ;     /* nb x chunk features of the two row blocks */
  double *P1, *P2, *part, *recv; /* nb x nb */
} pd_ntk_work;

/* Features of rows i0 .. i0+ri-1 for local neurons k0 .. k0+kc-1, column
 * major with leading dimension ld: R = sigma(z), S = a sigma'(z) (a template
 * over the activation act, activation_defs.h). */
PD_TEMPLATE void pd_ntk_features_t(int act, const pd_net_view *v,
                                   const pd_data *data, int i0, int ri,
                                   int64_t k0, int kc, int ld, double *R,
                                   double *S) {
  const int d = data->d;
  for (int kk = 0; kk < kc; kk++) {
    const int64_t k = k0 + kk;
    const double bias = v->w[(size_t)d * v->stride + k], a = v->a[k];
    for (int r = 0; r < ri; r++) {
      const double *x = data->x + (size_t)(i0 + r) * d;
      double z = bias;
      for (int j = 0; j < d; j++) z += v->w[(size_t)j * v->stride + k] * x[j];
      R[(size_t)kk * ld + r] = pd_act_sigma(act, z);
      S[(size_t)kk * ld + r] = pd_act_dmul(act, z, a);
    }
  }
}

static void pd_ntk_features(int act, const pd_net_view *v, const pd_data *data,
                            int i0, int ri, int64_t k0, int kc, int ld,
                            double *R, double *S) {
  PD_ACT_DISPATCH(act, pd_ntk_features_t, v, data, i0, ri, k0, kc, ld, R, S);
}

/* This rank's partial sum for the block rows i0.., columns j0.. into
 * w->part (ri x cj, leading dimension ri). */
static void pd_ntk_partial(int act, const pd_net_view *v, const pd_data *data,
                           double alpha, int nb, int i0, int ri, int j0, int cj,
                           pd_ntk_work *w) {
  const double one = 1.0;
  const int same = i0 == j0;
  for (size_t e = 0; e < (size_t)ri * cj; e++) w->P1[e] = w->P2[e] = 0;
  for (int64_t k0 = 0; k0 < v->mloc; k0 += PD_NTK_CHUNK) {
    int kc = (int)(v->mloc - k0 < PD_NTK_CHUNK ? v->mloc - k0 : PD_NTK_CHUNK);
    pd_ntk_features(act, v, data, i0, ri, k0, kc, nb, w->RI, w->SI);
    const double *RJ = w->RI, *SJ = w->SI;
    if (!same) {
      pd_ntk_features(act, v, data, j0, cj, k0, kc, nb, w->RJ, w->SJ);
      RJ = w->RJ;
      SJ = w->SJ;
    }
    dgemm_("N", "T", &ri, &cj, &kc, &one, w->RI, &nb, RJ, &nb, &one, w->P1, &ri,
           1, 1);
    dgemm_("N", "T", &ri, &cj, &kc, &one, w->SI, &nb, SJ, &nb, &one, w->P2, &ri,
           1, 1);
  }
  const int d = data->d;
  const double s = 1 / (alpha * alpha);
  for (int c = 0; c < cj; c++) {
    const double *xj = data->x + (size_t)(j0 + c) * d;
    for (int r = 0; r < ri; r++) {
      const double *xi = data->x + (size_t)(i0 + r) * d;
      double g = 1;
      for (int j = 0; j < d; j++) g += xi[j] * xj[j];
      size_t e = (size_t)c * ri + r;
      w->part[e] = (w->P1[e] + g * w->P2[e]) * s;
    }
  }
}

/* Store the ri x cj block (leading dimension ri) at block (bi, bj) of K,
 * transposed if trans (then buf is cj x ri); local. */
static void pd_ntk_store(pd_dmat *K, int bi, int bj, int ri, int cj,
                         const double *buf, int trans) {
  const size_t il0 = (size_t)(bi / K->nprow) * K->nb;
  const size_t jl0 = (size_t)(bj / K->npcol) * K->nb;
  for (int c = 0; c < cj; c++)
    for (int r = 0; r < ri; r++)
      K->a[(jl0 + c) * K->lld + il0 + r] =
          trans ? buf[(size_t)r * cj + c] : buf[(size_t)c * ri + r];
}

/* Collective: reduce the partial block buf (ri x cj) to the owner of block
 * (bi, bj) of K and store it there; the owner then sends it to the owner of
 * the mirror block (bj, bi), which stores its transpose, so K is exactly
 * symmetric. */
static int pd_ntk_reduce_block(pd_dmat *K, int bi, int bj, int ri, int cj,
                               const double *buf, double *recv) {
  MPI_Comm comm = pd_blacs_comm(K->grid);
  const int src = pd_blacs_rank_of(K->grid, bi % K->nprow, bj % K->npcol);
  const int dst = pd_blacs_rank_of(K->grid, bj % K->nprow, bi % K->npcol);
  int rank;
  MPI_Comm_rank(comm, &rank);
  PD_CALL_MPI(MPI_Reduce(buf, recv, ri * cj, MPI_DOUBLE, MPI_SUM, src, comm));
  if (rank == src) pd_ntk_store(K, bi, bj, ri, cj, recv, 0);
  if (bi == bj) return PD_OK;
  if (rank == src && src != dst)
    PD_CALL_MPI(MPI_Send(recv, ri * cj, MPI_DOUBLE, dst, 0, comm));
  if (rank == dst && src != dst)
    PD_CALL_MPI(
        MPI_Recv(recv, ri * cj, MPI_DOUBLE, src, 0, comm, MPI_STATUS_IGNORE));
  if (rank == dst) pd_ntk_store(K, bj, bi, cj, ri, recv, 1);
  return PD_OK;
}

static int pd_ntk_work_alloc(pd_ntk_work *w, int nb) {
  const size_t f = (size_t)nb * PD_NTK_CHUNK, b = (size_t)nb * nb;
  double **fb[4] = {&w->RI, &w->SI, &w->RJ, &w->SJ};
  for (int i = 0; i < 4; i++) PD_CALL(pd_calloc(f, sizeof(double), fb[i]));
  double **bb[4] = {&w->P1, &w->P2, &w->part, &w->recv};
  for (int i = 0; i < 4; i++) PD_CALL(pd_calloc(b, sizeof(double), bb[i]));
  return PD_OK;
}

static void pd_ntk_work_free(pd_ntk_work *w) {
  double **all[8] = {&w->RI, &w->SI, &w->RJ,   &w->SJ,
                     &w->P1, &w->P2, &w->part, &w->recv};
  for (int i = 0; i < 8; i++) pd_free(all[i]);
}

static int pd_ntk_check(pd_net *net, const pd_data *data, const pd_dmat *K) {
  int cmp = MPI_UNEQUAL;
  PD_CALL_MPI(MPI_Comm_compare(pd_net_comm(net), pd_blacs_comm(K->grid), &cmp));
  PD_CHECK(cmp == MPI_IDENT || cmp == MPI_CONGRUENT, PD_ERR_ARG,
           "the net's communicator is not the one the BLACS grid was built "
           "on");
  const pd_net_config *cfg = pd_net_get_config(net);
  PD_CHECK(data->d == cfg->d, PD_ERR_ARG,
           "data of dimension %d for a net of dimension %d", data->d, cfg->d);
  PD_CHECK(data->n == K->n, PD_ERR_ARG, "%lld samples for a matrix of order %d",
           (long long)data->n, K->n);
  PD_CHECK((int64_t)K->nb * K->nb <= INT32_MAX, PD_ERR_ARG,
           "block size %d too large for an MPI count", K->nb);
  return PD_OK;
}

int pd_ntk_empirical(pd_net *net, const pd_data *data, pd_dmat *K) {
  MPI_Comm comm = pd_blacs_comm(K->grid);
  int err = pd_ntk_check(net, data, K);
  PD_COLLECTIVE(comm, err);
  pd_ntk_work w = {0};
  err = pd_ntk_work_alloc(&w, K->nb);
  err = pd_error_collective(comm, err, __FILE__, __LINE__);
  const pd_net_view v = pd_net_get_view(net);
  const pd_net_config *cfg = pd_net_get_config(net);
  const double alpha = cfg->scales.alpha;
  const int act = cfg->act->id; /* set by pd_net_create */
  const int n = K->n, nb = K->nb, nblk = (n + nb - 1) / nb;
  for (int bi = 0; bi < nblk && err == PD_OK; bi++) {
    const int i0 = bi * nb, ri = n - i0 < nb ? n - i0 : nb;
    for (int bj = 0; bj <= bi && err == PD_OK; bj++) {
      const int j0 = bj * nb, cj = n - j0 < nb ? n - j0 : nb;
      pd_ntk_partial(act, &v, data, alpha, nb, i0, ri, j0, cj, &w);
      err = pd_ntk_reduce_block(K, bi, bj, ri, cj, w.part, w.recv);
      err = pd_error_collective(comm, err, __FILE__, __LINE__);
    }
  }
  pd_ntk_work_free(&w);
  return err;
}
