"""Partial files and files without the optional groups: notes, no
tracebacks, every figure the data allows."""
import json
import os
import shutil

import h5py
import numpy as np
from matplotlib.colors import to_rgba

import phasediag_analysis as pa
from conftest import PARTIAL_POINT, run_tool


def test_partial_summary(partial):
    p = run_tool("pdsummary", partial)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "partial scan: 8 of 36 tasks not run" in out
    assert "/features is missing" in out
    row = out.splitlines()[1 + PARTIAL_POINT]
    # no slope: no verdict, not a disagreement
    assert "nan" in row and "undetermined" in row and row.endswith("-")
    assert "8 not run" in out
    s = json.loads(run_tool("pdsummary", partial, "--json").stdout)
    pt = s["points"][PARTIAL_POINT]
    assert pt["slope"] is None and pt["regime"] == "undetermined"
    assert pt["agree"] is None and s["counts"]["statuses"]["not run"] == 8
    assert s["counts"]["classified"] == s["counts"]["points"] - 1
    assert "classified points agree with the theorem" in out


def test_partial_figures(partial, tmp_path):
    d = tmp_path / "figs"
    p = run_tool("pdplot", partial, "-o", d, "--format", "png")
    assert p.returncode == 0, p.stderr
    assert "note: /features is missing" in p.stdout
    assert "condensation: skipped" in p.stdout
    assert sorted(os.listdir(d)) == ["loss_curves.png", "phase_diagram.png",
                                     "rd_width.png"]
    r = pa.load(partial)
    fig = pa.fig_phase_diagram(r)
    ax = fig.axes[0]
    (pts,) = [c for c in ax.collections if c.get_gid() == "points"]
    assert len(pts.get_offsets()) == r.P
    assert np.allclose(pts.get_facecolors()[PARTIAL_POINT],
                       to_rgba(pa.REGIME_COLORS[pa.UNDETERMINED]))
    # the undetermined point has no verdict: grey, not ringed
    (ring,) = [c for c in ax.collections if c.get_gid() == "disagree"]
    assert len(ring.get_offsets()) == 0
    assert "classified points agree" in ax.get_title()
    assert any("partial scan" in t.get_text() for t in ax.texts)
    fig = pa.fig_rd_width(r)
    line = [l for a in fig.axes for l in a.get_lines()
            if l.get_gid() == f"rd:{PARTIAL_POINT}"]
    assert len(line) == 1 and "no slope" in line[0].get_label()
    assert pa.fig_condensation(r) is None
    pa.pyplot().close("all")


def test_without_phase_and_history(tiny, res, tmp_path):
    path = str(tmp_path / "nophase.h5")
    shutil.copy(tiny, path)
    with h5py.File(path, "r+") as f:
        del f["phase"]
        del f["history"]
    r = pa.load(path)
    assert r.phase_source == "recomputed"
    assert any(n.startswith("/phase is missing") for n in r.notes)
    assert any(n.startswith("/history is missing") for n in r.notes)
    assert np.array_equal(r.phase["regime"], res.phase["regime"])
    assert np.array_equal(r.phase["theory_regime"], res.phase["theory_regime"])
    assert np.allclose(r.phase["slope"], res.phase["slope"], rtol=1e-9)
    assert pa.fig_loss_curves(r) is None
    assert pa.fig_phase_diagram(r) is not None
    p = run_tool("pdsummary", path)
    assert p.returncode == 0 and "recomputed" in p.stdout
    pa.pyplot().close("all")


def test_without_runs(tiny, res, tmp_path):
    path = str(tmp_path / "noruns.h5")
    shutil.copy(tiny, path)
    with h5py.File(path, "r+") as f:
        del f["runs"]
    r = pa.load(path)
    assert any(n.startswith("/runs is missing") for n in r.notes)
    assert np.array_equal(r.phase["regime"], res.phase["regime"])
    assert pa.fig_rd_width(r) is None
    s = pa.summary(r)
    assert s["counts"]["statuses"] == {"not run": 36}
