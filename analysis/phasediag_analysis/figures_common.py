"""Helpers shared by the figure modules: matplotlib on the Agg backend,
panel layout, the run a per-run figure draws, and the one place that
handles empty, zero, negative and NaN data (check_panel and friends)."""
import math
import os

import numpy as np

from .io import CONVERGED, NOT_RUN, status_name
from .theory import REGIME_COLORS, REGIME_NAMES, REGIME_ORDER


def pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use (the
    summary and the comparison do not need matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
    return matplotlib.pyplot


MARKERS = ["o", "s", "^", "v", "D", "P", "X", "*", "<", ">", "h", "p"]


def legend_below(ax, gap_pt=44.0, **kw):
    """The panel's legend under it, its top gap_pt points below the axes
    (under the tick labels and the x label, whatever the panel's height):
    inside, a legend at a readable size hides the lines it describes and
    the panel's notes."""
    from matplotlib.transforms import ScaledTranslation
    fig = ax.figure
    opts = dict(fontsize=LEGEND_FONT, frameon=False, loc="upper center",
                borderaxespad=0.0, handlelength=2.0)
    opts.update(kw)
    below = ScaledTranslation(0, -gap_pt / 72, fig.dpi_scale_trans)
    return ax.legend(bbox_to_anchor=(0.5, 0.0),
                     bbox_transform=ax.transAxes + below, **opts)


def _regime_handles(extra=()):
    from matplotlib.lines import Line2D
    h = [Line2D([], [], ls="", marker="o", ms=8, mfc=REGIME_COLORS[r],
                mec="white", label=REGIME_NAMES[r]) for r in REGIME_ORDER]
    return h + list(extra)


def _finite_range(a, default=(0.0, 1.0)):
    """(min, max) of the finite values of a; `default` when there are
    none."""
    a = np.asarray(a, float)
    a = a[np.isfinite(a)]
    return (float(a.min()), float(a.max())) if a.size else default


def panel_groups(res):
    """[(title, [points])]: the grid points by gamma, then the named
    schemes."""
    grid = [p for p in range(res.P) if not res.label[p]]
    out = []
    for g in sorted(set(float(res.gamma[p]) for p in grid)):
        out.append((f"γ = {g:g}", [p for p in grid if res.gamma[p] == g]))
    named = [p for p in range(res.P) if res.label[p]]
    if named:
        out.append(("named schemes", named))
    return out


def point_label(res, p):
    """The point as the figures name it: "ntk (γ = 0.5, γ' = 0)" or
    "γ = 1.75, γ' = -0.5", each value named, so that no reader takes the
    pair for the phase diagram's (x, y) = (γ', γ)."""
    g, gp = res.gamma[p], res.gamma_prime[p]
    pair = f"γ = {g:g}, γ' = {gp:g}"
    return f"{res.label[p]} ({pair})" if res.label[p] else pair


def _panel_label(res, p, in_scheme_panel):
    if in_scheme_panel or res.label[p]:
        return point_label(res, p)
    return f"γ' = {res.gamma_prime[p]:g}"


# Text sizes (points).  The report shows a figure at most 1200 CSS px wide
# (its page width), so a figure of 3 panels 4.3 in wide at 130 dpi is shown
# at 0.72 of its size: 8 pt legends are then about 10 px, the smallest a
# reader can take in without zooming (the report tests check it).
LEGEND_FONT = 8.0
NOTE_FONT = 8.0
PANEL_W = 4.3     # inches per panel of the multi-panel figures


def _subplots(n, w=PANEL_W, h=3.7, ncols=3, **kw):
    plt = pyplot()
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows),
                             squeeze=False, **kw)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


# -- empty, zero, negative and NaN data ---------------------------------------
# Every figure draws what its data allow and says what it left out: the
# values a panel meant to show go through check_panel (the one place that
# decides log scales and writes the notes), and a panel with nothing to show
# gets a centered note (gid 'nothing') instead of an exception; the notes'
# texts (gids 'nothing' and 'left_out') are listed by make_figures and the
# report.

NOTE_GIDS = ("nothing", "left_out")


def positive(values):
    """Mask of the finite values > 0: what a log axis can show."""
    a = np.asarray(values, float)
    return np.isfinite(a) & (a > 0)


def describe_values(values):
    """'3 NaN, 2 zero, 1 negative' for the values a log axis cannot show
    (only the kinds present; '' when all are finite and > 0)."""
    a = np.asarray(values, float).ravel()
    kinds = ((np.isnan(a), "NaN"), (np.isinf(a), "infinite"),
             (a == 0, "zero"), (np.isfinite(a) & (a < 0), "negative"))
    return ", ".join(f"{int(m.sum())} {name}" for m, name in kinds
                     if m.any())


def nothing_to_draw(ax, why):
    """A centered note on ax saying what is missing and why (gid
    'nothing'); an axis without any data loses its meaningless ticks."""
    import textwrap
    if not np.isfinite(ax.dataLim.intervalx).all():
        ax.set_xticks([])
    if not np.isfinite(ax.dataLim.intervaly).all():
        ax.set_yticks([])
    width = max(28, int(ax.get_position().width * ax.figure.get_figwidth()
                        * 11))
    # paragraphs (lines of `why`) apart by a blank line (figure_notes)
    text = "\n\n".join(textwrap.fill(line, width)
                       for line in why.split("\n"))
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center",
            va="center", fontsize=9, color="#8a1c00", gid="nothing",
            bbox=dict(boxstyle="round,pad=0.5", fc="white", ec="#8a1c00",
                      alpha=0.9), zorder=10)


def check_panel(ax, values, what, log="", why=""):
    """Finish a panel after drawing: `values` are all the values it meant to
    draw on its value axis (NaN, zeros and negatives included; padding
    excluded).  log ('x', 'y', 'xy' or ''): the axes to make logarithmic;
    each becomes log only if the data drawn on it has a finite positive
    value (matplotlib cannot log-scale an axis without: 'Data has no
    positive values'), else it stays linear.  Drawable values are those > 0
    on a log axis, the finite ones otherwise.  None drawable: a centered
    note (nothing_to_draw) with `why`; some left out: a small note at the
    bottom saying how many and what they are (gid 'left_out').  Returns the
    number of drawable values."""
    v = np.asarray(values, float).ravel()
    ok = positive(v) if log else np.isfinite(v)
    lim = ax.dataLim
    for axis in log:
        minpos = lim.minposx if axis == "x" else lim.minposy
        if math.isfinite(minpos) and minpos > 0:
            (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    if not ok.any():
        msg = (f"nothing to draw: no {what} value > 0" if log else
               f"nothing to draw: no finite {what} value")
        if v.size:
            msg += f" (of {v.size}: {describe_values(v)})"
        nothing_to_draw(ax, msg + (f"\n{why}" if why else ""))
    elif not ok.all():
        ax.text(0.5, 0.01, f"{int((~ok).sum())} of {v.size} {what} values "
                f"not shown ({describe_values(v[~ok])})",
                transform=ax.transAxes, ha="center", va="bottom",
                fontsize=NOTE_FONT, color="#8a1c00", gid="left_out",
                bbox=dict(fc="white", ec="none", alpha=0.8), zorder=10)
    return int(ok.sum())


def note_figure(title, why):
    """A figure with only a centered note: a figure whose datasets are in the
    file but hold nothing drawable (make_figures still writes it)."""
    fig, (ax,) = _subplots(1, w=7.0, h=3.2)
    nothing_to_draw(ax, why)
    _suptitle(fig, title)
    fig.tight_layout()
    return fig


def figure_notes(fig):
    """The 'nothing to draw' and 'left out' notes of a figure, each prefixed
    with its panel's title when the figure has several panels."""
    axes = [ax for ax in fig.axes if ax.get_visible()]
    out = []
    for ax in axes:
        for t in ax.texts:
            if t.get_gid() in NOTE_GIDS:
                title = ax.get_title().split("\n")[0]
                text = "; ".join(" ".join(par.split()) for par in
                                 t.get_text().split("\n\n"))
                out.append(f"{title}: {text}" if title and len(axes) > 1
                           else text)
    return out


def _pick_run(res, p, data):
    """(w, s) of the widest converged run of point p with finite data[p, w,
    s]; failing that the widest run with finite data; None if none."""
    for need_converged in (True, False):
        for w in range(res.W - 1, -1, -1):
            for s in range(res.S):
                if need_converged and res.status[p, w, s] != CONVERGED:
                    continue
                if np.isfinite(data[p, w, s]).any():
                    return w, s
    return None


MAX_RUN_PANELS = 12   # per-point panels drawn at most (the first points)
PEAK_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
               "#56B4E9", "#000000", "#F0E442"]


def _suptitle(fig, text, fontsize=9):
    """fig.suptitle wrapped to the figure's width."""
    import textwrap
    chars = max(60, int(fig.get_figwidth() * 15))
    fig.suptitle("\n".join(line for part in text.split("\n")
                           for line in textwrap.wrap(part, chars)),
                 fontsize=fontsize)


def _point_color(i):
    return PEAK_COLORS[i % len(PEAK_COLORS)]


def chosen_run(res, p, name=None):
    """(w, s) of the run of point p the per-run figures draw: the width and
    seed of res.pick_width / res.pick_seed (default: the widest width, the
    first seed); when that run has no finite data in `name` (not run), the
    widest run that has.  None if no run of p has data."""
    w0 = res.W - 1
    if res.pick_width is not None:
        hit = np.nonzero(res.width == res.pick_width)[0]
        w0 = int(hit[0]) if len(hit) else w0
    s0 = 0
    if res.pick_seed is not None:
        hit = np.nonzero(res.seed == res.pick_seed)[0]
        s0 = int(hit[0]) if len(hit) else s0
    a = res.get(name) if name else None

    def ok(w, s):
        if a is None:
            return res.status[p, w, s] != NOT_RUN
        return bool(np.isfinite(np.asarray(a[p, w, s], float)).any())
    if ok(w0, s0):
        return w0, s0
    for w in range(res.W - 1, -1, -1):
        for s in range(res.S):
            if ok(w, s):
                return w, s
    return None


def snapshot_rows(res, p, w, s):
    """Indices of the snapshot rows recorded for run (p, w, s) (step >= 0)
    and their steps and flow times."""
    step = res.get("snapshots/step")
    if step is None:
        return None, None, None
    st = np.asarray(step[p, w, s])
    rows = np.nonzero(st >= 0)[0]
    t = res.get("snapshots/time")
    time = np.asarray(t[p, w, s], float)[rows] if t is not None else None
    return rows, st[rows].astype(float), time


def _run_title(res, p, w, s):
    t = f"{point_label(res, p)}, m = {res.width[w]}, seed {res.seed[s]}"
    if res.status[p, w, s] != CONVERGED:
        t += f" ({status_name(res.status[p, w, s], res.status_names)})"
    return t


def _fmt_rho(v):
    v = float(v)
    return f"{v:+.2f}" if math.isfinite(v) else "nan"


def _verdict_text(res, p, w, s, corr_name=None):
    out = []
    v = res.get("spectral/verdict")
    if v is not None:
        out.append(f"verdict ρ = {_fmt_rho(v[p, w, s])}")
    c = res.get(corr_name) if corr_name else None
    if c is not None:
        out.append(f"{corr_name.split('/')[1]} ρ = {_fmt_rho(c[p, w, s])}")
    return ", ".join(out)


def _runs_with_data(res, pts, name):
    """[(p, (w, s))]: the run each of the points pts draws (chosen_run),
    points without a run with finite /name left out."""
    runs = [(p, chosen_run(res, p, name)) for p in pts]
    return [(p, r) for p, r in runs if r is not None]


def _no_run_why(res, name):
    """The note of a per-run figure whose dataset holds no finite value."""
    a = np.asarray(res.get(name), float)
    return (f"nothing to draw: no run has a finite /{name} "
            f"(of {a.size} values: {describe_values(a) or 'none'}; runs not "
            "run, diverged or not recorded?)")


def run_panels(res, name, title, w=4.6, h=3.8):
    """The panels of a per-run figure over /name: (fig, axes, runs, more),
    one panel per point whose chosen run has a finite /name (the first
    MAX_RUN_PANELS points; more: how many points were left out), or (a note
    figure titled title + the file's name, None, None, 0) when no run has
    one."""
    pts, more = _points_for_panels(res)
    runs = _runs_with_data(res, pts, name)
    if not runs:
        return (note_figure(title + os.path.basename(res.path),
                            _no_run_why(res, name)), None, None, 0)
    fig, axes = _subplots(len(runs), w=w, h=h)
    return fig, axes, runs, more


def _points_for_panels(res):
    pts = list(range(res.P))
    return pts[:MAX_RUN_PANELS], max(0, len(pts) - MAX_RUN_PANELS)
