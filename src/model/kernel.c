#include "phasediag/model/kernel.h"

#include <math.h>
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
    pd_chunk_output2_dn_avx2, "avx2"};
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
  if (isa == PD_ISA_AVX2 && !pd_cpu_has_avx2()) isa = PD_ISA_GENERIC;
  pd_isa_forced = isa;
  return isa == PD_ISA_AUTO ? (pd_cpu_has_avx2() ? PD_ISA_AVX2 : PD_ISA_GENERIC)
                            : isa;
}

static const pd_chunk_ops *pd_ops(int d) {
#if PD_HAVE_AVX2
  if (pd_isa_forced != PD_ISA_GENERIC && pd_cpu_has_avx2())
    return d == 1 ? &pd_ops_avx2 : &pd_ops_avx2_dn;
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

void pd_kernel_output(const pd_shard *sh, const pd_data *data, double *P,
                      pd_acc *acc) {
  const pd_chunk_ops *ops = pd_ops(data->d);
  const int64_t n = data->n;
  const int act = pd_act(sh);
  PD_FOR_CHUNKS(
      sh->mloc, k,
      ops->output(act, sh->a, sh->w, sh->stride, k, data->x, n, data->d, P));
}

/* Lane partial sums of |a|^2, |w|^2, |da|^2, |dw|^2 over one chunk. */
static inline void pd_chunk_norms(const pd_shard *sh, int64_t k, int d,
                                  double (*q)[PD_LANES]) {
  const int64_t s = sh->stride;
  for (int l = 0; l < PD_LANES; l++) {
    double a = sh->a[k + l], da = sh->an[k + l] - a;
    q[0][l] = fma(a, a, q[0][l]);
    q[2][l] = fma(da, da, q[2][l]);
  }
  for (int j = 0; j <= d; j++)
    for (int l = 0; l < PD_LANES; l++) {
      double w = sh->w[j * s + k + l], dw = sh->wn[j * s + k + l] - w;
      q[1][l] = fma(w, w, q[1][l]);
      q[3][l] = fma(dw, dw, q[3][l]);
    }
}

PD_CLONES void pd_kernel_descend(const pd_shard *sh, const pd_data *data,
                                 const double *c, double lr, double *tmp,
                                 double *P, pd_acc *acc, pd_acc *norms) {
  const pd_chunk_ops *ops = pd_ops(data->d);
  const int64_t n = data->n, s = sh->stride;
  const int d = data->d, act = pd_act(sh);
  double *ga = tmp, *gw = tmp + PD_LANES;
  double q[4][PD_LANES];
  for (int64_t b = 0; b < sh->mloc; b += PD_NET_BLOCK) {
    int64_t e = b + PD_NET_BLOCK < sh->mloc ? b + PD_NET_BLOCK : sh->mloc;
    memset(q, 0, sizeof q);
    /* two chunks at a time where the block has them (the padding makes
     * the second whole): their outputs share the passes over P */
    for (int64_t k = b; k < e; k += 2 * PD_LANES) {
      const int two = k + PD_LANES < e;
      for (int64_t kk = k; kk <= k + two * PD_LANES; kk += PD_LANES) {
        ops->grad(act, sh->a, sh->w, s, kk, data->x, c, n, d, ga, gw);
        for (int l = 0; l < PD_LANES; l++)
          sh->an[kk + l] = fma(-lr, ga[l], sh->a[kk + l]);
        for (int j = 0; j <= d; j++)
          for (int l = 0; l < PD_LANES; l++)
            sh->wn[j * s + kk + l] =
                fma(-lr, gw[j * PD_LANES + l], sh->w[j * s + kk + l]);
        pd_chunk_norms(sh, kk, d, q);
      }
      if (two)
        ops->output2(act, sh->an, sh->wn, s, k, data->x, n, d, P);
      else
        ops->output(act, sh->an, sh->wn, s, k, data->x, n, d, P);
    }
    pd_block_flush(P, n, acc);
    for (int i = 0; i < 4; i++) pd_block_flush(q[i], 1, &norms[i]);
  }
}

PD_CLONES void pd_kernel_jjt(const pd_shard *sh, const pd_data *data,
                             const double *v, double *tmp, double *P,
                             pd_acc *acc) {
  const pd_chunk_ops *ops = pd_ops(data->d);
  const int64_t n = data->n;
  const int act = pd_act(sh);
  double *ga = tmp, *gw = tmp + PD_LANES;
  PD_FOR_CHUNKS(sh->mloc, k, {
    ops->grad(act, sh->a, sh->w, sh->stride, k, data->x, v, n, data->d, ga, gw);
    /* J_i g has a_k sigma'(z) x~_i . g_w: fold a_k into g_w once per chunk */
    for (int j = 0; j <= data->d; j++)
      for (int l = 0; l < PD_LANES; l++) gw[j * PD_LANES + l] *= sh->a[k + l];
    ops->tangent(act, sh->w, sh->stride, k, data->x, n, data->d, ga, gw, P);
  });
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
