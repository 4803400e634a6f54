#include "phasediag/model/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/clones.h"
#include "model/kernel_body.h"
#include "phasediag/model/net.h"

/* ---- instances ---------------------------------------------------------- */
/* The chunk operations the dispatch table points to: op(act, ...) runs the
 * template op_t instantiated for activation act (PD_ACT_DISPATCH: one
 * case per activation, each with its forms inlined). */

#define PD_GRAD_OP(attr, op)                                                  \
  attr static void op(                                                        \
      int act, const double *restrict a, const double *restrict w, int64_t s, \
      int64_t k, const double *restrict x, const double *restrict c,          \
      int64_t n, int d, double *restrict ga, double *restrict gw) {           \
    PD_ACT_DISPATCH(act, op##_t, a, w, s, k, x, c, n, d, ga, gw);             \
  }
#define PD_OUTPUT_OP(attr, op)                                        \
  attr static void op(int act, const double *restrict a,              \
                      const double *restrict w, int64_t s, int64_t k, \
                      const double *restrict x, int64_t n, int d,     \
                      double *restrict P) {                           \
    PD_ACT_DISPATCH(act, op##_t, a, w, s, k, x, n, d, P);             \
  }
#define PD_TANGENT_OP(attr, op)                                                \
  attr static void op(int act, const double *restrict w, int64_t s, int64_t k, \
                      const double *restrict x, int64_t n, int d,              \
                      const double *restrict ga, const double *restrict gw,    \
                      double *restrict P) {                                    \
    PD_ACT_DISPATCH(act, op##_t, w, s, k, x, n, d, ga, gw, P);                 \
  }

PD_GRAD_OP(PD_CLONES, pd_chunk_grad)
PD_OUTPUT_OP(PD_CLONES, pd_chunk_output)
PD_TANGENT_OP(PD_CLONES, pd_chunk_tangent)

/* Chunks k and k + 8 in turn (the AVX2 version for d = 1 fuses them). */
static void pd_chunk_output2(int act, const double *restrict a,
                             const double *restrict w, int64_t s, int64_t k,
                             const double *restrict x, int64_t n, int d,
                             double *restrict P) {
  pd_chunk_output(act, a, w, s, k, x, n, d, P);
  pd_chunk_output(act, a, w, s, k + PD_LANES, x, n, d, P);
}

#if PD_HAVE_AVX2
PD_GRAD_OP(PD_AVX2, pd_chunk_grad_avx2)
PD_OUTPUT_OP(PD_AVX2, pd_chunk_output_avx2)
PD_OUTPUT_OP(PD_AVX2, pd_chunk_output2_avx2)
PD_TANGENT_OP(PD_AVX2, pd_chunk_tangent_avx2)
PD_GRAD_OP(PD_AVX2, pd_chunk_grad_dn_avx2)
PD_OUTPUT_OP(PD_AVX2, pd_chunk_output_dn_avx2)
PD_TANGENT_OP(PD_AVX2, pd_chunk_tangent_dn_avx2)

PD_GRAD_OP(PD_AVX2, pd_chunk_grad_tl_avx2)
PD_OUTPUT_OP(PD_AVX2, pd_chunk_output_tl_avx2)
PD_TANGENT_OP(PD_AVX2, pd_chunk_tangent_tl_avx2)

PD_AVX2 static void pd_chunk_output2_tl_avx2(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, int64_t n, int d, double *restrict P) {
  pd_chunk_output_tl_avx2(act, a, w, s, k, x, n, d, P);
  if (pd_pf.p) pd_pf.p += PD_LANES; /* the hint's second line */
  pd_chunk_output_tl_avx2(act, a, w, s, k + PD_LANES, x, n, d, P);
}

PD_AVX2 static void pd_chunk_output2_dn_avx2(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, int64_t n, int d, double *restrict P) {
  pd_chunk_output_dn_avx2(act, a, w, s, k, x, n, d, P);
  pd_chunk_output_dn_avx2(act, a, w, s, k + PD_LANES, x, n, d, P);
}
#endif

/* ---- dispatch ----------------------------------------------------------- */

/* One row per instruction set and d; every operation takes the activation
 * (its registry id) first. */
typedef struct {
  void (*grad)(int, const double *restrict, const double *restrict, int64_t,
               int64_t, const double *restrict, const double *restrict, int64_t,
               int, double *restrict, double *restrict);
  void (*output)(int, const double *restrict, const double *restrict, int64_t,
                 int64_t, const double *restrict, int64_t, int,
                 double *restrict);
  void (*tangent)(int, const double *restrict, int64_t, int64_t,
                  const double *restrict, int64_t, int, const double *restrict,
                  const double *restrict, double *restrict);
  /* output of chunks k and k + PD_LANES, bitwise as two output calls */
  void (*output2)(int, const double *restrict, const double *restrict, int64_t,
                  int64_t, const double *restrict, int64_t, int,
                  double *restrict);
  const char *name;
} pd_chunk_ops;

static const pd_chunk_ops pd_ops_generic = {pd_chunk_grad, pd_chunk_output,
                                            pd_chunk_tangent, pd_chunk_output2,
                                            "generic"};
#if PD_HAVE_AVX2
static const pd_chunk_ops pd_ops_avx2 = {
    pd_chunk_grad_avx2, pd_chunk_output_avx2, pd_chunk_tangent_avx2,
    pd_chunk_output2_avx2, "avx2-d1"};
static const pd_chunk_ops pd_ops_avx2_dn = {
    pd_chunk_grad_dn_avx2, pd_chunk_output_dn_avx2, pd_chunk_tangent_dn_avx2,
    pd_chunk_output2_dn_avx2, "avx2-dn4"};
static const pd_chunk_ops pd_ops_avx2_tl = {
    pd_chunk_grad_tl_avx2, pd_chunk_output_tl_avx2, pd_chunk_tangent_tl_avx2,
    pd_chunk_output2_tl_avx2, "avx2"};
#endif

static pd_isa pd_isa_forced = PD_ISA_AUTO;

static int pd_cpu_has_avx2(void) {
#if PD_HAVE_AVX2
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

pd_isa pd_kernel_set_isa(pd_isa isa) {
  if ((isa == PD_ISA_AVX2 || isa == PD_ISA_AVX2_DN4) && !pd_cpu_has_avx2())
    isa = PD_ISA_GENERIC;
  pd_isa_forced = isa;
  return isa == PD_ISA_AUTO ? (pd_cpu_has_avx2() ? PD_ISA_AVX2 : PD_ISA_GENERIC)
                            : isa;
}

static const pd_chunk_ops *pd_ops(int d) {
#if PD_HAVE_AVX2
  if (pd_isa_forced != PD_ISA_GENERIC && pd_cpu_has_avx2()) {
    if (d == 1) return &pd_ops_avx2;
    return pd_isa_forced == PD_ISA_AVX2_DN4 ? &pd_ops_avx2_dn : &pd_ops_avx2_tl;
  }
#else
  (void)d;
#endif
  return &pd_ops_generic;
}

const char *pd_kernel_name(int d) { return pd_ops(d)->name; }

/* The shard's activation as a registry id (no activation: relu). */
static int pd_act(const pd_shard *sh) {
  return sh->act ? sh->act->id : PD_ACT_relu;
}

/* ---- shard loops -------------------------------------------------------- */

/* Fixed-order combination of a block's lane partials, added exactly. */
static void pd_block_flush(double *P, int64_t n, pd_acc *acc) {
  for (int64_t i = 0; i < n; i++) {
    const double *p = P + i * PD_LANES;
    pd_acc_add(&acc[i], ((p[0] + p[1]) + (p[2] + p[3])) +
                            ((p[4] + p[5]) + (p[6] + p[7])));
  }
  memset(P, 0, sizeof(double) * PD_LANES * (size_t)n);
}

#define PD_FOR_CHUNKS(mloc, k, body)                                      \
  for (int64_t b_ = 0; b_ < (mloc); b_ += PD_NET_BLOCK) {                 \
    int64_t e_ = b_ + PD_NET_BLOCK < (mloc) ? b_ + PD_NET_BLOCK : (mloc); \
    for (int64_t k = b_; k < e_; k += PD_LANES) {                         \
      body;                                                               \
    }                                                                     \
    pd_block_flush(P, n, acc);                                            \
  }

/* ---- packing ------------------------------------------------------------ */
/* A chunk's d + 1 rows lie stride doubles apart (megabytes in a wide
 * shard): d + 1 pages and, where stride is a multiple of 512, one L1 set.
 * For d > 1 the shard loops copy the chunk (or the pair of chunks) into a
 * contiguous buffer, rows of PD_PACK doubles, and the chunk operations read
 * it there.  The values are the same, so are the bits.  The buffer is the
 * process's (the library runs one thread per rank) and grows as needed;
 * without it the operations read the shard in place. */

#define PD_PACK (2 * PD_LANES)

static double *pd_pack_buf;
static size_t pd_pack_cap;

/* room for count doubles, or NULL (posix_memalign, not pd_calloc: the
 * tests' allocation-failure hook counts the library's own allocations) */
static double *pd_pack_scratch(size_t count) {
  if (count > pd_pack_cap) {
    void *p = NULL;
    free(pd_pack_buf);
    pd_pack_buf = NULL;
    pd_pack_cap = 0;
    if (count > SIZE_MAX / sizeof(double) ||
        posix_memalign(&p, 64, count * sizeof(double)) != 0)
      return NULL;
    pd_pack_buf = p;
    pd_pack_cap = count;
  }
  return pd_pack_buf;
}

/* rows j = 0..d of lanes k .. k + 8 two - 1 into dst[j * PD_PACK + ...] */
static inline void pd_pack(const double *restrict w, int64_t s, int64_t k,
                           int d, int two, double *restrict dst) {
  for (int j = 0; j <= d; j++) {
    const double *src = w + j * s + k;
    double *o = dst + (size_t)j * PD_PACK;
    for (int l = 0; l < PD_LANES; l++) o[l] = src[l];
    if (two)
      for (int l = PD_LANES; l < 2 * PD_LANES; l++) o[l] = src[l];
  }
}

/* the prefetch hint (kernel_body.h): rows of lanes k.. of w (d + 1 rows,
 * stride s) if they lie in the shard, else none */
static inline void pd_hint(const double *w, int64_t s, int64_t k, int d,
                           int write) {
  pd_pf.p = k + PD_LANES <= s ? w + k : NULL;
  pd_pf.stride = s;
  pd_pf.rows = d + 1;
  pd_pf.write = write;
}

/* The update of a chunk's input weights and the lane partials of |w|^2 and
 * |dw|^2: per lane wn = fma(-lr, g, w), dw = wn - w, q1 = fma(w, w, q1),
 * q3 = fma(dw, dw, q3), for j = 0..d in order.  wn goes to the shard (row
 * stride s) and to wo (row stride rs, the packed copy; may be wn itself). */
PD_CLONES static void pd_update_rows(int d, double lr, const double *gw,
                                     const double *wr, int64_t rs, double *wn,
                                     int64_t s, double *wo, double *q1,
                                     double *q3) {
  for (int j = 0; j <= d; j++)
    for (int l = 0; l < PD_LANES; l++) {
      double w = wr[j * rs + l], v = fma(-lr, gw[j * PD_LANES + l], w);
      double dw = v - w;
      wn[j * s + l] = v;
      wo[j * rs + l] = v;
      q1[l] = fma(w, w, q1[l]);
      q3[l] = fma(dw, dw, q3[l]);
    }
}

#if PD_HAVE_AVX2
PD_AVX2 static void pd_update_rows_avx2(int d, double lr, const double *gw,
                                        const double *wr, int64_t rs,
                                        double *wn, int64_t s, double *wo,
                                        double *q1, double *q3) {
  const __m256d nl = _mm256_set1_pd(-lr);
  __m256d a0 = _mm256_loadu_pd(q1), a1 = _mm256_loadu_pd(q1 + 4);
  __m256d b0 = _mm256_loadu_pd(q3), b1 = _mm256_loadu_pd(q3 + 4);
  for (int j = 0; j <= d; j++) {
    const double *r = wr + j * rs, *g = gw + j * PD_LANES;
    __m256d w0 = _mm256_load_pd(r), w1 = _mm256_load_pd(r + 4);
    __m256d v0 = _mm256_fmadd_pd(nl, _mm256_load_pd(g), w0);
    __m256d v1 = _mm256_fmadd_pd(nl, _mm256_load_pd(g + 4), w1);
    __m256d e0 = _mm256_sub_pd(v0, w0), e1 = _mm256_sub_pd(v1, w1);
    _mm256_store_pd(wn + j * s, v0);
    _mm256_store_pd(wn + j * s + 4, v1);
    _mm256_store_pd(wo + j * rs, v0);
    _mm256_store_pd(wo + j * rs + 4, v1);
    a0 = _mm256_fmadd_pd(w0, w0, a0);
    a1 = _mm256_fmadd_pd(w1, w1, a1);
    b0 = _mm256_fmadd_pd(e0, e0, b0);
    b1 = _mm256_fmadd_pd(e1, e1, b1);
  }
  _mm256_storeu_pd(q1, a0);
  _mm256_storeu_pd(q1 + 4, a1);
  _mm256_storeu_pd(q3, b0);
  _mm256_storeu_pd(q3 + 4, b1);
}
#endif

void pd_kernel_output(const pd_shard *sh, const pd_data *data, double *P,
                      pd_acc *acc) {
  const pd_chunk_ops *ops = pd_ops(data->d);
  const int64_t n = data->n;
  const int act = pd_act(sh), d = data->d;
  double *wp = d > 1 ? pd_pack_scratch((size_t)(d + 1) * PD_PACK) : NULL;
  PD_FOR_CHUNKS(sh->mloc, k, {
    if (wp) {
      pd_pack(sh->w, sh->stride, k, d, 0, wp);
      pd_hint(sh->w, sh->stride, k + PD_LANES, d, 0);
      ops->output(act, sh->a + k, wp, PD_PACK, 0, data->x, n, d, P);
    } else {
      ops->output(act, sh->a, sh->w, sh->stride, k, data->x, n, d, P);
    }
  });
  pd_pf.p = NULL;
}

PD_CLONES void pd_kernel_descend(const pd_shard *sh, const pd_data *data,
                                 const double *c, double lr, double *tmp,
                                 double *P, pd_acc *acc, pd_acc *norms) {
  const pd_chunk_ops *ops = pd_ops(data->d);
  const int64_t n = data->n, s = sh->stride;
  const int d = data->d, act = pd_act(sh);
  double *ga = tmp, *gw = tmp + PD_LANES;
  double q[4][PD_LANES];
  /* packed current and new parameters of a pair of chunks (d > 1) */
  const size_t plen = (size_t)(d + 1) * PD_PACK;
  double *wp = d > 1 ? pd_pack_scratch(2 * plen) : NULL;
  double *wq = wp ? wp + plen : NULL;
  void (*update)(int, double, const double *, const double *, int64_t, double *,
                 int64_t, double *, double *, double *) = pd_update_rows;
#if PD_HAVE_AVX2
  if (ops != &pd_ops_generic) update = pd_update_rows_avx2;
#endif
  for (int64_t b = 0; b < sh->mloc; b += PD_NET_BLOCK) {
    int64_t e = b + PD_NET_BLOCK < sh->mloc ? b + PD_NET_BLOCK : sh->mloc;
    memset(q, 0, sizeof q);
    /* two chunks at a time where the block has them (the padding makes
     * the second whole): their outputs share the passes over P */
    for (int64_t k = b; k < e; k += 2 * PD_LANES) {
      const int two = k + PD_LANES < e;
      /* where the chunk operations read: the pair packed, or in place */
      const double *wr = sh->w, *ar = sh->a;
      double *wo = sh->wn, *ao = sh->an;
      int64_t rs = s, rk = k;
      if (wp) {
        pd_pack(sh->w, s, k, d, two, wp);
        wr = wp, wo = wq, ar = sh->a + k, ao = sh->an + k, rs = PD_PACK, rk = 0;
      }
      for (int h = 0; h <= two; h++) {
        const int64_t kk = k + h * PD_LANES, rkk = rk + h * PD_LANES;
        /* the next pair's rows, one chunk's line per gradient */
        if (wp) pd_hint(sh->w, s, kk + 2 * PD_LANES, d, 0);
        ops->grad(act, ar, wr, rs, rkk, data->x, c, n, d, ga, gw);
        for (int l = 0; l < PD_LANES; l++) {
          double a = sh->a[kk + l], an = fma(-lr, ga[l], a), da = an - a;
          sh->an[kk + l] = an;
          q[0][l] = fma(a, a, q[0][l]);
          q[2][l] = fma(da, da, q[2][l]);
        }
        update(d, lr, gw, wr + rkk, rs, sh->wn + kk, s, wo + rkk, q[1], q[3]);
      }
      /* the next pair's rows of wn, to be written */
      if (wp) pd_hint(sh->wn, s, k + 2 * PD_LANES, d, 1);
      if (two)
        ops->output2(act, ao, wo, rs, rk, data->x, n, d, P);
      else
        ops->output(act, ao, wo, rs, rk, data->x, n, d, P);
    }
    pd_block_flush(P, n, acc);
    for (int i = 0; i < 4; i++) pd_block_flush(q[i], 1, &norms[i]);
  }
  pd_pf.p = NULL;
}

PD_CLONES void pd_kernel_jjt(const pd_shard *sh, const pd_data *data,
                             const double *v, double *tmp, double *P,
                             pd_acc *acc) {
  const pd_chunk_ops *ops = pd_ops(data->d);
  const int64_t n = data->n;
  const int act = pd_act(sh), d = data->d;
  double *ga = tmp, *gw = tmp + PD_LANES;
  double *wp = d > 1 ? pd_pack_scratch((size_t)(d + 1) * PD_PACK) : NULL;
  for (int64_t b = 0; b < sh->mloc; b += PD_NET_BLOCK) {
    int64_t e = b + PD_NET_BLOCK < sh->mloc ? b + PD_NET_BLOCK : sh->mloc;
    for (int64_t k = b; k < e; k += PD_LANES) {
      const double *wr = sh->w, *ar = sh->a;
      int64_t rs = sh->stride, rk = k;
      if (wp) {
        pd_pack(sh->w, sh->stride, k, d, 0, wp);
        wr = wp, ar = sh->a + k, rs = PD_PACK, rk = 0;
        pd_hint(sh->w, sh->stride, k + PD_LANES, d, 0);
      }
      ops->grad(act, ar, wr, rs, rk, data->x, v, n, d, ga, gw);
      pd_pf.p = NULL;
      /* J_i g has a_k sigma'(z) x~_i . g_w: fold a_k into g_w once per
       * chunk */
      for (int j = 0; j <= d; j++)
        for (int l = 0; l < PD_LANES; l++) gw[j * PD_LANES + l] *= sh->a[k + l];
      ops->tangent(act, wr, rs, rk, data->x, n, d, ga, gw, P);
    }
    pd_block_flush(P, n, acc);
  }
}

void pd_kernel_gradient(const pd_shard *sh, const pd_data *data,
                        const double *c, double *tmp, double *ga, double *gw) {
  const pd_chunk_ops *ops = pd_ops(data->d);
  const int d = data->d, act = pd_act(sh);
  for (int64_t k = 0; k < sh->mloc; k += PD_LANES) {
    ops->grad(act, sh->a, sh->w, sh->stride, k, data->x, c, data->n, d, tmp,
              tmp + PD_LANES);
    int64_t L = sh->mloc - k < PD_LANES ? sh->mloc - k : PD_LANES;
    for (int64_t l = 0; l < L; l++) {
      ga[k + l] = tmp[l];
      for (int j = 0; j <= d; j++)
        gw[j * sh->stride + k + l] = tmp[(j + 1) * PD_LANES + l];
    }
  }
}
