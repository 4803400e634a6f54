"""Empty, zero, negative and NaN data: every figure is still written (what
cannot be drawn is said in the figure and the report), the report is always
complete, and a figure that fails does not stop the others.

Files: the real binary on jobs/width2.ini (no run has RD > 0), and copies
of the binary's files (tiny, fpscans) with their per-run datasets
overwritten, shapes kept."""
import html
import os
import re
import shutil
import subprocess
import sys

import h5py
import matplotlib.image
import numpy as np
import pytest

import phasediag_analysis as pa
from phasediag_analysis import figures, report
from conftest import ANALYSIS, HERE, _run_scan, run_tool

BASE = ["phase_diagram", "rd_width", "loss_curves", "condensation"]
# the figures each F-Principle / NTK file draws (test_fprinciple_ntk.py)
FP_FIGURES = {
    "fp1d": ["fprinciple_dft", "test_curves", "test_error"],
    "fphighd": ["fprinciple_filter", "fprinciple_grid",
                "fprinciple_projection"],
    "ntk": ["ntk_projection", "ntk_width", "test_curves", "test_error"],
}


@pytest.fixture(scope="session")
def width2(tmp_path_factory):
    """The binary on jobs/width2.ini at np 2: no run has RD > 0."""
    d = tmp_path_factory.mktemp("width2")
    path = _run_scan(2, str(d / "width2.h5"),
                     os.path.join(HERE, "jobs", "width2.ini"))
    with h5py.File(path) as f:
        rd = f["runs/rd_w"][...]
    assert not (rd > 0).any(), \
        f"premise of the test: no run of width2.ini has RD > 0 ({rd.ravel()})"
    return path


def fill(a, kind):
    """a with every value replaced: 'nan', 'zero', 'negative', 'inf', or
    'mixed' (NaN, 0, -1 and the original values in turn)."""
    a = np.array(a, float)
    if kind == "mixed":
        flat = a.reshape(-1)
        for i, v in enumerate((np.nan, 0.0, -1.0)):
            flat[i::4] = v
        return a
    return np.full_like(a, {"nan": np.nan, "zero": 0.0, "negative": -1.0,
                            "inf": np.inf}[kind])


RUN_GROUPS = ("runs", "history", "phase", "features")


def per_run_data(name):
    """/runs (but status), /history, /phase and /features."""
    return name.split("/")[0] in RUN_GROUPS and name != "runs/status"


def fp_ntk_data(name):
    """/spectral, /ntk, /test and the test-set scalars of /runs."""
    return name.split("/")[0] in ("spectral", "ntk", "test") or \
        name.startswith(("runs/test_", "runs/train_"))


def damage(src, dst, kind, select=per_run_data):
    """Copy src to dst and fill (kind) every selected float dataset whose
    leading axes are the runs [P, W, S] (and /phase/slope, slope_stderr)."""
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        shape3 = f["runs/status"].shape
        names = []
        f.visititems(lambda n, o: names.append(n) if isinstance(
            o, h5py.Dataset) and o.dtype.kind == "f" and select(n) and (
                o.shape[:3] == shape3 or n in (
                    "phase/slope", "phase/slope_stderr")) else None)
        assert names
        for n in names:
            f[n][...] = fill(f[n][...], kind)
    return dst


def check_report(rep, names):
    """pdreport's directory rep: every figure of `names` is a valid,
    non-empty PNG (and a PDF) referenced by index.html; no partial page.
    Returns the page's text (HTML entities decoded)."""
    index = rep / "index.html"
    assert index.exists() and not (rep / "index.html.tmp").exists()
    for name in names:
        png, pdf = rep / f"{name}.png", rep / f"{name}.pdf"
        assert png.stat().st_size > 1000 and pdf.stat().st_size > 1000
        with open(png, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
        img = matplotlib.image.imread(str(png))
        assert img.shape[0] > 100 and img.shape[1] > 100
        assert img[..., :3].std() > 0.01          # not blank
    page = index.read_text()
    assert page.rstrip().endswith("</html>")
    srcs = sorted(re.findall(r'<img src="([^"]+)"', page))
    assert srcs == sorted(f"{n}.png" for n in names)
    return html.unescape(page)


def test_width2_no_run_with_rd(width2, tmp_path):
    """A valid file where no run has RD > 0 (one width, m = 2). pdplot and
    pdreport exit 0 with every figure that can exist: RD against width
    needs two widths and is skipped, saying so; no verdict is drawn."""
    figs = tmp_path / "figs"
    p = run_tool("pdplot", width2, "-o", figs, "--format", "png", "--dpi",
                 "60")
    assert p.returncode == 0, p.stderr
    assert "Data has no positive values" not in p.stderr + p.stdout
    assert "rd_width: skipped (one width per point" in p.stdout
    drawn = [n for n in BASE if n != "rd_width"]
    assert sorted(os.listdir(figs)) == sorted(f"{n}.png" for n in drawn)
    rep = tmp_path / "report"
    p = run_tool("pdreport", width2, "-o", rep, "--dpi", "60")
    assert p.returncode == 0, p.stderr
    assert p.stdout.rstrip().endswith(f"wrote {rep / 'index.html'} "
                                      "(3 figures)")
    page = check_report(rep, drawn)
    assert "no phase classification: the job trains one width" in page
    assert "points agree" not in page
    # the condensation figure still shows the (undetermined) neurons
    r = pa.load(width2)
    fig = pa.fig_condensation(r)
    assert any(c.get_gid().startswith("cond1:") and len(c.get_offsets())
               for ax in fig.axes for c in ax.collections if c.get_gid())
    pa.pyplot().close(fig)


@pytest.mark.parametrize("kind, said", [
    ("nan", "nothing to draw: no RD value > 0 (of 12: 12 NaN)"),
    ("zero", "nothing to draw: no RD value > 0 (of 12: 12 zero)"),
    ("negative", "nothing to draw: no RD value > 0 (of 12: 12 negative)"),
    ("inf", "nothing to draw: no RD value > 0 (of 12: 12 infinite)"),
    ("mixed", "RD values not shown ("),
])
def test_damaged_runs_history_phase(tiny, tmp_path, kind, said):
    """/runs/rd_w, /history/*, /phase/slope, /features/* all NaN, zero,
    negative, infinite or mixed: exit 0, every figure, the reasons in the
    page."""
    path = damage(tiny, str(tmp_path / f"{kind}.h5"), kind)
    rep = tmp_path / "report"
    p = run_tool("pdreport", path, "-o", rep, "--dpi", "60")
    assert p.returncode == 0, p.stderr
    page = check_report(rep, BASE)
    assert said in page
    assert "FAILED" not in page
    if kind != "mixed":
        assert "nothing to draw: no loss value > 0" in page
    if kind in ("nan", "inf"):      # no run has finite features
        assert "nothing to draw: no run has a finite /features/amplitude1" \
            in page


@pytest.mark.parametrize("job", sorted(FP_FIGURES))
@pytest.mark.parametrize("kind", ["nan", "zero"])
def test_damaged_fprinciple_ntk(fpscans, tmp_path, job, kind):
    """The per-run datasets of /spectral, /ntk, /test and /runs/test_* all
    NaN or zero: every figure of the intact file is still drawn (a note
    instead of silently dropping it or an exception)."""
    path = damage(fpscans[job], str(tmp_path / f"{job}.h5"), kind,
                  fp_ntk_data)
    r = pa.load(path)
    out = tmp_path / "figs"
    written, skipped, failed = pa.make_figures(r, str(out), ("png",), 40)
    assert not failed
    names = {w["name"] for w in written}
    base = set(BASE) - ({"rd_width"} if r.W < 2 else set())
    assert names == base | set(FP_FIGURES[job])
    notes = [n for w in written if w["name"] in FP_FIGURES[job]
             for n in w["notes"]]
    # each figure says what it could not draw; a panel that still has
    # something (the network's loss beside a zeroed linear loss) counts what
    # it left out
    assert notes and all("nothing to draw" in n or "values not shown" in n
                         for n in notes), notes
    assert any("nothing to draw" in n for n in notes), notes
    for w in written:
        with open(w["files"]["png"], "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    # the peaks / test curves / NTK figures say which dataset is empty
    want = {"nan": "no run has a finite /", "zero": " value > 0 (of "}[kind]
    assert any(want in n for n in notes), notes


def test_check_panel_log_axes():
    """The shared helper: log scale only with positive data, the notes."""
    plt = pa.pyplot()
    fig, (a, b, c) = plt.subplots(1, 3)
    a.plot([1, 2, 3], [0.0, 0.0, 0.0])
    assert pa.check_panel(a, [0.0, 0.0, 0.0], "RD", log="xy") == 0
    assert a.get_yscale() == "linear" and a.get_xscale() == "log"
    b.plot([1, 2, 3, 4], [1.0, np.nan, -2.0, 0.5])
    assert pa.check_panel(b, [1.0, np.nan, -2.0, 0.5], "RD", log="y") == 2
    assert b.get_yscale() == "log"
    assert pa.check_panel(c, [np.nan, 1.0], "curve") == 1
    fig.savefig(os.devnull, format="png")
    assert pa.figure_notes(fig) == [
        "nothing to draw: no RD value > 0 (of 3: 3 zero)",
        "2 of 4 RD values not shown (1 NaN, 1 negative)",
        "1 of 2 curve values not shown (1 NaN)"]
    assert pa.describe_values([np.inf, -np.inf, 0, 1]) == \
        "2 infinite, 1 zero"
    plt.close(fig)


def boom(res):
    raise RuntimeError("boom: an unexpected bug")


def test_failing_figure_report_complete(tiny, tmp_path, monkeypatch):
    """An exception in one figure: the others are drawn, index.html is
    written and lists the failure with its reason."""
    figs = [f if f[0] != "rd_width" else (f[0], f[1], boom, f[3])
            for f in figures.FIGURES]
    monkeypatch.setattr(figures, "FIGURES", figs)
    r = pa.load(tiny)
    rep = tmp_path / "report"
    (rep).mkdir()
    (rep / "rd_width.png").write_bytes(b"stale")     # an earlier report
    index, written, skipped, failed = pa.write_report(r, str(rep), dpi=40)
    assert [f["name"] for f in failed] == ["rd_width"]
    assert "RuntimeError: boom" in failed[0]["error"]
    assert {w["name"] for w in written} == set(BASE) - {"rd_width"}
    assert not (rep / "rd_width.png").exists()
    page = html.unescape((rep / "index.html").read_text())
    assert "rd_width: FAILED, not drawn (RuntimeError: boom" in page
    assert "This figure could not be drawn: RuntimeError: boom" in page
    for name in set(BASE) - {"rd_width"}:
        assert f'<img src="{name}.png"' in page


def test_failing_figure_exit_status(tiny, tmp_path):
    """pdreport and pdplot with a figure that raises: exit 1, the error on
    stderr, the other figures and the report written."""
    code = (
        "import sys; sys.path.insert(0, %r); import runpy\n"
        "from phasediag_analysis import figures\n"
        "def boom(res): raise RuntimeError('boom')\n"
        "figures.FIGURES = [f if f[0] != 'loss_curves' else "
        "(f[0], f[1], boom, f[3]) for f in figures.FIGURES]\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n") % ANALYSIS
    for tool, fmt in (("pdreport", []), ("pdplot", ["--format", "png"])):
        out = tmp_path / tool
        p = subprocess.run([sys.executable, "-c", code,
                            os.path.join(ANALYSIS, tool), tiny, "-o",
                            str(out), "--dpi", "40", *fmt],
                           capture_output=True, text=True, timeout=180)
        assert p.returncode == 1, p.stdout + p.stderr
        assert f"{tool}: error: figure loss_curves failed" in p.stderr
        assert "RuntimeError: boom" in p.stderr
        assert "Traceback" not in p.stderr
        pngs = sorted(f[:-4] for f in os.listdir(out) if f.endswith(".png"))
        assert pngs == sorted(set(BASE) - {"loss_curves"})
    assert (tmp_path / "pdreport" / "index.html").exists()


def test_index_written_atomically(tiny, tmp_path, monkeypatch):
    """A page that cannot be written leaves the previous index.html as it
    was and no temporary file."""
    rep = tmp_path / "report"
    rep.mkdir()
    (rep / "index.html").write_text("previous report\n")
    r = pa.load(tiny)
    # a lone surrogate cannot be encoded: the write fails half-way
    monkeypatch.setattr(report, "report_html",
                        lambda *a, **k: "<!DOCTYPE html>" + "x" * 70000
                        + "\udcff</html>")
    with pytest.raises(UnicodeEncodeError):
        pa.write_report(r, str(rep), dpi=40)
    assert (rep / "index.html").read_text() == "previous report\n"
    assert not (rep / "index.html.tmp").exists()
