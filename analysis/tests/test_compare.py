"""pdcompare: np 1 against np 2 is bitwise equal; modified copies are not."""
import h5py
import numpy as np

from conftest import run_tool


def lines(out):
    return {l.split()[1]: l for l in out.splitlines()
            if l[:1].isalpha() and len(l.split()) > 1 and
            l.split()[1].startswith(("/", "@"))}


def test_np1_np2_equal(scans):
    p = run_tool("pdcompare", scans[1], scans[2])
    assert p.returncode == 0, p.stdout
    L = lines(p.stdout)
    assert L["/runs/seconds"].startswith("ignored")
    others = [v for k, v in L.items() if k != "/runs/seconds"]
    assert len(others) >= 30 and all(v.startswith("equal") for v in others)
    assert p.stdout.rstrip().endswith("EQUAL")


def test_modified_copy_differs(scans, result_copy):
    path = result_copy()
    with h5py.File(path, "r+") as f:
        f["runs/rd_w"][0, 0, 0] *= 1 + 1e-9
    p = run_tool("pdcompare", scans[1], path)
    assert p.returncode == 1
    L = lines(p.stdout)
    assert L["/runs/rd_w"].startswith("DIFFERENT")
    assert "max abs diff" in L["/runs/rd_w"] and "max rel diff 1e-09" in \
        L["/runs/rd_w"] and "1 of 36 elements differ" in L["/runs/rd_w"]
    assert sum(v.startswith("DIFFERENT") for v in L.values()) == 1
    assert p.stdout.rstrip().endswith("DIFFERENT")
    # --ignore with a glob makes them equal again
    p = run_tool("pdcompare", scans[1], path, "--ignore", "/runs/rd_*")
    assert p.returncode == 0


def test_missing_shape_type(scans, result_copy):
    path = result_copy()
    with h5py.File(path, "r+") as f:
        del f["history/time"]
        seed = f["grid/seed"][...]
        del f["grid/seed"]
        f["grid/seed"] = seed.astype(np.int32)
        del f["phase/slope"]
        f["phase/slope"] = np.zeros(3)
        f["extra"] = np.arange(3)
    p = run_tool("pdcompare", "-q", scans[1], path)
    assert p.returncode == 1
    L = lines(p.stdout)
    assert L["/history/time"].startswith("ONLY-IN-A")
    assert L["/extra"].startswith("ONLY-IN-B")
    assert L["/grid/seed"].startswith("TYPE") and "int64 vs int32; values equal" in \
        L["/grid/seed"]
    assert L["/phase/slope"].startswith("SHAPE") and "(6,) vs (3,)" in \
        L["/phase/slope"]
    assert "/grid/gamma" not in L          # -q: equal ones not listed


def test_attrs(scans):
    p = run_tool("pdcompare", "--attrs", scans[1], scans[2])
    assert p.returncode == 1
    L = lines(p.stdout)
    assert "1 vs 2" in L["@mpi_ranks"]
    assert L["@software"].startswith("equal")
    p = run_tool("pdcompare", "--attrs", scans[1], scans[2], "-i",
                 "@mpi_ranks", "-i", "@created_utc", "-i", "@group_size")
    assert p.returncode == 0, p.stdout


def test_no_default_ignore(scans):
    p = run_tool("pdcompare", "--no-default-ignore", scans[1], scans[1])
    assert p.returncode == 0
    assert lines(p.stdout)["/runs/seconds"].startswith("equal")


def test_snapshot_wall_times_ignored(fpscans, tmp_path):
    """After a stop and resume only the wall times differ: EQUAL, exit 0;
    the same change anywhere else is a difference."""
    import shutil
    src = fpscans["fp1d"]
    copy = tmp_path / "resumed.h5"
    shutil.copy(src, copy)
    with h5py.File(copy, "r+") as f:
        f["snapshots/seconds"][...] = f["snapshots/seconds"][...] + 1.0
    p = run_tool("pdcompare", src, str(copy))
    assert p.returncode == 0, p.stdout
    assert lines(p.stdout)["/snapshots/seconds"].startswith("ignored")
    with h5py.File(copy, "r+") as f:
        f["snapshots/step"][...] = f["snapshots/step"][...] + 1
    p = run_tool("pdcompare", src, str(copy))
    assert p.returncode == 1, p.stdout
