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
# The F-Principle and NTK groups (issues 4 and 5).  The figures read their
# documented datasets (KNOWN_DATASETS); a group holding none of them (an
# unknown layout) gets a generic, layout-agnostic preview instead
# (fig_future_preview).
FUTURE_GROUPS = {
    "spectral": "F-Principle figures (DFT peaks, projection, filtering, "
    "grid-shell spectra)",
    "ntk": "NTK figures (kernel distance, kernel change, linearity, residual "
    "projections, linear predictions)",
}

# The documented datasets of /spectral and /ntk (docs/output.md); a group
# holding none of them gets the generic preview (fig_future_preview).
KNOWN_DATASETS = {
    "spectral": {"verdict"} | {f"{m}/{n}" for m in ("dft", "projection")
                               for n in ("frequency", "target_amplitude",
                                         "converged_step", "rank_correlation",
                                         "delta")}
    | {f"filter/{n}" for n in ("delta", "converged_step_low",
                               "converged_step_high", "e_low", "e_high")}
    | {f"grid/{n}" for n in ("target_power", "converged_step",
                             "rank_correlation", "method", "bytes",
                             "rel_error")},
    "ntk": {"dist0", "dist1", "kernel_change", "linearity_error_train",
            "linearity_error_test", "lfp_error", "spline_error", "pwl_error",
            "lfp_crossover", "eigenvalues_closed", "eigenvalues_t0",
            "eigenvalues_tstar", "projection", "projection_linear",
            "loss_linear", "test_prediction", "test_lfp", "test_spline",
            "test_pwl"},
}
EXTRA_GROUPS = ("data", "snapshots", "spectral", "ntk", "test")

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
        self.delta_tol = _config_float(self.config, "spectral", "delta_tol",
                                       0.1)
        # the run drawn by the per-run figures: width and seed values (None:
        # the widest width, the first seed); pdplot --width / --seed
        self.pick_width = None
        self.pick_seed = None

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

        # /spectral and /ntk (F-Principle and NTK observables) and the groups
        # that go with them (/data, /snapshots, /test)
        self.future = {}
        self.known = {}
        for g, what in FUTURE_GROUPS.items():
            if g in f and isinstance(f[g], h5py.Group):
                items = []

                def visit(name, obj, items=items, g=g):
                    if isinstance(obj, h5py.Dataset):
                        items.append((f"/{g}/{name}", obj.shape, str(obj.dtype)))
                f[g].visititems(visit)
                self.future[g] = items
                self.known[g] = any(n[len(g) + 2:] in KNOWN_DATASETS[g]
                                    for n, _, _ in items)
                if not self.known[g]:
                    self.note(f"/{g} found ({len(items)} dataset"
                              f"{'' if len(items) == 1 else 's'}): none of "
                              f"the documented datasets, so {what} are not "
                              f"drawn; a generic preview is in "
                              f"{g}_preview.png")
        self._load_extra(f)

    def _load_extra(self, f):
        """The datasets of /data, /snapshots, /spectral (documented layout),
        /ntk and /test into self.extra {'spectral/dft/delta': array}.
        Per-run datasets must have shape [P, W, S, ...]."""
        self.extra = {}
        shape3 = (self.P, self.W, self.S)
        for g in EXTRA_GROUPS:
            if g not in f or not isinstance(f[g], h5py.Group):
                continue
            if g in self.known and not self.known[g]:
                continue
            names = []
            f[g].visititems(lambda n, o, names=names: names.append(n)
                            if isinstance(o, h5py.Dataset) else None)
            for n in names:
                arr = self._read(f, f"{g}/{n}",
                                 None if g == "data" else shape3)
                if arr is not None:
                    self.extra[f"{g}/{n}"] = arr
        have = any(k.startswith(("spectral/", "ntk/")) for k in self.extra)
        if have and "snapshots/step" not in self.extra:
            self.note("/snapshots/step is missing: no curves against the "
                      "training step")

    def get(self, name, p=None, w=None, s=None):
        """self.extra[name] (or a /runs dataset), optionally at [p, w, s];
        None when absent."""
        a = self.extra.get(name)
        if a is None and name.startswith("runs/"):
            a = self.runs.get(name[5:])
        if a is None or p is None:
            return a
        return a[p, w, s]

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
    rs = run_scalars(res)
    if rs:
        out["run_observables"] = rs
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
    extra = format_run_scalars(res, s.get("run_observables", []))
    if extra:
        lines.append("")
        lines += extra
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


# -- per-run observables of /spectral, /ntk and the test set -----------------

def _conv_list(freq, conv):
    """'1@22 3@-' from peak frequencies and converged steps (NaN: never)."""
    out = []
    for f_, c in zip(np.asarray(freq, float), np.asarray(conv, float)):
        if not math.isfinite(f_):
            continue
        out.append(f"{f_:g}@" + (f"{c:g}" if math.isfinite(c) else "-"))
    return " ".join(out)


# (key, column header, dataset); dataset None: computed
RUN_SCALARS = [
    ("verdict", "verdict", "spectral/verdict"),
    ("dft", "dft k@step", None),
    ("projection", "proj k@step", None),
    ("shells", "shells |k|@step", None),
    ("filter", "filter d:low/high", None),
    ("dist0", "dist0", "ntk/dist0"),
    ("dist1", "dist1", "ntk/dist1"),
    ("kernel_change", "kernel_chg", "ntk/kernel_change"),
    ("linearity_error_train", "lin_err_trn", "ntk/linearity_error_train"),
    ("linearity_error_test", "lin_err_tst", "ntk/linearity_error_test"),
    ("test_loss", "test_loss", "runs/test_loss"),
    ("test_rel_error", "test_rel", "runs/test_rel_error"),
    ("test_accuracy", "test_acc", "runs/test_accuracy"),
    ("train_accuracy", "train_acc", "runs/train_accuracy"),
]


def run_scalars(res):
    """The per-run scalars of /spectral, /ntk and the test set, one dict per
    run that ran: point, gamma, gamma_prime, label, width, seed, status and
    the keys of RUN_SCALARS the file holds (numbers: NaN -> None; 'dft',
    'projection': [[frequency, converged step]] per peak; 'shells': [[|k|,
    converged step]] over the shells with target power; 'filter': [[delta,
    low step, high step]]).  [] when the file holds none of them."""
    have = [k for k, _, ds in RUN_SCALARS if ds and res.get(ds) is not None]
    for m in ("dft", "projection"):
        if res.get(f"spectral/{m}/frequency") is not None and \
                res.get(f"spectral/{m}/converged_step") is not None:
            have.append(m)
    if res.get("spectral/grid/converged_step") is not None and \
            res.get("spectral/grid/target_power") is not None:
        have.append("shells")
    if res.get("spectral/filter/delta") is not None and \
            res.get("spectral/filter/converged_step_low") is not None:
        have.append("filter")
    if not have:
        return []
    rows = []
    for p in range(res.P):
        for w in range(res.W):
            for s in range(res.S):
                if res.status[p, w, s] == NOT_RUN:
                    continue
                r = {"point": p, "gamma": _num(res.gamma[p]),
                     "gamma_prime": _num(res.gamma_prime[p]),
                     "label": res.label[p], "width": int(res.width[w]),
                     "seed": int(res.seed[s]),
                     "status": status_name(res.status[p, w, s],
                                           res.status_names)}
                for key, _, ds in RUN_SCALARS:
                    if key not in have:
                        continue
                    if ds:
                        r[key] = _num(res.get(ds)[p, w, s])
                    elif key in ("dft", "projection"):
                        fr = res.get(f"spectral/{key}/frequency")[p, w, s]
                        cs = res.get(f"spectral/{key}/converged_step")[p, w, s]
                        r[key] = [[_num(a), _num(b)] for a, b in zip(fr, cs)
                                  if math.isfinite(a)]
                    elif key == "shells":
                        cs = res.get("spectral/grid/converged_step")[p, w, s]
                        r[key] = [[k, _num(cs[k])]
                                  for k in grid_shells(res, p, w, s)]
                    elif key == "filter":
                        dl = res.get("spectral/filter/delta")[p, w, s]
                        lo = res.get("spectral/filter/converged_step_low")
                        hi = res.get("spectral/filter/converged_step_high")
                        r[key] = [[_num(d), _num(lo[p, w, s][k]),
                                   _num(hi[p, w, s][k]) if hi is not None
                                   else None]
                                  for k, d in enumerate(dl)]
                rows.append(r)
    return rows


def _cell(key, v):
    def step(x):
        return "-" if x is None else f"{x:g}"
    if key in ("dft", "projection", "shells"):
        return " ".join(f"{a:g}@{step(b)}" for a, b in v) or "-"
    if key == "filter":
        return " ".join(f"{d:g}:{step(a)}/{step(b)}" for d, a, b in v) or "-"
    if v is None:
        return "nan"
    if key == "verdict":
        return f"{v:+.3f}"
    return f"{v:.4g}"


def format_run_scalars(res, rows=None):
    """The per-run table as text lines ([] without such data)."""
    rows = run_scalars(res) if rows is None else rows
    if not rows:
        return []
    keys = [(k, h) for k, h, _ in RUN_SCALARS if k in rows[0]]
    head = ["point", "m", "seed", "status"] + [h for _, h in keys]
    body = []
    for r in rows:
        body.append([res.point_name(r["point"]), str(r["width"]),
                     str(r["seed"]), r["status"]]
                    + [_cell(k, r[k]) for k, _ in keys])
    wid = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    out = ["per-run observables (/spectral, /ntk, test set; steps: '-' = "
           "never below delta_tol; verdict > 0.5: low frequencies first):"]
    for x in [head] + body:
        out.append("  " + "  ".join(
            c.ljust(wid[i]) if i in (0, 3) or not c[:1].isdigit() and
            c[:1] not in "+-" else c.rjust(wid[i])
            for i, c in enumerate(x)).rstrip())
    return out


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
    fin = np.isfinite(x) & np.isfinite(y)
    xmin, xmax = _finite_range(x[fin])
    ymin, ymax = _finite_range(y[fin])
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
    if not fin.all():   # (gamma', gamma) not finite: the point is not drawn
        check_panel(ax, np.where(fin, 0.0, np.nan), "grid point",
                    why="/grid/gamma and /grid/gamma_prime are not finite")
    if warn:
        ax.text(0.5, 0.01 if fin.all() else 0.06, "; ".join(warn),
                transform=ax.transAxes, ha="center", va="bottom",
                fontsize=7.5, color="crimson", gid="warning")
    ax.grid(alpha=0.25, lw=0.5)
    fig.tight_layout()
    return fig


def _finite_range(a, default=(0.0, 1.0)):
    """(min, max) of the finite values of a; `default` when there are
    none."""
    a = np.asarray(a, float)
    a = a[np.isfinite(a)]
    return (float(a.min()), float(a.max())) if a.size else default


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


# -- empty, zero, negative and NaN data ---------------------------------------
# Every figure draws what its data allow and says what it left out: the
# values a panel meant to show go through check_panel (the one place that
# decides log scales and writes the notes), and a panel with nothing to show
# gets a centered note (gid 'nothing') instead of an exception; the notes'
# texts (gids 'nothing' and 'left_out') are listed by make_figures and the
# report.

NOTE_GIDS = ("nothing", "left_out")


def positive(values):
    """Mask of the finite values > 0: what a log axis can show."""
    a = np.asarray(values, float)
    return np.isfinite(a) & (a > 0)


def describe_values(values):
    """'3 NaN, 2 zero, 1 negative' for the values a log axis cannot show
    (only the kinds present; '' when all are finite and > 0)."""
    a = np.asarray(values, float).ravel()
    kinds = ((np.isnan(a), "NaN"), (np.isinf(a), "infinite"),
             (a == 0, "zero"), (np.isfinite(a) & (a < 0), "negative"))
    return ", ".join(f"{int(m.sum())} {name}" for m, name in kinds
                     if m.any())


def nothing_to_draw(ax, why):
    """A centered note on ax saying what is missing and why (gid
    'nothing'); an axis without any data loses its meaningless ticks."""
    import textwrap
    if not np.isfinite(ax.dataLim.intervalx).all():
        ax.set_xticks([])
    if not np.isfinite(ax.dataLim.intervaly).all():
        ax.set_yticks([])
    width = max(28, int(ax.get_position().width * ax.figure.get_figwidth()
                        * 11))
    # paragraphs (lines of `why`) apart by a blank line (figure_notes)
    text = "\n\n".join(textwrap.fill(line, width)
                       for line in why.split("\n"))
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center",
            va="center", fontsize=9, color="#8a1c00", gid="nothing",
            bbox=dict(boxstyle="round,pad=0.5", fc="white", ec="#8a1c00",
                      alpha=0.9), zorder=10)


def check_panel(ax, values, what, log="", why=""):
    """Finish a panel after drawing: `values` are all the values it meant to
    draw on its value axis (NaN, zeros and negatives included; padding
    excluded).  log ('x', 'y', 'xy' or ''): the axes to make logarithmic;
    each becomes log only if the data drawn on it has a finite positive
    value (matplotlib cannot log-scale an axis without: 'Data has no
    positive values'), else it stays linear.  Drawable values are those > 0
    on a log axis, the finite ones otherwise.  None drawable: a centered
    note (nothing_to_draw) with `why`; some left out: a small note at the
    bottom saying how many and what they are (gid 'left_out').  Returns the
    number of drawable values."""
    v = np.asarray(values, float).ravel()
    ok = positive(v) if log else np.isfinite(v)
    lim = ax.dataLim
    for axis in log:
        minpos = lim.minposx if axis == "x" else lim.minposy
        if math.isfinite(minpos) and minpos > 0:
            (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    if not ok.any():
        msg = (f"nothing to draw: no {what} value > 0" if log else
               f"nothing to draw: no finite {what} value")
        if v.size:
            msg += f" (of {v.size}: {describe_values(v)})"
        nothing_to_draw(ax, msg + (f"\n{why}" if why else ""))
    elif not ok.all():
        ax.text(0.5, 0.01, f"{int((~ok).sum())} of {v.size} {what} values "
                f"not shown ({describe_values(v[~ok])})",
                transform=ax.transAxes, ha="center", va="bottom",
                fontsize=7, color="#8a1c00", gid="left_out",
                bbox=dict(fc="white", ec="none", alpha=0.8), zorder=10)
    return int(ok.sum())


def note_figure(title, why):
    """A figure with only a centered note: a figure whose datasets are in the
    file but hold nothing drawable (make_figures still writes it)."""
    fig, (ax,) = _subplots(1, w=7.0, h=3.2)
    nothing_to_draw(ax, why)
    _suptitle(fig, title)
    fig.tight_layout()
    return fig


def figure_notes(fig):
    """The 'nothing to draw' and 'left out' notes of a figure, each prefixed
    with its panel's title when the figure has several panels."""
    axes = [ax for ax in fig.axes if ax.get_visible()]
    out = []
    for ax in axes:
        for t in ax.texts:
            if t.get_gid() in NOTE_GIDS:
                title = ax.get_title().split("\n")[0]
                text = "; ".join(" ".join(par.split()) for par in
                                 t.get_text().split("\n\n"))
                out.append(f"{title}: {text}" if title and len(axes) > 1
                           else text)
    return out


def fig_rd_width(res):
    """RD = |theta_w(t*) - theta_w(0)| / |theta_w(0)| against width m,
    log-log, one line per grid point (geometric mean over the converged
    seeds; gid 'rd:<p>'), the individual runs as dots, the fit with the
    slope of /phase dashed (gid 'fit:<p>').  None without /runs/rd_w."""
    if "rd_w" not in res.runs:
        return None
    ph = res.phase
    groups = panel_groups(res)
    fig, axes = _subplots(len(groups))
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
        done = np.concatenate([rd[p][res.status[p] != NOT_RUN] for p in pts])
        check_panel(ax, done, "RD", log="xy", why=_rd_why(done))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.set_xlabel("width m")
        ax.set_ylabel("RD of w at t*")
        n = len(pts)
        ax.legend(fontsize=6.5 if n <= 8 else 5.5, ncol=1 if n <= 8 else 2,
                  frameon=False, loc="best")
    _suptitle(fig, f"Relative distance RD against width — "
                 f"{os.path.basename(res.path)}  (line: geometric mean of "
                 "converged seeds, dots: runs, x: not converged, dashed: fit; "
                 "color: empirical regime)"
                 + (f"\npartial scan: {res.not_run} of {res.status.size} runs "
                    "not run" if res.not_run else ""))
    fig.tight_layout()
    return fig


def _rd_why(rd):
    """Why no run of a panel has RD > 0 (rd: the finished runs' RD)."""
    rd = np.asarray(rd, float)
    if not rd.size:
        return "no run of these points finished (not run)"
    if np.all(rd == 0):
        return ("no run has RD > 0: the input weights never moved (widths "
                "too small to train? all ReLUs inactive?)")
    if not np.isfinite(rd).any():
        return "no run has a finite RD: the runs diverged?"
    return ""


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
    step = res.history.get("step")
    fig, axes = _subplots(len(groups))
    for ax, (title, pts) in zip(axes, groups):
        scheme_panel = title == "named schemes"
        drawn = []   # the loss values of the records drawn
        bad_t = 0    # records whose flow time the log axis cannot show
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
            # records: rows with a step (padding is NaN) but the initial
            # one at t = 0, which the log time axis cannot show
            rec = np.isfinite(step[p, w, s] if step is not None else t)
            rec[:1] &= ~(t[:1] == 0)
            t_ok = np.isfinite(t) & (t > 0)
            drawn.append(l[rec & t_ok])
            bad_t += int((rec & ~t_ok).sum())
            if w != res.W - 1 or s != 0:
                lab += f" (m={res.width[w]}, seed {res.seed[s]})"
            if res.status[p, w, s] != CONVERGED:
                lab += " " + status_name(res.status[p, w, s],
                                         res.status_names)
            ax.plot(t[ok], l[ok], color=col, lw=1.3,
                    marker=MARKERS[i % len(MARKERS)], ms=3, markevery=4,
                    label=lab, gid=f"loss:{p}")
        ax.axhline(res.tol, color="0.4", ls="--", lw=0.8, gid="tol")
        check_panel(ax, np.concatenate(drawn or [[]]), "loss", log="xy",
                    why=(f"{bad_t} records have a flow time t <= 0 or NaN"
                         if bad_t else "" if drawn else "no finite loss in "
                         "/history for these points (runs diverged or not "
                         "run?)"))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.set_xlabel("flow time t (sum of accepted steps)")
        ax.set_ylabel("training loss")
        n = len(pts)
        ax.legend(fontsize=6.5 if n <= 8 else 5.5, ncol=1 if n <= 8 else 2,
                  frameon=True, framealpha=0.8, edgecolor="none", loc="best")
    mw = f"m = {res.width[-1]}, seed {res.seed[0]}" if res.W and res.S else ""
    _suptitle(fig, f"Loss curves — {os.path.basename(res.path)}  ({mw} unless "
                 f"noted; dashed: tol = {res.tol:g}; color: empirical "
                 "regime)")
    fig.tight_layout()
    return fig


CONDENSATION_FEATURES = ("orientation0", "amplitude0", "orientation1",
                         "amplitude1")


def representative_points(res):
    """{regime: point} for each empirical regime present (0, 1, 2) with
    condensation features: prefer points that agree with the theory, then
    the farthest from the boundary, then grid points over schemes.  When no
    point with features has a regime (every slope NaN), one undetermined
    point: its neurons can still be drawn."""
    if not all(k in res.features for k in CONDENSATION_FEATURES):
        return {}
    ph = res.phase
    out = {}
    for r in (LINEAR, CRITICAL, CONDENSED, UNDETERMINED):
        if r == UNDETERMINED and out:
            break
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
    if not all(k in res.features for k in CONDENSATION_FEATURES):
        return None
    reps = representative_points(res)
    if not reps:
        return note_figure(
            f"Condensation — {os.path.basename(res.path)}",
            "nothing to draw: no run has a finite /features/amplitude1 "
            "(the neuron features are all NaN: runs diverged or not run?)")
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
            ax.set_ylim(bottom=min(0.0, _finite_range(a[ok])[0]))
            # sampled neurons (NaN in both: padding beyond the width)
            sampled = np.isfinite(o) | np.isfinite(a)
            check_panel(ax, np.where(ok, a, np.nan)[sampled], "neuron",
                        why="orientation or amplitude not finite")
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
    _suptitle(fig, f"Condensation — {os.path.basename(res.path)}: sampled "
                 "neurons, initial (top) and at t* (bottom); orientation = "
                 "atan2(b, w) for d = 1")
    fig.tight_layout()
    return fig


def _pi_label(t):
    k = round(t / (math.pi / 2))
    return {-2: "-π", -1: "-π/2", 0: "0", 1: "π/2", 2: "π"}.get(k, f"{t:.2g}")


def fig_future_preview(res, group, max_panels=6):
    """Generic preview of a /spectral or /ntk group that holds none of the
    documented datasets (an unknown layout).  Deliberately layout-agnostic -- the
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
    _suptitle(fig, f"/{group}: generic preview (none of the documented "
                 "datasets; "
                 "leading axes at index 0)"
                 + (f"; {more} more datasets not shown" if more > 0 else ""))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# F-Principle (/spectral), NTK (/ntk) and test-set figures
# ---------------------------------------------------------------------------

MAX_RUN_PANELS = 12   # per-point panels drawn at most (the first points)
PEAK_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
               "#56B4E9", "#000000", "#F0E442"]


def _suptitle(fig, text, fontsize=9):
    """fig.suptitle wrapped to the figure's width."""
    import textwrap
    chars = max(60, int(fig.get_figwidth() * 15))
    fig.suptitle("\n".join(line for part in text.split("\n")
                           for line in textwrap.wrap(part, chars)),
                 fontsize=fontsize)


def _point_color(i):
    return PEAK_COLORS[i % len(PEAK_COLORS)]


def chosen_run(res, p, name=None):
    """(w, s) of the run of point p the per-run figures draw: the width and
    seed of res.pick_width / res.pick_seed (default: the widest width, the
    first seed); when that run has no finite data in `name` (not run), the
    widest run that has.  None if no run of p has data."""
    w0 = res.W - 1
    if res.pick_width is not None:
        hit = np.nonzero(res.width == res.pick_width)[0]
        w0 = int(hit[0]) if len(hit) else w0
    s0 = 0
    if res.pick_seed is not None:
        hit = np.nonzero(res.seed == res.pick_seed)[0]
        s0 = int(hit[0]) if len(hit) else s0
    a = res.get(name) if name else None

    def ok(w, s):
        if a is None:
            return res.status[p, w, s] != NOT_RUN
        return bool(np.isfinite(np.asarray(a[p, w, s], float)).any())
    if ok(w0, s0):
        return w0, s0
    for w in range(res.W - 1, -1, -1):
        for s in range(res.S):
            if ok(w, s):
                return w, s
    return None


def snapshot_rows(res, p, w, s):
    """Indices of the snapshot rows recorded for run (p, w, s) (step >= 0)
    and their steps and flow times."""
    step = res.get("snapshots/step")
    if step is None:
        return None, None, None
    st = np.asarray(step[p, w, s])
    rows = np.nonzero(st >= 0)[0]
    t = res.get("snapshots/time")
    time = np.asarray(t[p, w, s], float)[rows] if t is not None else None
    return rows, st[rows].astype(float), time


def _run_title(res, p, w, s):
    t = f"{res.point_name(p)}, m = {res.width[w]}, seed {res.seed[s]}"
    if res.status[p, w, s] != CONVERGED:
        t += f" ({status_name(res.status[p, w, s], res.status_names)})"
    return t


def _fmt_rho(v):
    v = float(v)
    return f"{v:+.2f}" if math.isfinite(v) else "nan"


def _verdict_text(res, p, w, s, corr_name=None):
    out = []
    v = res.get("spectral/verdict")
    if v is not None:
        out.append(f"verdict ρ = {_fmt_rho(v[p, w, s])}")
    c = res.get(corr_name) if corr_name else None
    if c is not None:
        out.append(f"{corr_name.split('/')[1]} ρ = {_fmt_rho(c[p, w, s])}")
    return ", ".join(out)


def _runs_with_data(res, pts, name):
    """[(p, (w, s))]: the run each of the points pts draws (chosen_run),
    points without a run with finite /name left out."""
    runs = [(p, chosen_run(res, p, name)) for p in pts]
    return [(p, r) for p, r in runs if r is not None]


def _no_run_why(res, name):
    """The note of a per-run figure whose dataset holds no finite value."""
    a = np.asarray(res.get(name), float)
    return (f"nothing to draw: no run has a finite /{name} "
            f"(of {a.size} values: {describe_values(a) or 'none'}; runs not "
            "run, diverged or not recorded?)")


def _points_for_panels(res):
    pts = list(range(res.P))
    return pts[:MAX_RUN_PANELS], max(0, len(pts) - MAX_RUN_PANELS)


def target_spectrum(res, method="dft"):
    """(k, |y^_k|) of the training target along the line of `method` as the
    binary computes it (src/spectral.c): NUDFT sum_i y_i exp(-2 pi i k v_i /
    L), k = 0 .. nk - 1, L = (max v - min v) n / (n - 1), nk = [spectral]
    max_freq or n / 2; v = x (dft, 1-D) or the projection of x on its first
    principal component (projection).  None without /data."""
    x, y = res.get("data/x"), res.get("data/y")
    if x is None or y is None:
        return None
    x = np.asarray(x, float).reshape(len(y), -1)
    y = np.asarray(y, float).ravel()
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y)   # NaN data: left out
    x, y = x[ok], y[ok]
    n = len(y)
    if n < 1:
        return None
    if method == "dft":
        v = x[:, 0]
    else:
        xc = x - x.mean(axis=0)
        ev, evec = np.linalg.eigh(xc.T @ xc)
        v = x @ evec[:, -1]
    lo, hi = float(v.min()), float(v.max())
    L = (hi - lo) * n / (n - 1) if n > 1 and hi > lo else 1.0
    try:
        nk = int(res.config.get("spectral", "max_freq", fallback="0"))
    except ValueError:
        nk = 0
    nk = nk if nk > 0 else n // 2
    nk = max(nk, 2)
    k = np.arange(nk, dtype=float)
    ph = 2 * math.pi * np.outer(k, v) / L
    amp = np.hypot(np.cos(ph) @ y, np.sin(ph) @ y)
    return k, amp


def _step_axis(ax, label="training step", last=None):
    ax.set_xscale("symlog", linthresh=1.0)
    if last is not None and math.isfinite(last) and last > 0:
        ax.set_xlim(0, last * 1.6)   # room for a marker at the last step
    else:
        ax.set_xlim(left=0)
    ax.set_xlabel(label + " (log; 0 at the left)")


def fig_fprinciple_line(res, method="dft"):
    """F-Principle along a line (method 'dft': the 1-D coordinate;
    'projection': the first principal component).  First panel: the
    target's |y^_k| (line gid 'spectrum') with the file's peaks (scatter
    gid 'peaks': offsets (frequency, target_amplitude) of the first drawn
    run).  Then one panel per point for its chosen run (chosen_run):
    Delta_F against the snapshot step, one line per peak (gid
    'delta:<p>:<j>', x = /snapshots/step, y = delta), the converged step
    marked (gid 'conv:<p>:<j>'), delta_tol dashed (gid 'delta_tol').
    None without /spectral/<method>/delta."""
    g = f"spectral/{method}"
    delta = res.get(f"{g}/delta")
    freq = res.get(f"{g}/frequency")
    if delta is None or freq is None or res.get("snapshots/step") is None:
        return None
    conv = res.get(f"{g}/converged_step")
    amp = res.get(f"{g}/target_amplitude")
    pts, more = _points_for_panels(res)
    runs = _runs_with_data(res, pts, f"{g}/delta")
    fig, axes = _subplots(1 + max(1, len(runs)), w=5.0, h=3.8)
    if not runs:   # the target's spectrum is still drawn
        nothing_to_draw(axes[1], _no_run_why(res, f"{g}/delta"))
    # the target's spectrum
    ax = axes[0]
    spec = target_spectrum(res, method)
    p0, (w0, s0) = runs[0] if runs else (0, (0, 0))
    if spec is not None:
        k, a = spec
        ax.plot(k, a, color="0.3", lw=1.0, marker=".", ms=3, gid="spectrum",
                label="|ŷ_k| of the target")
    fk = np.asarray(freq[p0, w0, s0], float)
    okp = np.isfinite(fk) & bool(runs)
    pa = (np.asarray(amp[p0, w0, s0], float)[okp] if amp is not None
          else np.full(okp.sum(), np.nan))
    sc = ax.scatter(fk[okp], pa, s=60, facecolors="none",
                    edgecolors=[PEAK_COLORS[j % 8] for j in
                                np.nonzero(okp)[0]], lw=1.6, zorder=4,
                    label="peaks (file)")
    sc.set_gid("peaks")
    for i, j in enumerate(np.nonzero(okp)[0]):
        if amp is not None and math.isfinite(amp[p0, w0, s0][j]):
            ax.annotate(f"k={fk[j]:g}", (fk[j], amp[p0, w0, s0][j]),
                        xytext=(5, 3 + 8 * (i % 3)),
                        textcoords="offset points",
                        fontsize=7, color=PEAK_COLORS[j % 8])
    ax.set_xlabel("frequency k (cycles per period"
                  + (" of the projection)" if method == "projection" else ")"))
    ax.set_ylabel("|ŷ_k|")
    ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.12)
    ax.set_title("target spectrum" + (" along the first principal "
                                      "component" if method == "projection"
                                      else ""), fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    ax.grid(alpha=0.25, lw=0.4)
    # Delta_F per run
    for ax, (p, (w, s)) in zip(axes[1:], runs):
        rows, steps, _ = snapshot_rows(res, p, w, s)
        fq = np.asarray(freq[p, w, s], float)
        for j in np.nonzero(np.isfinite(fq))[0]:
            d = np.asarray(delta[p, w, s][rows, j], float)
            col = PEAK_COLORS[j % 8]
            cs = float(conv[p, w, s][j]) if conv is not None else math.nan
            lab = f"k = {fq[j]:g}: " + (f"converged at step {cs:g}"
                                        if math.isfinite(cs) else "never")
            ax.plot(steps, d, color=col, lw=1.3, label=lab,
                    gid=f"delta:{p}:{j}")
            if math.isfinite(cs):
                at = np.nonzero(steps == cs)[0]
                yv = d[at[0]] if len(at) else res.delta_tol
                ax.plot([cs], [yv], ls="", marker="v", ms=9, mfc=col,
                        mec="black", mew=0.6, zorder=5,
                        gid=f"conv:{p}:{j}")
                ax.axvline(cs, color=col, lw=0.7, ls=":", alpha=0.8)
        ax.axhline(res.delta_tol, color="0.3", ls="--", lw=0.9,
                   gid="delta_tol", label=f"delta_tol = {res.delta_tol:g}")
        _step_axis(ax, last=steps.max() if len(steps) else None)
        check_panel(ax, np.asarray(delta[p, w, s], float)[rows][
            :, np.isfinite(fq)], "Δ_F", log="y",
            why="" if np.isfinite(fq).any() else "no peak frequency")
        ax.set_ylabel("Δ_F = ||ĥ_k| − |ŷ_k|| / |ŷ_k|")
        ax.set_title(_run_title(res, p, w, s) + "\n"
                     + _verdict_text(res, p, w, s,
                                     f"{g}/rank_correlation"), fontsize=8.5)
        ax.legend(fontsize=7, frameon=True, framealpha=0.8, edgecolor="none")
        ax.grid(alpha=0.25, which="both", lw=0.4)
    what = {"dft": "1-D DFT", "projection": "projection method"}[method]
    _suptitle(fig, f"F-Principle ({what}) — {os.path.basename(res.path)}: "
                 "Δ_F per peak against the step (▼: converged, Δ_F < "
                 f"delta_tol); ρ > 0.5: low frequencies first"
                 + (f"; {more} more points not shown" if more else ""))
    fig.tight_layout()
    return fig


def fig_fprinciple_dft(res):
    return fig_fprinciple_line(res, "dft")


def fig_fprinciple_projection(res):
    return fig_fprinciple_line(res, "projection")


GRID_POWER_REL = 1e-2   # shells drawn: target power >= this * the largest


def grid_shells(res, p, w, s):
    """The shells of run (p, w, s) with target power >= GRID_POWER_REL of
    the largest (indices = |k|)."""
    tp = np.asarray(res.get("spectral/grid/target_power")[p, w, s], float)
    top = np.nanmax(tp) if np.isfinite(tp).any() else 0.0
    return [int(i) for i in np.nonzero(np.isfinite(tp) & (tp > 0) &
                                       (tp >= GRID_POWER_REL * top))[0]]


GRID_TITLE = "F-Principle (grid spectrum) — "
FILTER_TITLE = "F-Principle (filtering method) — "
PROJECTION_TITLE = "Residual along the NTK eigenvectors — "
TEST_CURVES_TITLE = "Test set (1-D) — "


def fig_fprinciple_grid(res):
    """Grid spectrum: relative error per shell |k| against the step, one
    panel per point (chosen run), lines colored by |k| (gid
    'shell:<p>:<k>'), only shells with target power >= 1e-2 of the largest,
    the converged steps marked (gid 'shellconv:<p>:<k>'), delta_tol dashed.
    None without /spectral/grid/rel_error."""
    rel = res.get("spectral/grid/rel_error")
    if rel is None or res.get("spectral/grid/target_power") is None or \
            res.get("snapshots/step") is None:
        return None
    plt = pyplot()
    conv = res.get("spectral/grid/converged_step")
    pts, more = _points_for_panels(res)
    runs = _runs_with_data(res, pts, "spectral/grid/rel_error")
    if not runs:
        return note_figure(GRID_TITLE + os.path.basename(res.path),
                           _no_run_why(res, "spectral/grid/rel_error"))
    fig, axes = _subplots(len(runs), w=5.4, h=3.9)
    cmap = plt.get_cmap("viridis")
    shown = [k for p, (w, s) in runs for k in grid_shells(res, p, w, s)]
    norm = matplotlib_norm(min(shown, default=0),
                           max(max(shown, default=1), min(shown, default=0)
                               + 1))
    for ax, (p, (w, s)) in zip(axes, runs):
        rows, steps, _ = snapshot_rows(res, p, w, s)
        for k in grid_shells(res, p, w, s):
            col = cmap(norm(k))
            y = np.asarray(rel[p, w, s][rows, k], float)
            cs = float(conv[p, w, s][k]) if conv is not None else math.nan
            ax.plot(steps, y, color=col, lw=1.3, gid=f"shell:{p}:{k}",
                    label=f"|k| = {k}" + (f": step {cs:g}"
                                          if math.isfinite(cs) else ""))
            if math.isfinite(cs):
                at = np.nonzero(steps == cs)[0]
                ax.plot([cs], [y[at[0]] if len(at) else res.delta_tol],
                        ls="", marker="v", ms=9, mfc=col, mec="black",
                        mew=0.6, zorder=5, gid=f"shellconv:{p}:{k}")
        ax.axhline(res.delta_tol, color="0.3", ls="--", lw=0.9,
                   gid="delta_tol", label=f"delta_tol = {res.delta_tol:g}")
        _step_axis(ax, last=steps.max() if len(steps) else None)
        shells = grid_shells(res, p, w, s)
        check_panel(ax, np.asarray(rel[p, w, s], float)[rows][:, shells],
                    "relative error", log="y", why="" if shells else
                    "no shell has a target power > 0")
        ax.set_ylabel("relative error on the shell")
        ax.set_title(_run_title(res, p, w, s) + "\n" + _verdict_text(
            res, p, w, s, "spectral/grid/rank_correlation"), fontsize=8.5)
        ax.legend(fontsize=6.5, frameon=True, framealpha=0.8,
                  edgecolor="none", ncol=1 if len(ax.get_lines()) < 9 else 2)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, label="|k| (shell)", pad=0.01)
    _suptitle(fig, f"{GRID_TITLE}{os.path.basename(res.path)}:"
                 " sqrt(Σ|H−Y|²/Σ|Y|²) per shell round(|k|) against the step,"
                 " shells with ≥ 1e-2 of the largest target power (▼: "
                 "converged)" + (f"; {more} more points not shown"
                                 if more else ""))
    fig.tight_layout()
    return fig


def matplotlib_norm(lo, hi):
    from matplotlib.colors import Normalize
    return Normalize(vmin=lo, vmax=hi)


def fig_fprinciple_filter(res):
    """Filtering method: e_low (solid, gid 'elow:<p>:<k>') and e_high
    (dashed, gid 'ehigh:<p>:<k>') against the step for each filter width
    delta_k, one panel per point (chosen run); converged steps marked (gids
    'lowconv:<p>:<k>', 'highconv:<p>:<k>'), delta_tol dashed.  None without
    /spectral/filter/e_low."""
    el, eh = res.get("spectral/filter/e_low"), res.get("spectral/filter/e_high")
    if el is None or eh is None or res.get("snapshots/step") is None:
        return None
    dl = res.get("spectral/filter/delta")
    cl = res.get("spectral/filter/converged_step_low")
    ch = res.get("spectral/filter/converged_step_high")
    pts, more = _points_for_panels(res)
    runs = _runs_with_data(res, pts, "spectral/filter/e_low")
    if not runs:
        return note_figure(FILTER_TITLE + os.path.basename(res.path),
                           _no_run_why(res, "spectral/filter/e_low"))
    fig, axes = _subplots(len(runs), w=5.0, h=3.8)
    for ax, (p, (w, s)) in zip(axes, runs):
        rows, steps, _ = snapshot_rows(res, p, w, s)
        for k in range(el.shape[-1]):
            col = PEAK_COLORS[k % 8]
            dv = float(dl[p, w, s][k]) if dl is not None else math.nan
            for kind, arr, cc, ls in (("low", el, cl, "-"),
                                      ("high", eh, ch, "--")):
                y = np.asarray(arr[p, w, s][rows, k], float)
                cs = float(cc[p, w, s][k]) if cc is not None else math.nan
                ax.plot(steps, y, color=col, ls=ls, lw=1.3,
                        gid=f"e{kind}:{p}:{k}",
                        label=f"δ = {dv:g}, e_{kind}: " +
                        (f"step {cs:g}" if math.isfinite(cs) else "never"))
                if math.isfinite(cs):
                    at = np.nonzero(steps == cs)[0]
                    ax.plot([cs], [y[at[0]] if len(at) else res.delta_tol],
                            ls="", marker="v" if kind == "low" else "^",
                            ms=8, mfc=col, mec="black", mew=0.6, zorder=5,
                            gid=f"{kind}conv:{p}:{k}")
        ax.axhline(res.delta_tol, color="0.3", ls=":", lw=0.9,
                   gid="delta_tol", label=f"delta_tol = {res.delta_tol:g}")
        _step_axis(ax, last=steps.max() if len(steps) else None)
        check_panel(ax, [np.asarray(a[p, w, s], float)[rows]
                         for a in (el, eh)], "e_low / e_high", log="y")
        ax.set_ylabel("relative error of the filtered part")
        ax.set_title(_run_title(res, p, w, s) + "\n"
                     + _verdict_text(res, p, w, s), fontsize=8.5)
        ax.legend(fontsize=6.5, frameon=True, framealpha=0.8,
                  edgecolor="none")
        ax.grid(alpha=0.25, which="both", lw=0.4)
    _suptitle(fig, f"{FILTER_TITLE}"
                 f"{os.path.basename(res.path)}: e_low (solid, low-pass "
                 "Gaussian of width δ) and e_high (dashed) against the step; "
                 "low frequencies first: e_low falls first"
                 + (f"; {more} more points not shown" if more else ""))
    fig.tight_layout()
    return fig


def _geo_mean_by_width(res, vals):
    """Geometric mean over seeds of the finite positive values [W, S]."""
    out = []
    for w in range(res.W):
        v = np.asarray(vals[w], float)
        v = v[np.isfinite(v) & (v > 0)]
        out.append(float(v[0]) if len(v) == 1 else
                   math.exp(np.log(v).mean()) if len(v) else math.nan)
    return np.array(out)


NTK_WIDTH_PANELS = [
    ("ntk/dist0", "dist0", "|Θ(0) − Θ_∞|_F / |Θ_∞|_F"),
    ("ntk/kernel_change", "kernel_change", "|Θ(t*) − Θ(0)|_F / |Θ(0)|_F"),
    ("ntk/linearity_error_test", "linearity", "|f_net − f_lin| / |f_lin|"),
]


def fig_ntk_width(res):
    """NTK observables against width, log-log, one line per point
    (geometric mean over seeds, gid '<name>_mean:<p>') and every run as a
    dot (scatter gid '<name>:<p>', offsets (width, value)): dist0 with an
    m^-1/2 guide (gid 'guide'), kernel_change, and the linearity error on
    the test set (training set without one); name = dist0, kernel_change,
    linearity.  None without /ntk/dist0 and /ntk/kernel_change."""
    panels = []
    for key, name, ylab in NTK_WIDTH_PANELS:
        if name == "linearity" and res.get(key) is None:
            key = "ntk/linearity_error_train"
        if res.get(key) is not None:
            panels.append((key, name, ylab))
    if not panels:
        return None
    fig, axes = _subplots(len(panels), w=5.0, h=4.0)
    m = res.width.astype(float)
    for ax, (key, name, ylab) in zip(axes, panels):
        a = res.get(key)
        for i, p in enumerate(range(res.P)):
            col = _point_color(i)
            mk = MARKERS[i % len(MARKERS)]
            ok = np.isfinite(a[p]) & (a[p] > 0) & (res.status[p] != NOT_RUN)
            ws = np.broadcast_to(m[:, None], ok.shape)[ok]
            sc = ax.scatter(ws, np.asarray(a[p])[ok], s=16, color=col,
                            marker=mk, alpha=0.7, lw=0, zorder=3)
            sc.set_gid(f"{name}:{p}")
            gm = _geo_mean_by_width(res, a[p])
            ax.plot(m, gm, color=col, lw=1.3, marker=mk, ms=4,
                    gid=f"{name}_mean:{p}",
                    label=f"{res.point_name(p)} "
                    f"[{regime_name(res.phase['regime'][p])}]")
        if name == "dist0":
            allv = np.asarray(a, float)
            okv = np.isfinite(allv) & (allv > 0)
            if okv.any() and len(m) and np.all(m > 0):
                y0 = math.exp(np.log(allv[okv]).mean())
                mm = np.array([m.min(), m.max()])
                gm0 = math.exp(np.log(mm).mean())
                ax.plot(mm, y0 * (mm / gm0) ** -0.5, color="black", ls="--",
                        lw=1.0, gid="guide", label="∝ m^-1/2 (guide)")
        check_panel(ax, np.asarray(a, float)[res.status != NOT_RUN], name,
                    log="xy")
        ax.set_xlabel("width m")
        ax.set_ylabel(ylab)
        title = {"dist0": "distance to the infinite-width kernel at t = 0",
                 "kernel_change": "kernel change during training",
                 "linearity": "linearity error ("
                 + ("test set" if key.endswith("test") else "training set")
                 + ")"}[name]
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.legend(fontsize=6.5, frameon=True, framealpha=0.8,
                  edgecolor="none")
    _suptitle(fig, f"NTK against width — {os.path.basename(res.path)} (line: "
                 "geometric mean over seeds, dots: runs)")
    fig.tight_layout()
    return fig


NTK_COMPONENTS = 4   # residual components drawn per run


def fig_ntk_projection(res):
    """Residual f − y along the closed-form kernel's top eigenvectors
    against flow time, one panel per point (chosen run): |projection| solid
    (gid 'proj:<p>:<j>', x = /snapshots/time, y = |projection|), the linear
    theory's |projection_linear| dashed (gid 'projlin:<p>:<j>'), the top
    NTK_COMPONENTS components.  None without /ntk/projection."""
    pr = res.get("ntk/projection")
    if pr is None or res.get("snapshots/step") is None or \
            res.get("snapshots/time") is None:
        return None
    pl = res.get("ntk/projection_linear")
    lam = res.get("ntk/eigenvalues_closed")
    pts, more = _points_for_panels(res)
    runs = _runs_with_data(res, pts, "ntk/projection")
    if not runs:
        return note_figure(PROJECTION_TITLE + os.path.basename(res.path),
                           _no_run_why(res, "ntk/projection"))
    fig, axes = _subplots(len(runs), w=5.0, h=3.8)
    for ax, (p, (w, s)) in zip(axes, runs):
        rows, _, time = snapshot_rows(res, p, w, s)
        for j in range(min(NTK_COMPONENTS, pr.shape[-1])):
            col = PEAK_COLORS[j % 8]
            lab = f"component {j + 1}"
            if lam is not None and math.isfinite(lam[p, w, s][j]):
                lab += f" (λ = {lam[p, w, s][j]:.3g})"
            ax.plot(time, np.abs(np.asarray(pr[p, w, s][rows, j], float)),
                    color=col, lw=1.4, label=lab, gid=f"proj:{p}:{j}")
            if pl is not None:
                ax.plot(time, np.abs(np.asarray(pl[p, w, s][rows, j],
                                                float)),
                        color=col, lw=1.1, ls="--", gid=f"projlin:{p}:{j}")
        solid = np.abs(np.asarray(pr[p, w, s][rows][:, :NTK_COMPONENTS],
                                  float))
        solid = solid[np.isfinite(solid) & (solid > 0)]
        if len(solid):   # the linear theory decays to 1e-300: clip
            ax.set_ylim(bottom=solid.min() / 100, top=solid.max() * 3)
        pos = time[np.isfinite(time) & (time > 0)] if time is not None \
            else np.array([])
        ax.set_xscale("symlog", linthresh=float(pos.min()) if len(pos)
                      else 1.0)
        ax.set_xlim(left=0)
        check_panel(ax, np.abs(np.asarray(pr[p, w, s], float)[rows][
            :, :NTK_COMPONENTS]), "|projection|", log="y")
        ax.set_xlabel("flow time t (log; 0 at the left)")
        ax.set_ylabel("|⟨f − y, v_j⟩|")
        ax.set_title(_run_title(res, p, w, s), fontsize=8.5)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.legend(fontsize=6.5, frameon=True, framealpha=0.8,
                  edgecolor="none")
    _suptitle(fig, f"{PROJECTION_TITLE}"
                 f"{os.path.basename(res.path)}: trained network (solid) and "
                 "linear theory (dashed), largest eigenvalue first"
                 + (f"; {more} more points not shown" if more else ""))
    fig.tight_layout()
    return fig


TEST_CURVES = [  # dataset, gid prefix, label, style
    ("test/output", "net", "trained network", dict(color="#D55E00", lw=1.8)),
    ("ntk/test_prediction", "kernel", "kernel regression (Θ_∞)",
     dict(color="#0072B2", lw=1.3, ls="--")),
    ("ntk/test_lfp", "lfp", "LFP minimizer",
     dict(color="#009E73", lw=1.2, ls="-.")),
    ("ntk/test_spline", "spline", "cubic spline",
     dict(color="#CC79A7", lw=1.1, ls=":")),
    ("ntk/test_pwl", "pwl", "piecewise linear",
     dict(color="#E69F00", lw=1.0, ls=(0, (5, 2, 1, 2)))),
]


def fig_test_curves(res):
    """1-D test set: one panel per point (chosen run): the training points
    (scatter gid 'train:<p>'), the target /data/y_test (gid 'target:<p>'),
    the trained network /test/output (gid 'net:<p>'), kernel regression
    /ntk/test_prediction ('kernel:<p>'), LFP ('lfp:<p>'), spline
    ('spline:<p>'), piecewise linear ('pwl:<p>'), all against x_test sorted.
    None unless the data are 1-D with a test set and at least one curve."""
    x, y = res.get("data/x"), res.get("data/y")
    xt, yt = res.get("data/x_test"), res.get("data/y_test")
    if x is None or y is None or xt is None:
        return None
    if np.asarray(x).reshape(len(y), -1).shape[1] != 1:
        return None
    curves = [c for c in TEST_CURVES if res.get(c[0]) is not None]
    if not curves:
        return None
    xt = np.asarray(xt, float).ravel()
    order = np.argsort(xt, kind="stable")
    pts, more = _points_for_panels(res)
    runs = _runs_with_data(res, pts, curves[0][0])
    if not runs:
        return note_figure(TEST_CURVES_TITLE + os.path.basename(res.path),
                           _no_run_why(res, curves[0][0]))
    fig, axes = _subplots(len(runs), w=5.0, h=3.8)
    for ax, (p, (w, s)) in zip(axes, runs):
        if yt is not None:
            ax.plot(xt[order], np.asarray(yt, float).ravel()[order],
                    color="black", lw=2.6, alpha=0.25, label="target (test)",
                    gid=f"target:{p}")
        ys = [np.asarray(res.get(name)[p, w, s], float)[order]
              for name, _, _, _ in curves]
        for y_, (name, gid, lab, style) in zip(ys, curves):
            ax.plot(xt[order], y_, label=lab, gid=f"{gid}:{p}", **style)
        check_panel(ax, ys, "test-curve")
        sc = ax.scatter(np.asarray(x, float).ravel(),
                        np.asarray(y, float).ravel(), s=22, color="black",
                        zorder=5, label="training points")
        sc.set_gid(f"train:{p}")
        extra = []
        for key, short in (("runs/test_rel_error", "test rel. error"),
                           ("ntk/lfp_error", "|f−LFP|/|LFP|")):
            a = res.get(key)
            if a is not None and math.isfinite(a[p, w, s]):
                extra.append(f"{short} {a[p, w, s]:.3g}")
        ax.set_title(_run_title(res, p, w, s)
                     + ("\n" + ", ".join(extra) if extra else ""),
                     fontsize=8.5)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.grid(alpha=0.25, lw=0.4)
        ax.legend(fontsize=6.5, frameon=True, framealpha=0.8,
                  edgecolor="none")
    _suptitle(fig, f"{TEST_CURVES_TITLE}{os.path.basename(res.path)}: "
                 "the trained "
                 "network against the linear theories"
                 + (f"; {more} more points not shown" if more else ""))
    fig.tight_layout()
    return fig


def targets_are_signs(res):
    """True when every target (test set if any, else training) is +-1."""
    y = res.get("data/y_test")
    if y is None:
        y = res.get("data/y")
    if y is None or np.size(y) == 0:
        return False
    return bool(np.all(np.isin(np.asarray(y, float), (-1.0, 1.0))))


def test_axis(res):
    """(x values, tick labels or None, x label) of the test-error figure:
    gamma when the points have distinct gammas, else the point index with
    the point names as ticks."""
    g = res.gamma
    if res.P and len(set(np.round(g, 12))) == res.P and \
            np.isfinite(g).all():
        return g.astype(float), None, "γ (gamma)"
    return np.arange(res.P, dtype=float), [res.point_name(p) for p in
                                           range(res.P)], "point"


def fig_test_error(res):
    """Test-set error against gamma (or the point) per width: one line per
    width (gid 'test_rel_error:<w>', geometric mean over the seeds; y at
    each point), dots for the runs; a second panel with test_accuracy (gid
    'test_accuracy:<w>', mean over seeds) when the targets are +-1.  None
    without /runs/test_rel_error."""
    rel = res.get("runs/test_rel_error")
    if rel is None:
        return None
    acc = res.get("runs/test_accuracy") if targets_are_signs(res) else None
    xs, ticks, xlab = test_axis(res)
    order = np.argsort(xs, kind="stable")
    fig, axes = _subplots(2 if acc is not None else 1, w=6.0, h=4.2)
    plt = pyplot()
    cmap = plt.get_cmap("viridis")
    for ax, (key, arr, logy) in zip(axes, (("test_rel_error", rel, True),
                                           ("test_accuracy", acc, False))):
        for w in range(res.W):
            col = cmap(w / max(res.W - 1, 1) * 0.9)
            ys = []
            for p in range(res.P):
                v = np.asarray(arr[p, w], float)
                v = v[np.isfinite(v) & (res.status[p, w] != NOT_RUN)]
                if logy:
                    v = v[v > 0]
                    ys.append(float(v[0]) if len(v) == 1 else
                              math.exp(np.log(v).mean()) if len(v)
                              else math.nan)
                else:
                    ys.append(float(v.mean()) if len(v) else math.nan)
                if len(v) > 1:
                    ax.scatter(np.full(len(v), xs[p]), v, s=9, color=col,
                               alpha=0.5, lw=0)
            ys = np.array(ys)
            ax.plot(xs[order], ys[order], color=col, marker="o", ms=5,
                    lw=1.3, gid=f"{key}:{w}", label=f"m = {res.width[w]}")
        done = np.asarray(arr, float)[res.status != NOT_RUN]
        check_panel(ax, done, key, log="y" if logy else "")
        ax.set_ylabel({"test_rel_error": "|f − y| / |y| on the test set",
                       "test_accuracy": "test accuracy (sign)"}[key])
        ax.set_xlabel(xlab)
        if ticks is not None:
            ax.set_xticks(xs)
            ax.set_xticklabels(ticks, rotation=30, ha="right", fontsize=7)
        elif any(res.label):   # gamma ticks at the points, schemes named
            ax.set_xticks(xs)
            ax.set_xticklabels([f"{xs[p]:g}" + (f"\n{res.label[p]}"
                                                if res.label[p] else "")
                                for p in range(res.P)], fontsize=7.5)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.legend(fontsize=7, frameon=False, title="width", title_fontsize=7)
        ax.set_title({"test_rel_error": "test relative error",
                      "test_accuracy": "test accuracy"}[key], fontsize=9)
    _suptitle(fig, f"Generalization — {os.path.basename(res.path)}: test error "
                 "against γ per width (small initialization, larger γ, "
                 "generalizes better?)")
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
    ("fprinciple_dft", "F-Principle: 1-D DFT", fig_fprinciple_dft,
     "First panel: the amplitude |ŷ_k| of the training target's DFT with "
     "the peaks the binary found (circles). Then, for one run of each point "
     "(the widest width and first seed unless pdplot --width/--seed), "
     "Δ_F = ||ĥ_k| − |ŷ_k|| / |ŷ_k| of each peak against the training step "
     "(log axis): the triangle marks the step at which Δ_F first fell "
     "below delta_tol (dashed). The titles give the verdict ρ (Spearman "
     "rank correlation of frequency against converged step; ρ > 0.5: low "
     "frequencies are learned first)."),
    ("fprinciple_projection", "F-Principle: projection method",
     fig_fprinciple_projection,
     "As the 1-D DFT figure, along the projection of the inputs on their "
     "first principal component (non-uniform DFT): the target's spectrum "
     "along that line with its peaks, then Δ_F per peak against the step "
     "for one run of each point."),
    ("fprinciple_grid", "F-Principle: grid spectrum", fig_fprinciple_grid,
     "Relative error sqrt(Σ|H − Y|² / Σ|Y|²) of the network's spectrum on "
     "the shells round(|k|) = s of a grid over the whole input cube, "
     "against the training step, for one run of each point; lines colored "
     "by |k|, only the shells holding at least 1e-2 of the largest target "
     "power; triangles: converged steps, dashed: delta_tol. Low shells "
     "falling first is the F-Principle."),
    ("fprinciple_filter", "F-Principle: filtering method",
     fig_fprinciple_filter,
     "Filtering method: relative error of the low-frequency part (Gaussian "
     "low-pass of width δ, solid) and of the high-frequency part (dashed) "
     "of the network against the target, per δ, against the training step, "
     "for one run of each point; triangles: converged steps."),
    ("ntk_width", "NTK against width", fig_ntk_width,
     "Left: distance |Θ(0) − Θ_∞|_F / |Θ_∞|_F of the empirical NTK at "
     "initialization from the infinite-width kernel against the width, "
     "log-log, one line per point (geometric mean over seeds; dots: runs), "
     "with an m^-1/2 guide (dashed). Middle: the kernel change |Θ(t*) − "
     "Θ(0)|_F / |Θ(0)|_F during training. Right: the linearity error "
     "|f_net − f_lin| / |f_lin| on the test set (training set without "
     "one). In the linear (NTK) regime all three fall with the width."),
    ("ntk_projection", "Residual along NTK eigenvectors", fig_ntk_projection,
     "The residual f − y projected on the closed-form kernel's top "
     "eigenvectors (largest eigenvalue first) against flow time, for one run "
     "of each point: the trained network (solid) and the linear theory's "
     "exponential decay (dashed). Components with larger eigenvalues decay "
     "first; the lines agree where the network stays linear."),
    ("test_curves", "Test set (1-D)", fig_test_curves,
     "For one run of each point: the training points, the target on the "
     "test grid (grey), the trained network, kernel regression with the "
     "infinite-width NTK, the LFP minimizer, the natural cubic spline and "
     "the piecewise-linear interpolant."),
    ("test_error", "Test error against γ", fig_test_error,
     "Relative test error |f − y| / |y| against γ (or against the point "
     "when the points share a γ), one line per width (geometric mean over "
     "the seeds; dots: runs); test accuracy beside it when the targets are "
     "±1. Lower error at larger γ (smaller initialization) is the claim "
     "that small initialization generalizes better."),
]


def make_figures(res, outdir, formats=("png", "pdf"), dpi=130, only=None):
    """Draw every figure the file allows into outdir.  Returns (written,
    skipped, failed): written = [dict(name, title, caption, files={fmt:
    path}, notes=[str])] (notes: what a figure could not draw and why,
    figure_notes), skipped = [str] (figures not drawn: their datasets are
    absent), failed = [dict(name, title, caption, error=str)]: a figure
    whose drawing raised; it leaves no file and does not stop the others.
    OSError only for an output directory that cannot be written."""
    plt = pyplot()
    os.makedirs(outdir, exist_ok=True)
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise PermissionError(f"{outdir}: not writable")
    written, skipped, failed = [], [], []
    why = {
        "rd_width": "no /runs/rd_w",
        "loss_curves": "no /history (loss and time)",
        "condensation": "no /features with orientation and amplitude",
    }
    todo = list(FIGURES)
    for g, what in FUTURE_GROUPS.items():
        if res.known.get(g, True):
            continue
        todo.append((f"{g}_preview", f"/{g} (generic preview)",
                     lambda r, g=g: fig_future_preview(r, g),
                     f"/{g} is in the file but holds none of the documented "
                     f"datasets, so {what} are not drawn. Generic view of up to "
                     "six of its datasets (first index along leading axes)."))
    for name, title, build, caption in todo:
        if only and name not in only:
            continue
        paths = {fmt: os.path.join(outdir, f"{name}.{fmt}")
                 for fmt in set(formats) | {"png", "pdf", "svg"}}
        fig, error = None, None
        try:
            fig = build(res)
            if fig is not None:
                for fmt in formats:
                    fig.savefig(paths[fmt], dpi=dpi,
                                metadata=_metadata(res, fmt))
                notes = figure_notes(fig)
        except Exception as e:  # noqa: BLE001 -- one figure must not stop all
            error = f"{type(e).__name__}: {e}"
        finally:
            if fig is not None:
                plt.close(fig)
        if fig is not None and error is None:
            written.append(dict(name=name, title=title, caption=caption,
                                files={fmt: paths[fmt] for fmt in formats},
                                notes=notes))
            continue
        if error is not None:
            failed.append(dict(name=name, title=title, caption=caption,
                               error=error))
        elif name in why:
            skipped.append(f"{name}: skipped ({why[name]})")
        # a figure of an earlier run into the same directory would describe
        # another file (and a failed save leaves half a file): remove it
        for path in paths.values():
            if os.path.isfile(path):
                os.remove(path)
    return written, skipped, failed


def supported_formats():
    """The file formats the figures can be saved in (pdplot --format)."""
    pyplot()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    return list(FigureCanvasAgg.get_supported_filetypes())


def absent_future_notes(res):
    """One line per future group the file does not hold (information, not a
    problem: pdplot prints them, the report lists them)."""
    return [f"{what}: not in this file (no /{g} group)"
            for g, what in FUTURE_GROUPS.items()
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
.fignote { color: #8a1c00; font-size: 0.9em; margin: 0.2em 0; }
.failed { color: #b00020; font-weight: bold; }
"""


def _swatch(code):
    return (f'<span class="swatch" style="background:{regime_color(code)}">'
            f'</span>{html.escape(regime_name(code))}')


def report_html(res, written, skipped, embed=False, outdir=".", failed=()):
    """The page (a str).  written, skipped, failed: make_figures' lists; a
    failed figure is listed in the Notes and in place of its image with
    the reason, a figure's own notes (what it could not draw) under it."""
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
    notes = (list(res.notes) + list(skipped)
             + [f"{f['name']}: FAILED, not drawn ({f['error']})"
                for f in failed]
             + [f"{f['name']}: {n}" for f in written
                for n in f.get("notes", ())]
             + absent_future_notes(res))
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
        fnotes = "".join(f'<p class="fignote">{e(n)}</p>'
                         for n in fig.get("notes", ()))
        out.append(f'<figure id="{e(fig["name"])}"><h3>{e(fig["title"])}'
                   f'{link}</h3><img src="{e(src)}" alt="{e(fig["title"])}">'
                   f'{fnotes}<figcaption>{e(fig["caption"])}</figcaption>'
                   '</figure>')
    for fig in failed:
        out.append(f'<figure id="{e(fig["name"])}"><h3>{e(fig["title"])}'
                   '</h3><p class="failed">This figure could not be drawn: '
                   f'{e(fig["error"])}</p><figcaption>{e(fig["caption"])}'
                   '</figcaption></figure>')
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
    rs = s.get("run_observables")
    if rs:
        lines = format_run_scalars(res, rs)
        keys = [(k, h) for k, h, _ in RUN_SCALARS if k in rs[0]]
        out.append('<h2 id="observables">Per-run observables</h2>'
                   f"<p>{e(lines[0])}</p><table><tr>"
                   + "".join(f"<th>{e(h)}</th>" for h in
                             ["point", "m", "seed", "status"]
                             + [h for _, h in keys]) + "</tr>")
        for r in rs:
            out.append(f"<tr><td>{e(res.point_name(r['point']))}</td>"
                       f"<td class=num>{r['width']}</td>"
                       f"<td class=num>{r['seed']}</td>"
                       f"<td>{e(r['status'])}</td>"
                       + "".join(f"<td class=num>{e(_cell(k, r[k]))}</td>"
                                 for k, _ in keys) + "</tr>")
        out.append("</table>")
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
    """Figures (PNG and PDF) and outdir/index.html, always complete: a
    figure that fails is listed in the page instead (make_figures), and the
    page is written to index.html.tmp and renamed, so no partial page is
    ever left under the final name.  Returns (index path, written, skipped,
    failed)."""
    os.makedirs(outdir, exist_ok=True)
    written, skipped, failed = make_figures(res, outdir, dpi=dpi)
    page = report_html(res, written, skipped, embed=embed, outdir=outdir,
                       failed=failed)
    index = os.path.join(outdir, "index.html")
    write_atomic(index, page)
    return index, written, skipped, failed


def write_atomic(path, text):
    """Write text to path.tmp, then rename it to path (atomic on POSIX)."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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
