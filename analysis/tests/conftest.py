"""Fixtures of the analysis tests: real result files written by the project's
own binary on tests/jobs/tiny.ini (6 points x 3 widths x 2 seeds) at np 1 and
np 2, and damaged copies of them (partial scan, missing groups); and three
small scans with /spectral, /ntk and a test set (analysis/tests/jobs/
fp1d.ini, fphighd.ini, ntk.ini at np 2: fixture fpscans).

Environment: PHASEDIAG (default /work/main/build/phasediag), MPIEXEC
(default mpiexec).  ctest sets both (tests/CMakeLists.txt, test 'analysis').
"""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.dirname(HERE)
ROOT = os.path.dirname(ANALYSIS)
JOB = os.path.join(ROOT, "tests", "jobs", "tiny.ini")
sys.path.insert(0, ANALYSIS)
os.environ.setdefault("MPLBACKEND", "Agg")

import phasediag_analysis as pa  # noqa: E402


def run_tool(name, *args, timeout=180):
    """Run analysis/NAME (through its #!/usr/bin/python3 shebang)."""
    exe = os.path.join(ANALYSIS, name)
    p = subprocess.run([exe, *map(str, args)], capture_output=True,
                       text=True, timeout=timeout)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def _run_scan(np_, out, job=JOB):
    exe = os.environ.get("PHASEDIAG", os.path.join(ROOT, "build", "phasediag"))
    mpiexec = os.environ.get("MPIEXEC", "mpiexec")
    if not os.path.exists(exe):
        pytest.fail(f"phasediag binary not found at {exe}: build it or set "
                    "PHASEDIAG")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    cmd = [mpiexec, "-n", str(np_), exe, "--quiet", job, "--output", out,
           "--overwrite"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=env, cwd=os.path.dirname(out))
    assert p.returncode == 0 and os.path.exists(out), \
        f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return out


@pytest.fixture(scope="session")
def scans(tmp_path_factory):
    d = tmp_path_factory.mktemp("scans")
    return {n: _run_scan(n, str(d / f"tiny_np{n}.h5")) for n in (1, 2)}


# Small scans with the F-Principle and NTK groups (tests/jobs/*.ini here, a
# few seconds each at np 2): fp1d (1-D dft, test grid), fphighd (d = 2:
# projection, filter, grid), ntk (NTK observables, 1-D test grid), condense
# (/condensation: [features] track, tanh on zhou2022).
FP_JOBS = ("fp1d", "fphighd", "ntk", "condense")


@pytest.fixture(scope="session")
def fpscans(tmp_path_factory):
    d = tmp_path_factory.mktemp("fpscans")
    return {j: _run_scan(2, str(d / f"{j}.h5"),
                         os.path.join(HERE, "jobs", f"{j}.ini"))
            for j in FP_JOBS}


@pytest.fixture(scope="session")
def tiny(scans):
    return scans[1]


@pytest.fixture(scope="session")
def res(tiny):
    return pa.load(tiny)


@pytest.fixture
def result_copy(tiny, tmp_path):
    """A fresh writable copy of the np 1 file."""
    def make(name="copy.h5"):
        path = str(tmp_path / name)
        shutil.copy(tiny, path)
        return path
    return make


# A partial scan: point 1 never ran (status -1, NaN numbers, the binary's
# undetermined regime), point 2 lost its widest width, /features deleted.
PARTIAL_POINT = 1


def make_partial(src, dst):
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        st = f["runs/status"][...]
        st[PARTIAL_POINT] = -1
        st[2, -1, :] = -1
        f["runs/status"][...] = st
        for name in ("rd_w", "rd_a", "final_loss", "initial_loss", "t_star",
                     "lambda_max", "seconds"):
            a = f["runs/" + name][...]
            a[st == -1] = np.nan
            f["runs/" + name][...] = a
        for name in ("step", "time", "loss", "rd_w"):
            a = f["history/" + name][...]
            a[st == -1] = np.nan
            f["history/" + name][...] = a
        for name, value in (("slope", np.nan), ("slope_stderr", np.nan),
                            ("regime", -1), ("agree", -1)):
            a = f["phase/" + name][...]
            a[PARTIAL_POINT] = value
            f["phase/" + name][...] = a
        del f["features"]
    return dst


@pytest.fixture(scope="session")
def partial(scans, tmp_path_factory):
    d = tmp_path_factory.mktemp("partial")
    return make_partial(scans[2], str(d / "partial.h5"))


@pytest.fixture(scope="session")
def plot_dir(tiny, tmp_path_factory):
    """pdplot run once on the np 1 file."""
    d = tmp_path_factory.mktemp("plot")
    p = run_tool("pdplot", tiny, "-o", d)
    assert p.returncode == 0, p.stdout + p.stderr
    return str(d), p
