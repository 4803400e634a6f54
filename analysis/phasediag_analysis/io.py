"""Reading a phasediag result file (layout: docs/output.md).

`read(path)` gives every dataset and root attribute of the file as numpy
arrays (a `ResultFile`, exactly what h5py reads: nothing recomputed, nothing
dropped); `runs_dataframe(path)` gives one row per run (point, width, seed)
with its per-run scalars as a pandas DataFrame (pandas is needed only
there).  The tools' tolerant view of a file, with notes and a recomputed
/phase, is `phasediag_analysis.load` (module result).

Also here: `PDError` (a file that cannot be used at all), `open_h5` and the
run status codes and names.
"""
import dataclasses
import os

import h5py
import numpy as np


STATUS_NAMES = {0: "converged", 1: "max_steps", 2: "diverged", 3: "stalled",
                4: "stationary", -1: "not run"}
CONVERGED, NOT_RUN = 0, -1


class PDError(Exception):
    """A file the tools cannot use at all (exit status 2)."""


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


def _text(v):
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace").rstrip("\x00")
    if isinstance(v, np.ndarray):
        return [_text(x) for x in v.tolist()] if v.ndim else _text(v.item())
    if isinstance(v, np.generic):
        return v.item()
    return v


# The attributes by which HDF5 dimension scales link datasets (object
# references, meaningless outside the open file); a dataset's scales are
# read through h5py's Dataset.dims.
SCALE_ATTRS = ("DIMENSION_LIST", "REFERENCE_LIST")


def _values(ds):
    """A dataset's values as h5py reads them, except text: str (h5py gives
    bytes for fixed- and variable-length strings alike).  Codes stored as
    HDF5 enums come back as their integers."""
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.asarray(ds.asstr()[()], dtype=object)
    return ds[()]


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


# ---------------------------------------------------------------------------
# Every dataset as numpy arrays, and one row per run
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class ResultFile:
    """Every dataset and root attribute of one result file, as read by
    `read(path)`.

    path: the file.  attrs: the root attributes (`software`, `version`,
    `git_commit`, `config_text`, ...), text decoded to str, numbers as
    Python scalars, arrays as lists.  datasets: {'grid/gamma': array, ...}:
    every dataset under its path without the leading '/', exactly as h5py
    reads it (`dataset[()]`: same dtype, shape and values; enums as their
    integers), except text: an object array of str (an older file's
    fixed-length text too).  dataset_attrs: {path: {name: value}} for the
    datasets that have attributes (e.g. 'runs/status': {'names': '0
    converged, ...', 'description': ...}), without the scales' reference
    attributes (SCALE_ATTRS).

    r['runs/rd_w'] (or r['/runs/rd_w']) is r.datasets['runs/rd_w'];
    'runs/rd_w' in r; r.group('runs') -> {'rd_w': array, ...} (the
    datasets directly in /runs).  Shortcuts: gamma, gamma_prime, width,
    seed (float / int arrays), label (list of str, '' for grid points),
    status ([P, W, S] int array, None without /runs/status), status_names
    ({code: name}), shape ((P, W, S)).
    """
    path: str
    attrs: dict
    datasets: dict
    dataset_attrs: dict = dataclasses.field(default_factory=dict)

    def __getitem__(self, name):
        return self.datasets[name.lstrip("/")]

    def __contains__(self, name):
        return name.lstrip("/") in self.datasets

    def get(self, name, default=None):
        return self.datasets.get(name.lstrip("/"), default)

    def group(self, name):
        """{dataset name: array} of the datasets directly in /name."""
        pre = name.strip("/") + "/"
        return {k[len(pre):]: v for k, v in self.datasets.items()
                if k.startswith(pre) and "/" not in k[len(pre):]}

    def _need(self, name):
        if name not in self.datasets:
            raise PDError(f"{self.path}: not a phasediag result file (no "
                          f"/{name})")
        return self.datasets[name]

    @property
    def gamma(self):
        return np.asarray(self._need("grid/gamma"), float).ravel()

    @property
    def gamma_prime(self):
        return np.asarray(self._need("grid/gamma_prime"), float).ravel()

    @property
    def label(self):
        lab = self.get("grid/label")
        if lab is None:
            return [""] * len(self.gamma)
        return [str(_text(x)) for x in np.asarray(lab).ravel()]

    @property
    def status(self):
        st = self.get("runs/status")
        return None if st is None else np.asarray(st).astype(int)

    @property
    def width(self):
        w = self.get("grid/width")
        if w is None:   # as the tools do: -1 per width of /runs/status
            st = self.status
            n = st.shape[1] if st is not None and st.ndim == 3 else 0
            return np.full(n, -1, np.int64)
        return np.asarray(w).ravel()

    @property
    def seed(self):
        s = self.get("grid/seed")
        if s is None:   # as the tools do: 1 .. S
            st = self.status
            n = st.shape[2] if st is not None and st.ndim == 3 else 1
            return np.arange(1, n + 1, dtype=np.int64)
        return np.asarray(s).ravel()

    @property
    def shape(self):
        """(P, W, S): points, widths, seeds."""
        return (len(self.gamma), len(self.width), len(self.seed))

    @property
    def status_names(self):
        names = self.dataset_attrs.get("runs/status", {}).get("names")
        return dict(STATUS_NAMES) if names is None else \
            parse_names(names, STATUS_NAMES)


def read(path, groups=None):
    """Read a result file into numpy arrays: a `ResultFile` holding every
    dataset (or only those under `groups`, e.g. ('grid', 'runs')) and the
    root attributes, exactly as stored.  Raises PDError for a file that is
    missing, unreadable or not HDF5."""
    datasets, dattrs = {}, {}
    pre = None if groups is None else \
        tuple(g.strip("/") + "/" for g in groups)

    with open_h5(path) as f:
        attrs = {}
        for k in f.attrs:
            try:
                attrs[k] = _text(f.attrs[k])
            except (OSError, TypeError, ValueError):
                attrs[k] = "(unreadable)"   # as the tools do

        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset):
                return
            if pre is not None and not name.startswith(pre):
                return
            try:
                datasets[name] = _values(obj)
                keep = [k for k in obj.attrs if k not in SCALE_ATTRS]
                if keep:
                    dattrs[name] = {k: _text(obj.attrs[k]) for k in keep}
            except (OSError, TypeError, ValueError) as e:
                raise PDError(f"{path}: /{name} cannot be read: {e}") \
                    from None
        f.visititems(visit)
    return ResultFile(path=path, attrs=attrs, datasets=datasets,
                      dataset_attrs=dattrs)


# the /runs columns first, in this order, when the file has them
RUN_COLUMNS = ("rd_w", "rd_a", "t_star", "final_loss", "steps", "seconds")


def runs_dataframe(result):
    """One row per run (point, width, seed) as a pandas DataFrame.

    result: a path or a `ResultFile`.  Columns: point (index into /grid),
    gamma, gamma_prime, label ('' for grid points), width, seed, status
    (name: 'converged', 'max_steps', 'diverged', 'stalled', 'stationary',
    'not run'),
    status_code (/runs/status; -1 'not run' for every run without it, as
    the tools do), then every per-run scalar of the file, i.e. every
    dataset of shape [P, W, S]: those of /runs under their own name
    (rd_w, rd_a, t_star, final_loss, steps, seconds first, then the others:
    initial_loss, lambda_max, test_rel_error, ...), those of other groups
    under their path ('ntk/dist0', 'spectral/verdict',
    'features/condensation1', ...).  Values and dtypes are the file's
    (NaN for runs that did not run).  Rows in the order point, width, seed
    (C order of the [P, W, S] arrays).

    Needs pandas (Debian: python3-pandas); raises ImportError saying so."""
    try:
        import pandas as pd
    except ImportError as e:
        raise ImportError(
            "phasediag_analysis.runs_dataframe needs pandas: install "
            "Debian's python3-pandas (apt-get install python3-pandas)"
            f" ({e})") from None
    r = result if isinstance(result, ResultFile) else read(result)
    P, W, S = shape = r.shape
    p, w, s = (a.ravel() for a in np.indices(shape))
    st = r.status
    if st is None or st.shape != shape:
        st = np.full(shape, NOT_RUN, int)
    names = r.status_names
    label = r.label
    cols = {
        "point": p,
        "gamma": r.gamma[p],
        "gamma_prime": r.gamma_prime[p],
        "label": [label[i] for i in p],
        "width": r.width[w],
        "seed": r.seed[s],
        "status": [status_name(c, names) for c in st.ravel()],
        "status_code": st.ravel(),
    }
    per_run = [k for k, v in r.datasets.items()
               if k != "runs/status" and np.ndim(v) == 3 and
               tuple(np.shape(v)) == shape]
    first = [f"runs/{n}" for n in RUN_COLUMNS if f"runs/{n}" in per_run]
    runs = [k for k in per_run if k.startswith("runs/") and k not in first]
    for k in first + runs + [k for k in per_run if not
                             k.startswith("runs/")]:
        col = k[5:] if k.startswith("runs/") else k
        cols[col] = np.asarray(r.datasets[k]).reshape(-1)
    return pd.DataFrame(cols)
