#include "phasediag/kernel.h"

#include <math.h>
#include <string.h>

#include "phasediag/net.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define PD_HAVE_AVX2 1
#include <immintrin.h>
#else
#define PD_HAVE_AVX2 0
#endif

/* The portable chunk code is also compiled for x86-64-v3 and picked at load
 * time; with fma() and a fixed order both versions give the same bits. */
#if PD_HAVE_AVX2 && !defined(__clang__) && !defined(PD_NATIVE)
#define PD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PD_CLONES
#endif

/* ---- portable chunk operations ----------------------------------------- */

/* d up to PD_SMALL_D keeps a chunk's gradient in local arrays */
#define PD_SMALL_D 8

static inline double pd_z(const double *w, int64_t s, int64_t k,
                          const double *x, int d) {
  double z = w[d * s + k];
  for (int j = 0; j < d; j++) z = fma(w[j * s + k], x[j], z);
  return z;
}

/* ga[l] = sum_i c_i relu(z_il), gw[j][l] = a_l sum_i c_i [z_il > 0] x~_ij.
 * Even and odd samples go to two partial sums (added at the end) so the
 * vector version is not bound by the latency of one accumulator chain. */
static inline void pd_grad_sample(const double *restrict w, int64_t s,
                                  int64_t k, const double *restrict xi,
                                  double ci, int d, double *restrict pa,
                                  double *restrict pw) {
  for (int l = 0; l < PD_LANES; l++) {
    double z = pd_z(w, s, k + l, xi, d);
    double h = z > 0.0 ? z : 0.0;
    double t = z > 0.0 ? ci : 0.0;
    pa[l] = fma(ci, h, pa[l]);
    for (int j = 0; j < d; j++)
      pw[j * PD_LANES + l] = fma(t, xi[j], pw[j * PD_LANES + l]);
    pw[d * PD_LANES + l] += t;
  }
}

PD_CLONES static void pd_chunk_grad(const double *restrict a,
                                    const double *restrict w, int64_t s,
                                    int64_t k, const double *restrict x,
                                    const double *restrict c, int64_t n, int d,
                                    double *restrict ga, double *restrict gw) {
  /* small d: partial sums in local arrays; large d: in ga/gw and the tail
   * of gw (the caller's scratch holds 2 (d + 2) PD_LANES doubles) */
  double la[2][PD_LANES] = {{0}}, lw[2][(PD_SMALL_D + 1) * PD_LANES] = {{0}};
  double *pa0 = la[0], *pa1 = la[1], *pw0 = lw[0], *pw1 = lw[1];
  if (d > PD_SMALL_D) {
    pa0 = ga;
    pw0 = gw;
    pa1 = gw + (size_t)(d + 1) * PD_LANES;
    pw1 = pa1 + PD_LANES;
    memset(ga, 0, sizeof(double) * PD_LANES * 2 * (size_t)(d + 2));
  }
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    pd_grad_sample(w, s, k, x + i * d, c[i], d, pa0, pw0);
    pd_grad_sample(w, s, k, x + (i + 1) * d, c[i + 1], d, pa1, pw1);
  }
  if (i < n) pd_grad_sample(w, s, k, x + i * d, c[i], d, pa0, pw0);
  for (int l = 0; l < PD_LANES; l++) ga[l] = pa0[l] + pa1[l];
  for (int j = 0; j <= d; j++)
    for (int l = 0; l < PD_LANES; l++)
      gw[j * PD_LANES + l] =
          (pw0[j * PD_LANES + l] + pw1[j * PD_LANES + l]) * a[k + l];
}

/* P[i][l] += a_l relu(z_il) */
PD_CLONES static void pd_chunk_output(const double *restrict a,
                                      const double *restrict w, int64_t s,
                                      int64_t k, const double *restrict x,
                                      int64_t n, int d, double *restrict P) {
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * d;
    for (int l = 0; l < PD_LANES; l++) {
      double z = pd_z(w, s, k + l, xi, d);
      double h = z > 0.0 ? z : 0.0;
      P[i * PD_LANES + l] = fma(a[k + l], h, P[i * PD_LANES + l]);
    }
  }
}

/* Chunks k and k + 8 in turn (the AVX2 version fuses them). */
static void pd_chunk_output2(const double *restrict a, const double *restrict w,
                             int64_t s, int64_t k, const double *restrict x,
                             int64_t n, int d, double *restrict P) {
  pd_chunk_output(a, w, s, k, x, n, d, P);
  pd_chunk_output(a, w, s, k + PD_LANES, x, n, d, P);
}

/* P[i][l] += relu(z_il) ga_l + [z_il > 0] x~_i . gw_l: the row J_i g when gw
 * already carries the factor a_l */
PD_CLONES static void pd_chunk_tangent(const double *restrict w, int64_t s,
                                       int64_t k, const double *restrict x,
                                       int64_t n, int d,
                                       const double *restrict ga,
                                       const double *restrict gw,
                                       double *restrict P) {
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * d;
    for (int l = 0; l < PD_LANES; l++) {
      double z = pd_z(w, s, k + l, xi, d);
      double u = pd_z(gw, PD_LANES, l, xi, d);
      double h = z > 0.0 ? z : 0.0;
      double p = fma(h, ga[l], P[i * PD_LANES + l]);
      P[i * PD_LANES + l] = p + (z > 0.0 ? u : 0.0);
    }
  }
}

/* ---- AVX2 + FMA chunk operations for d = 1 ------------------------------ */
/* Operation for operation the same as above: relu and the step mask are an
 * AND with (z > 0), which gives +0 where the C code gives 0.0. */

#if PD_HAVE_AVX2
#define PD_AVX2 __attribute__((target("avx2,fma")))

typedef struct {
  __m256d ga0, ga1, gx0, gx1, gb0, gb1;
} pd_grad_acc;

PD_AVX2 static inline void pd_grad_sample_avx2(__m256d w0, __m256d w1,
                                               __m256d b0, __m256d b1,
                                               const double *xp,
                                               const double *cp,
                                               pd_grad_acc *g) {
  const __m256d zero = _mm256_setzero_pd();
  __m256d xi = _mm256_broadcast_sd(xp), ci = _mm256_broadcast_sd(cp);
  __m256d z0 = _mm256_fmadd_pd(w0, xi, b0), z1 = _mm256_fmadd_pd(w1, xi, b1);
  __m256d m0 = _mm256_cmp_pd(z0, zero, _CMP_GT_OQ);
  __m256d m1 = _mm256_cmp_pd(z1, zero, _CMP_GT_OQ);
  __m256d t0 = _mm256_and_pd(m0, ci), t1 = _mm256_and_pd(m1, ci);
  g->ga0 = _mm256_fmadd_pd(ci, _mm256_max_pd(z0, zero), g->ga0);
  g->ga1 = _mm256_fmadd_pd(ci, _mm256_max_pd(z1, zero), g->ga1);
  g->gx0 = _mm256_fmadd_pd(t0, xi, g->gx0);
  g->gx1 = _mm256_fmadd_pd(t1, xi, g->gx1);
  g->gb0 = _mm256_add_pd(g->gb0, t0);
  g->gb1 = _mm256_add_pd(g->gb1, t1);
}

PD_AVX2 static void pd_chunk_grad_avx2(const double *restrict a,
                                       const double *restrict w, int64_t s,
                                       int64_t k, const double *restrict x,
                                       const double *restrict c, int64_t n,
                                       int d, double *restrict ga,
                                       double *restrict gw) {
  (void)d;
  const __m256d zero = _mm256_setzero_pd();
  __m256d w0 = _mm256_load_pd(w + k), w1 = _mm256_load_pd(w + k + 4);
  __m256d b0 = _mm256_load_pd(w + s + k), b1 = _mm256_load_pd(w + s + k + 4);
  pd_grad_acc e = {zero, zero, zero, zero, zero, zero}, o = e;
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    pd_grad_sample_avx2(w0, w1, b0, b1, x + i, c + i, &e);
    pd_grad_sample_avx2(w0, w1, b0, b1, x + i + 1, c + i + 1, &o);
  }
  if (i < n) pd_grad_sample_avx2(w0, w1, b0, b1, x + i, c + i, &e);
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  _mm256_storeu_pd(ga, _mm256_add_pd(e.ga0, o.ga0));
  _mm256_storeu_pd(ga + 4, _mm256_add_pd(e.ga1, o.ga1));
  _mm256_storeu_pd(gw, _mm256_mul_pd(_mm256_add_pd(e.gx0, o.gx0), a0));
  _mm256_storeu_pd(gw + 4, _mm256_mul_pd(_mm256_add_pd(e.gx1, o.gx1), a1));
  _mm256_storeu_pd(gw + 8, _mm256_mul_pd(_mm256_add_pd(e.gb0, o.gb0), a0));
  _mm256_storeu_pd(gw + 12, _mm256_mul_pd(_mm256_add_pd(e.gb1, o.gb1), a1));
}

PD_AVX2 static void pd_chunk_output_avx2(const double *restrict a,
                                         const double *restrict w, int64_t s,
                                         int64_t k, const double *restrict x,
                                         int64_t n, int d, double *restrict P) {
  (void)d;
  const __m256d zero = _mm256_setzero_pd();
  __m256d w0 = _mm256_load_pd(w + k), w1 = _mm256_load_pd(w + k + 4);
  __m256d b0 = _mm256_load_pd(w + s + k), b1 = _mm256_load_pd(w + s + k + 4);
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  for (int64_t i = 0; i < n; i++) {
    __m256d xi = _mm256_broadcast_sd(x + i);
    __m256d z0 = _mm256_fmadd_pd(w0, xi, b0), z1 = _mm256_fmadd_pd(w1, xi, b1);
    __m256d h0 = _mm256_max_pd(z0, zero), h1 = _mm256_max_pd(z1, zero);
    double *p = P + i * PD_LANES;
    _mm256_store_pd(p, _mm256_fmadd_pd(a0, h0, _mm256_load_pd(p)));
    _mm256_store_pd(p + 4, _mm256_fmadd_pd(a1, h1, _mm256_load_pd(p + 4)));
  }
}

/* Two chunks, k and k + 8, into the same lane partials: per sample first
 * chunk k then chunk k + 8, as two calls of pd_chunk_output would add them,
 * with one load and store of P instead of two. */
PD_AVX2 static void pd_chunk_output2_avx2(const double *restrict a,
                                          const double *restrict w, int64_t s,
                                          int64_t k, const double *restrict x,
                                          int64_t n, int d,
                                          double *restrict P) {
  (void)d;
  const __m256d zero = _mm256_setzero_pd();
  __m256d w0 = _mm256_load_pd(w + k), w1 = _mm256_load_pd(w + k + 4);
  __m256d w2 = _mm256_load_pd(w + k + 8), w3 = _mm256_load_pd(w + k + 12);
  __m256d b0 = _mm256_load_pd(w + s + k), b1 = _mm256_load_pd(w + s + k + 4);
  __m256d b2 = _mm256_load_pd(w + s + k + 8);
  __m256d b3 = _mm256_load_pd(w + s + k + 12);
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  __m256d a2 = _mm256_load_pd(a + k + 8), a3 = _mm256_load_pd(a + k + 12);
  for (int64_t i = 0; i < n; i++) {
    __m256d xi = _mm256_broadcast_sd(x + i);
    __m256d h0 = _mm256_max_pd(_mm256_fmadd_pd(w0, xi, b0), zero);
    __m256d h1 = _mm256_max_pd(_mm256_fmadd_pd(w1, xi, b1), zero);
    __m256d h2 = _mm256_max_pd(_mm256_fmadd_pd(w2, xi, b2), zero);
    __m256d h3 = _mm256_max_pd(_mm256_fmadd_pd(w3, xi, b3), zero);
    double *p = P + i * PD_LANES;
    __m256d p0 = _mm256_fmadd_pd(a0, h0, _mm256_load_pd(p));
    __m256d p1 = _mm256_fmadd_pd(a1, h1, _mm256_load_pd(p + 4));
    _mm256_store_pd(p, _mm256_fmadd_pd(a2, h2, p0));
    _mm256_store_pd(p + 4, _mm256_fmadd_pd(a3, h3, p1));
  }
}

PD_AVX2 static void pd_chunk_tangent_avx2(const double *restrict w, int64_t s,
                                          int64_t k, const double *restrict x,
                                          int64_t n, int d,
                                          const double *restrict ga,
                                          const double *restrict gw,
                                          double *restrict P) {
  (void)d;
  const __m256d zero = _mm256_setzero_pd();
  __m256d w0 = _mm256_load_pd(w + k), w1 = _mm256_load_pd(w + k + 4);
  __m256d b0 = _mm256_load_pd(w + s + k), b1 = _mm256_load_pd(w + s + k + 4);
  __m256d ga0 = _mm256_loadu_pd(ga), ga1 = _mm256_loadu_pd(ga + 4);
  __m256d gx0 = _mm256_loadu_pd(gw), gx1 = _mm256_loadu_pd(gw + 4);
  __m256d gb0 = _mm256_loadu_pd(gw + 8), gb1 = _mm256_loadu_pd(gw + 12);
  for (int64_t i = 0; i < n; i++) {
    __m256d xi = _mm256_broadcast_sd(x + i);
    __m256d z0 = _mm256_fmadd_pd(w0, xi, b0), z1 = _mm256_fmadd_pd(w1, xi, b1);
    __m256d u0 = _mm256_fmadd_pd(gx0, xi, gb0),
            u1 = _mm256_fmadd_pd(gx1, xi, gb1);
    __m256d m0 = _mm256_cmp_pd(z0, zero, _CMP_GT_OQ);
    __m256d m1 = _mm256_cmp_pd(z1, zero, _CMP_GT_OQ);
    double *p = P + i * PD_LANES;
    __m256d p0 = _mm256_fmadd_pd(_mm256_and_pd(m0, z0), ga0, _mm256_load_pd(p));
    __m256d p1 =
        _mm256_fmadd_pd(_mm256_and_pd(m1, z1), ga1, _mm256_load_pd(p + 4));
    _mm256_store_pd(p, _mm256_add_pd(p0, _mm256_and_pd(m0, u0)));
    _mm256_store_pd(p + 4, _mm256_add_pd(p1, _mm256_and_pd(m1, u1)));
  }
}

/* ---- AVX2 + FMA chunk operations for any d ----------------------------- */
/* Four samples at a time: 8 independent pre-activation chains hide the FMA
 * latency, and each weight row is loaded once per four samples.  Per
 * (neuron, sample) the operations are those of the portable code above:
 * z = bias, then z = fma(w_j, x_j, z) for j = 0..d-1; gradient sums over
 * samples in sample order, even and odd samples apart. */

#define PD_SAMPLES 4

/* z[r][0..1] for samples i .. i+q-1 (q <= 4) of the chunk at k */
PD_AVX2 static inline void pd_z4_avx2(const double *restrict w, int64_t s,
                                      int64_t k, const double *restrict x,
                                      int64_t i, int q, int d,
                                      __m256d z[PD_SAMPLES][2]) {
  const double *xr[PD_SAMPLES];
  for (int r = 0; r < PD_SAMPLES; r++) {
    xr[r] = x + (i + (r < q ? r : 0)) * d; /* rows past q: harmless copies */
    z[r][0] = _mm256_load_pd(w + d * s + k);
    z[r][1] = _mm256_load_pd(w + d * s + k + 4);
  }
  for (int j = 0; j < d; j++) {
    __m256d w0 = _mm256_load_pd(w + j * s + k);
    __m256d w1 = _mm256_load_pd(w + j * s + k + 4);
    for (int r = 0; r < PD_SAMPLES; r++) {
      __m256d xj = _mm256_broadcast_sd(xr[r] + j);
      z[r][0] = _mm256_fmadd_pd(w0, xj, z[r][0]);
      z[r][1] = _mm256_fmadd_pd(w1, xj, z[r][1]);
    }
  }
}

PD_AVX2 static void pd_chunk_grad_dn_avx2(const double *restrict a,
                                          const double *restrict w, int64_t s,
                                          int64_t k, const double *restrict x,
                                          const double *restrict c, int64_t n,
                                          int d, double *restrict ga,
                                          double *restrict gw) {
  const __m256d zero = _mm256_setzero_pd();
  /* even / odd partial sums of the weight gradient: gw and its tail */
  double *pw[2] = {gw, gw + (size_t)(d + 1) * PD_LANES};
  memset(pw[0], 0, sizeof(double) * PD_LANES * (size_t)d);
  memset(pw[1], 0, sizeof(double) * PD_LANES * (size_t)d);
  __m256d pa[2][2] = {{zero, zero}, {zero, zero}};
  __m256d pb[2][2] = {{zero, zero}, {zero, zero}};
  __m256d z[PD_SAMPLES][2], t[PD_SAMPLES][2];
  for (int64_t i = 0; i < n; i += PD_SAMPLES) {
    const int q = n - i < PD_SAMPLES ? (int)(n - i) : PD_SAMPLES;
    pd_z4_avx2(w, s, k, x, i, q, d, z);
    for (int r = 0; r < q; r++) {
      const int e = (int)((i + r) & 1);
      __m256d ci = _mm256_broadcast_sd(c + i + r);
      for (int v = 0; v < 2; v++) {
        __m256d m = _mm256_cmp_pd(z[r][v], zero, _CMP_GT_OQ);
        t[r][v] = _mm256_and_pd(m, ci);
        pa[e][v] = _mm256_fmadd_pd(ci, _mm256_max_pd(z[r][v], zero), pa[e][v]);
        pb[e][v] = _mm256_add_pd(pb[e][v], t[r][v]);
      }
    }
    for (int j = 0; j < d; j++) {
      for (int e = 0; e < 2; e++) {
        double *g = pw[e] + j * PD_LANES;
        __m256d g0 = _mm256_load_pd(g), g1 = _mm256_load_pd(g + 4);
        for (int r = e; r < q; r += 2) {
          __m256d xj = _mm256_broadcast_sd(x + (i + r) * d + j);
          g0 = _mm256_fmadd_pd(t[r][0], xj, g0);
          g1 = _mm256_fmadd_pd(t[r][1], xj, g1);
        }
        _mm256_store_pd(g, g0);
        _mm256_store_pd(g + 4, g1);
      }
    }
  }
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  _mm256_storeu_pd(ga, _mm256_add_pd(pa[0][0], pa[1][0]));
  _mm256_storeu_pd(ga + 4, _mm256_add_pd(pa[0][1], pa[1][1]));
  for (int j = 0; j < d; j++) {
    double *g0 = pw[0] + j * PD_LANES, *g1 = pw[1] + j * PD_LANES;
    _mm256_store_pd(
        g0, _mm256_mul_pd(_mm256_add_pd(_mm256_load_pd(g0), _mm256_load_pd(g1)),
                          a0));
    _mm256_store_pd(g0 + 4, _mm256_mul_pd(_mm256_add_pd(_mm256_load_pd(g0 + 4),
                                                        _mm256_load_pd(g1 + 4)),
                                          a1));
  }
  double *gb = gw + (size_t)d * PD_LANES;
  _mm256_storeu_pd(gb, _mm256_mul_pd(_mm256_add_pd(pb[0][0], pb[1][0]), a0));
  _mm256_storeu_pd(gb + 4,
                   _mm256_mul_pd(_mm256_add_pd(pb[0][1], pb[1][1]), a1));
}

PD_AVX2 static void pd_chunk_output_dn_avx2(const double *restrict a,
                                            const double *restrict w, int64_t s,
                                            int64_t k, const double *restrict x,
                                            int64_t n, int d,
                                            double *restrict P) {
  const __m256d zero = _mm256_setzero_pd();
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  __m256d z[PD_SAMPLES][2];
  for (int64_t i = 0; i < n; i += PD_SAMPLES) {
    const int q = n - i < PD_SAMPLES ? (int)(n - i) : PD_SAMPLES;
    pd_z4_avx2(w, s, k, x, i, q, d, z);
    for (int r = 0; r < q; r++) {
      double *p = P + (i + r) * PD_LANES;
      _mm256_store_pd(p, _mm256_fmadd_pd(a0, _mm256_max_pd(z[r][0], zero),
                                         _mm256_load_pd(p)));
      _mm256_store_pd(p + 4, _mm256_fmadd_pd(a1, _mm256_max_pd(z[r][1], zero),
                                             _mm256_load_pd(p + 4)));
    }
  }
}

PD_AVX2 static void pd_chunk_output2_dn_avx2(
    const double *restrict a, const double *restrict w, int64_t s, int64_t k,
    const double *restrict x, int64_t n, int d, double *restrict P) {
  pd_chunk_output_dn_avx2(a, w, s, k, x, n, d, P);
  pd_chunk_output_dn_avx2(a, w, s, k + PD_LANES, x, n, d, P);
}

PD_AVX2 static void pd_chunk_tangent_dn_avx2(
    const double *restrict w, int64_t s, int64_t k, const double *restrict x,
    int64_t n, int d, const double *restrict ga, const double *restrict gw,
    double *restrict P) {
  const __m256d zero = _mm256_setzero_pd();
  __m256d ga0 = _mm256_loadu_pd(ga), ga1 = _mm256_loadu_pd(ga + 4);
  __m256d z[PD_SAMPLES][2], u[PD_SAMPLES][2];
  for (int64_t i = 0; i < n; i += PD_SAMPLES) {
    const int q = n - i < PD_SAMPLES ? (int)(n - i) : PD_SAMPLES;
    pd_z4_avx2(w, s, k, x, i, q, d, z);
    pd_z4_avx2(gw, PD_LANES, 0, x, i, q, d, u); /* x~ . g_w, same order */
    for (int r = 0; r < q; r++) {
      double *p = P + (i + r) * PD_LANES;
      __m256d m0 = _mm256_cmp_pd(z[r][0], zero, _CMP_GT_OQ);
      __m256d m1 = _mm256_cmp_pd(z[r][1], zero, _CMP_GT_OQ);
      __m256d p0 =
          _mm256_fmadd_pd(_mm256_max_pd(z[r][0], zero), ga0, _mm256_load_pd(p));
      __m256d p1 = _mm256_fmadd_pd(_mm256_max_pd(z[r][1], zero), ga1,
                                   _mm256_load_pd(p + 4));
      _mm256_store_pd(p, _mm256_add_pd(p0, _mm256_and_pd(m0, u[r][0])));
      _mm256_store_pd(p + 4, _mm256_add_pd(p1, _mm256_and_pd(m1, u[r][1])));
    }
  }
}
#endif

/* ---- dispatch ----------------------------------------------------------- */

typedef struct {
  void (*grad)(const double *restrict, const double *restrict, int64_t, int64_t,
               const double *restrict, const double *restrict, int64_t, int,
               double *restrict, double *restrict);
  void (*output)(const double *restrict, const double *restrict, int64_t,
                 int64_t, const double *restrict, int64_t, int,
                 double *restrict);
  void (*tangent)(const double *restrict, int64_t, int64_t,
                  const double *restrict, int64_t, int, const double *restrict,
                  const double *restrict, double *restrict);
  /* output of chunks k and k + PD_LANES, bitwise as two output calls */
  void (*output2)(const double *restrict, const double *restrict, int64_t,
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
  PD_FOR_CHUNKS(
      sh->mloc, k,
      ops->output(sh->a, sh->w, sh->stride, k, data->x, n, data->d, P));
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
  const int d = data->d;
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
        ops->grad(sh->a, sh->w, s, kk, data->x, c, n, d, ga, gw);
        for (int l = 0; l < PD_LANES; l++)
          sh->an[kk + l] = fma(-lr, ga[l], sh->a[kk + l]);
        for (int j = 0; j <= d; j++)
          for (int l = 0; l < PD_LANES; l++)
            sh->wn[j * s + kk + l] =
                fma(-lr, gw[j * PD_LANES + l], sh->w[j * s + kk + l]);
        pd_chunk_norms(sh, kk, d, q);
      }
      if (two)
        ops->output2(sh->an, sh->wn, s, k, data->x, n, d, P);
      else
        ops->output(sh->an, sh->wn, s, k, data->x, n, d, P);
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
  double *ga = tmp, *gw = tmp + PD_LANES;
  PD_FOR_CHUNKS(sh->mloc, k, {
    ops->grad(sh->a, sh->w, sh->stride, k, data->x, v, n, data->d, ga, gw);
    /* J_i g has a_k [z > 0] x~_i . g_w: fold a_k into g_w once per chunk */
    for (int j = 0; j <= data->d; j++)
      for (int l = 0; l < PD_LANES; l++) gw[j * PD_LANES + l] *= sh->a[k + l];
    ops->tangent(sh->w, sh->stride, k, data->x, n, data->d, ga, gw, P);
  });
}

void pd_kernel_gradient(const pd_shard *sh, const pd_data *data,
                        const double *c, double *tmp, double *ga, double *gw) {
  const pd_chunk_ops *ops = pd_ops(data->d);
  const int d = data->d;
  for (int64_t k = 0; k < sh->mloc; k += PD_LANES) {
    ops->grad(sh->a, sh->w, sh->stride, k, data->x, c, data->n, d, tmp,
              tmp + PD_LANES);
    int64_t L = sh->mloc - k < PD_LANES ? sh->mloc - k : PD_LANES;
    for (int64_t l = 0; l < L; l++) {
      ga[k + l] = tmp[l];
      for (int j = 0; j <= d; j++)
        gw[j * sh->stride + k + l] = tmp[(j + 1) * PD_LANES + l];
    }
  }
}
