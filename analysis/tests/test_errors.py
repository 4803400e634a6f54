"""Unusable inputs: a message and exit status 2, never a traceback; --help."""
import h5py
import pytest

from conftest import run_tool

TOOLS = ["pdplot", "pdsummary", "pdreport", "pdcompare"]


def args(tool, bad, good, tmp_path):
    if tool == "pdcompare":
        return [good, bad]
    if tool in ("pdplot", "pdreport"):
        return [bad, "-o", tmp_path / "out"]
    return [bad]


@pytest.fixture
def bad_files(tmp_path):
    text = tmp_path / "text.h5"
    text.write_text("not hdf5\n")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1, 2, 3]
    return {"missing": (str(tmp_path / "nope.h5"), "no such file"),
            "text": (str(text), "not an HDF5 file"),
            "directory": (str(tmp_path), "is a directory"),
            "other": (str(other), "not a phasediag result file")}


@pytest.mark.parametrize("tool", TOOLS)
def test_bad_input_exit_2(tool, bad_files, tiny, tmp_path):
    for kind, (path, msg) in bad_files.items():
        if tool == "pdcompare" and kind == "other":
            continue        # any HDF5 file can be compared
        p = run_tool(tool, *args(tool, path, tiny, tmp_path))
        assert p.returncode == 2, (kind, p.stdout, p.stderr)
        assert p.stderr.startswith(f"{tool}: error: ") and msg in p.stderr
        assert not (tmp_path / "out" / "index.html").exists()


@pytest.mark.parametrize("tool", TOOLS)
def test_help(tool):
    p = run_tool(tool, "--help")
    assert p.returncode == 0 and p.stdout.startswith(f"usage: {tool}")
