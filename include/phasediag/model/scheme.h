/* Initialization scales and the phase-diagram coordinates.
 *
 * f(x) = (1/alpha) sum_k a_k relu(w_k . (x,1)), a_k ~ N(0, beta1^2),
 * w_k ~ N(0, beta2^2 I).  gamma = lim -log(beta1 beta2 / alpha) / log m,
 * gamma' = lim -log(beta1 / beta2) / log m (Luo, Xu, Ma, Zhang, JMLR 2021). */
#ifndef PHASEDIAG_SCHEME_H
#define PHASEDIAG_SCHEME_H

typedef enum {
  PD_SCHEME_GRID = 0, /* a point (gamma, gamma') with a base scale */
  PD_SCHEME_NTK,
  PD_SCHEME_MEAN_FIELD,
  PD_SCHEME_XAVIER,
  PD_SCHEME_LECUN,
  PD_SCHEME_HE,
  PD_SCHEME_COUNT
} pd_scheme_kind;

typedef enum {
  PD_REGIME_UNDETERMINED = -1,
  PD_REGIME_LINEAR = 0,
  PD_REGIME_CRITICAL = 1,
  PD_REGIME_CONDENSED = 2
} pd_regime;

typedef struct {
  double alpha, beta1, beta2;
} pd_scales;

/* "grid", "ntk", "mean_field", "xavier", "lecun", "he". */
const char *pd_scheme_name(pd_scheme_kind kind);
/* PD_ERR_ARG (message lists the valid names) for an unknown name. */
int pd_scheme_from_name(const char *name, pd_scheme_kind *kind);

/* Scales realizing (gamma, gamma') at width m: beta2 = base,
 * beta1 = base m^-gamma', alpha = beta1 beta2 m^gamma. */
int pd_scales_grid(double gamma, double gamma_prime, double m, double base,
                   pd_scales *s);
/* Scales of a named scheme at width m, input dimension d. */
int pd_scales_scheme(pd_scheme_kind kind, double m, int d, pd_scales *s);

/* (gamma, gamma') of a named scheme, computed from its scale formulas as the
 * log-log slopes between two very large widths. */
int pd_scheme_coordinates(pd_scheme_kind kind, int d, double *gamma,
                          double *gamma_prime);

/* Regime predicted by Theorems 1 and 2: linear if gamma < 1 or
 * gamma' > gamma - 1; condensed if gamma > 1 and gamma' < gamma - 1;
 * critical on the boundary (to within 1e-9). */
pd_regime pd_theory_regime(double gamma, double gamma_prime);

/* Euclidean distance in the (gamma, gamma') plane to the critical boundary
 * {gamma = 1, gamma' <= 0} u {gamma' = gamma - 1, gamma >= 1}. */
double pd_theory_boundary_distance(double gamma, double gamma_prime);

/* "linear", "critical", "condensed", "undetermined". */
const char *pd_regime_name(int regime);

#endif
