#include "phasediag/model/scheme.h"

#include <math.h>
#include <string.h>

#include "phasediag/base/error.h"

static const char *const pd_scheme_names[PD_SCHEME_COUNT] = {
    "grid", "ntk", "mean_field", "xavier", "lecun", "he"};

const char *pd_scheme_name(pd_scheme_kind kind) {
  return (unsigned)kind < PD_SCHEME_COUNT ? pd_scheme_names[kind] : "unknown";
}

int pd_scheme_from_name(const char *name, pd_scheme_kind *kind) {
  for (int k = 0; k < PD_SCHEME_COUNT; k++) {
    if (strcmp(name, pd_scheme_names[k]) == 0) {
      *kind = (pd_scheme_kind)k;
      return PD_OK;
    }
  }
  return pd_error_raise(
      PD_ERR_ARG, __FILE__, __LINE__, __func__,
      "unknown scheme '%s' (expected ntk, mean_field, xavier, lecun or he)",
      name);
}

int pd_scales_grid(double gamma, double gamma_prime, double m, double base,
                   pd_scales *s) {
  PD_CHECK(m >= 1 && isfinite(m), PD_ERR_ARG, "width %g must be >= 1", m);
  PD_CHECK(base > 0 && isfinite(base), PD_ERR_ARG,
           "base scale %g must be positive", base);
  PD_CHECK(isfinite(gamma) && isfinite(gamma_prime), PD_ERR_ARG,
           "gamma %g and gamma' %g must be finite", gamma, gamma_prime);
  s->beta2 = base;
  s->beta1 = base * pow(m, -gamma_prime);
  s->alpha = s->beta1 * s->beta2 * pow(m, gamma);
  PD_CHECK(
      s->alpha > 0 && isfinite(s->alpha) && s->beta1 > 0 && isfinite(s->beta1),
      PD_ERR_NUMERIC,
      "(gamma, gamma') = (%g, %g) at width %g gives scales out of range "
      "(alpha %g, beta1 %g)",
      gamma, gamma_prime, m, s->alpha, s->beta1);
  return PD_OK;
}

int pd_scales_scheme(pd_scheme_kind kind, double m, int d, pd_scales *s) {
  PD_CHECK(m >= 1, PD_ERR_ARG, "width %g must be >= 1", m);
  PD_CHECK(d >= 1, PD_ERR_ARG, "input dimension %d must be >= 1", d);
  switch (kind) {
    case PD_SCHEME_NTK: *s = (pd_scales){sqrt(m), 1.0, 1.0}; break;
    case PD_SCHEME_MEAN_FIELD: *s = (pd_scales){m, 1.0, 1.0}; break;
    case PD_SCHEME_XAVIER:
      *s = (pd_scales){1.0, sqrt(2.0 / (m + 1.0)), sqrt(2.0 / (m + d))};
      break;
    case PD_SCHEME_LECUN:
      *s = (pd_scales){1.0, sqrt(1.0 / m), sqrt(1.0 / d)};
      break;
    case PD_SCHEME_HE:
      *s = (pd_scales){1.0, sqrt(2.0 / m), sqrt(2.0 / d)};
      break;
    default:
      return pd_error_raise(PD_ERR_ARG, __FILE__, __LINE__, __func__,
                            "scheme %d has no closed-form scales", (int)kind);
  }
  return PD_OK;
}

int pd_scheme_coordinates(pd_scheme_kind kind, int d, double *gamma,
                          double *gamma_prime) {
  const double m1 = 1e20, m2 = 1e40;
  pd_scales s1 = {0, 0, 0}, s2 = {0, 0, 0};
  PD_CALL(pd_scales_scheme(kind, m1, d, &s1));
  PD_CALL(pd_scales_scheme(kind, m2, d, &s2));
  double dl = log(m2) - log(m1);
  *gamma = -(log(s2.beta1 * s2.beta2 / s2.alpha) -
             log(s1.beta1 * s1.beta2 / s1.alpha)) /
           dl;
  *gamma_prime = -(log(s2.beta1 / s2.beta2) - log(s1.beta1 / s1.beta2)) / dl;
  *gamma += 0.0; /* no negative zeros in printed coordinates */
  *gamma_prime += 0.0;
  return PD_OK;
}

pd_regime pd_theory_regime(double gamma, double gamma_prime) {
  const double eps = 1e-9;
  if (!isfinite(gamma) || !isfinite(gamma_prime)) return PD_REGIME_UNDETERMINED;
  if (gamma < 1 - eps || gamma_prime > gamma - 1 + eps) return PD_REGIME_LINEAR;
  if (gamma > 1 + eps && gamma_prime < gamma - 1 - eps)
    return PD_REGIME_CONDENSED;
  return PD_REGIME_CRITICAL;
}

double pd_theory_boundary_distance(double gamma, double gamma_prime) {
  double x = gamma - 1, y = gamma_prime, corner = sqrt(x * x + y * y);
  /* the ray {(1, t): t <= 0} */
  double d1 = y <= 0 ? fabs(x) : corner;
  /* the ray {(1 + t, t): t >= 0} */
  double d2 = x + y >= 0 ? fabs(x - y) / sqrt(2.0) : corner;
  return d1 < d2 ? d1 : d2;
}

const char *pd_regime_name(int regime) {
  switch (regime) {
    case PD_REGIME_LINEAR: return "linear";
    case PD_REGIME_CRITICAL: return "critical";
    case PD_REGIME_CONDENSED: return "condensed";
    default: return "undetermined";
  }
}
