/* Private: the activations themselves, each written once.  A new activation
 * is one line in PD_ACTIVATIONS and its five forms below; nothing else
 * changes.  From this list come the registry (activation.c), the fused
 * kernels for every instruction set (kernel.c, kernel_body.h), the grid
 * evaluation (gridspec.c) and the empirical NTK features (ntk.c).
 *
 * PD_ACTIVATIONS(X, ...) calls X(name, p, closed, ...) per activation, in
 * registry order: name is a C identifier and the configuration's name, p
 * the multiplicity (order of the zero of sigma at 0; 0 if sigma(0) != 0),
 * closed = 1 when the closed-form infinite-width theory (the arc-cosine NTK
 * of ntk.h, the LFP coefficients of lfp.h) is known for it.
 *
 * The forms of an activation `name`:
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
 * both forms follow (no libm call in one and not the other). */
#ifndef PHASEDIAG_ACTIVATION_DEFS_H
#define PHASEDIAG_ACTIVATION_DEFS_H

#include <math.h>

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

#define PD_ACTIVATIONS(X, ...) X(relu, 1, 1, __VA_ARGS__)

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
