/* Private to activation_defs.h, which includes it twice: the activations
 * that need exp, written once over a set of operations.  The first pass has
 * PD_V = double and PD_S(f) = f (the scalar forms), the second PD_V =
 * __m256d and PD_S(f) = f_v (the AVX2 forms).  The operations of the two
 * sets (pd_op_* in activation_defs.h) are IEEE operations with one rounding
 * each, the same in both, so the forms give the same bits lane for lane:
 * one routine of fixed evaluation order, no libm call.
 *
 * exp and expm1 of y <= 0: y = k ln 2 + r with k = round(y / ln 2) (the
 * 1.5 2^52 trick, exact) and |r| <= ln 2 / 2 (Cody-Waite in two fma's; the
 * first is exact), expm1(r) by its Taylor polynomial of degree 13 (the
 * remainder is below 2e-17 relative on |r| <= ln 2 / 2), and 2^k as two
 * factors 2^k1 2^k2 built from the exponent bits, so that results down to
 * the subnormals come out of normal numbers.  y is clamped below at -746
 * (exp is 0 there), NaN passes.  Measured against libm (tests/
 * test_activation_math.c): exp, expm1, tanh, sigmoid and softplus within a
 * few ulp. */

#define PD_ADD PD_S(pd_op_add)
#define PD_SUB PD_S(pd_op_sub)
#define PD_MUL PD_S(pd_op_mul)
#define PD_DIV PD_S(pd_op_div)
#define PD_FMA PD_S(pd_op_fma)
#define PD_MAX PD_S(pd_op_max)
#define PD_MIN PD_S(pd_op_min)
#define PD_ABS PD_S(pd_op_abs)
#define PD_K PD_S(pd_op_set)
#define PD_SEL PD_S(pd_op_select)
#define PD_GT PD_S(pd_op_gt)
#define PD_LT PD_S(pd_op_lt)
#define PD_GE PD_S(pd_op_ge)

/* *e = exp(y), *em1 = expm1(y) for y <= 0 (or NaN) */
PD_A PD_TEMPLATE void PD_S(pd_expm)(PD_V y, PD_V *e, PD_V *em1) {
  const double magic = 0x1.8p52;
  y = PD_MAX(PD_K(-746.0), y); /* NaN is the second operand: kept */
  PD_V k =
      PD_SUB(PD_FMA(y, PD_K(0x1.71547652b82fep0), PD_K(magic)), PD_K(magic));
  PD_V r = PD_FMA(k, PD_K(-0x1.62e42fefa39efp-1), y);
  r = PD_FMA(k, PD_K(-0x1.abc9e3b39803fp-56), r);
  PD_V q = PD_K(1.0 / 6227020800.0);
  q = PD_FMA(q, r, PD_K(1.0 / 479001600.0));
  q = PD_FMA(q, r, PD_K(1.0 / 39916800.0));
  q = PD_FMA(q, r, PD_K(1.0 / 3628800.0));
  q = PD_FMA(q, r, PD_K(1.0 / 362880.0));
  q = PD_FMA(q, r, PD_K(1.0 / 40320.0));
  q = PD_FMA(q, r, PD_K(1.0 / 5040.0));
  q = PD_FMA(q, r, PD_K(1.0 / 720.0));
  q = PD_FMA(q, r, PD_K(1.0 / 120.0));
  q = PD_FMA(q, r, PD_K(1.0 / 24.0));
  q = PD_FMA(q, r, PD_K(1.0 / 6.0));
  q = PD_FMA(q, r, PD_K(0.5));
  const PD_V p = PD_FMA(PD_MUL(r, q), r, r); /* expm1(r) */
  /* k in [-1076, 0]: k1 = round(k / 2) and k - k1 in [-538, 0] */
  const PD_V k1 =
      PD_SUB(PD_ADD(PD_MUL(k, PD_K(0.5)), PD_K(magic)), PD_K(magic));
  const PD_V s1 = PD_S(pd_op_pow2)(k1), s2 = PD_S(pd_op_pow2)(PD_SUB(k, k1));
  *e = PD_MUL(PD_MUL(PD_ADD(PD_K(1.0), p), s1), s2);
  const PD_V s = PD_MUL(s1, s2); /* 0 or inexact only where expm1 is -1 */
  *em1 = PD_FMA(s, p, PD_SUB(s, PD_K(1.0)));
}

/* log1p(e) for 0 <= e <= 1: 2 atanh(s), s = e / (2 + e) <= 1/3, by its
 * series in s^2 <= 1/9 to the term s^35 (remainder below 1e-17 relative) */
PD_A PD_TEMPLATE PD_V PD_S(pd_log1p01)(PD_V e) {
  const PD_V s = PD_DIV(e, PD_ADD(PD_K(2.0), e));
  const PD_V s2 = PD_MUL(s, s);
  PD_V q = PD_K(1.0 / 35.0);
  for (int j = 16; j >= 1; j--) q = PD_FMA(q, s2, PD_K(1.0 / (2 * j + 1)));
  const PD_V t = PD_ADD(s, s);
  return PD_FMA(PD_MUL(t, s2), q, t);
}

/* tanh(z) = -expm1(-2|z|) / (2 + expm1(-2|z|)) with the sign of z (no
 * cancellation near 0; 1 exactly beyond |z| ~ 19) */
PD_A PD_TEMPLATE PD_V PD_S(pd_tanh_of)(PD_V z) {
  PD_V e, em1;
  PD_S(pd_expm)(PD_MUL(PD_K(-2.0), PD_ABS(z)), &e, &em1);
  const PD_V t = PD_DIV(PD_SUB(PD_K(0.0), em1), PD_ADD(PD_K(2.0), em1));
  return PD_S(pd_op_copysign)(t, z);
}

/* tanh'(z) = 1 / cosh^2 z = 4 E / (1 + E)^2, E = exp(-2|z|): accurate in
 * the tails too, where 1 - tanh^2 would cancel */
PD_A PD_TEMPLATE PD_V PD_S(pd_sech2_of)(PD_V z) {
  PD_V e, em1;
  PD_S(pd_expm)(PD_MUL(PD_K(-2.0), PD_ABS(z)), &e, &em1);
  const PD_V d = PD_ADD(PD_K(1.0), e);
  return PD_DIV(PD_MUL(PD_K(4.0), e), PD_MUL(d, d));
}

/* E = exp(-|z|) and S = 1 / (1 + E): sigmoid(z) is S for z >= 0 and E S
 * below, sigmoid'(z) = E S^2 on both sides (no cancellation anywhere) */
PD_A PD_TEMPLATE PD_V PD_S(pd_sigmoid_parts)(PD_V z, PD_V *es) {
  PD_V e, em1;
  PD_S(pd_expm)(PD_SUB(PD_K(0.0), PD_ABS(z)), &e, &em1);
  *es = e;
  return PD_DIV(PD_K(1.0), PD_ADD(PD_K(1.0), e));
}

/* ---- tanh ---------------------------------------------------------------- */

PD_A PD_TEMPLATE PD_V PD_S(pd_tanh_sigma)(PD_V z) {
  return PD_S(pd_tanh_of)(z);
}
PD_A PD_TEMPLATE PD_V PD_S(pd_tanh_dsigma)(PD_V z) {
  return PD_S(pd_sech2_of)(z);
}
PD_A PD_TEMPLATE PD_V PD_S(pd_tanh_dmul)(PD_V z, PD_V c) {
  return PD_MUL(c, PD_S(pd_sech2_of)(z));
}

/* ---- sigmoid ------------------------------------------------------------- */

PD_A PD_TEMPLATE PD_V PD_S(pd_sigmoid_sigma)(PD_V z) {
  PD_V e;
  const PD_V s = PD_S(pd_sigmoid_parts)(z, &e);
  return PD_SEL(PD_GE(z, PD_K(0.0)), s, PD_MUL(e, s));
}
PD_A PD_TEMPLATE PD_V PD_S(pd_sigmoid_dsigma)(PD_V z) {
  PD_V e;
  const PD_V s = PD_S(pd_sigmoid_parts)(z, &e);
  return PD_MUL(PD_MUL(e, s), s);
}
PD_A PD_TEMPLATE PD_V PD_S(pd_sigmoid_dmul)(PD_V z, PD_V c) {
  return PD_MUL(c, PD_S(pd_sigmoid_dsigma)(z));
}

/* ---- softplus: log(1 + e^z) = max(z, 0) + log1p(exp(-|z|)) --------------- */

PD_A PD_TEMPLATE PD_V PD_S(pd_softplus_sigma)(PD_V z) {
  PD_V e, em1;
  PD_S(pd_expm)(PD_SUB(PD_K(0.0), PD_ABS(z)), &e, &em1);
  return PD_ADD(PD_MAX(z, PD_K(0.0)), PD_S(pd_log1p01)(e));
}
PD_A PD_TEMPLATE PD_V PD_S(pd_softplus_dsigma)(PD_V z) {
  return PD_S(pd_sigmoid_sigma)(z);
}
PD_A PD_TEMPLATE PD_V PD_S(pd_softplus_dmul)(PD_V z, PD_V c) {
  return PD_MUL(c, PD_S(pd_sigmoid_sigma)(z));
}

/* ---- xtanh: z tanh z, derivative tanh z + z / cosh^2 z ------------------- */

PD_A PD_TEMPLATE PD_V PD_S(pd_xtanh_sigma)(PD_V z) {
  return PD_MUL(z, PD_S(pd_tanh_of)(z));
}
/* z / cosh^2 z is 0 beyond |z| = 800 already: z clamped there, so that
 * z = +-inf gives +-1, not inf * 0 */
PD_A PD_TEMPLATE PD_V PD_S(pd_xtanh_dsigma)(PD_V z) {
  const PD_V zc = PD_MAX(PD_K(-800.0), PD_MIN(z, PD_K(800.0)));
  return PD_FMA(zc, PD_S(pd_sech2_of)(z), PD_S(pd_tanh_of)(z));
}
PD_A PD_TEMPLATE PD_V PD_S(pd_xtanh_dmul)(PD_V z, PD_V c) {
  return PD_MUL(c, PD_S(pd_xtanh_dsigma)(z));
}

/* ---- srelu: relu(z) relu(1 - z) = z (1 - z) on (0, 1), else 0 ------------ */
/* As for relu the kinks take the one-sided derivative 0 (z = 0 and z = 1
 * are outside the open support); NaN gives 0, like relu. */

PD_A PD_TEMPLATE PD_V PD_S(pd_srelu_sigma)(PD_V z) {
  const PD_V in = PD_S(pd_op_and)(PD_GT(z, PD_K(0.0)), PD_LT(z, PD_K(1.0)));
  return PD_SEL(in, PD_MUL(z, PD_SUB(PD_K(1.0), z)), PD_K(0.0));
}
PD_A PD_TEMPLATE PD_V PD_S(pd_srelu_dsigma)(PD_V z) {
  const PD_V in = PD_S(pd_op_and)(PD_GT(z, PD_K(0.0)), PD_LT(z, PD_K(1.0)));
  return PD_SEL(in, PD_SUB(PD_K(1.0), PD_ADD(z, z)), PD_K(0.0));
}
/* a select, not c [0 < z < 1] (1 - 2z): +0 outside, like relu */
PD_A PD_TEMPLATE PD_V PD_S(pd_srelu_dmul)(PD_V z, PD_V c) {
  const PD_V in = PD_S(pd_op_and)(PD_GT(z, PD_K(0.0)), PD_LT(z, PD_K(1.0)));
  return PD_SEL(in, PD_MUL(c, PD_SUB(PD_K(1.0), PD_ADD(z, z))), PD_K(0.0));
}

/* ---- phi3: the quadratic B-spline on the knots 0, 1, 2, 3 ---------------- */
/* 1/2 relu(z)^2 - 3/2 relu(z-1)^2 + 3/2 relu(z-2)^2 - 1/2 relu(z-3)^2 by
 * pieces (the sum of squares would cancel near z = 3):
 * z^2 / 2 on (0, 1], 3/4 - (z - 3/2)^2 on (1, 2], (3 - z)^2 / 2 on (2, 3).
 * It is C^1, so the derivative (z, 3 - 2z, z - 3 on the pieces) needs no
 * convention at the knots; NaN gives 0. */

PD_A PD_TEMPLATE PD_V PD_S(pd_phi3_piece)(PD_V z, PD_V v1, PD_V v2, PD_V v3) {
  const PD_V zero = PD_K(0.0);
  PD_V r = PD_SEL(PD_LT(z, PD_K(3.0)), v3, zero);
  r = PD_SEL(PD_GT(z, PD_K(2.0)), r, v2);
  r = PD_SEL(PD_GT(z, PD_K(1.0)), r, v1);
  return PD_SEL(PD_GT(z, zero), r, zero);
}
PD_A PD_TEMPLATE PD_V PD_S(pd_phi3_sigma)(PD_V z) {
  const PD_V m = PD_SUB(z, PD_K(1.5)), u = PD_SUB(PD_K(3.0), z);
  return PD_S(pd_phi3_piece)(z, PD_MUL(PD_MUL(PD_K(0.5), z), z),
                             PD_SUB(PD_K(0.75), PD_MUL(m, m)),
                             PD_MUL(PD_MUL(PD_K(0.5), u), u));
}
PD_A PD_TEMPLATE PD_V PD_S(pd_phi3_dsigma)(PD_V z) {
  return PD_S(pd_phi3_piece)(z, z, PD_SUB(PD_K(3.0), PD_ADD(z, z)),
                             PD_SUB(z, PD_K(3.0)));
}
PD_A PD_TEMPLATE PD_V PD_S(pd_phi3_dmul)(PD_V z, PD_V c) {
  return PD_S(pd_phi3_piece)(z, PD_MUL(c, z),
                             PD_MUL(c, PD_SUB(PD_K(3.0), PD_ADD(z, z))),
                             PD_MUL(c, PD_SUB(z, PD_K(3.0))));
}

#undef PD_ADD
#undef PD_SUB
#undef PD_MUL
#undef PD_DIV
#undef PD_FMA
#undef PD_MAX
#undef PD_MIN
#undef PD_ABS
#undef PD_K
#undef PD_SEL
#undef PD_GT
#undef PD_LT
#undef PD_GE
