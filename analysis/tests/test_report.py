"""pdreport: one offline HTML page with every figure and the tables."""
import base64
import html
import os
import re

import h5py

from conftest import run_tool


def test_report_references_every_png(tiny, tmp_path):
    d = tmp_path / "report"
    p = run_tool("pdreport", tiny, "-o", d)
    assert p.returncode == 0, p.stderr
    index = d / "index.html"
    assert f"wrote {index}" in p.stdout
    page = index.read_text()
    srcs = re.findall(r'<img src="([^"]+)"', page)
    pngs = sorted(f for f in os.listdir(d) if f.endswith(".png"))
    assert sorted(srcs) == pngs
    assert pngs == sorted(f"{n}.png" for n in (
        "phase_diagram", "rd_width", "loss_curves", "condensation"))
    for href in re.findall(r'href="([^"]+)"', page):
        assert not os.path.isabs(href) and (d / href).exists()
    # offline: no external resources at all
    assert "://" not in page and "<script" not in page and "<link" not in page
    # the tables
    with h5py.File(tiny) as f:
        commit = f.attrs["git_commit"].decode()
        config = f.attrs["config_text"].decode()
    assert commit in page
    assert html.escape(config) in page
    assert page.count("<tr") >= 6 + 1 + 6
    for s in ("mean_field", "ntk", "linear", "critical", "condensed",
              "Provenance", "Summary", "converged"):
        assert s in page
    # an intact file: no 'nothing to draw' / 'not shown' notes, no failure
    assert "nothing to draw" not in page and "not shown" not in page
    assert 'class="fignote"' not in page and "FAILED" not in page


def test_embedded_partial_report(partial, tmp_path):
    d = tmp_path / "report"
    p = run_tool("pdreport", partial, "-o", d, "--embed")
    assert p.returncode == 0, p.stderr
    page = (d / "index.html").read_text()
    imgs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(imgs) == 3        # no condensation without /features
    for b in imgs:
        assert base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "partial scan: " in page and "/features is missing" in page
    assert "condensation: skipped" in page
    assert "undetermined" in page and "NO" in page
    assert not (d / "condensation.png").exists()
