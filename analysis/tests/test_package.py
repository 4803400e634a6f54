"""The package phasediag_analysis as users import it: from another
directory (PYTHONPATH, or installed by pip offline), read() giving the
file's datasets as h5py reads them, runs_dataframe() one row per run with
the file's values, pandas needed only there."""
import importlib.util
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

import phasediag_analysis as pa
from conftest import ANALYSIS

PKG = os.path.join(ANALYSIS, "phasediag_analysis")

# a user's script: no sys.path manipulation, run from another directory
USER = (
    "import sys\n"
    "import phasediag_analysis as pa\n"
    "heavy = [m for m in ('matplotlib', 'pandas') if m in sys.modules]\n"
    "r = pa.read(sys.argv[1])\n"
    "df = pa.runs_dataframe(sys.argv[1])\n"
    "print(pa.__file__)\n"
    "print(r.shape, len(df), r['runs/rd_w'].shape, heavy)\n")


def run_user(path, cwd, pythonpath):
    env = dict(os.environ, PYTHONPATH=pythonpath)
    return subprocess.run([sys.executable, "-c", USER, path], cwd=cwd,
                          env=env, capture_output=True, text=True,
                          timeout=120)


def test_import_from_another_directory(tiny, tmp_path):
    p = run_user(tiny, tmp_path, ANALYSIS)
    assert p.returncode == 0, p.stderr
    where, what = p.stdout.splitlines()
    assert where == os.path.join(PKG, "__init__.py")
    # nothing heavy at import: matplotlib and pandas only when needed
    assert what == "(6, 3, 2) 36 (6, 3, 2) []"
    # the control: without the path the package is not found
    p = run_user(tiny, tmp_path, "")
    assert p.returncode != 0 and "No module named 'phasediag_analysis'" \
        in p.stderr


def test_pip_install_offline(tiny, tmp_path):
    """pip install --no-deps --no-build-isolation (the README's command),
    offline, of a copy of analysis/ (the build leaves files beside
    pyproject.toml), then the import from another directory."""
    for mod in ("pip", "setuptools"):    # not imported here: find them
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"no {mod} (Debian: python3-pip, python3-setuptools)")
    src = tmp_path / "analysis"
    src.mkdir()
    shutil.copy(os.path.join(ANALYSIS, "pyproject.toml"), src)
    shutil.copy(os.path.join(ANALYSIS, "README.md"), src)
    shutil.copytree(PKG, src / "phasediag_analysis",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps",
                        "--no-build-isolation", "--no-index", "--no-cache-dir",
                        "--target",
                        str(target), str(src)], capture_output=True,
                       text=True, timeout=300, cwd=tmp_path,
                       env=dict(os.environ, PIP_NO_INPUT="1"))
    assert p.returncode == 0, p.stdout + p.stderr
    (tmp_path / "elsewhere").mkdir()
    p = run_user(tiny, tmp_path / "elsewhere", str(target))
    assert p.returncode == 0, p.stderr
    where, what = p.stdout.splitlines()
    assert where == str(target / "phasediag_analysis" / "__init__.py")
    assert what == "(6, 3, 2) 36 (6, 3, 2) []"
    # every module of the package was installed
    mods = sorted(f for f in os.listdir(PKG) if f.endswith(".py"))
    assert sorted(f for f in os.listdir(target / "phasediag_analysis")
                  if f.endswith(".py")) == mods


def h5_everything(path):
    """Every dataset and root attribute, as h5py reads them (text as str,
    without the dimension scales' reference attributes)."""
    ds, dattrs = {}, {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            text = h5py.check_string_dtype(obj.dtype) is not None
            ds[name] = np.asarray(obj.asstr()[()], dtype=object) if text \
                else obj[()]
            dattrs[name] = {k: v for k, v in obj.attrs.items()
                            if k not in ("DIMENSION_LIST", "REFERENCE_LIST")}
    with h5py.File(path, "r") as f:
        f.visititems(visit)
        attrs = dict(f.attrs)
    return ds, dattrs, attrs


def decoded(v):
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode()
    if isinstance(v, np.ndarray):
        return [decoded(x) for x in v.tolist()] if v.ndim else \
            decoded(v.item())
    return v.item() if isinstance(v, np.generic) else v


def same(a, b):
    """Same dtype, shape and bytes (NaN payloads included); text: the same
    strings."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "O" or b.dtype.kind == "O":
        return a.shape == b.shape and a.tolist() == b.tolist()
    return a.dtype == b.dtype and a.shape == b.shape and \
        a.tobytes() == b.tobytes()


FILES = ["tiny", "partial", "fp1d", "fphighd", "ntk"]


def result_path(request, which):
    if which in ("tiny", "partial"):
        return request.getfixturevalue(which)
    return request.getfixturevalue("fpscans")[which]


@pytest.mark.parametrize("which", FILES)
def test_read_equals_h5py(request, which):
    path = result_path(request, which)
    r = pa.read(path)
    ds, dattrs, attrs = h5_everything(path)
    assert sorted(r.datasets) == sorted(ds)
    for name, arr in ds.items():
        assert same(r.datasets[name], arr), name
        assert r[name] is r.datasets[name] and "/" + name in r
        assert r.dataset_attrs.get(name, {}) == \
            {k: decoded(v) for k, v in dattrs[name].items()}, name
    assert r.attrs == {k: decoded(v) for k, v in attrs.items()}
    assert isinstance(r.attrs["config_text"], str)
    # the shortcuts
    assert same(r.gamma, ds["grid/gamma"])
    assert same(r.gamma_prime, ds["grid/gamma_prime"])
    assert same(r.width, ds["grid/width"]) and same(r.seed, ds["grid/seed"])
    assert r.label == list(ds["grid/label"])
    assert all(isinstance(x, str) for x in r.label)
    assert np.array_equal(r.status, ds["runs/status"])
    assert r.shape == ds["runs/status"].shape
    assert sorted(r.group("runs")) == sorted(
        n[5:] for n in ds if n.startswith("runs/"))
    assert all(same(v, ds["runs/" + k]) for k, v in r.group("runs").items())
    only = pa.read(path, groups=("grid", "/phase"))
    assert sorted(only.datasets) == sorted(
        n for n in ds if n.startswith(("grid/", "phase/")))


def test_read_errors(tmp_path):
    with pytest.raises(pa.PDError, match="no such file"):
        pa.read(str(tmp_path / "missing.h5"))
    (tmp_path / "text.h5").write_text("not HDF5\n")
    with pytest.raises(pa.PDError, match="not an HDF5 file"):
        pa.read(str(tmp_path / "text.h5"))
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1.0]
    r = pa.read(str(tmp_path / "other.h5"))     # any HDF5 file reads
    assert list(r.datasets) == ["x"]
    with pytest.raises(pa.PDError, match="no /grid/gamma"):
        pa.runs_dataframe(r)


FIXED = ["point", "gamma", "gamma_prime", "label", "width", "seed",
         "status", "status_code"]


@pytest.mark.parametrize("which", FILES)
def test_runs_dataframe_is_the_file(request, which):
    pytest.importorskip("pandas")
    path = result_path(request, which)
    df = pa.runs_dataframe(path)
    ds, dattrs, _ = h5_everything(path)
    st = ds["runs/status"]
    P, W, S = st.shape
    assert len(df) == P * W * S                 # one row per run
    p, w, s = np.unravel_index(np.arange(P * W * S), (P, W, S))
    assert np.array_equal(df["point"], p)
    assert np.array_equal(df["gamma"], ds["grid/gamma"][p])
    assert np.array_equal(df["gamma_prime"], ds["grid/gamma_prime"][p])
    assert np.array_equal(df["width"], ds["grid/width"][w])
    assert np.array_equal(df["seed"], ds["grid/seed"][s])
    labels = list(ds["grid/label"])
    assert list(df["label"]) == [labels[i] for i in p]
    names = dict((int(c), n) for c, n in (
        item.strip().split(None, 1) for item in
        dattrs["runs/status"]["names"].split(",")))
    assert np.array_equal(df["status_code"], st[p, w, s])
    assert list(df["status"]) == [names[int(c)] for c in st[p, w, s]]
    # every per-run scalar of the file, with its values and dtype
    per_run = {n: a for n, a in ds.items()
               if a.shape == (P, W, S) and n != "runs/status"}
    cols = {(n[5:] if n.startswith("runs/") else n): a
            for n, a in per_run.items()}
    assert list(df.columns[:len(FIXED)]) == FIXED
    assert sorted(df.columns[len(FIXED):]) == sorted(cols)
    assert list(df.columns[len(FIXED):len(FIXED) + 6]) == \
        ["rd_w", "rd_a", "t_star", "final_loss", "steps", "seconds"]
    for c, a in cols.items():
        assert df[c].dtype == a.dtype, c
        assert same(df[c].to_numpy(), a[p, w, s]), c
    if which == "partial":      # runs not run: NaN, 'not run'
        nr = df["status"] == "not run"
        assert nr.sum() == (st == -1).sum() > 0
        assert df.loc[nr, "rd_w"].isna().all()
    if which == "ntk":
        assert {"ntk/dist0", "ntk/kernel_change"} <= set(df.columns)
    if which == "fp1d":
        assert "spectral/verdict" in df.columns


def test_runs_dataframe_without_pandas(tiny, tmp_path):
    """pandas is optional: without it (a machine without python3-pandas:
    here its import made to fail) the package imports and read() works,
    runs_dataframe says which Debian package to install."""
    code = ("import sys\n"
            "sys.modules['pandas'] = None   # import pandas fails\n"
            "import phasediag_analysis as pa\n"
            "print(pa.read(sys.argv[1]).shape)\n"
            "try:\n"
            "    pa.runs_dataframe(sys.argv[1])\n"
            "except ImportError as e:\n"
            "    print('ImportError:', e)\n")
    p = subprocess.run([sys.executable, "-c", code, tiny], cwd=tmp_path,
                       env=dict(os.environ, PYTHONPATH=ANALYSIS),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    shape, err = p.stdout.splitlines()
    assert shape == "(6, 3, 2)"
    assert err.startswith("ImportError: phasediag_analysis.runs_dataframe "
                          "needs pandas: install Debian's python3-pandas")


def test_public_api():
    """Every name of __all__ exists; the submodules are modules (no function
    of the same name shadows one); the reading API is documented."""
    import types
    assert all(hasattr(pa, name) for name in pa.__all__)
    for mod in ("io", "result", "theory", "summarize", "figures", "report",
                "compare", "figures_common", "figures_phase",
                "figures_fprinciple", "figures_ntk", "cli"):
        __import__(f"phasediag_analysis.{mod}")
        assert isinstance(getattr(pa, mod), types.ModuleType), mod
    for f in (pa.read, pa.runs_dataframe, pa.ResultFile, pa.load, pa.Result):
        assert f.__doc__
