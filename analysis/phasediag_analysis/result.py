"""The analysis tools' view of one result file: `load(path)` -> `Result`.

Tolerates what a partial or older file lacks: missing optional groups
(/features, /history, /phase), tasks not run (/runs/status == -1) and NaN
numbers all become notes (`Result.notes`), never exceptions; a missing
/phase (or part of it) is recomputed as the binary does it.  Only a file
that cannot be opened, is not HDF5, or has no /grid raises `PDError`, which
the tools turn into a message and exit status 2.
"""
import configparser
import math

import h5py
import numpy as np

from .io import (CONVERGED, NOT_RUN, STATUS_NAMES, PDError, _text, open_h5,
                 parse_names, status_name)
from .theory import (UNDETERMINED, boundary_distance, fit_regime, fit_slope,
                     theory_regime)


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
EXTRA_GROUPS = ("data", "snapshots", "spectral", "ntk", "test",
                "condensation")


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
        # /phase/agree: 1, 0, or -1 for no verdict (older files wrote 0
        # for an undetermined point); verdict: the point has a regime
        agree = np.asarray(ph["agree"]).astype(int)
        ph["verdict"] = (agree >= 0) & (ph["regime"] != UNDETERMINED)
        ph["agree"] = (agree == 1) & ph["verdict"]
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
        rd_w > 0, as src/scan/classify.c does; NaN where impossible."""
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
    """The tools' view of the result file at path (a Result; PDError for a
    file that cannot be used at all)."""
    return Result(path)
