"""Regime codes, names and colors, and the theory: the theorems of Luo, Xu,
Ma and Zhang (JMLR 2021), their boundary lines, and the slope fit (a copy
of src/model/scheme.c and src/model/fit.c, so the analysis can check and recompute the
binary's /phase)."""
import math

import numpy as np


# ---------------------------------------------------------------------------
# Regime codes, names, colors
# ---------------------------------------------------------------------------

LINEAR, CRITICAL, CONDENSED, UNDETERMINED = 0, 1, 2, -1
REGIME_NAMES = {LINEAR: "linear", CRITICAL: "critical", CONDENSED: "condensed",
                UNDETERMINED: "undetermined"}
# Fixed colors (Okabe-Ito, color-blind safe); the legends show them.
REGIME_COLORS = {LINEAR: "#0072B2",        # blue
                 CRITICAL: "#009E73",      # bluish green
                 CONDENSED: "#D55E00",     # vermillion
                 UNDETERMINED: "#999999"}  # grey
REGIME_ORDER = [LINEAR, CRITICAL, CONDENSED, UNDETERMINED]


FAR_FROM_BOUNDARY = 0.15  # the binary's "far from the boundary" distance


def regime_name(code):
    return REGIME_NAMES.get(int(code), f"code {int(code)}")


def regime_color(code):
    return REGIME_COLORS.get(int(code), REGIME_COLORS[UNDETERMINED])


# ---------------------------------------------------------------------------
# Theory (mirrors src/model/scheme.c and src/model/fit.c)
# ---------------------------------------------------------------------------

def theory_regime(gamma, gamma_prime):
    """Theorems 1 and 2 of Luo et al.: linear if gamma < 1 or gamma' > gamma
    - 1, condensed if gamma > 1 and gamma' < gamma - 1, critical on the
    boundary (gamma = 1, gamma' <= 0, or gamma' = gamma - 1, gamma >= 1)."""
    eps = 1e-9
    g, gp = float(gamma), float(gamma_prime)
    if not (math.isfinite(g) and math.isfinite(gp)):
        return UNDETERMINED
    if g < 1 - eps or gp > g - 1 + eps:
        return LINEAR
    if g > 1 + eps and gp < g - 1 - eps:
        return CONDENSED
    return CRITICAL


def boundary_distance(gamma, gamma_prime):
    """Euclidean distance to the critical boundary in the (gamma, gamma')
    plane (the two rays {(1, t): t <= 0} and {(1 + t, t): t >= 0})."""
    x, y = float(gamma) - 1, float(gamma_prime)
    corner = math.hypot(x, y)
    d1 = abs(x) if y <= 0 else corner
    d2 = abs(x - y) / math.sqrt(2.0) if x + y >= 0 else corner
    return min(d1, d2)


def boundary_lines(xmin, xmax):
    """The theoretical boundary in plot coordinates (x = gamma', y = gamma):
    gamma = 1 for gamma' <= 0 and gamma' = gamma - 1 for gamma >= 1.
    Returns [(xs, ys), (xs, ys)]."""
    xmin, xmax = min(xmin, 0.0), max(xmax, 0.0)
    return [(np.array([xmin, 0.0]), np.array([1.0, 1.0])),
            (np.array([0.0, xmax]), np.array([1.0, 1.0 + xmax]))]


def fit_slope(x, y):
    """Least-squares slope and its standard error (src/model/fit.c): NaN, NaN
    with fewer than 2 finite points or one distinct x; stderr NaN with 2."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    k = len(x)
    if k < 2:
        return math.nan, math.nan
    mx, my = x.mean(), y.mean()
    sxx = float(((x - mx) ** 2).sum())
    if not sxx > 0:
        return math.nan, math.nan
    b = float(((x - mx) * (y - my)).sum()) / sxx
    c = my - b * mx
    if k <= 2:
        return b, math.nan
    rss = float(((y - c - b * x) ** 2).sum())
    return b, math.sqrt(rss / (k - 2) / sxx)


def fit_regime(slope, band):
    if not math.isfinite(slope):
        return UNDETERMINED
    if slope < -band:
        return LINEAR
    if slope > band:
        return CONDENSED
    return CRITICAL
