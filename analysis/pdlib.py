"""Shared code of the phasediag analysis tools (pdplot, pdsummary, pdreport,
pdcompare).

Reads one phasediag result file (layout: docs/output.md) into a `Result`,
tolerating what a partial or older file lacks: missing optional groups
(/features, /history, /phase), tasks not run (/runs/status == -1) and NaN
numbers all become notes (`Result.notes`), never exceptions.  Only a file
that cannot be opened, is not HDF5, or has no /grid raises `PDError`, which
the tools turn into a message and exit status 2.

Also here: regime names and the fixed regime colors, the theorems of Luo,
Xu, Ma and Zhang (JMLR 2021) and their boundary lines, the summary, the
figures (matplotlib, Agg backend), the HTML report and the file comparison.
"""
import base64
import configparser
import datetime
import fnmatch
import html
import math
import os

import h5py
import numpy as np


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use (the
    summary and the comparison do not need matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
    return matplotlib.pyplot


# ---------------------------------------------------------------------------
# Codes, names, colors
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

STATUS_NAMES = {0: "converged", 1: "max_steps", 2: "diverged", 3: "stalled",
                -1: "not run"}
CONVERGED, NOT_RUN = 0, -1

# The optional groups of docs/output.md.
OPTIONAL_GROUPS = ("history", "phase", "features")
# Groups announced for future issues (F-Principle and NTK tools, issues 4
# and 5).  Their layout is not documented yet: the tools detect them, say so,
# and show a generic, layout-agnostic preview (see fig_future_preview).
FUTURE_GROUPS = {
    "spectral": "F-Principle heatmaps, filtering curves and grid-shell spectra",
    "ntk": "NTK spectra and linear (NTK) predictions",
}

FAR_FROM_BOUNDARY = 0.15  # the binary's "far from the boundary" distance


class PDError(Exception):
    """A file the tools cannot use at all (exit status 2)."""


def regime_name(code):
    return REGIME_NAMES.get(int(code), f"code {int(code)}")


def regime_color(code):
    return REGIME_COLORS.get(int(code), REGIME_COLORS[UNDETERMINED])


def status_name(code, names=None):
    names = names or STATUS_NAMES
    return names.get(int(code), f"status {int(code)}")


def parse_names(text, default):
    """'0 converged, 1 max_steps, -1 not run' -> {0: 'converged', ...}."""
    out = {}
    try:
        for item in str(text).split(","):
            code, name = item.strip().split(None, 1)
            out[int(code)] = name.strip()
    except (ValueError, TypeError):
        return dict(default)
    return out or dict(default)


# ---------------------------------------------------------------------------
# Theory (mirrors src/scheme.c and src/fit.c)
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
    """Least-squares slope and its standard error (src/fit.c): NaN, NaN
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


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

def _text(v):
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace").rstrip("\x00")
    if isinstance(v, np.ndarray):
        return [_text(x) for x in v.tolist()] if v.ndim else _text(v.item())
    if isinstance(v, np.generic):
        return v.item()
    return v


def open_h5(path):
    """h5py.File for reading, or PDError with a readable reason."""
    if not os.path.exists(path):
        raise PDError(f"{path}: no such file")
    if os.path.isdir(path):
        raise PDError(f"{path}: is a directory, not a result file")
    if not os.access(path, os.R_OK):
        raise PDError(f"{path}: not readable (permission denied)")
    try:
        is_h5 = h5py.is_hdf5(path)
    except (OSError, ValueError) as e:
        raise PDError(f"{path}: cannot read: {e}") from None
    if not is_h5:
        raise PDError(f"{path}: not an HDF5 file")
    try:
        return h5py.File(path, "r")
    except (OSError, ValueError) as e:
        raise PDError(f"{path}: cannot open as HDF5: {e}") from None


def parse_config(text):
    """The job file text as a ConfigParser (empty on any parse problem)."""
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"),
                                   comment_prefixes=(";", "#"), strict=False,
                                   interpolation=None)
    try:
        cp.read_string(text or "")
    except configparser.Error:
        return configparser.ConfigParser()
    return cp


def _config_float(cp, section, key, default):
    try:
        return float(cp.get(section, key, fallback=str(default)))
    except ValueError:
        return default


class Result:
    """Everything the tools need from one result file.

    Attributes: path, attrs (root attributes, decoded), P, W, S, gamma,
    gamma_prime, label (list of str), width, seed, runs / history / features
    (dicts of arrays, only what the file holds with the documented shape),
    phase (dict: slope, slope_stderr, regime, theory_regime, agree,
    boundary_distance, always complete), phase_source ('file', 'partly
    recomputed' or 'recomputed'), future ({group: [(name, shape, dtype)]}),
    status_names, config (ConfigParser of config_text), band, tol, notes.
    """

    def __init__(self, path):
        self.path = path
        self.notes = []
        self.missing_groups = []
        with open_h5(path) as f:
            self._load(f)

    # -- helpers -----------------------------------------------------------
    def note(self, msg):
        if msg not in self.notes:
            self.notes.append(msg)

    def _read(self, f, name, shape=None, optional=False):
        if name not in f:
            if not optional:
                self.note(f"/{name} is missing")
            return None
        obj = f[name]
        if not isinstance(obj, h5py.Dataset):
            self.note(f"/{name} is not a dataset: ignored")
            return None
        try:
            arr = obj[()]
        except (OSError, TypeError, ValueError) as e:
            self.note(f"/{name} cannot be read ({e}): ignored")
            return None
        if shape is not None and tuple(arr.shape[:len(shape)]) != tuple(shape):
            self.note(f"/{name} has shape {arr.shape}, expected "
                      f"{tuple(shape)}...: ignored")
            return None
        return arr

    # -- the file ----------------------------------------------------------
    def _load(self, f):
        self.attrs = {}
        for k in f.attrs:
            try:
                self.attrs[k] = _text(f.attrs[k])
            except (OSError, TypeError, ValueError):
                self.attrs[k] = "(unreadable)"
        if "grid" not in f or "gamma" not in f["grid"] or \
                "gamma_prime" not in f["grid"]:
            raise PDError(f"{self.path}: not a phasediag result file "
                          "(no /grid/gamma and /grid/gamma_prime)")
        self.gamma = np.asarray(self._read(f, "grid/gamma"), float).ravel()
        self.gamma_prime = np.asarray(self._read(f, "grid/gamma_prime"),
                                      float).ravel()
        if self.gamma.shape != self.gamma_prime.shape:
            raise PDError(f"{self.path}: /grid/gamma and /grid/gamma_prime "
                          "differ in length")
        P = self.P = len(self.gamma)
        lab = self._read(f, "grid/label", (P,))
        self.label = [""] * P if lab is None else [str(_text(x)) for x in lab]
        self.width = self._read(f, "grid/width")
        self.seed = self._read(f, "grid/seed")
        st = self._read(f, "runs/status")
        if self.width is None:
            n = st.shape[1] if st is not None and st.ndim == 3 else 0
            self.width = np.full(n, -1, np.int64)
        if self.seed is None:
            n = st.shape[2] if st is not None and st.ndim == 3 else 1
            self.seed = np.arange(1, n + 1, dtype=np.int64)
        self.width = np.asarray(self.width).ravel()
        self.seed = np.asarray(self.seed).ravel()
        self.W, self.S = len(self.width), len(self.seed)
        shape3 = (P, self.W, self.S)

        self.config_text = str(self.attrs.get("config_text", "") or "")
        self.config = parse_config(self.config_text)
        self.band = _config_float(self.config, "classify", "band", 0.1)
        self.tol = _config_float(self.config, "train", "tol", 1e-6)

        # /runs
        self.runs = {}
        self.status_names = dict(STATUS_NAMES)
        if "runs" not in f:
            self.missing_groups.append("runs")
            self.note("/runs is missing: no statuses, RD against width or "
                      "recomputed slopes")
        else:
            for name in f["runs"]:
                arr = self._read(f, f"runs/{name}", shape3, optional=True)
                if arr is not None:
                    self.runs[name] = arr
            if "status" in f["runs"] and "names" in f["runs/status"].attrs:
                self.status_names = parse_names(
                    _text(f["runs/status"].attrs["names"]), STATUS_NAMES)
            if "status" not in self.runs:
                self.note("/runs/status is missing: every run is taken as "
                          "not run")
        if "status" in self.runs:
            status = np.asarray(self.runs["status"]).astype(int)
        else:
            status = np.full(shape3, NOT_RUN, int)
        self.status = status
        nrun = self.not_run = int((status == NOT_RUN).sum())
        if nrun:
            self.note(f"partial scan: {nrun} of {status.size} tasks not run "
                      "(/runs/status = -1)")
        if "rd_w" in self.runs:
            bad = int((~np.isfinite(self.runs["rd_w"]) &
                       (status != NOT_RUN)).sum())
            if bad:
                self.note(f"{bad} finished tasks have a non-finite /runs/rd_w")

        # /history
        self.history = {}
        if "history" not in f:
            self.missing_groups.append("history")
            self.note("/history is missing: no loss curves")
        else:
            for name in ("step", "time", "loss", "rd_w"):
                arr = self._read(f, f"history/{name}", shape3)
                if arr is not None and arr.ndim == 4:
                    self.history[name] = arr

        # /features
        self.features = {}
        if "features" not in f:
            self.missing_groups.append("features")
            self.note("/features is missing: no condensation scatter")
        else:
            for name in f["features"]:
                arr = self._read(f, f"features/{name}", shape3, optional=True)
                if arr is not None:
                    self.features[name] = arr

        # /phase
        self._load_phase(f)

        # future groups
        self.future = {}
        for g, what in FUTURE_GROUPS.items():
            if g in f and isinstance(f[g], h5py.Group):
                items = []

                def visit(name, obj, items=items, g=g):
                    if isinstance(obj, h5py.Dataset):
                        items.append((f"/{g}/{name}", obj.shape, str(obj.dtype)))
                f[g].visititems(visit)
                self.future[g] = items
                self.note(f"/{g} found ({len(items)} dataset"
                          f"{'' if len(items) == 1 else 's'}): its layout is "
                          f"not documented yet, so {what} are not drawn; "
                          f"a generic preview is in {g}_preview.png")

    def _load_phase(self, f):
        P = self.P
        ph = {}
        have = "phase" in f
        if have:
            for name in ("slope", "slope_stderr", "regime", "theory_regime",
                         "agree", "boundary_distance"):
                arr = self._read(f, f"phase/{name}", (P,))
                if arr is not None:
                    ph[name] = np.asarray(arr).ravel()
        else:
            self.missing_groups.append("phase")
        recomputed = []
        if "slope" not in ph:
            slope, err = self.recompute_slopes()
            ph["slope"], ph["slope_stderr"] = slope, err
            recomputed += ["slope", "slope_stderr"]
        elif "slope_stderr" not in ph:
            ph["slope_stderr"] = self.recompute_slopes()[1]
            recomputed.append("slope_stderr")
        if "regime" not in ph:
            ph["regime"] = np.array([fit_regime(s, self.band)
                                     for s in ph["slope"]], np.int8)
            recomputed.append("regime")
        if "theory_regime" not in ph:
            ph["theory_regime"] = np.array(
                [theory_regime(g, gp) for g, gp in
                 zip(self.gamma, self.gamma_prime)], np.int8)
            recomputed.append("theory_regime")
        if "agree" not in ph:
            ph["agree"] = (ph["regime"] == ph["theory_regime"]).astype(np.int8)
            recomputed.append("agree")
        if "boundary_distance" not in ph:
            ph["boundary_distance"] = np.array(
                [boundary_distance(g, gp) for g, gp in
                 zip(self.gamma, self.gamma_prime)])
            recomputed.append("boundary_distance")
        ph["slope"] = np.asarray(ph["slope"], float)
        ph["slope_stderr"] = np.asarray(ph["slope_stderr"], float)
        ph["regime"] = np.asarray(ph["regime"]).astype(int)
        ph["theory_regime"] = np.asarray(ph["theory_regime"]).astype(int)
        ph["agree"] = np.asarray(ph["agree"]).astype(bool)
        self.phase = ph
        if not have:
            self.phase_source = "recomputed"
            self.note("/phase is missing: slopes and regimes recomputed here "
                      "from /runs/rd_w of the converged runs (band "
                      f"{self.band:g} from config_text), theory from the "
                      "theorems")
        elif recomputed:
            self.phase_source = "partly recomputed"
            self.note("recomputed here (missing from /phase): " +
                      ", ".join(recomputed))
        else:
            self.phase_source = "file"
        und = int((ph["regime"] == UNDETERMINED).sum())
        if und:
            self.note(f"{und} of {P} points undetermined (no slope: fewer "
                      "than 2 converged runs with RD > 0)")

    def recompute_slopes(self):
        """Slope of log rd_w against log m over the converged runs with
        rd_w > 0, as src/classify.c does; NaN where impossible."""
        P = self.P
        slope = np.full(P, np.nan)
        err = np.full(P, np.nan)
        rd = self.runs.get("rd_w")
        if rd is None:
            return slope, err
        logm = np.log(np.where(self.width > 0, self.width, np.nan).astype(float))
        for p in range(P):
            xs, ys = [], []
            for w in range(self.W):
                for s in range(self.S):
                    v = rd[p, w, s]
                    if self.status[p, w, s] == CONVERGED and v > 0:
                        xs.append(logm[w])
                        ys.append(math.log(v))
            slope[p], err[p] = fit_slope(xs, ys)
        return slope, err

    # -- derived -----------------------------------------------------------
    def point_name(self, p):
        g, gp = self.gamma[p], self.gamma_prime[p]
        if self.label[p]:
            return f"{self.label[p]} ({g:g}, {gp:g})"
        return f"({g:g}, {gp:g})"

    def valid_runs(self, p):
        """(widths, rd_w) of the converged runs of point p with rd_w > 0."""
        rd = self.runs.get("rd_w")
        if rd is None:
            return np.array([]), np.array([])
        ok = (self.status[p] == CONVERGED) & np.isfinite(rd[p]) & (rd[p] > 0)
        ws = np.broadcast_to(self.width[:, None], ok.shape)
        return ws[ok].astype(float), rd[p][ok]

    def status_counts(self):
        codes, counts = np.unique(self.status, return_counts=True)
        return {status_name(c, self.status_names): int(n)
                for c, n in zip(codes, counts)}


def load(path):
    return Result(path)


# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------

PROVENANCE_KEYS = ("software", "version", "git_commit", "mpi_ranks",
                   "group_size", "created_utc")


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def summary(res, with_config=False):
    """The summary as a JSON-ready dict (NaN -> None)."""
    ph = res.phase
    points = []
    for p in range(res.P):
        points.append({
            "index": p,
            "gamma": _num(res.gamma[p]),
            "gamma_prime": _num(res.gamma_prime[p]),
            "label": res.label[p],
            "slope": _num(ph["slope"][p]),
            "slope_stderr": _num(ph["slope_stderr"][p]),
            "regime": regime_name(ph["regime"][p]),
            "regime_code": int(ph["regime"][p]),
            "theory": regime_name(ph["theory_regime"][p]),
            "theory_code": int(ph["theory_regime"][p]),
            "agree": bool(ph["agree"][p]),
            "boundary_distance": _num(ph["boundary_distance"][p]),
        })
    far = ph["boundary_distance"] >= FAR_FROM_BOUNDARY
    prov = {k: res.attrs.get(k) for k in PROVENANCE_KEYS}
    prov["widths"] = [int(w) for w in res.width]
    prov["seeds"] = [int(s) for s in res.seed]
    out = {
        "file": os.path.abspath(res.path),
        "provenance": prov,
        "points": points,
        "counts": {
            "points": res.P,
            "agreeing": int(ph["agree"].sum()),
            "far_from_boundary": int(far.sum()),
            "far_agreeing": int((ph["agree"] & far).sum()),
            "tasks": int(res.status.size),
            "statuses": res.status_counts(),
        },
        "phase_source": res.phase_source,
        "notes": list(res.notes),
    }
    if with_config:
        out["config_text"] = res.config_text
    return out


def _fmt_slope(s, e):
    a = f"{s:+8.3f}" if math.isfinite(s) else f"{'nan':>8}"
    b = f"{e:6.3f}" if math.isfinite(e) else f"{'nan':>6}"
    return f"{a} +- {b}"


def table_rows(res):
    """Rows of the summary table as lists of strings."""
    ph = res.phase
    rows = []
    for p in range(res.P):
        rows.append([f"{res.gamma[p]:.4g}", f"{res.gamma_prime[p]:.4g}",
                     res.label[p] or "-",
                     _fmt_slope(ph["slope"][p], ph["slope_stderr"][p]),
                     regime_name(ph["regime"][p]),
                     regime_name(ph["theory_regime"][p]),
                     "yes" if ph["agree"][p] else "NO"])
    return rows


TABLE_HEADER = ["gamma", "gamma'", "label", "slope +- stderr", "regime",
                "theory", "agree"]


def format_summary(res, with_config=False):
    s = summary(res, with_config)
    c = s["counts"]
    lines = ["%8s %8s  %-10s %17s  %-12s %-12s %s" % tuple(TABLE_HEADER)]
    for r in table_rows(res):
        lines.append("%8s %8s  %-10s %17s  %-12s %-12s %s" % tuple(r))
    lines.append("")
    lines.append(f"points: {c['points']}; agreeing with the theorem: "
                 f"{c['agreeing']} of {c['points']} ({c['far_agreeing']} of "
                 f"the {c['far_from_boundary']} points at least "
                 f"{FAR_FROM_BOUNDARY} from the boundary)")
    st = ", ".join(f"{n} {k}" for k, n in c["statuses"].items())
    lines.append(f"runs: {c['tasks']} tasks: {st}")
    if res.phase_source != "file":
        lines.append(f"phase: {res.phase_source} by the analysis (see notes)")
    lines.append("")
    lines.append("provenance:")
    lines.append(f"  {'file':<12} {s['file']}")
    for k in PROVENANCE_KEYS:
        v = s["provenance"][k]
        lines.append(f"  {k:<12} {'(missing)' if v is None else v}")
    lines.append(f"  {'widths':<12} "
                 + ", ".join(str(w) for w in s["provenance"]["widths"]))
    lines.append(f"  {'seeds':<12} "
                 + ", ".join(str(x) for x in s["provenance"]["seeds"]))
    if res.notes:
        lines.append("")
        lines.append("notes:")
        lines += [f"  - {n}" for n in res.notes]
    if with_config:
        lines.append("")
        lines.append("config_text:")
        lines.append(res.config_text.rstrip("\n") if res.config_text
                     else "(missing)")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------

MARKERS = ["o", "s", "^", "v", "D", "P", "X", "*", "<", ">", "h", "p"]


def _regime_handles(extra=()):
    from matplotlib.lines import Line2D
    h = [Line2D([], [], ls="", marker="o", ms=8, mfc=REGIME_COLORS[r],
                mec="white", label=REGIME_NAMES[r]) for r in REGIME_ORDER]
    return h + list(extra)


def fig_phase_diagram(res):
    """Points in the (gamma', gamma) plane colored by empirical regime, the
    theoretical boundary, rings where the regime disagrees with theory, the
    named schemes labelled.  Artists for checks: the scatter with gid
    'points' (offsets (gamma', gamma), facecolors by regime), the scatter
    with gid 'disagree', the lines with gid 'boundary'."""
    plt = pyplot()
    ph = res.phase
    x, y = res.gamma_prime, res.gamma
    fig, ax = plt.subplots(figsize=(8.6, 6.2))
    xmin, xmax = float(np.nanmin(x)), float(np.nanmax(x))
    ymin, ymax = float(np.nanmin(y)), float(np.nanmax(y))
    padx = max(0.25, 0.08 * (xmax - xmin))
    pady = max(0.25, 0.08 * (ymax - ymin))
    xlo, xhi = min(xmin, 0) - padx, max(xmax, 0) + padx
    ylo, yhi = min(ymin, 1) - pady, max(ymax, 1) + pady
    # theory regions, lightly shaded
    xs = np.linspace(xlo, xhi, 200)
    b = np.maximum(1.0, xs + 1.0)
    ax.fill_between(xs, ylo, np.minimum(b, yhi), color=REGIME_COLORS[LINEAR],
                    alpha=0.07, lw=0, zorder=0)
    ax.fill_between(xs, np.minimum(b, yhi), yhi,
                    color=REGIME_COLORS[CONDENSED], alpha=0.07, lw=0, zorder=0)
    for i, (bx, by) in enumerate(boundary_lines(xlo, xhi)):
        ax.plot(bx, by, color="black", lw=1.6, zorder=1, gid="boundary",
                label="critical boundary (theory)" if i == 0 else None)
    ax.text(xlo + 0.04 * (xhi - xlo), ylo + 0.04 * (yhi - ylo),
            "linear (theory)", color=REGIME_COLORS[LINEAR], fontsize=9,
            alpha=0.8, va="bottom")
    ax.text(xlo + 0.04 * (xhi - xlo), yhi - 0.04 * (yhi - ylo),
            "condensed (theory)", color=REGIME_COLORS[CONDENSED], fontsize=9,
            alpha=0.8, va="top")

    size = float(np.clip(6000.0 / max(res.P, 1), 25, 140))
    colors = [regime_color(r) for r in ph["regime"]]
    sc = ax.scatter(x, y, s=size, c=colors, edgecolors="white",
                    linewidths=0.6, zorder=3)
    sc.set_gid("points")
    bad = ph["regime"] != ph["theory_regime"]
    dis = ax.scatter(x[bad], y[bad], s=size * 2.6, facecolors="none",
                     edgecolors="black", linewidths=1.6, zorder=4)
    dis.set_gid("disagree")

    # slopes under the grid points, scheme names (with slopes) beside them
    small = res.P <= 80
    groups = {}
    for p in range(res.P):
        groups.setdefault((round(float(x[p]), 9), round(float(y[p]), 9)),
                          []).append(p)
    for (px, py), members in groups.items():
        grid_pts = [p for p in members if not res.label[p]]
        named = [p for p in members if res.label[p]]
        if small and grid_pts:
            s = ph["slope"][grid_pts[0]]
            ax.annotate(f"{s:+.2f}" if math.isfinite(s) else "nan",
                        (px, py), xytext=(0, -11), textcoords="offset points",
                        ha="center", va="top", fontsize=6.5, color="0.25")
        if named:
            txt = "\n".join(
                f"{res.label[p]}" + (f" {ph['slope'][p]:+.2f}" if small and
                                     math.isfinite(ph["slope"][p]) else "")
                for p in named)
            ax.annotate(txt, (px, py), xytext=(8, 6),
                        textcoords="offset points", fontsize=7.5,
                        ha="left", va="bottom", gid="scheme_label",
                        bbox=dict(boxstyle="round,pad=0.2", fc="white",
                                  ec="0.6", alpha=0.85), zorder=5)
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(ylo, yhi)
    ax.set_xlabel("γ'  (gamma_prime: β₁ = β₂ m^-γ')")
    ax.set_ylabel("γ  (gamma: α = β₁β₂ m^γ)")
    nagree = int(ph["agree"].sum())
    ax.set_title(f"Phase diagram — {os.path.basename(res.path)}: "
                 f"{nagree} of {res.P} points agree with the theorem",
                 fontsize=10)
    from matplotlib.lines import Line2D
    extra = [Line2D([], [], color="black", lw=1.6,
                    label="critical boundary (theory)"),
             Line2D([], [], ls="", marker="o", ms=12, mfc="none", mec="black",
                    mew=1.6, label="disagrees with theory")]
    ax.legend(handles=_regime_handles(extra), title="empirical regime",
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              title_fontsize=8, frameon=False)
    if small:
        ax.text(1.01, 0.02, "numbers: RD slope\nd log RD / d log m",
                transform=ax.transAxes, fontsize=7, color="0.3", va="bottom")
    warn = []
    if res.phase_source != "file":
        warn.append(f"regimes {res.phase_source} by the analysis (see notes)")
    if res.not_run:
        warn.append(f"partial scan: {res.not_run} of {res.status.size} runs "
                    "not run")
    if warn:
        ax.text(0.5, 0.01, "; ".join(warn), transform=ax.transAxes,
                ha="center", va="bottom", fontsize=7.5, color="crimson",
                gid="warning")
    ax.grid(alpha=0.25, lw=0.5)
    fig.tight_layout()
    return fig


def panel_groups(res):
    """[(title, [points])]: the grid points by gamma, then the named
    schemes."""
    grid = [p for p in range(res.P) if not res.label[p]]
    out = []
    for g in sorted(set(float(res.gamma[p]) for p in grid)):
        out.append((f"γ = {g:g}", [p for p in grid if res.gamma[p] == g]))
    named = [p for p in range(res.P) if res.label[p]]
    if named:
        out.append(("named schemes", named))
    return out


def _panel_label(res, p, in_scheme_panel):
    if in_scheme_panel or res.label[p]:
        return res.point_name(p)
    return f"γ' = {res.gamma_prime[p]:g}"


def _subplots(n, w=5.0, h=3.7, ncols=3, **kw):
    plt = pyplot()
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows),
                             squeeze=False, **kw)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def fig_rd_width(res):
    """RD = |theta_w(t*) - theta_w(0)| / |theta_w(0)| against width m,
    log-log, one line per grid point (geometric mean over the converged
    seeds; gid 'rd:<p>'), the individual runs as dots, the fit with the
    slope of /phase dashed (gid 'fit:<p>').  None without /runs/rd_w."""
    if "rd_w" not in res.runs:
        return None
    ph = res.phase
    groups = panel_groups(res)
    fig, axes = _subplots(len(groups), sharex=True)
    rd = res.runs["rd_w"]
    for ax, (title, pts) in zip(axes, groups):
        scheme_panel = title == "named schemes"
        for i, p in enumerate(pts):
            col = regime_color(ph["regime"][p])
            mk = MARKERS[i % len(MARKERS)]
            ws, vs = res.valid_runs(p)
            mean = []
            for w in res.width:
                sel = vs[ws == w]
                mean.append(math.exp(np.log(sel).mean()) if len(sel)
                            else math.nan)
            s, e = ph["slope"][p], ph["slope_stderr"][p]
            if math.isfinite(s):
                lab = (f"{_panel_label(res, p, scheme_panel)}: slope {s:+.3f}"
                       + (f" ± {e:.3f}" if math.isfinite(e) else ""))
            else:
                lab = f"{_panel_label(res, p, scheme_panel)}: no slope"
            ax.plot(res.width.astype(float), mean, color=col, marker=mk,
                    ms=5, lw=1.4, label=lab, gid=f"rd:{p}")
            if len(ws):
                ax.scatter(ws, vs, s=9, color=col, alpha=0.45, lw=0,
                           zorder=3)
            # finished but not converged runs: crosses, not in the fit
            other = (res.status[p] > CONVERGED) & np.isfinite(rd[p]) & \
                (rd[p] > 0)
            if other.any():
                wsx = np.broadcast_to(res.width[:, None], other.shape)[other]
                ax.scatter(wsx.astype(float), rd[p][other], s=22,
                           marker="x", color=col, alpha=0.7, lw=1, zorder=3)
            if math.isfinite(s) and len(ws) >= 2:
                lx = np.log(ws)
                c = np.log(vs).mean() - s * lx.mean()
                xx = np.array([ws.min(), ws.max()])
                ax.plot(xx, np.exp(c + s * np.log(xx)), color=col, ls="--",
                        lw=0.9, alpha=0.8, gid=f"fit:{p}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.set_xlabel("width m")
        ax.set_ylabel("RD of w at t*")
        n = len(pts)
        ax.legend(fontsize=6.5 if n <= 8 else 5.5, ncol=1 if n <= 8 else 2,
                  frameon=False, loc="best")
    fig.suptitle(f"Relative distance RD against width — "
                 f"{os.path.basename(res.path)}  (line: geometric mean of "
                 "converged seeds, dots: runs, x: not converged, dashed: fit; "
                 "color: empirical regime)"
                 + (f"\npartial scan: {res.not_run} of {res.status.size} runs "
                    "not run" if res.not_run else ""), fontsize=9)
    fig.tight_layout()
    return fig


def _pick_run(res, p, data):
    """(w, s) of the widest converged run of point p with finite data[p, w,
    s]; failing that the widest run with finite data; None if none."""
    for need_converged in (True, False):
        for w in range(res.W - 1, -1, -1):
            for s in range(res.S):
                if need_converged and res.status[p, w, s] != CONVERGED:
                    continue
                if np.isfinite(data[p, w, s]).any():
                    return w, s
    return None


def fig_loss_curves(res):
    """Training loss against flow time (log-log) from /history, one line per
    point (gid 'loss:<p>') at the largest width with a record, tol dashed.
    None without /history."""
    if "loss" not in res.history or "time" not in res.history:
        return None
    ph = res.phase
    loss, time = res.history["loss"], res.history["time"]
    groups = panel_groups(res)
    fig, axes = _subplots(len(groups))
    for ax, (title, pts) in zip(axes, groups):
        scheme_panel = title == "named schemes"
        for i, p in enumerate(pts):
            col = regime_color(ph["regime"][p])
            ws = _pick_run(res, p, loss)
            lab = _panel_label(res, p, scheme_panel)
            if ws is None:
                ax.plot([], [], color=col, label=f"{lab}: no history",
                        gid=f"loss:{p}")
                continue
            w, s = ws
            t, l = time[p, w, s], loss[p, w, s]
            ok = np.isfinite(t) & np.isfinite(l) & (t > 0) & (l > 0)
            if w != res.W - 1 or s != 0:
                lab += f" (m={res.width[w]}, seed {res.seed[s]})"
            if res.status[p, w, s] != CONVERGED:
                lab += " " + status_name(res.status[p, w, s],
                                         res.status_names)
            ax.plot(t[ok], l[ok], color=col, lw=1.3,
                    marker=MARKERS[i % len(MARKERS)], ms=3, markevery=4,
                    label=lab, gid=f"loss:{p}")
        ax.axhline(res.tol, color="0.4", ls="--", lw=0.8, gid="tol")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.set_xlabel("flow time t (sum of accepted steps)")
        ax.set_ylabel("training loss")
        n = len(pts)
        ax.legend(fontsize=6.5 if n <= 8 else 5.5, ncol=1 if n <= 8 else 2,
                  frameon=True, framealpha=0.8, edgecolor="none", loc="best")
    mw = f"m = {res.width[-1]}, seed {res.seed[0]}" if res.W and res.S else ""
    fig.suptitle(f"Loss curves — {os.path.basename(res.path)}  ({mw} unless "
                 f"noted; dashed: tol = {res.tol:g}; color: empirical "
                 "regime)", fontsize=9)
    fig.tight_layout()
    return fig


def representative_points(res):
    """{regime: point} for each empirical regime present (0, 1, 2) with
    condensation features: prefer points that agree with the theory, then
    the farthest from the boundary, then grid points over schemes."""
    need = ("orientation0", "amplitude0", "orientation1", "amplitude1")
    if not all(k in res.features for k in need):
        return {}
    ph = res.phase
    out = {}
    for r in (LINEAR, CRITICAL, CONDENSED):
        cands = []
        for p in range(res.P):
            if ph["regime"][p] != r:
                continue
            if _pick_run(res, p, res.features["amplitude1"]) is None:
                continue
            d = ph["boundary_distance"][p]
            cands.append((not ph["agree"][p],
                          -(d if math.isfinite(d) else 0.0),
                          bool(res.label[p]), p))
        if cands:
            out[r] = min(cands)[3]
    return out


def fig_condensation(res):
    """Orientation against amplitude of the sampled neurons at t = 0 (top)
    and at t* (bottom), one column per empirical regime (representative
    point, widest run with features).  Scatter gids 'cond0:<p>' and
    'cond1:<p>'.  None without /features."""
    plt = pyplot()
    reps = representative_points(res)
    if not reps:
        return None
    F = res.features
    fig, axes = plt.subplots(2, len(reps), figsize=(4.6 * len(reps), 6.6),
                             squeeze=False)
    for j, (r, p) in enumerate(sorted(reps.items())):
        w, s = _pick_run(res, p, F["amplitude1"])
        col = regime_color(r)
        for i, suffix in enumerate(("0", "1")):
            ax = axes[i, j]
            o = F["orientation" + suffix][p, w, s]
            a = F["amplitude" + suffix][p, w, s]
            ok = np.isfinite(o) & np.isfinite(a)
            sc = ax.scatter(o[ok], a[ok], s=14, color=col,
                            alpha=0.55 if suffix == "0" else 0.85, lw=0)
            sc.set_gid(f"cond{suffix}:{p}")
            lo = -math.pi if (ok.any() and np.nanmin(o[ok]) < 0) else 0.0
            ax.set_xlim(lo - 0.1, math.pi + 0.1)
            ticks = np.arange(lo, math.pi + 1e-9, math.pi / 2)
            ax.set_xticks(ticks)
            ax.set_xticklabels([_pi_label(t) for t in ticks])
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.25, lw=0.4)
            cname = "condensation" + suffix
            neff = ""
            if cname in F and math.isfinite(F[cname][p, w, s]):
                neff = f", N_eff = {F[cname][p, w, s]:.3g}"
            ax.text(0.02, 0.97, ("t = 0" if suffix == "0" else "t = t*")
                    + neff, transform=ax.transAxes, va="top", fontsize=8,
                    bbox=dict(fc="white", ec="none", alpha=0.7))
            ax.set_xlabel("orientation (rad)")
            if j == 0:
                ax.set_ylabel("amplitude |a| |(w, b)|")
        axes[0, j].set_title(
            f"{regime_name(r)}: {res.point_name(p)}\n"
            f"m = {res.width[w]}, seed {res.seed[s]}, "
            f"{int(np.isfinite(F['amplitude1'][p, w, s]).sum())} neurons"
            + ("" if res.status[p, w, s] == CONVERGED else
               f", {status_name(res.status[p, w, s], res.status_names)}"),
            fontsize=9, color=col)
    fig.suptitle(f"Condensation — {os.path.basename(res.path)}: sampled "
                 "neurons, initial (top) and at t* (bottom); orientation = "
                 "atan2(b, w) for d = 1", fontsize=9)
    fig.tight_layout()
    return fig


def _pi_label(t):
    k = round(t / (math.pi / 2))
    return {-2: "-π", -1: "-π/2", 0: "0", 1: "π/2", 2: "π"}.get(k, f"{t:.2g}")


def fig_future_preview(res, group, max_panels=6):
    """Generic preview of a group whose layout is not documented yet
    (/spectral, /ntk: future issues).  Deliberately layout-agnostic -- the
    only guess is none: each dataset is reduced to its first index along
    leading axes and drawn as a curve (1-D) or an image (2-D)."""
    items = res.future.get(group)
    if not items:
        return None
    items = items[:max_panels]
    fig, axes = _subplots(len(items), w=4.4, h=3.3)
    with open_h5(res.path) as f:
        for ax, (name, shape, dtype) in zip(axes, items):
            ds = f[name]
            ax.set_title(f"{name} {tuple(shape)}", fontsize=7)
            try:
                if ds.dtype.kind not in "fiub" or ds.size == 0:
                    raise TypeError(f"{dtype}: not drawn")
                idx = (0,) * max(ds.ndim - 2, 0)
                arr = np.asarray(ds[idx] if idx else ds[()], float)
                if arr.ndim == 0:
                    ax.text(0.5, 0.5, f"{arr:g}", ha="center",
                            transform=ax.transAxes)
                elif arr.ndim == 1:
                    ax.plot(arr, lw=1)
                else:
                    im = ax.imshow(arr, aspect="auto", origin="lower",
                                   interpolation="nearest")
                    fig.colorbar(im, ax=ax)
            except (TypeError, ValueError, OSError) as e:
                ax.text(0.5, 0.5, str(e), ha="center", va="center",
                        fontsize=7, transform=ax.transAxes)
    more = len(res.future[group]) - len(items)
    fig.suptitle(f"/{group}: generic preview (layout not documented yet; "
                 "leading axes at index 0)"
                 + (f"; {more} more datasets not shown" if more > 0 else ""),
                 fontsize=9)
    fig.tight_layout()
    return fig


# name, title, builder, caption (also the README's figure list)
FIGURES = [
    ("phase_diagram", "Phase diagram", fig_phase_diagram,
     "Every grid point in the (γ', γ) plane colored by its empirical regime "
     "(blue linear, green critical, vermillion condensed, grey "
     "undetermined). Black line: the theoretical critical boundary (γ = 1 "
     "for γ' ≤ 0, γ' = γ − 1 for γ ≥ 1), light shading: the theoretical "
     "linear (below) and condensed (above) regions. A black ring marks a "
     "point whose empirical regime disagrees with the theorem; the numbers "
     "are the RD slopes; named schemes are labelled."),
    ("rd_width", "RD against width", fig_rd_width,
     "Relative distance RD = |θ_w(t*) − θ_w(0)| / |θ_w(0)| against the width "
     "m, log-log, one line per grid point (geometric mean over the converged "
     "seeds; dots: single runs; crosses: runs that did not converge, left out "
     "of the fit; dashed: the fit). The legend gives the slope d log RD / d "
     "log m ± its standard error: about −1/2 for NTK scaling, about 0 on the "
     "critical lines, positive where the neurons condense."),
    ("loss_curves", "Loss curves", fig_loss_curves,
     "Training loss against flow time from /history for the widest run of "
     "each point; the dashed line is the stopping tolerance tol."),
    ("condensation", "Condensation", fig_condensation,
     "Orientation against amplitude of the sampled neurons at t = 0 (top) "
     "and at t* (bottom) for one representative point of each empirical "
     "regime: linear points keep their initial spread, condensed points "
     "gather their amplitude on a few orientations. N_eff: the effective "
     "number of directions."),
]


def make_figures(res, outdir, formats=("png", "pdf"), dpi=130, only=None):
    """Draw every figure the file allows into outdir.  Returns (written,
    skipped): written = [dict(name, title, caption, files={fmt: path})],
    skipped = [str] (figures that could not be drawn and why)."""
    plt = pyplot()
    os.makedirs(outdir, exist_ok=True)
    written, skipped = [], []
    why = {
        "rd_width": "no /runs/rd_w",
        "loss_curves": "no /history (loss and time)",
        "condensation": "no /features with orientation and amplitude of a run",
    }
    todo = list(FIGURES)
    for g, what in FUTURE_GROUPS.items():
        todo.append((f"{g}_preview", f"/{g} (generic preview)",
                     lambda r, g=g: fig_future_preview(r, g),
                     f"/{g} is in the file but its layout is not documented "
                     f"yet, so {what} are not drawn. Generic view of up to "
                     "six of its datasets (first index along leading axes)."))
    for name, title, build, caption in todo:
        if only and name not in only:
            continue
        fig = build(res)
        if fig is None:
            if name in why:
                skipped.append(f"{name}: skipped ({why[name]})")
            # a figure of an earlier run into the same directory would
            # describe another file: remove it
            for ext in ("png", "pdf", "svg"):
                stale = os.path.join(outdir, f"{name}.{ext}")
                if os.path.isfile(stale):
                    os.remove(stale)
            continue
        files = {}
        for fmt in formats:
            path = os.path.join(outdir, f"{name}.{fmt}")
            fig.savefig(path, dpi=dpi, metadata=_metadata(res, fmt))
            files[fmt] = path
        plt.close(fig)
        written.append(dict(name=name, title=title, caption=caption,
                            files=files))
    return written, skipped


def absent_future_notes(res):
    """One line per future group the file does not hold (information, not a
    problem: pdplot prints them, the report lists them)."""
    return [f"{what}: not in this file (no /{g} group; planned, issues 4 "
            "and 5)" for g, what in FUTURE_GROUPS.items()
            if g not in res.future]


def _metadata(res, fmt):
    if fmt == "png":
        return {"Software": "phasediag analysis (pdlib)",
                "Source": os.path.basename(res.path)}
    if fmt == "pdf":
        return {"Creator": "phasediag analysis (pdlib)",
                "Subject": os.path.basename(res.path)}
    return None


# ---------------------------------------------------------------------------
# HTML report
# ---------------------------------------------------------------------------

CSS = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1200px;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em;
     border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; }
th { background: #f0f0f0; } td.num { text-align: right;
     font-family: monospace; }
tr.no td { background: #fde8e8; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em;
          border-radius: 50%; vertical-align: middle; margin-right: 4px; }
figure { margin: 1em 0; } figure img { max-width: 100%;
         border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; max-width: 1000px; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
.notes li { color: #8a4b00; }
"""


def _swatch(code):
    return (f'<span class="swatch" style="background:{regime_color(code)}">'
            f'</span>{html.escape(regime_name(code))}')


def report_html(res, written, skipped, embed=False, outdir="."):
    s = summary(res, with_config=True)
    c = s["counts"]
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>phasediag report: {e(os.path.basename(res.path))}</title>",
           f"<style>{CSS}</style></head><body>",
           f"<h1>phasediag report: {e(os.path.basename(res.path))}</h1>",
           f"<p>{e(s['file'])}<br>{c['agreeing']} of {c['points']} points "
           f"agree with the theorem ({c['far_agreeing']} of the "
           f"{c['far_from_boundary']} at least {FAR_FROM_BOUNDARY} from the "
           f"boundary); {c['tasks']} runs: "
           + e(", ".join(f"{n} {k}" for k, n in c["statuses"].items()))
           + ".</p>"]
    out.append("<p>Regime colors: " + " &nbsp; ".join(
        _swatch(r) for r in REGIME_ORDER) + "</p>")
    notes = list(res.notes) + list(skipped) + absent_future_notes(res)
    if notes:
        out.append('<h2 id="notes">Notes</h2><ul class="notes">')
        out += [f"<li>{e(n)}</li>" for n in notes]
        out.append("</ul>")
    out.append('<h2 id="figures">Figures</h2>')
    for fig in written:
        png = fig["files"].get("png")
        if not png:
            continue
        rel = os.path.relpath(png, outdir)
        if embed:
            with open(png, "rb") as fh:
                src = "data:image/png;base64," + \
                    base64.b64encode(fh.read()).decode("ascii")
        else:
            src = rel
        pdf = fig["files"].get("pdf")
        link = (f' (<a href="{e(os.path.relpath(pdf, outdir))}">PDF</a>)'
                if pdf and not embed else "")
        out.append(f'<figure id="{e(fig["name"])}"><h3>{e(fig["title"])}'
                   f'{link}</h3><img src="{e(src)}" alt="{e(fig["title"])}">'
                   f'<figcaption>{e(fig["caption"])}</figcaption></figure>')
    out.append('<h2 id="summary">Summary</h2><table><tr>'
               + "".join(f"<th>{e(h)}</th>" for h in TABLE_HEADER)
               + "<th>boundary distance</th></tr>")
    ph = res.phase
    for p, r in enumerate(table_rows(res)):
        cls = ' class="no"' if not ph["agree"][p] else ""
        d = ph["boundary_distance"][p]
        out.append(
            f"<tr{cls}><td class=num>{e(r[0])}</td><td class=num>{e(r[1])}"
            f"</td><td>{e(r[2])}</td><td class=num>{e(r[3])}</td>"
            f"<td>{_swatch(ph['regime'][p])}</td>"
            f"<td>{_swatch(ph['theory_regime'][p])}</td><td>{e(r[6])}</td>"
            f"<td class=num>{d:.3g}</td></tr>")
    out.append("</table>")
    out.append(f"<p>Regimes: {e(res.phase_source)}; band {res.band:g} "
               "(|slope| &lt; band is critical).</p>")
    out.append('<h2 id="runs">Runs</h2><table><tr><th>status</th>'
               "<th>runs</th></tr>")
    out += [f"<tr><td>{e(k)}</td><td class=num>{n}</td></tr>"
            for k, n in c["statuses"].items()]
    out.append("</table>")
    out.append('<h2 id="provenance">Provenance</h2><table>')
    out.append(f"<tr><th>file</th><td>{e(s['file'])}</td></tr>")
    for k in PROVENANCE_KEYS:
        v = s["provenance"][k]
        out.append(f"<tr><th>{e(k)}</th><td>"
                   f"{e('(missing)' if v is None else str(v))}</td></tr>")
    for k in ("widths", "seeds"):
        out.append(f"<tr><th>{k}</th><td>"
                   + e(", ".join(str(v) for v in s["provenance"][k]))
                   + "</td></tr>")
    out.append("</table>")
    out.append('<h2 id="config">Job file (config_text)</h2><pre>'
               + e(res.config_text or "(missing)") + "</pre>")
    out.append(f"<p><small>Written by pdreport on "
               f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
               " UTC.</small></p></body></html>")
    return "\n".join(out) + "\n"


def write_report(res, outdir, embed=False, dpi=130):
    """Figures (PNG and PDF) and outdir/index.html.  Returns (index path,
    written, skipped)."""
    os.makedirs(outdir, exist_ok=True)
    written, skipped = make_figures(res, outdir, dpi=dpi)
    page = report_html(res, written, skipped, embed=embed, outdir=outdir)
    index = os.path.join(outdir, "index.html")
    with open(index, "w", encoding="utf-8") as fh:
        fh.write(page)
    return index, written, skipped


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------

DEFAULT_IGNORE = ("/runs/seconds", "@wall_seconds")


def _datasets(f):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out["/" + name] = obj
    f.visititems(visit)
    return out


def _ignored(name, patterns):
    return any(fnmatch.fnmatchcase(name, pat) for pat in patterns)


def compare_arrays(a, b):
    """(equal, detail) for two arrays; equal means bitwise equal."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype:
        det = f"type mismatch: {a.dtype} vs {b.dtype}"
        if a.shape == b.shape and a.dtype.kind in "fiub" and \
                b.dtype.kind in "fiub":
            x, y = a.astype(np.float64), b.astype(np.float64)
            det += "; " + ("values equal" if np.array_equal(
                x, y, equal_nan=True) else _numeric_diff(a, b))
        return False, det
    if a.shape != b.shape:
        return False, f"shape mismatch: {a.shape} vs {b.shape}"
    if a.tobytes() == b.tobytes():
        return True, "bitwise equal"
    if a.dtype.kind in "fiub":
        return False, _numeric_diff(a, b)
    if a.dtype.kind in "SUO":
        n = int(np.sum(a != b)) if a.ndim else int(a != b)
        return False, f"{n} of {max(a.size, 1)} elements differ"
    return False, "bytes differ"


def _numeric_diff(a, b):
    x, y = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(x), np.isnan(y)
    nan_mismatch = int(np.sum(nan_a != nan_b))
    both = np.isfinite(x) & np.isfinite(y)
    inf_mismatch = int(np.sum((np.isinf(x) | np.isinf(y)) & (x != y) &
                              ~nan_a & ~nan_b))
    diff = np.abs(x[both] - y[both])
    ndiff = int(np.sum(diff != 0)) + nan_mismatch + inf_mismatch
    if diff.size and diff.max() > 0:
        den = np.maximum(np.abs(x[both]), np.abs(y[both]))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(den > 0, diff / den, 0.0)
        det = (f"max abs diff {diff.max():.3g}, max rel diff "
               f"{rel.max():.3g}")
    elif nan_mismatch or inf_mismatch:
        det = "finite values equal"
    else:
        det = "values equal, bits differ (-0.0 against 0.0 or NaN payloads)"
    det += f"; {ndiff} of {x.size} elements differ"
    if nan_mismatch:
        det += f" ({nan_mismatch} NaN on one side only)"
    if inf_mismatch:
        det += f" ({inf_mismatch} differing infinities)"
    return det


def compare_files(path_a, path_b, ignore=DEFAULT_IGNORE, attrs=False):
    """Compare every dataset (and root attribute with attrs=True).  Returns
    [(kind, name, detail)] with kind in 'equal', 'differ', 'shape', 'type',
    'only_a', 'only_b', 'ignored'."""
    rows = []
    with open_h5(path_a) as fa, open_h5(path_b) as fb:
        da, db = _datasets(fa), _datasets(fb)
        for name in sorted(set(da) | set(db)):
            if _ignored(name, ignore):
                rows.append(("ignored", name, "ignored"))
                continue
            if name not in db:
                rows.append(("only_a", name, "missing in B"))
                continue
            if name not in da:
                rows.append(("only_b", name, "missing in A"))
                continue
            try:
                a, b = da[name][()], db[name][()]
            except (OSError, TypeError, ValueError) as e:
                rows.append(("differ", name, f"cannot read: {e}"))
                continue
            eq, det = compare_arrays(a, b)
            kind = "equal" if eq else (
                "type" if det.startswith("type") else
                "shape" if det.startswith("shape") else "differ")
            rows.append((kind, name, det))
        if attrs:
            ka, kb = set(fa.attrs), set(fb.attrs)
            for k in sorted(ka | kb):
                name = "@" + k
                if _ignored(name, ignore):
                    rows.append(("ignored", name, "ignored"))
                elif k not in kb:
                    rows.append(("only_a", name, "missing in B"))
                elif k not in ka:
                    rows.append(("only_b", name, "missing in A"))
                else:
                    va, vb = fa.attrs[k], fb.attrs[k]
                    eq, det = compare_arrays(va, vb)
                    if not eq:
                        det = (f"{_short(_text(va))} vs {_short(_text(vb))}"
                               if np.ndim(va) == 0 and np.ndim(vb) == 0
                               else det)
                    rows.append(("equal" if eq else "differ", name, det))
    return rows


def _short(v, n=40):
    s = repr(v)
    return s if len(s) <= n else s[:n - 3] + "..."
