"""pdreport: one offline HTML page with every figure and the tables.

The page is parsed (html.parser) and checked against the result file read
with h5py, independently of the package: every image is a PNG of the
directory that decodes, every table row is the file's data."""
import base64
import html
import math
import os
import re
from html.parser import HTMLParser

import h5py
import matplotlib.image
import numpy as np
import pytest

import phasediag_analysis as pa
from conftest import run_tool

PNG = b"\x89PNG\r\n\x1a\n"
FIGS = ["phase_diagram", "rd_width", "loss_curves", "condensation"]


class Page(HTMLParser):
    """The tables of the page by section (id of the <h2> before them):
    [(cells, row class)], cells as text; the <img> sources; the links."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.section, self.tables, self.imgs, self.links = None, {}, [], []
        self.row = self.cell = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self.section = a.get("id")
        elif tag == "table":
            self.tables[self.section] = []
        elif tag == "tr":
            self.row = ([], a.get("class"))
            self.tables[self.section].append(self.row)
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "img":
            self.imgs.append(a["src"])
        elif tag == "a":
            self.links.append(a["href"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.row[0].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def file_data(path):
    with h5py.File(path, "r") as f:
        d = {n: f[n][()] for n in ("grid/gamma", "grid/gamma_prime",
                                   "grid/width", "grid/seed", "runs/status")}
        d["label"] = list(f["grid/label"].asstr()[()])   # UTF-8 text
        for n in ("slope", "slope_stderr", "regime", "theory_regime",
                  "agree", "boundary_distance"):
            d[n] = f["phase/" + n][()]
        d["regime_names"] = names_of(f["phase/regime"].attrs["names"])
        d["status_names"] = names_of(f["runs/status"].attrs["names"])
        d["attrs"] = dict(f.attrs.items())   # text attributes are str
    return d


def names_of(attr):
    """'0 linear, 1 critical' -> {0: 'linear', 1: 'critical'}."""
    return {int(c): n for c, n in (item.strip().split(None, 1) for item in
                                   attr.split(","))}


def close(text, value, digits):
    """text is value printed to `digits` significant digits."""
    if not math.isfinite(value):
        return text == "nan"
    return math.isclose(float(text), value, rel_tol=0.6 * 10 ** -(digits - 1),
                        abs_tol=1e-12)


def check_tables(page, d):
    """The Summary, Runs and Provenance tables are the file's data."""
    P = len(d["grid/gamma"])
    head, *rows = page.tables["summary"]
    assert head[0] == ["gamma", "gamma'", "label", "slope +- stderr",
                       "regime", "theory", "agree", "boundary distance"]
    assert len(rows) == P                       # one row per point
    for p, (cells, cls) in enumerate(rows):
        g, gp, lab, slope, reg, th, agree, dist = cells
        assert close(g, d["grid/gamma"][p], 4)
        assert close(gp, d["grid/gamma_prime"][p], 4)
        assert lab == (d["label"][p] or "-")
        s, e = slope.split("+-")
        for text, v in ((s, d["slope"][p]), (e, d["slope_stderr"][p])):
            text = text.strip()
            assert (text == "nan" if not math.isfinite(v) else
                    abs(float(text) - v) <= 5e-4 + 1e-12), (p, slope)
        assert reg == d["regime_names"][int(d["regime"][p])]
        assert th == d["regime_names"][int(d["theory_regime"][p])]
        a = int(d["agree"][p])  # 1, 0, -1: no verdict
        if int(d["regime"][p]) == -1:  # older files wrote 0 there
            a = -1
        assert agree == ("-" if a < 0 else "yes" if a == 1 else "NO")
        assert (cls == "no") == (a == 0)   # highlighted
        assert close(dist, d["boundary_distance"][p], 3)
    # runs by status
    codes, counts = np.unique(d["runs/status"], return_counts=True)
    want = {d["status_names"][int(c)]: int(n) for c, n in zip(codes, counts)}
    head, *rows = page.tables["runs"]
    assert {c[0]: int(c[1]) for c, _ in rows} == want
    # provenance: the root attributes
    prov = {c[0]: c[1] for c, _ in page.tables["provenance"]}
    for k in ("software", "version", "git_commit", "mpi_ranks", "group_size",
              "created_utc"):
        assert prov[k] == str(d["attrs"][k]), k
    assert prov["widths"] == ", ".join(str(w) for w in d["grid/width"])
    assert prov["seeds"] == ", ".join(str(s) for s in d["grid/seed"])


def headline(page_text, d):
    agree = int((d["agree"] == 1).sum())
    P = len(d["grid/gamma"])
    classified = int(((d["agree"] >= 0) & (d["regime"] != -1)).sum())
    if classified == P:
        assert f"{agree} of {P} points agree with the theorem" in page_text
    else:
        assert (f"{agree} of {classified} classified points agree with the "
                "theorem") in page_text
    assert f"{d['runs/status'].size} runs: " in page_text


def test_report_references_every_png(tiny, tmp_path):
    d = tmp_path / "report"
    p = run_tool("pdreport", tiny, "-o", d)
    assert p.returncode == 0, p.stderr
    index = d / "index.html"
    assert f"wrote {index} (4 figures)" in p.stdout
    text = index.read_text()
    page = Page(text)
    # every image: a non-empty PNG of the directory that decodes, one per
    # figure, in the page's order; every PNG of the directory is shown
    assert page.imgs == [f"{n}.png" for n in FIGS]
    assert sorted(f for f in os.listdir(d) if f.endswith(".png")) == \
        sorted(page.imgs)
    for src in page.imgs:
        path = d / src
        assert not os.path.isabs(src) and path.is_file()
        assert path.stat().st_size > 1000
        assert path.read_bytes()[:8] == PNG
        img = matplotlib.image.imread(str(path))
        assert img.ndim == 3 and min(img.shape[:2]) > 100
        assert img.std() > 0                    # not a blank image
    # every link (the PDFs): relative, an existing PDF
    assert page.links and all(h.endswith(".pdf") for h in page.links)
    for href in page.links:
        assert not os.path.isabs(href)
        assert (d / href).read_bytes()[:5] == b"%PDF-"
    # offline: no external resources at all
    assert "://" not in text and "<script" not in text and "<link" not in text
    # the tables are the file's data
    data = file_data(tiny)
    check_tables(page, data)
    headline(text, data)
    assert html.escape(data["attrs"]["config_text"]) in text
    # an intact file: no 'nothing to draw' / 'not shown' notes, no failure
    assert "nothing to draw" not in text and "not shown" not in text
    assert 'class="fignote"' not in text and "FAILED" not in text


def test_embedded_partial_report(partial, tmp_path):
    d = tmp_path / "report"
    p = run_tool("pdreport", partial, "-o", d, "--embed")
    assert p.returncode == 0, p.stderr
    text = (d / "index.html").read_text()
    page = Page(text)
    prefix = "data:image/png;base64,"
    assert len(page.imgs) == 3      # no condensation without /features
    assert all(src.startswith(prefix) for src in page.imgs)
    for src, name in zip(page.imgs, FIGS):
        png = base64.b64decode(src[len(prefix):])
        assert png[:8] == PNG
        assert png == (d / f"{name}.png").read_bytes()   # that figure
    assert not (d / "condensation.png").exists()
    assert not page.links                       # --embed: no PDF links
    data = file_data(partial)
    check_tables(page, data)            # undetermined point, 'not run' runs
    headline(text, data)
    assert data["regime"][1] == -1 and (data["runs/status"] == -1).any()
    assert "partial scan: " in text and "/features is missing" in text
    assert "condensation: skipped" in text


def observables(fp):
    """pa.report_html of a file (no figures): its Per-run observables
    table."""
    page = Page(pa.report_html(pa.load(fp), [], []))
    return page.tables["observables"]


# header of the per-run observables table -> dataset, significant digits
SCALARS = {"dist0": ("ntk/dist0", 4), "dist1": ("ntk/dist1", 4),
           "kernel_chg": ("ntk/kernel_change", 4),
           "lin_err_trn": ("ntk/linearity_error_train", 4),
           "lin_err_tst": ("ntk/linearity_error_test", 4),
           "test_loss": ("runs/test_loss", 4),
           "test_rel": ("runs/test_rel_error", 4),
           "test_acc": ("runs/test_accuracy", 4),
           "train_acc": ("runs/train_accuracy", 4)}


@pytest.mark.parametrize("job", ["fp1d", "ntk"])
def test_report_observables_are_the_file(fpscans, job):
    """The per-run observables table: one row per run that ran, in the
    file's order, each number the file's."""
    path = fpscans[job]
    head, *rows = observables(path)
    head = head[0]
    assert head[:4] == ["point", "m", "seed", "status"]
    with h5py.File(path, "r") as f:
        st = f["runs/status"][()]
        names = names_of(f["runs/status"].attrs["names"])
        gamma, width, seed = (f[n][()] for n in ("grid/gamma", "grid/width",
                                                 "grid/seed"))
        runs = [(p, w, s) for p, w, s in np.ndindex(st.shape)
                if st[p, w, s] != -1]
        assert len(rows) == len(runs) > 0
        checked = set()
        for (cells, _), (p, w, s) in zip(rows, runs):
            row = dict(zip(head, cells))
            assert f"{gamma[p]:g}" in row["point"]
            assert row["m"] == str(width[w]) and row["seed"] == str(seed[s])
            assert row["status"] == names[int(st[p, w, s])]
            for h, (ds, digits) in SCALARS.items():
                if h in row:
                    assert close(row[h], float(f[ds][p, w, s]), digits), \
                        (h, p, w, s)
                    checked.add(h)
            if "verdict" in row:
                v = float(f["spectral/verdict"][p, w, s])
                assert row["verdict"] == (f"{v:+.3f}" if math.isfinite(v)
                                          else "nan")
                checked.add("verdict")
            if "dft k@step" in row:
                fr = f["spectral/dft/frequency"][p, w, s]
                cs = f["spectral/dft/converged_step"][p, w, s]
                want = [(a, b) for a, b in zip(fr, cs) if math.isfinite(a)]
                got = [re.fullmatch(r"([^@]+)@(.+)", x).groups()
                       for x in row["dft k@step"].split()]
                assert len(got) == len(want) > 0
                for (a, b), (ga, gb) in zip(want, got):
                    assert math.isclose(float(ga), a, rel_tol=1e-5)
                    assert gb == ("-" if not math.isfinite(b) else f"{b:g}")
                checked.add("dft")
    # the columns the job's observables give
    want = {"fp1d": {"verdict", "dft", "test_rel"},
            "ntk": {"dist0", "kernel_chg", "lin_err_trn"}}[job]
    assert want <= checked, checked
