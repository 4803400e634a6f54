#include "phasediag/model/fit.h"

#include <math.h>

#include "phasediag/base/error.h"
#include "phasediag/model/scheme.h"

int pd_fit_slope(const double *x, const double *y, int64_t n, double *slope,
                 double *stderr_out) {
  double sx = 0, sy = 0;
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    sx += x[i];
    sy += y[i];
    k++;
  }
  *slope = NAN;
  *stderr_out = NAN;
  PD_CHECK(k >= 2, PD_ERR_ARG, "a slope needs 2 finite points (have %lld)",
           (long long)k);
  double mx = sx / (double)k, my = sy / (double)k, sxx = 0, sxy = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  PD_CHECK(sxx > 0, PD_ERR_ARG, "a slope needs two distinct x values");
  double b = sxy / sxx, c = my - b * mx, rss = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    double e = y[i] - c - b * x[i];
    rss += e * e;
  }
  *slope = b;
  if (k > 2) *stderr_out = sqrt(rss / (double)(k - 2) / sxx);
  return PD_OK;
}

int pd_fit_regime(double slope, double band) {
  if (!isfinite(slope)) return PD_REGIME_UNDETERMINED;
  if (slope < -band) return PD_REGIME_LINEAR;
  if (slope > band) return PD_REGIME_CONDENSED;
  return PD_REGIME_CRITICAL;
}
