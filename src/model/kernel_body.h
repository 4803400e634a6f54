/* Private to kernel.c: the fused chunk operations, written once over the
 * activation.  Each is a template (activation_defs.h): its first argument
 * act names the activation, and kernel.c instantiates it for every
 * activation with act a constant, so the activation's forms are inlined
 * and no function is called per element.  Four variants of the body: a
 * portable one (fma() from C99), AVX2+FMA for d = 1, AVX2+FMA for any d
 * four samples at a time (the previous kernel, "dn4", kept for comparisons)
 * and AVX2+FMA for d > 1 with register tiles (the one in use); all give the
 * same bits because they use the same operations in the same order and the
 * activation's scalar and vector forms agree bit for bit. */
#ifndef PHASEDIAG_KERNEL_BODY_H
#define PHASEDIAG_KERNEL_BODY_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "model/activation_defs.h"
#include "phasediag/model/kernel.h"

/* ---- portable chunk operations ----------------------------------------- */

/* d up to PD_SMALL_D keeps a chunk's gradient in local arrays */
#define PD_SMALL_D 8

static inline double pd_z(const double *w, int64_t s, int64_t k,
                          const double *x, int d) {
  double z = w[d * s + k];
  for (int j = 0; j < d; j++) z = fma(w[j * s + k], x[j], z);
  return z;
}

/* ga[l] = sum_i c_i sigma(z_il), gw[j][l] = a_l sum_i c_i sigma'(z_il) x~_ij.
 * Even and odd samples go to two partial sums (added at the end) so the
 * vector version is not bound by the latency of one accumulator chain. */
PD_TEMPLATE void pd_grad_sample(int act, const double *restrict w, int64_t s,
                                int64_t k, const double *restrict xi, double ci,
                                int d, double *restrict pa,
                                double *restrict pw) {
  for (int l = 0; l < PD_LANES; l++) {
    double z = pd_z(w, s, k + l, xi, d);
    double h = pd_act_sigma(act, z);
    double t = pd_act_dmul(act, z, ci);
    pa[l] = fma(ci, h, pa[l]);
    for (int j = 0; j < d; j++)
      pw[j * PD_LANES + l] = fma(t, xi[j], pw[j * PD_LANES + l]);
    pw[d * PD_LANES + l] += t;
  }
}

PD_TEMPLATE void pd_chunk_grad_t(int act, const double *restrict a,
                                 const double *restrict w, int64_t s, int64_t k,
                                 const double *restrict x,
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
    pd_grad_sample(act, w, s, k, x + i * d, c[i], d, pa0, pw0);
    pd_grad_sample(act, w, s, k, x + (i + 1) * d, c[i + 1], d, pa1, pw1);
  }
  if (i < n) pd_grad_sample(act, w, s, k, x + i * d, c[i], d, pa0, pw0);
  for (int l = 0; l < PD_LANES; l++) ga[l] = pa0[l] + pa1[l];
  for (int j = 0; j <= d; j++)
    for (int l = 0; l < PD_LANES; l++)
      gw[j * PD_LANES + l] =
          (pw0[j * PD_LANES + l] + pw1[j * PD_LANES + l]) * a[k + l];
}

/* P[i][l] += a_l sigma(z_il) */
PD_TEMPLATE void pd_chunk_output_t(int act, const double *restrict a,
                                   const double *restrict w, int64_t s,
                                   int64_t k, const double *restrict x,
                                   int64_t n, int d, double *restrict P) {
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * d;
    for (int l = 0; l < PD_LANES; l++) {
      double z = pd_z(w, s, k + l, xi, d);
      double h = pd_act_sigma(act, z);
      P[i * PD_LANES + l] = fma(a[k + l], h, P[i * PD_LANES + l]);
    }
  }
}

/* P[i][l] += sigma(z_il) ga_l + sigma'(z_il) x~_i . gw_l: the row J_i g when
 * gw already carries the factor a_l */
PD_TEMPLATE void pd_chunk_tangent_t(int act, const double *restrict w,
                                    int64_t s, int64_t k,
                                    const double *restrict x, int64_t n, int d,
                                    const double *restrict ga,
                                    const double *restrict gw,
                                    double *restrict P) {
  for (int64_t i = 0; i < n; i++) {
    const double *xi = x + i * d;
    for (int l = 0; l < PD_LANES; l++) {
      double z = pd_z(w, s, k + l, xi, d);
      double u = pd_z(gw, PD_LANES, l, xi, d);
      double h = pd_act_sigma(act, z);
      double p = fma(h, ga[l], P[i * PD_LANES + l]);
      P[i * PD_LANES + l] = p + pd_act_dmul(act, z, u);
    }
  }
}

/* ---- AVX2 + FMA chunk operations for d = 1 ------------------------------ */
/* Operation for operation the same as above, with the vector forms of the
 * activation (lane for lane the bits of the scalar forms). */

#if PD_HAVE_AVX2
typedef struct {
  __m256d ga0, ga1, gx0, gx1, gb0, gb1;
} pd_grad_acc;

PD_AVX2 PD_TEMPLATE void pd_grad_sample_avx2(int act, __m256d w0, __m256d w1,
                                             __m256d b0, __m256d b1,
                                             const double *xp, const double *cp,
                                             pd_grad_acc *g) {
  __m256d xi = _mm256_broadcast_sd(xp), ci = _mm256_broadcast_sd(cp);
  __m256d z0 = _mm256_fmadd_pd(w0, xi, b0), z1 = _mm256_fmadd_pd(w1, xi, b1);
  __m256d t0 = pd_act_dmul_v(act, z0, ci), t1 = pd_act_dmul_v(act, z1, ci);
  g->ga0 = _mm256_fmadd_pd(ci, pd_act_sigma_v(act, z0), g->ga0);
  g->ga1 = _mm256_fmadd_pd(ci, pd_act_sigma_v(act, z1), g->ga1);
  g->gx0 = _mm256_fmadd_pd(t0, xi, g->gx0);
  g->gx1 = _mm256_fmadd_pd(t1, xi, g->gx1);
  g->gb0 = _mm256_add_pd(g->gb0, t0);
  g->gb1 = _mm256_add_pd(g->gb1, t1);
}

PD_AVX2 PD_TEMPLATE void pd_chunk_grad_avx2_t(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, const double *restrict c, int64_t n,
    int d, double *restrict ga, double *restrict gw) {
  (void)d;
  const __m256d zero = _mm256_setzero_pd();
  __m256d w0 = _mm256_load_pd(w + k), w1 = _mm256_load_pd(w + k + 4);
  __m256d b0 = _mm256_load_pd(w + s + k), b1 = _mm256_load_pd(w + s + k + 4);
  pd_grad_acc e = {zero, zero, zero, zero, zero, zero}, o = e;
  int64_t i = 0;
  for (; i + 1 < n; i += 2) {
    pd_grad_sample_avx2(act, w0, w1, b0, b1, x + i, c + i, &e);
    pd_grad_sample_avx2(act, w0, w1, b0, b1, x + i + 1, c + i + 1, &o);
  }
  if (i < n) pd_grad_sample_avx2(act, w0, w1, b0, b1, x + i, c + i, &e);
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  _mm256_storeu_pd(ga, _mm256_add_pd(e.ga0, o.ga0));
  _mm256_storeu_pd(ga + 4, _mm256_add_pd(e.ga1, o.ga1));
  _mm256_storeu_pd(gw, _mm256_mul_pd(_mm256_add_pd(e.gx0, o.gx0), a0));
  _mm256_storeu_pd(gw + 4, _mm256_mul_pd(_mm256_add_pd(e.gx1, o.gx1), a1));
  _mm256_storeu_pd(gw + 8, _mm256_mul_pd(_mm256_add_pd(e.gb0, o.gb0), a0));
  _mm256_storeu_pd(gw + 12, _mm256_mul_pd(_mm256_add_pd(e.gb1, o.gb1), a1));
}

PD_AVX2 PD_TEMPLATE void pd_chunk_output_avx2_t(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, int64_t n, int d, double *restrict P) {
  (void)d;
  __m256d w0 = _mm256_load_pd(w + k), w1 = _mm256_load_pd(w + k + 4);
  __m256d b0 = _mm256_load_pd(w + s + k), b1 = _mm256_load_pd(w + s + k + 4);
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  for (int64_t i = 0; i < n; i++) {
    __m256d xi = _mm256_broadcast_sd(x + i);
    __m256d z0 = _mm256_fmadd_pd(w0, xi, b0), z1 = _mm256_fmadd_pd(w1, xi, b1);
    __m256d h0 = pd_act_sigma_v(act, z0), h1 = pd_act_sigma_v(act, z1);
    double *p = P + i * PD_LANES;
    _mm256_store_pd(p, _mm256_fmadd_pd(a0, h0, _mm256_load_pd(p)));
    _mm256_store_pd(p + 4, _mm256_fmadd_pd(a1, h1, _mm256_load_pd(p + 4)));
  }
}

/* Two chunks, k and k + 8, into the same lane partials: per sample first
 * chunk k then chunk k + 8, as two calls of pd_chunk_output would add them,
 * with one load and store of P instead of two. */
PD_AVX2 PD_TEMPLATE void pd_chunk_output2_avx2_t(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, int64_t n, int d, double *restrict P) {
  (void)d;
  __m256d w0 = _mm256_load_pd(w + k), w1 = _mm256_load_pd(w + k + 4);
  __m256d w2 = _mm256_load_pd(w + k + 8), w3 = _mm256_load_pd(w + k + 12);
  __m256d b0 = _mm256_load_pd(w + s + k), b1 = _mm256_load_pd(w + s + k + 4);
  __m256d b2 = _mm256_load_pd(w + s + k + 8);
  __m256d b3 = _mm256_load_pd(w + s + k + 12);
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  __m256d a2 = _mm256_load_pd(a + k + 8), a3 = _mm256_load_pd(a + k + 12);
  for (int64_t i = 0; i < n; i++) {
    __m256d xi = _mm256_broadcast_sd(x + i);
    __m256d h0 = pd_act_sigma_v(act, _mm256_fmadd_pd(w0, xi, b0));
    __m256d h1 = pd_act_sigma_v(act, _mm256_fmadd_pd(w1, xi, b1));
    __m256d h2 = pd_act_sigma_v(act, _mm256_fmadd_pd(w2, xi, b2));
    __m256d h3 = pd_act_sigma_v(act, _mm256_fmadd_pd(w3, xi, b3));
    double *p = P + i * PD_LANES;
    __m256d p0 = _mm256_fmadd_pd(a0, h0, _mm256_load_pd(p));
    __m256d p1 = _mm256_fmadd_pd(a1, h1, _mm256_load_pd(p + 4));
    _mm256_store_pd(p, _mm256_fmadd_pd(a2, h2, p0));
    _mm256_store_pd(p + 4, _mm256_fmadd_pd(a3, h3, p1));
  }
}

PD_AVX2 PD_TEMPLATE void pd_chunk_tangent_avx2_t(
    int act, const double *restrict w, int64_t s, int64_t k,
    const double *restrict x, int64_t n, int d, const double *restrict ga,
    const double *restrict gw, double *restrict P) {
  (void)d;
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
    double *p = P + i * PD_LANES;
    __m256d p0 =
        _mm256_fmadd_pd(pd_act_sigma_v(act, z0), ga0, _mm256_load_pd(p));
    __m256d p1 =
        _mm256_fmadd_pd(pd_act_sigma_v(act, z1), ga1, _mm256_load_pd(p + 4));
    _mm256_store_pd(p, _mm256_add_pd(p0, pd_act_dmul_v(act, z0, u0)));
    _mm256_store_pd(p + 4, _mm256_add_pd(p1, pd_act_dmul_v(act, z1, u1)));
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

/* The end of a chunk's gradient: ga = even + odd partials of the output
 * weights', gw[j] = (even + odd partials) a for the input weights (pw0,
 * pw1: the even and odd rows, d of them; pb: the biases'), as the portable
 * code combines them. */
PD_AVX2 static inline void pd_grad_finish_avx2(
    const double *restrict a, int64_t k, int d, __m256d pa[2][2],
    __m256d pb[2][2], double *pw0, const double *pw1, double *restrict ga,
    double *gw) {
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  _mm256_storeu_pd(ga, _mm256_add_pd(pa[0][0], pa[1][0]));
  _mm256_storeu_pd(ga + 4, _mm256_add_pd(pa[0][1], pa[1][1]));
  for (int j = 0; j < d; j++) {
    double *g0 = pw0 + j * PD_LANES;
    const double *g1 = pw1 + j * PD_LANES;
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

PD_AVX2 PD_TEMPLATE void pd_chunk_grad_dn_avx2_t(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, const double *restrict c, int64_t n,
    int d, double *restrict ga, double *restrict gw) {
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
        t[r][v] = pd_act_dmul_v(act, z[r][v], ci);
        pa[e][v] = _mm256_fmadd_pd(ci, pd_act_sigma_v(act, z[r][v]), pa[e][v]);
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
  pd_grad_finish_avx2(a, k, d, pa, pb, pw[0], pw[1], ga, gw);
}

PD_AVX2 PD_TEMPLATE void pd_chunk_output_dn_avx2_t(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, int64_t n, int d, double *restrict P) {
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  __m256d z[PD_SAMPLES][2];
  for (int64_t i = 0; i < n; i += PD_SAMPLES) {
    const int q = n - i < PD_SAMPLES ? (int)(n - i) : PD_SAMPLES;
    pd_z4_avx2(w, s, k, x, i, q, d, z);
    for (int r = 0; r < q; r++) {
      double *p = P + (i + r) * PD_LANES;
      _mm256_store_pd(p, _mm256_fmadd_pd(a0, pd_act_sigma_v(act, z[r][0]),
                                         _mm256_load_pd(p)));
      _mm256_store_pd(p + 4, _mm256_fmadd_pd(a1, pd_act_sigma_v(act, z[r][1]),
                                             _mm256_load_pd(p + 4)));
    }
  }
}

PD_AVX2 PD_TEMPLATE void pd_chunk_tangent_dn_avx2_t(
    int act, const double *restrict w, int64_t s, int64_t k,
    const double *restrict x, int64_t n, int d, const double *restrict ga,
    const double *restrict gw, double *restrict P) {
  __m256d ga0 = _mm256_loadu_pd(ga), ga1 = _mm256_loadu_pd(ga + 4);
  __m256d z[PD_SAMPLES][2], u[PD_SAMPLES][2];
  for (int64_t i = 0; i < n; i += PD_SAMPLES) {
    const int q = n - i < PD_SAMPLES ? (int)(n - i) : PD_SAMPLES;
    pd_z4_avx2(w, s, k, x, i, q, d, z);
    pd_z4_avx2(gw, PD_LANES, 0, x, i, q, d, u); /* x~ . g_w, same order */
    for (int r = 0; r < q; r++) {
      double *p = P + (i + r) * PD_LANES;
      __m256d p0 =
          _mm256_fmadd_pd(pd_act_sigma_v(act, z[r][0]), ga0, _mm256_load_pd(p));
      __m256d p1 = _mm256_fmadd_pd(pd_act_sigma_v(act, z[r][1]), ga1,
                                   _mm256_load_pd(p + 4));
      _mm256_store_pd(p,
                      _mm256_add_pd(p0, pd_act_dmul_v(act, z[r][0], u[r][0])));
      _mm256_store_pd(p + 4,
                      _mm256_add_pd(p1, pd_act_dmul_v(act, z[r][1], u[r][1])));
    }
  }
}
/* ---- AVX2 + FMA chunk operations for moderate and large d: tiled ------- */
/* Register tiles over neurons and samples, per (neuron, sample) the
 * operations and their order of the portable code above.
 *
 * Forward products z = w . x~: a tile of 8 neurons x PD_ZR (6) samples, 12
 * accumulators in registers; per component j, two loads of the weight row
 * and six broadcasts of x feed twelve FMAs, so the FMA ports, not the
 * loads, bound the loop, and the twelve chains cover the FMA latency.
 *
 * Weight-gradient sums over samples: the factors t_il = c_i sigma'(z_il) of
 * a block of PD_NB samples go once into a small buffer T (PD_NB x 8, in
 * L1); then a tile of 8 neurons x PD_GJ (3) components x 2 parities (even
 * and odd samples: the portable code's two partial sums), 12 accumulators,
 * runs over the block's samples: per sample two loads of T and three
 * broadcasts of x feed six FMAs.  The partial sums go to memory once per
 * block of PD_NB samples and tile (the dn code above: once per 4 samples). */

#define PD_ZR 6 /* samples per forward tile */

/* Rows the shard loop will read next (the next chunk's, stride doubles
 * apart, rows of them, NULL: none): the first forward tile of a chunk
 * operation prefetches one per component, so that the misses on these
 * far-apart rows overlap the arithmetic instead of stalling the copy into
 * the packed buffer (kernel.c).  A hint only: no value depends on it. */
typedef struct {
  const double *p;
  int64_t stride;
  int rows, write;
} pd_prefetch_hint;
static pd_prefetch_hint pd_pf;
#define PD_GJ 3  /* components per gradient tile */
#define PD_NB 48 /* samples per block of t: even, a multiple of PD_ZR */

/* z[r][0..1] for samples i .. i+q-1 (q <= PD_ZR) of the chunk at k; the
 * twelve accumulators are named variables so that they stay in registers */
#define PD_ZT_FMA(r) PD_ZT_FMAJ(r, j)
#define PD_ZT_FMAJ(r, jx)                         \
  do {                                            \
    __m256d xj_ = _mm256_broadcast_sd(x##r + jx); \
    z##r##0 = _mm256_fmadd_pd(w0, xj_, z##r##0);  \
    z##r##1 = _mm256_fmadd_pd(w1, xj_, z##r##1);  \
  } while (0)
PD_AVX2 PD_TEMPLATE void pd_zt_avx2(const double *restrict w, int64_t s,
                                    int64_t k, const double *restrict x,
                                    int64_t i, int q, int d,
                                    __m256d z[PD_ZR][2], int hint) {
  /* rows past q: harmless copies of row i */
  const double *x0 = x + i * d, *x1 = x + (i + (1 < q)) * d;
  const double *x2 = x + (i + (2 < q ? 2 : 0)) * d;
  const double *x3 = x + (i + (3 < q ? 3 : 0)) * d;
  const double *x4 = x + (i + (4 < q ? 4 : 0)) * d;
  const double *x5 = x + (i + (5 < q ? 5 : 0)) * d;
  const __m256d b0 = _mm256_load_pd(w + d * s + k);
  const __m256d b1 = _mm256_load_pd(w + d * s + k + 4);
  __m256d z00 = b0, z01 = b1, z10 = b0, z11 = b1, z20 = b0, z21 = b1;
  __m256d z30 = b0, z31 = b1, z40 = b0, z41 = b1, z50 = b0, z51 = b1;
  const double *wj = w + k;
  if (hint && pd_pf.p) {
    /* forward tiles hint - 1 = 0, 1: the even rows, the odd rows: one
     * prefetch per two components, as many as the misses in flight allow */
    const int rows = pd_pf.rows, h = hint - 1;
    const double *pj = pd_pf.p + h * pd_pf.stride;
    const int64_t ps = 2 * pd_pf.stride;
    int j = 0;
    for (; j + 1 < d; j += 2, pj += ps) {
      if (j + h < rows) {
        if (pd_pf.write)
          __builtin_prefetch(pj, 1, 3);
        else
          __builtin_prefetch(pj, 0, 3);
      }
      __m256d w0 = _mm256_load_pd(wj), w1 = _mm256_load_pd(wj + 4);
      PD_ZT_FMA(0);
      PD_ZT_FMA(1);
      PD_ZT_FMA(2);
      PD_ZT_FMA(3);
      PD_ZT_FMA(4);
      PD_ZT_FMA(5);
      wj += s;
      w0 = _mm256_load_pd(wj), w1 = _mm256_load_pd(wj + 4);
      PD_ZT_FMAJ(0, j + 1);
      PD_ZT_FMAJ(1, j + 1);
      PD_ZT_FMAJ(2, j + 1);
      PD_ZT_FMAJ(3, j + 1);
      PD_ZT_FMAJ(4, j + 1);
      PD_ZT_FMAJ(5, j + 1);
      wj += s;
    }
    /* the rows past d - 1 (the bias row): prefetchw serves reads too */
    for (; j + h < rows; j += 2, pj += ps) __builtin_prefetch(pj, 1, 3);
    for (j = d & ~1; j < d; j++, wj += s) {
      __m256d w0 = _mm256_load_pd(wj), w1 = _mm256_load_pd(wj + 4);
      PD_ZT_FMA(0);
      PD_ZT_FMA(1);
      PD_ZT_FMA(2);
      PD_ZT_FMA(3);
      PD_ZT_FMA(4);
      PD_ZT_FMA(5);
    }
    goto done;
  }
  for (int j = 0; j < d; j++, wj += s) {
    __m256d w0 = _mm256_load_pd(wj), w1 = _mm256_load_pd(wj + 4);
    PD_ZT_FMA(0);
    PD_ZT_FMA(1);
    PD_ZT_FMA(2);
    PD_ZT_FMA(3);
    PD_ZT_FMA(4);
    PD_ZT_FMA(5);
  }
done:
  z[0][0] = z00, z[0][1] = z01, z[1][0] = z10, z[1][1] = z11;
  z[2][0] = z20, z[2][1] = z21, z[3][0] = z30, z[3][1] = z31;
  z[4][0] = z40, z[4][1] = z41, z[5][0] = z50, z[5][1] = z51;
}
#undef PD_ZT_FMA
#undef PD_ZT_FMAJ

/* pw[e][j..j+J-1] += sum over the block's samples of parity e, in sample
 * order, of t_i x_ij (J a constant at every call) */
PD_AVX2 PD_TEMPLATE void pd_gtile_avx2(const int J, const double *restrict T,
                                       const double *restrict xb, int nb, int d,
                                       int j, double *restrict pw0,
                                       double *restrict pw1) {
  __m256d g[2][PD_GJ][2];
#pragma GCC unroll 3
  for (int u = 0; u < J; u++) {
    g[0][u][0] = _mm256_load_pd(pw0 + (j + u) * PD_LANES);
    g[0][u][1] = _mm256_load_pd(pw0 + (j + u) * PD_LANES + 4);
    g[1][u][0] = _mm256_load_pd(pw1 + (j + u) * PD_LANES);
    g[1][u][1] = _mm256_load_pd(pw1 + (j + u) * PD_LANES + 4);
  }
  const double *xp = xb + j;
  int r = 0;
  for (; r + 1 < nb; r += 2, xp += 2 * d) {
#pragma GCC unroll 2
    for (int e = 0; e < 2; e++) {
      __m256d t0 = _mm256_load_pd(T + (r + e) * PD_LANES);
      __m256d t1 = _mm256_load_pd(T + (r + e) * PD_LANES + 4);
#pragma GCC unroll 3
      for (int u = 0; u < J; u++) {
        __m256d xj = _mm256_broadcast_sd(xp + e * d + u);
        g[e][u][0] = _mm256_fmadd_pd(t0, xj, g[e][u][0]);
        g[e][u][1] = _mm256_fmadd_pd(t1, xj, g[e][u][1]);
      }
    }
  }
  if (r < nb) {
    __m256d t0 = _mm256_load_pd(T + r * PD_LANES);
    __m256d t1 = _mm256_load_pd(T + r * PD_LANES + 4);
#pragma GCC unroll 3
    for (int u = 0; u < J; u++) {
      __m256d xj = _mm256_broadcast_sd(xp + u);
      g[0][u][0] = _mm256_fmadd_pd(t0, xj, g[0][u][0]);
      g[0][u][1] = _mm256_fmadd_pd(t1, xj, g[0][u][1]);
    }
  }
#pragma GCC unroll 3
  for (int u = 0; u < J; u++) {
    _mm256_store_pd(pw0 + (j + u) * PD_LANES, g[0][u][0]);
    _mm256_store_pd(pw0 + (j + u) * PD_LANES + 4, g[0][u][1]);
    _mm256_store_pd(pw1 + (j + u) * PD_LANES, g[1][u][0]);
    _mm256_store_pd(pw1 + (j + u) * PD_LANES + 4, g[1][u][1]);
  }
}

PD_AVX2 PD_TEMPLATE void pd_chunk_grad_tl_avx2_t(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, const double *restrict c, int64_t n,
    int d, double *restrict ga, double *restrict gw) {
  const __m256d zero = _mm256_setzero_pd();
  /* even / odd partial sums of the weight gradient: gw and its tail */
  double *pw0 = gw, *pw1 = gw + (size_t)(d + 1) * PD_LANES;
  memset(pw0, 0, sizeof(double) * PD_LANES * (size_t)d);
  memset(pw1, 0, sizeof(double) * PD_LANES * (size_t)d);
  __m256d pa[2][2] = {{zero, zero}, {zero, zero}};
  __m256d pb[2][2] = {{zero, zero}, {zero, zero}};
  _Alignas(32) double T[PD_NB * PD_LANES];
  __m256d z[PD_ZR][2];
  for (int64_t i0 = 0; i0 < n; i0 += PD_NB) {
    const int nb = n - i0 < PD_NB ? (int)(n - i0) : PD_NB;
    for (int r0 = 0; r0 < nb; r0 += PD_ZR) {
      const int q = nb - r0 < PD_ZR ? nb - r0 : PD_ZR;
      pd_zt_avx2(w, s, k, x, i0 + r0, q, d, z,
                 i0 + r0 < 2 * PD_ZR ? 1 + (i0 + r0) / PD_ZR : 0);
      for (int r = 0; r < q; r++) {
        const int e = (r0 + r) & 1; /* i0 is even */
        __m256d ci = _mm256_broadcast_sd(c + i0 + r0 + r);
        for (int v = 0; v < 2; v++) {
          __m256d t = pd_act_dmul_v(act, z[r][v], ci);
          pa[e][v] =
              _mm256_fmadd_pd(ci, pd_act_sigma_v(act, z[r][v]), pa[e][v]);
          pb[e][v] = _mm256_add_pd(pb[e][v], t);
          _mm256_store_pd(T + (r0 + r) * PD_LANES + 4 * v, t);
        }
      }
    }
    const double *xb = x + i0 * d;
    int j = 0;
    for (; j + PD_GJ <= d; j += PD_GJ)
      pd_gtile_avx2(PD_GJ, T, xb, nb, d, j, pw0, pw1);
    if (d - j == 2) pd_gtile_avx2(2, T, xb, nb, d, j, pw0, pw1);
    if (d - j == 1) pd_gtile_avx2(1, T, xb, nb, d, j, pw0, pw1);
  }
  pd_grad_finish_avx2(a, k, d, pa, pb, pw0, pw1, ga, gw);
}

PD_AVX2 PD_TEMPLATE void pd_chunk_output_tl_avx2_t(
    int act, const double *restrict a, const double *restrict w, int64_t s,
    int64_t k, const double *restrict x, int64_t n, int d, double *restrict P) {
  __m256d a0 = _mm256_load_pd(a + k), a1 = _mm256_load_pd(a + k + 4);
  __m256d z[PD_ZR][2];
  for (int64_t i = 0; i < n; i += PD_ZR) {
    const int q = n - i < PD_ZR ? (int)(n - i) : PD_ZR;
    pd_zt_avx2(w, s, k, x, i, q, d, z,
               i < 2 * PD_ZR ? 1 + (int)(i / PD_ZR) : 0);
    for (int r = 0; r < q; r++) {
      double *p = P + (i + r) * PD_LANES;
      _mm256_store_pd(p, _mm256_fmadd_pd(a0, pd_act_sigma_v(act, z[r][0]),
                                         _mm256_load_pd(p)));
      _mm256_store_pd(p + 4, _mm256_fmadd_pd(a1, pd_act_sigma_v(act, z[r][1]),
                                             _mm256_load_pd(p + 4)));
    }
  }
}

PD_AVX2 PD_TEMPLATE void pd_chunk_tangent_tl_avx2_t(
    int act, const double *restrict w, int64_t s, int64_t k,
    const double *restrict x, int64_t n, int d, const double *restrict ga,
    const double *restrict gw, double *restrict P) {
  __m256d ga0 = _mm256_loadu_pd(ga), ga1 = _mm256_loadu_pd(ga + 4);
  __m256d z[PD_ZR][2], u[PD_ZR][2];
  for (int64_t i = 0; i < n; i += PD_ZR) {
    const int q = n - i < PD_ZR ? (int)(n - i) : PD_ZR;
    pd_zt_avx2(w, s, k, x, i, q, d, z,
               i < 2 * PD_ZR ? 1 + (int)(i / PD_ZR) : 0);
    pd_zt_avx2(gw, PD_LANES, 0, x, i, q, d, u, 0); /* x~ . g_w, same order */
    for (int r = 0; r < q; r++) {
      double *p = P + (i + r) * PD_LANES;
      __m256d p0 =
          _mm256_fmadd_pd(pd_act_sigma_v(act, z[r][0]), ga0, _mm256_load_pd(p));
      __m256d p1 = _mm256_fmadd_pd(pd_act_sigma_v(act, z[r][1]), ga1,
                                   _mm256_load_pd(p + 4));
      _mm256_store_pd(p,
                      _mm256_add_pd(p0, pd_act_dmul_v(act, z[r][0], u[r][0])));
      _mm256_store_pd(p + 4,
                      _mm256_add_pd(p1, pd_act_dmul_v(act, z[r][1], u[r][1])));
    }
  }
}
#endif

#endif
