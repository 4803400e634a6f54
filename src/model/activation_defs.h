/* Private: the activations themselves, each written once.  A new activation
 * is one line in PD_ACTIVATIONS, its five forms and its centres; nothing
 * else changes.  From this list come the registry (activation.c), the fused
 * kernels for every instruction set (kernel.c, kernel_body.h), the grid
 * evaluation (gridspec.c), the empirical NTK features (ntk.c) and the
 * infinite-width NTK's quadrature (ntk_quad.c).
 *
 * PD_ACTIVATIONS(X, ...) calls X(name, p, closed, ...) per activation, in
 * registry order: name is a C identifier and the configuration's name, p
 * the multiplicity (order of the zero of sigma at 0, one-sided where sigma
 * vanishes for z < 0: the first non-zero term of the expansion at 0+ is
 * c z^p; 0 if sigma(0) != 0), closed = 1 when the closed-form
 * infinite-width theory (the arc-cosine NTK of ntk.h, the LFP coefficients
 * of lfp.h) is known for it.
 *
 * The forms of an activation `name` (and its centres, below):
 *
 *   double  pd_name_sigma(double z)              sigma(z)
 *   double  pd_name_dsigma(double z)             sigma'(z)
 *   double  pd_name_dmul(double z, double c)     c sigma'(z)
 *   __m256d pd_name_sigma_v(__m256d z)           sigma, 4 lanes (AVX2+FMA)
 *   __m256d pd_name_dmul_v(__m256d z, __m256d c) c sigma'(z), 4 lanes
 *
 * Each vector form must give, lane for lane, the bits of its scalar form
 * for every input: the portable and AVX2 kernels are compared bit for bit.
 * A transcendental sigma needs one routine of fixed evaluation order that
 * both forms follow (no libm call in one and not the other): those are
 * written once in activation_math.h over the operations pd_op_* below,
 * which that file is compiled with twice, once per set. */
#ifndef PHASEDIAG_ACTIVATION_DEFS_H
#define PHASEDIAG_ACTIVATION_DEFS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define PD_HAVE_AVX2 1
#include <immintrin.h>
#define PD_AVX2 __attribute__((target("avx2,fma")))
#else
#define PD_HAVE_AVX2 0
#endif

/* Templates over the activation: always inlined, so the activation (a
 * constant at every instance) selects its forms at compile time. */
#define PD_TEMPLATE static inline __attribute__((always_inline))

/* multiplicities: tanh, srelu z (1 - z): 1; x tanh x ~ z^2 and phi3 =
 * z^2 / 2 on (0, 1): 2 (relu's convention, one-sided); sigmoid and
 * softplus: sigma(0) != 0 */
#define PD_ACTIVATIONS(X, ...)   \
  X(relu, 1, 1, __VA_ARGS__)     \
  X(tanh, 1, 0, __VA_ARGS__)     \
  X(sigmoid, 0, 0, __VA_ARGS__)  \
  X(softplus, 0, 0, __VA_ARGS__) \
  X(xtanh, 2, 0, __VA_ARGS__)    \
  X(srelu, 1, 0, __VA_ARGS__)    \
  X(phi3, 2, 0, __VA_ARGS__)

/* ---- relu ---------------------------------------------------------------- */
/* The step is taken as sigma'(0) = 0.  The scalar forms give 0.0 below the
 * kink, -0 and NaN included; the vector forms give +0 there too: maxpd
 * returns its second operand (+0) unless z > 0, and the mask of (z > 0) is
 * all zero bits.  Keep the operand order of _mm256_max_pd. */

PD_TEMPLATE double pd_relu_sigma(double z) { return z > 0.0 ? z : 0.0; }
PD_TEMPLATE double pd_relu_dsigma(double z) { return z > 0.0 ? 1.0 : 0.0; }
/* a select, not c * [z > 0]: that would give -0 for c < 0 */
PD_TEMPLATE double pd_relu_dmul(double z, double c) {
  return z > 0.0 ? c : 0.0;
}

#if PD_HAVE_AVX2
PD_AVX2 PD_TEMPLATE __m256d pd_relu_sigma_v(__m256d z) {
  return _mm256_max_pd(z, _mm256_setzero_pd());
}
PD_AVX2 PD_TEMPLATE __m256d pd_relu_dmul_v(__m256d z, __m256d c) {
  return _mm256_and_pd(_mm256_cmp_pd(z, _mm256_setzero_pd(), _CMP_GT_OQ), c);
}
#endif

/* ---- the two sets of operations of activation_math.h --------------------- */
/* Scalar (no suffix) and AVX2 (suffix _v), each with one IEEE rounding and
 * the same operand conventions: max(a, b) = a > b ? a : b as maxpd and
 * min(a, b) = a < b ? a : b as minpd (NaN in either gives b), comparisons
 * ordered and quiet (false on NaN), select(m, a, b) = m ? a : b, pow2(k) = 2^k
 * for an integral k in [-1022, 1023] from the exponent bits. */

PD_TEMPLATE double pd_op_set(double a) { return a; }
PD_TEMPLATE double pd_op_add(double a, double b) { return a + b; }
PD_TEMPLATE double pd_op_sub(double a, double b) { return a - b; }
PD_TEMPLATE double pd_op_mul(double a, double b) { return a * b; }
PD_TEMPLATE double pd_op_div(double a, double b) { return a / b; }
PD_TEMPLATE double pd_op_fma(double a, double b, double c) {
  return fma(a, b, c);
}
PD_TEMPLATE double pd_op_max(double a, double b) { return a > b ? a : b; }
PD_TEMPLATE double pd_op_min(double a, double b) { return a < b ? a : b; }
PD_TEMPLATE double pd_op_abs(double a) { return fabs(a); }
PD_TEMPLATE double pd_op_copysign(double a, double s) { return copysign(a, s); }
PD_TEMPLATE int pd_op_gt(double a, double b) { return a > b; }
PD_TEMPLATE int pd_op_lt(double a, double b) { return a < b; }
PD_TEMPLATE int pd_op_ge(double a, double b) { return a >= b; }
PD_TEMPLATE int pd_op_and(int a, int b) { return a & b; }
PD_TEMPLATE double pd_op_select(int m, double a, double b) { return m ? a : b; }
PD_TEMPLATE double pd_op_pow2(double k) {
  double t = k + (0x1.8p52 + 1023);
  uint64_t u;
  memcpy(&u, &t, sizeof u);
  u <<= 52;
  memcpy(&t, &u, sizeof t);
  return t;
}

#if PD_HAVE_AVX2
PD_AVX2 PD_TEMPLATE __m256d pd_op_set_v(double a) { return _mm256_set1_pd(a); }
PD_AVX2 PD_TEMPLATE __m256d pd_op_add_v(__m256d a, __m256d b) {
  return _mm256_add_pd(a, b);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_sub_v(__m256d a, __m256d b) {
  return _mm256_sub_pd(a, b);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_mul_v(__m256d a, __m256d b) {
  return _mm256_mul_pd(a, b);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_div_v(__m256d a, __m256d b) {
  return _mm256_div_pd(a, b);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_fma_v(__m256d a, __m256d b, __m256d c) {
  return _mm256_fmadd_pd(a, b, c);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_max_v(__m256d a, __m256d b) {
  return _mm256_max_pd(a, b);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_min_v(__m256d a, __m256d b) {
  return _mm256_min_pd(a, b);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_abs_v(__m256d a) {
  return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_copysign_v(__m256d a, __m256d s) {
  const __m256d sign = _mm256_set1_pd(-0.0);
  return _mm256_or_pd(_mm256_andnot_pd(sign, a), _mm256_and_pd(sign, s));
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_gt_v(__m256d a, __m256d b) {
  return _mm256_cmp_pd(a, b, _CMP_GT_OQ);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_lt_v(__m256d a, __m256d b) {
  return _mm256_cmp_pd(a, b, _CMP_LT_OQ);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_ge_v(__m256d a, __m256d b) {
  return _mm256_cmp_pd(a, b, _CMP_GE_OQ);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_and_v(__m256d a, __m256d b) {
  return _mm256_and_pd(a, b);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_select_v(__m256d m, __m256d a, __m256d b) {
  return _mm256_blendv_pd(b, a, m);
}
PD_AVX2 PD_TEMPLATE __m256d pd_op_pow2_v(__m256d k) {
  const __m256d t = _mm256_add_pd(k, _mm256_set1_pd(0x1.8p52 + 1023));
  return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(t), 52));
}
#endif

/* ---- tanh, sigmoid, softplus, xtanh, srelu, phi3 ------------------------- */
/* written once in activation_math.h: its scalar pass, then its AVX2 pass */

#define PD_V double
#define PD_S(f) f
#define PD_A
#include "model/activation_math.h"
#undef PD_V
#undef PD_S
#undef PD_A

#if PD_HAVE_AVX2
#define PD_V __m256d
#define PD_S(f) f##_v
#define PD_A PD_AVX2
#include "model/activation_math.h"
#undef PD_V
#undef PD_S
#undef PD_A
#endif

/* ---- centres ------------------------------------------------------------- */
/* pd_name_centres: the points of the real line where sigma has a knot (it
 * or a derivative jumps) or, for an analytic sigma, the real parts of its
 * complex singularities nearest the axis (tanh's at +-i pi/2, the logistic
 * function's at +-i pi: 0 for all of ours).  The infinite-width NTK's
 * quadrature (ntk_quad.c) splits its panels there and grades them towards
 * them; a wrong list costs accuracy, not correctness. */

#define pd_relu_centres 0.0
#define pd_tanh_centres 0.0
#define pd_sigmoid_centres 0.0
#define pd_softplus_centres 0.0
#define pd_xtanh_centres 0.0
#define pd_srelu_centres 0.0, 1.0
#define pd_phi3_centres 0.0, 1.0, 2.0, 3.0

/* ---- dispatch (nothing below changes for a new activation) --------------- */

/* PD_ACT_relu, ...: the registry index of each activation */
#define PD_ACT_ENUM_(name, ...) PD_ACT_##name,
enum { PD_ACTIVATIONS(PD_ACT_ENUM_, ~) PD_ACT_COUNT };

/* The forms of activation act: with act a compile-time constant (every
 * template instance) the switch folds to the one form. */
#define PD_ACT_CASE_(name, p, closed, form, ...) \
  case PD_ACT_##name: return pd_##name##_##form(__VA_ARGS__);

PD_TEMPLATE double pd_act_sigma(int act, double z) {
  switch (act) { PD_ACTIVATIONS(PD_ACT_CASE_, sigma, z) }
  return NAN;
}
PD_TEMPLATE double pd_act_dsigma(int act, double z) {
  switch (act) { PD_ACTIVATIONS(PD_ACT_CASE_, dsigma, z) }
  return NAN;
}
PD_TEMPLATE double pd_act_dmul(int act, double z, double c) {
  switch (act) { PD_ACTIVATIONS(PD_ACT_CASE_, dmul, z, c) }
  return NAN;
}

#if PD_HAVE_AVX2
PD_AVX2 PD_TEMPLATE __m256d pd_act_sigma_v(int act, __m256d z) {
  switch (act) { PD_ACTIVATIONS(PD_ACT_CASE_, sigma_v, z) }
  return _mm256_set1_pd(NAN);
}
PD_AVX2 PD_TEMPLATE __m256d pd_act_dmul_v(int act, __m256d z, __m256d c) {
  switch (act) { PD_ACTIVATIONS(PD_ACT_CASE_, dmul_v, z, c) }
  return _mm256_set1_pd(NAN);
}
#endif

/* The centres of activation act into *c; returns their number. */
#define PD_ACT_CENTRES_(name, p, closed, ...)              \
  case PD_ACT_##name: {                                    \
    static const double centres[] = {pd_##name##_centres}; \
    *c = centres;                                          \
    return (int)(sizeof centres / sizeof centres[0]);      \
  }
PD_TEMPLATE int pd_act_centres(int act, const double **c) {
  switch (act) { PD_ACTIVATIONS(PD_ACT_CENTRES_, ~) }
  *c = NULL;
  return 0;
}

/* Run the template f for activation act (a run-time value): one case per
 * activation calls f(PD_ACT_<name>, ...), an instance with the forms of
 * that activation inlined.  An id outside the list does nothing (the
 * registry hands out only listed ones). */
#define PD_ACT_CALL_(name, p, closed, f, ...) \
  case PD_ACT_##name:                         \
    f(PD_ACT_##name, __VA_ARGS__);            \
    break;
#define PD_ACT_DISPATCH(act, f, ...)               \
  do {                                             \
    switch (act) {                                 \
      PD_ACTIVATIONS(PD_ACT_CALL_, f, __VA_ARGS__) \
      default: break;                              \
    }                                              \
  } while (0)

#endif
