"""The report as a reader sees it: every figure shown, nothing cut or on top
of something else, text large enough to read at the size the page shows it.

Two views.  matplotlib's own layout engine: in every figure every title,
label, tick label, note and legend lies inside the figure, no two panels
overlap, no legend covers a title or a note (figures_layout).  The page's
own layout in headless Chromium (Debian `chromium`, tests/chromium.py):
every <img> loaded with a natural size, no wider than its figure or the
window, the page without horizontal scrolling; and, combining both, the
smallest text of each figure at the scale the page shows it.

Without chromium these browser tests skip, saying so, except in CI (CI=true)
where they must run (scripts/test installs chromium)."""
import os
import shutil

import pytest

import phasediag_analysis as pa
from phasediag_analysis import figures
from phasediag_analysis.figures_layout import layout_problems, smallest_font
from phasediag_analysis.report import report_html

import chromium

DPI = 130            # write_report's default
PAGE_PX = 1200       # the page's max-width (report.CSS)
MIN_TEXT_PX = 8.5    # smallest readable text on the page, CSS pixels
# a long file name: titles that are not wrapped run out of the figure
LONG_NAME = "ntk_scan_with_a_rather_long_result_file_name_2026.h5"


@pytest.fixture(scope="module")
def report_files(scans, fpscans, tmp_path_factory):
    d = tmp_path_factory.mktemp("layout")
    long = str(d / LONG_NAME)
    shutil.copy(fpscans["ntk"], long)
    return {"tiny": scans[1], "fp1d": fpscans["fp1d"],
            "fphighd": fpscans["fphighd"], "ntk": fpscans["ntk"],
            "condense": fpscans["condense"], "long": long}


@pytest.fixture(scope="module")
def reports(report_files, tmp_path_factory):
    """name -> (Result, report directory, written figures)."""
    out = {}
    for name, path in report_files.items():
        d = str(tmp_path_factory.mktemp(f"report_{name}"))
        res = pa.load(path)
        index, written, skipped, failed = pa.write_report(res, d, dpi=DPI)
        assert not failed, failed
        out[name] = (res, d, written)
    return out


def _figure_fonts(res, names):
    """name -> (smallest font in points, what, figure width in pixels at
    DPI), each figure rebuilt and checked in matplotlib's layout."""
    out, problems = {}, []
    build = {n: b for n, _, b, _ in figures.FIGURES}
    for name in names:
        fig = build[name](res)
        problems += [f"{name}: {p}" for p in layout_problems(fig)]
        pt, what, text = smallest_font(fig)
        out[name] = (pt, f"{what} {text[:40]!r}", fig.get_figwidth() * DPI)
        pa.pyplot().close(fig)
    return out, problems


@pytest.fixture(scope="module")
def fonts(reports):
    """name -> _figure_fonts of its report (drawn once for both views)."""
    return {n: _figure_fonts(res, [w["name"] for w in written])
            for n, (res, _, written) in reports.items()}


@pytest.mark.parametrize("name", ["tiny", "fp1d", "fphighd", "ntk", "condense",
                                  "long"])
def test_figures_layout_in_matplotlib(fonts, name):
    """Every figure of the report: nothing outside the figure or on top of
    something else, and its smallest text readable at the size the page
    (PAGE_PX wide) shows it."""
    sizes, problems = fonts[name]
    assert not problems, "\n".join(problems)
    small = []
    for fig, (pt, what, width) in sizes.items():
        px = pt * DPI / 72 * min(1.0, PAGE_PX / width)
        if px < MIN_TEXT_PX:
            small.append(f"{fig}: {what} is {pt} pt = {px:.1f} px on the "
                         f"page (figure {width:.0f} px wide)")
    assert not small, "\n".join(small)


def _need_chromium():
    if chromium.browser():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("chromium not installed, and CI=true: the report's "
                    "browser checks must run in CI (scripts/test installs "
                    "the Debian package chromium)")
    pytest.skip("chromium not installed (Debian package chromium): the "
                "report is not rendered in a browser here")


def _check_page(m, written, width, tol=0.5):
    """What is wrong with the rendered page m (chromium.measure's dict)."""
    bad = []
    want = {w["name"] for w in written}
    shown = {i["figure"] for i in m["imgs"]}
    if shown != want:
        bad.append(f"figures shown {sorted(shown)}, written {sorted(want)}")
    if m["scrollWidth"] > m["clientWidth"]:
        bad.append(f"the page scrolls sideways: {m['scrollWidth']} px wide "
                   f"in a {m['clientWidth']} px window")
    for i in m["imgs"]:
        b, f = i["box"], i["figureBox"]
        who = i["figure"] or i["src"]
        if not (i["complete"] and i["naturalWidth"] > 0 and
                i["naturalHeight"] > 0):
            bad.append(f"{who}: image not loaded ({i['src']})")
            continue
        if i["display"] == "none" or i["visibility"] != "visible" or \
                b["width"] <= 0 or b["height"] <= 0:
            bad.append(f"{who}: image not shown")
        if f is None:
            bad.append(f"{who}: image outside any <figure>")
        elif b["left"] < f["left"] - tol or b["right"] > f["right"] + tol:
            bad.append(f"{who}: image {b['width']:.0f} px wide overflows "
                       f"its figure ({f['width']:.0f} px)")
        if b["left"] < -tol or b["right"] > m["clientWidth"] + tol:
            bad.append(f"{who}: image cut by the window ({b['left']:.0f}"
                       f"-{b['right']:.0f} of {m['clientWidth']} px)")
        for p in i["overflowParents"]:
            pb = p["box"]
            if b["left"] < pb["left"] - tol or b["right"] > pb["right"] + tol \
                    or b["top"] < pb["top"] - tol or \
                    b["bottom"] > pb["bottom"] + tol:
                bad.append(f"{who}: clipped by a <{p['tag']}> with "
                           f"overflow {p['overflow']}")
        # the aspect ratio kept: a squeezed image distorts its text
        ratio = (b["height"] / b["width"]) / (i["naturalHeight"] /
                                              i["naturalWidth"])
        if abs(ratio - 1) > 0.02:
            bad.append(f"{who}: shown with its aspect ratio changed "
                       f"({ratio:.3f})")
    figs = sorted(m["figs"], key=lambda f: f["box"]["top"])
    for a, b in zip(figs, figs[1:]):
        if a["box"]["bottom"] > b["box"]["top"] + tol:
            bad.append(f"figures {a['id']} and {b['id']} overlap")
    for f in figs:
        if f["headingScroll"] > f["headingClient"] + 1:
            bad.append(f"{f['id']}: heading cut ({f['headingScroll']} px "
                       f"in {f['headingClient']} px)")
        for part in ("caption", "heading"):
            pb = f[part]
            if pb and (pb["right"] > f["box"]["right"] + tol or
                       pb["bottom"] > f["box"]["bottom"] + tol):
                bad.append(f"{f['id']}: {part} outside its figure")
    return bad


def test_report_in_chromium(reports, fonts):
    """Each report rendered in headless Chromium at a desktop width and a
    narrow one: every figure the report wrote is an <img> that loaded with
    a natural size, inside its figure and the window, not clipped, with its
    aspect ratio; no page scrolls sideways; no two figures overlap; the
    smallest text of each figure, at the scale the page shows it, is at
    least MIN_TEXT_PX."""
    _need_chromium()
    pages = [(n, os.path.join(reports[n][1], "index.html"), w)
             for n in sorted(reports) for w in (1280, 720)]
    measured = chromium.measure([(path, w) for _, path, w in pages])
    bad = []
    for (name, _, width), m in zip(pages, measured):
        res, _, written = reports[name]
        bad += [f"{name} at {width} px: {b}"
                for b in _check_page(m, written, width)]
        if width != 1280:
            continue
        for i in m["imgs"]:
            pt, what, _ = fonts[name][0][i["figure"]]
            scale = i["box"]["width"] / i["naturalWidth"]
            px = pt * DPI / 72 * scale
            if px < MIN_TEXT_PX:
                bad.append(f"{name}: {i['figure']}: {what} is {px:.1f} px "
                           f"as shown ({pt} pt at {scale:.2f} of its size)")
    assert not bad, "\n".join(bad)


def test_embedded_report_in_chromium(reports, tmp_path):
    """pdreport --embed: the images are data: URLs, each loads and is shown
    as in the linked report."""
    _need_chromium()
    res, d, written = reports["ntk"]
    # the page of the written figures, embedded (pdreport --embed writes
    # the same page after drawing them)
    index = str(tmp_path / "index.html")
    with open(index, "w", encoding="utf-8") as fh:
        fh.write(report_html(res, written, [], embed=True, outdir=d))
    (m,) = chromium.measure([(index, 1280)])
    assert all(i["src"].startswith("data:image/png;base64,")
               for i in m["imgs"])
    bad = _check_page(m, written, 1280)
    assert not bad, "\n".join(bad)


def test_missing_image_is_caught(reports, tmp_path):
    """The browser check fails on a broken report: a figure's PNG removed
    after the page was written is an image that did not load."""
    _need_chromium()
    _, d, written = reports["tiny"]
    copy = str(tmp_path / "report")
    shutil.copytree(d, copy)
    os.remove(os.path.join(copy, "rd_width.png"))
    (m,) = chromium.measure([(os.path.join(copy, "index.html"), 1280)])
    bad = _check_page(m, written, 1280)
    assert any("rd_width: image not loaded" in b for b in bad), bad


def test_layout_check_catches_a_cut_legend(res):
    """The matplotlib check fails on a broken figure: a legend moved out of
    the figure and a panel title longer than the figure."""
    fig = pa.fig_rd_width(res)
    ax = fig.axes[0]
    ax.legend(loc="upper right", bbox_to_anchor=(-0.3, 1.0))
    fig.axes[1].set_title("a title far too long for its panel " * 12)
    probs = layout_problems(fig)
    pa.pyplot().close(fig)
    assert any("legend" in p and "outside" in p for p in probs), probs
    assert any("title" in p and "outside" in p for p in probs), probs
