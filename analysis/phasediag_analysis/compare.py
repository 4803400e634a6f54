"""Comparing two HDF5 files dataset by dataset (pdcompare)."""
import fnmatch

import h5py
import numpy as np

from .io import _text, open_h5


# every wall time: the only numbers that differ between identical runs
DEFAULT_IGNORE = ("/runs/seconds", "/snapshots/seconds", "@wall_seconds")


def _datasets(f):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out["/" + name] = obj
    f.visititems(visit)
    return out


def _ignored(name, patterns):
    return any(fnmatch.fnmatchcase(name, pat) for pat in patterns)


def _is_text(a):
    """An array of strings: fixed-length bytes (|S), str (<U), or the
    objects h5py gives for variable-length strings."""
    if a.dtype.kind in "SU":
        return True
    return a.dtype.kind == "O" and all(
        isinstance(x, (str, bytes)) for x in a.ravel().tolist())


def _read(ds):
    """A dataset's values; text as str whether it is stored fixed-length
    or variable-length (h5py gives bytes for both otherwise)."""
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.asarray(ds.asstr()[()], dtype=object)
    return ds[()]


def compare_arrays(a, b):
    """(equal, detail) for two arrays; equal means bitwise equal (text:
    the same characters, however it is stored)."""
    a, b = np.asarray(a), np.asarray(b)
    if _is_text(a) and _is_text(b):
        if a.shape != b.shape:
            return False, f"shape mismatch: {a.shape} vs {b.shape}"
        ta, tb = _text(a), _text(b)
        ta = ta if isinstance(ta, list) else [ta]
        tb = tb if isinstance(tb, list) else [tb]
        n = sum(x != y for x, y in zip(ta, tb))
        if n:
            return False, f"{n} of {max(a.size, 1)} elements differ"
        same = a.dtype == b.dtype
        return True, "text equal" + ("" if same else
                                     f" ({a.dtype} vs {b.dtype})")
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
                a, b = _read(da[name]), _read(db[name])
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
