"""The NTK figures (/ntk: kernel distance, kernel change and linearity
against width, residual projections) and the test-set figures (1-D test
curves, test error against gamma)."""
import math
import os

import numpy as np

from .figures_common import (LEGEND_FONT, MARKERS, PEAK_COLORS, _run_title,
                             _subplots, _suptitle, check_panel, legend_below,
                             point_label, pyplot, run_panels, snapshot_rows)
from .io import NOT_RUN
from .theory import fit_slope, regime_color, regime_name


PROJECTION_TITLE = "Residual along the NTK eigenvectors — "
TEST_CURVES_TITLE = "Test set (1-D) — "


def _rms_by_width(res, vals):
    """Root mean square over seeds of the finite values [W, S] (NaN where
    none): the README and the job files quote these numbers."""
    out = []
    for w in range(res.W):
        v = np.asarray(vals[w], float)
        v = v[np.isfinite(v)]
        out.append(math.sqrt(float((v * v).mean())) if len(v) else math.nan)
    return np.array(out)


NTK_WIDTH_PANELS = [
    ("ntk/dist0", "dist0", "|Θ(0) − Θ_∞|_F / |Θ_∞|_F"),
    ("ntk/kernel_change", "kernel_change", "|Θ(t*) − Θ(0)|_F / |Θ(0)|_F"),
    ("ntk/linearity_error_test", "linearity", "|f_net − f_lin| / |f_lin|"),
]


def _same_values(a, b):
    """True when two points' [W, S] arrays hold the same numbers (to
    rounding) where either is finite."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    fa, fb = np.isfinite(a), np.isfinite(b)
    return bool(fa.any() and np.array_equal(fa, fb) and
                np.allclose(a[fa], b[fb], rtol=1e-9, atol=0.0))


def _identical_groups(res, a, points):
    """The points grouped by identical values of a (dist0 is the same at
    every point that shares gamma' and the seeds: the kernels differ only by
    a scale factor, which the relative distance removes)."""
    groups = []
    for p in points:
        for g in groups:
            if _same_values(a[g[0]], a[p]):
                g.append(p)
                break
        else:
            groups.append([p])
    return groups


def _short_label(res, p):
    """A scheme's name, or the grid point's "γ = 1.75, γ' = 0" (legends of
    three panels side by side have room for little more)."""
    return res.label[p] or point_label(res, p)


def fig_ntk_width(res):
    """NTK observables against width, log-log: every run as a dot (scatter
    gid '<name>:<p>', offsets (width, value)), colored by the point's
    empirical regime; one line per point through the root mean square over
    seeds (gid '<name>_rms:<p>[,<p>...]': points with identical values share
    one line, named in its label), the least-squares fit of log value
    against log m over the runs dashed (gid '<name>_fit:<p>[,...]', its
    slope in the legend); dist0 with an m^-1/2 guide (gid 'guide'),
    kernel_change, and the linearity error on the test set (training set
    without one); name = dist0, kernel_change, linearity.  None without
    /ntk/dist0 and /ntk/kernel_change."""
    panels = []
    for key, name, ylab in NTK_WIDTH_PANELS:
        if name == "linearity" and res.get(key) is None:
            key = "ntk/linearity_error_train"
        if res.get(key) is not None:
            panels.append((key, name, ylab))
    if not panels:
        return None
    pts = list(range(res.P))
    nlines = max(len(_identical_groups(res, res.get(k), pts))
                 for k, _, _ in panels)
    fig, axes = _subplots(len(panels), w=4.6, h=3.3 + 0.2 * (nlines + 2))
    m = res.width.astype(float)
    for ax, (key, name, ylab) in zip(axes, panels):
        a = np.asarray(res.get(key), float)
        for i, p in enumerate(pts):
            col = regime_color(res.phase["regime"][p])
            ok = np.isfinite(a[p]) & (a[p] > 0) & (res.status[p] != NOT_RUN)
            ws = np.broadcast_to(m[:, None], ok.shape)[ok]
            sc = ax.scatter(ws, a[p][ok], s=16, color=col,
                            marker=MARKERS[i % len(MARKERS)], alpha=0.6,
                            lw=0, zorder=3)
            sc.set_gid(f"{name}:{p}")
        for group in _identical_groups(res, a, pts):
            p = group[0]
            i = pts.index(p)
            regimes = {int(res.phase["regime"][q]) for q in group}
            col = (regime_color(res.phase["regime"][p]) if len(regimes) == 1
                   else "0.2")
            gid = ",".join(str(q) for q in group)
            names = "; ".join(_short_label(res, q) for q in group)
            if len(group) > 1:
                # one line for several points: say so, else a reader looks
                # for the lines of the others
                names = f"{names}\n(identical)"
            else:
                names += f" [{regime_name(res.phase['regime'][p])}]"
            done = (res.status[p] != NOT_RUN) & np.isfinite(a[p]) & \
                (a[p] > 0)
            lw_, lv = np.broadcast_to(m[:, None], done.shape)[done], \
                a[p][done]
            slope, err = fit_slope(np.log(lw_), np.log(lv)) if len(lv) \
                else (math.nan, math.nan)
            if math.isfinite(slope):
                names += (f": slope {slope:+.2f}"
                          + (f" ± {err:.2f}" if math.isfinite(err) else ""))
            ax.plot(m, _rms_by_width(res, np.where(
                res.status[p] != NOT_RUN, a[p], np.nan)), color=col, lw=1.3,
                marker=MARKERS[i % len(MARKERS)], ms=4, gid=f"{name}_rms:{gid}",
                label=names)
            if math.isfinite(slope):
                c = np.log(lv).mean() - slope * np.log(lw_).mean()
                xx = np.array([lw_.min(), lw_.max()])
                ax.plot(xx, np.exp(c + slope * np.log(xx)), color=col,
                        ls=":", lw=1.0, gid=f"{name}_fit:{gid}")
        if name == "dist0":
            okv = np.isfinite(a) & (a > 0)
            if okv.any() and len(m) and np.all(m > 0):
                y0 = math.exp(np.log(a[okv]).mean())
                mm = np.array([m.min(), m.max()])
                gm0 = math.exp(np.log(mm).mean())
                ax.plot(mm, y0 * (mm / gm0) ** -0.5, color="black", ls="--",
                        lw=1.0, gid="guide", label="∝ m^-1/2 (guide)")
        check_panel(ax, a[res.status != NOT_RUN], name, log="xy")
        ax.set_xlabel("width m")
        ax.set_ylabel(ylab)
        title = {"dist0": "distance to the infinite-width kernel at t = 0",
                 "kernel_change": "kernel change during training",
                 "linearity": "linearity error ("
                 + ("test set" if key.endswith("test") else "training set")
                 + ")"}[name]
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        legend_below(ax)
    _suptitle(fig, f"NTK against width — {os.path.basename(res.path)} (line: "
                 "root mean square over seeds, dots: runs, dotted: "
                 "least-squares fit of log value against log m over the "
                 "runs, its slope in the legend; color: empirical regime)")
    fig.tight_layout()
    return fig


NTK_COMPONENTS = 4   # residual components drawn per run


def loss_agreement(net, lin):
    """Largest |L_net / L_lin - 1| over the snapshots where both losses are
    finite and positive (NaN when none): how closely the linear theory's
    loss follows the trained network's."""
    net, lin = np.asarray(net, float), np.asarray(lin, float)
    ok = np.isfinite(net) & np.isfinite(lin) & (net > 0) & (lin > 0)
    return float(np.abs(net[ok] / lin[ok] - 1).max()) if ok.any() \
        else math.nan


def fig_ntk_projection(res):
    """Residual f − y along the closed-form kernel's top eigenvectors
    against flow time, one column per point (chosen run): |projection|
    solid (gid 'proj:<p>:<j>', x = /snapshots/time, y = |projection|), the
    linear theory's |projection_linear| dashed (gid 'projlin:<p>:<j>'), the
    top NTK_COMPONENTS components; below, when the file has
    /ntk/loss_linear, the network's loss at the snapshots
    (/snapshots/loss, gid 'loss_net:<p>') and the linear theory's
    (/ntk/loss_linear, dashed, gid 'loss_lin:<p>') with their largest
    relative difference in the title.  None without /ntk/projection."""
    pr = res.get("ntk/projection")
    if pr is None or res.get("snapshots/step") is None or \
            res.get("snapshots/time") is None:
        return None
    pl = res.get("ntk/projection_linear")
    ll, ln = res.get("ntk/loss_linear"), res.get("snapshots/loss")
    with_loss = ll is not None and ln is not None
    lam = res.get("ntk/eigenvalues_closed")
    fig, axes, runs, more = run_panels(res, "ntk/projection", PROJECTION_TITLE,
                                       w=4.6, h=4.4)
    if runs is None:
        return fig
    if with_loss:   # a loss panel under each projection panel
        pyplot().close(fig)
        plt = pyplot()
        ncols = min(3, len(runs))
        nrows = math.ceil(len(runs) / ncols)
        fig, grid = plt.subplots(
            2 * nrows, ncols, figsize=(4.6 * ncols, 7.4 * nrows),
            squeeze=False, gridspec_kw=dict(height_ratios=[1.3, 1] * nrows))
        axes, loss_axes = [], []
        for k in range(nrows * ncols):
            r, c = divmod(k, ncols)
            if k < len(runs):
                axes.append(grid[2 * r, c])
                loss_axes.append(grid[2 * r + 1, c])
            else:
                grid[2 * r, c].set_visible(False)
                grid[2 * r + 1, c].set_visible(False)
    for ax, (p, (w, s)) in zip(axes, runs):
        rows, _, time = snapshot_rows(res, p, w, s)
        for j in range(min(NTK_COMPONENTS, pr.shape[-1])):
            col = PEAK_COLORS[j % 8]
            lab = f"component {j + 1}"
            if lam is not None and math.isfinite(lam[p, w, s][j]):
                lab += f" (λ = {lam[p, w, s][j]:.3g})"
            ax.plot(time, np.abs(np.asarray(pr[p, w, s][rows, j], float)),
                    color=col, lw=1.4, label=lab, gid=f"proj:{p}:{j}")
            if pl is not None:
                ax.plot(time, np.abs(np.asarray(pl[p, w, s][rows, j],
                                                float)),
                        color=col, lw=1.1, ls="--", gid=f"projlin:{p}:{j}")
        solid = np.abs(np.asarray(pr[p, w, s][rows][:, :NTK_COMPONENTS],
                                  float))
        solid = solid[np.isfinite(solid) & (solid > 0)]
        if len(solid):   # the linear theory decays to 1e-300: clip
            ax.set_ylim(bottom=solid.min() / 100, top=solid.max() * 3)
        _symlog_time(ax, time)
        check_panel(ax, np.abs(np.asarray(pr[p, w, s], float)[rows][
            :, :NTK_COMPONENTS]), "|projection|", log="y")
        ax.set_xlabel("flow time t (log; 0 at the left)")
        ax.set_ylabel("|⟨f − y, v_j⟩|")
        ax.set_title(_run_title(res, p, w, s), fontsize=8.5)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        # under the panel: inside, it hides the decay it describes and the
        # panel's notes
        legend_below(ax, ncol=2, columnspacing=1.0, handlelength=1.6)
    if with_loss:
        for ax, (p, (w, s)) in zip(loss_axes, runs):
            rows, _, time = snapshot_rows(res, p, w, s)
            net = np.asarray(ln[p, w, s], float)[rows]
            lin = np.asarray(ll[p, w, s], float)[rows]
            ax.plot(time, net, color="black", lw=1.5, gid=f"loss_net:{p}",
                    label="trained network (/snapshots/loss)")
            ax.plot(time, lin, color="#D55E00", lw=1.3, ls="--",
                    gid=f"loss_lin:{p}", label="linear theory (loss_linear)")
            _symlog_time(ax, time)
            check_panel(ax, np.concatenate([net, lin]), "loss", log="y")
            d = loss_agreement(net, lin)
            ax.set_title("loss: largest |L_net / L_lin − 1| = "
                         + (f"{100 * d:.3g}%" if math.isfinite(d) else "-"),
                         fontsize=8.5)
            ax.set_xlabel("flow time t (log; 0 at the left)")
            ax.set_ylabel("training loss")
            ax.grid(alpha=0.25, which="both", lw=0.4)
            ax.legend(fontsize=LEGEND_FONT, frameon=True, framealpha=0.8,
                      edgecolor="none", loc="lower left")
    _suptitle(fig, f"{PROJECTION_TITLE}"
                 f"{os.path.basename(res.path)}: trained network (solid) and "
                 "linear theory (dashed), largest eigenvalue first"
                 + ("; below: the losses" if with_loss else "")
                 + (f"; {more} more points not shown" if more else ""))
    fig.tight_layout()
    return fig


def _symlog_time(ax, time):
    """A log time axis that still shows t = 0 (at the left)."""
    pos = time[np.isfinite(time) & (time > 0)] if time is not None \
        else np.array([])
    ax.set_xscale("symlog", linthresh=float(pos.min()) if len(pos) else 1.0)
    ax.set_xlim(left=0)


TEST_CURVES = [  # dataset, gid prefix, label, style
    ("test/output", "net", "trained network", dict(color="#D55E00", lw=1.8)),
    ("ntk/test_prediction", "kernel", "kernel regression (Θ_∞)",
     dict(color="#0072B2", lw=1.3, ls="--")),
    ("ntk/test_lfp", "lfp", "LFP minimizer",
     dict(color="#009E73", lw=1.2, ls="-.")),
    ("ntk/test_spline", "spline", "cubic spline",
     dict(color="#CC79A7", lw=1.1, ls=":")),
    ("ntk/test_pwl", "pwl", "piecewise linear",
     dict(color="#E69F00", lw=1.0, ls=(0, (5, 2, 1, 2)))),
]


def fig_test_curves(res):
    """1-D test set: one panel per point (chosen run): the training points
    (scatter gid 'train:<p>'), the target /data/y_test (gid 'target:<p>'),
    the trained network /test/output (gid 'net:<p>'), kernel regression
    /ntk/test_prediction ('kernel:<p>'), LFP ('lfp:<p>'), spline
    ('spline:<p>'), piecewise linear ('pwl:<p>'), all against x_test sorted.
    None unless the data are 1-D with a test set and at least one curve."""
    x, y = res.get("data/x"), res.get("data/y")
    xt, yt = res.get("data/x_test"), res.get("data/y_test")
    if x is None or y is None or xt is None:
        return None
    if np.asarray(x).reshape(len(y), -1).shape[1] != 1:
        return None
    curves = [c for c in TEST_CURVES if res.get(c[0]) is not None]
    if not curves:
        return None
    xt = np.asarray(xt, float).ravel()
    order = np.argsort(xt, kind="stable")
    fig, axes, runs, more = run_panels(res, curves[0][0], TEST_CURVES_TITLE,
                                       w=4.6, h=4.6)
    if runs is None:
        return fig
    for ax, (p, (w, s)) in zip(axes, runs):
        if yt is not None:
            ax.plot(xt[order], np.asarray(yt, float).ravel()[order],
                    color="black", lw=2.6, alpha=0.25, label="target (test)",
                    gid=f"target:{p}")
        ys = [np.asarray(res.get(name)[p, w, s], float)[order]
              for name, _, _, _ in curves]
        for y_, (name, gid, lab, style) in zip(ys, curves):
            ax.plot(xt[order], y_, label=lab, gid=f"{gid}:{p}", **style)
        check_panel(ax, ys, "test-curve")
        sc = ax.scatter(np.asarray(x, float).ravel(),
                        np.asarray(y, float).ravel(), s=22, color="black",
                        zorder=5, label="training points")
        sc.set_gid(f"train:{p}")
        extra = []
        for key, short in (("runs/test_rel_error", "test rel. error"),
                           ("ntk/lfp_error", "|f−LFP|/|LFP|")):
            a = res.get(key)
            if a is not None and math.isfinite(a[p, w, s]):
                extra.append(f"{short} {a[p, w, s]:.3g}")
        ax.set_title(_run_title(res, p, w, s)
                     + ("\n" + ", ".join(extra) if extra else ""),
                     fontsize=8.5)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.grid(alpha=0.25, lw=0.4)
        # under the panel: the curves fill it (a sines target)
        legend_below(ax, ncol=2, columnspacing=1.0)
    _suptitle(fig, f"{TEST_CURVES_TITLE}{os.path.basename(res.path)}: "
                 "the trained "
                 "network against the linear theories"
                 + (f"; {more} more points not shown" if more else ""))
    fig.tight_layout()
    return fig


def targets_are_signs(res):
    """True when every target (test set if any, else training) is +-1."""
    y = res.get("data/y_test")
    if y is None:
        y = res.get("data/y")
    if y is None or np.size(y) == 0:
        return False
    return bool(np.all(np.isin(np.asarray(y, float), (-1.0, 1.0))))


def test_axis(res):
    """(x values, tick labels or None, x label) of the test-error figure:
    gamma when the points have distinct gammas, else the point index with
    the point names as ticks."""
    g = res.gamma
    if res.P and len(set(np.round(g, 12))) == res.P and \
            np.isfinite(g).all():
        return g.astype(float), None, "γ (gamma)"
    return np.arange(res.P, dtype=float), [res.point_name(p) for p in
                                           range(res.P)], "point"


def fig_test_error(res):
    """Test-set error against gamma (or the point) per width: one line per
    width (gid 'test_rel_error:<w>', geometric mean over the seeds; y at
    each point), dots for the runs; a second panel with test_accuracy (gid
    'test_accuracy:<w>', mean over seeds) when the targets are +-1.  None
    without /runs/test_rel_error."""
    rel = res.get("runs/test_rel_error")
    if rel is None:
        return None
    acc = res.get("runs/test_accuracy") if targets_are_signs(res) else None
    xs, ticks, xlab = test_axis(res)
    order = np.argsort(xs, kind="stable")
    fig, axes = _subplots(2 if acc is not None else 1, w=6.0, h=4.2)
    plt = pyplot()
    cmap = plt.get_cmap("viridis")
    for ax, (key, arr, logy) in zip(axes, (("test_rel_error", rel, True),
                                           ("test_accuracy", acc, False))):
        for w in range(res.W):
            col = cmap(w / max(res.W - 1, 1) * 0.9)
            ys = []
            for p in range(res.P):
                v = np.asarray(arr[p, w], float)
                v = v[np.isfinite(v) & (res.status[p, w] != NOT_RUN)]
                if logy:
                    v = v[v > 0]
                    ys.append(float(v[0]) if len(v) == 1 else
                              math.exp(np.log(v).mean()) if len(v)
                              else math.nan)
                else:
                    ys.append(float(v.mean()) if len(v) else math.nan)
                if len(v) > 1:
                    ax.scatter(np.full(len(v), xs[p]), v, s=9, color=col,
                               alpha=0.5, lw=0)
            ys = np.array(ys)
            ax.plot(xs[order], ys[order], color=col, marker="o", ms=5,
                    lw=1.3, gid=f"{key}:{w}", label=f"m = {res.width[w]}")
        done = np.asarray(arr, float)[res.status != NOT_RUN]
        check_panel(ax, done, key, log="y" if logy else "")
        ax.set_ylabel({"test_rel_error": "|f − y| / |y| on the test set",
                       "test_accuracy": "test accuracy (sign)"}[key])
        ax.set_xlabel(xlab)
        if ticks is not None:
            ax.set_xticks(xs)
            ax.set_xticklabels(ticks, rotation=30, ha="right", fontsize=7)
        elif any(res.label):   # gamma ticks at the points, schemes named
            ax.set_xticks(xs)
            ax.set_xticklabels([f"{xs[p]:g}" + (f"\n{res.label[p]}"
                                                if res.label[p] else "")
                                for p in range(res.P)], fontsize=7.5)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.legend(fontsize=LEGEND_FONT, frameon=False, title="width", title_fontsize=7)
        ax.set_title({"test_rel_error": "test relative error",
                      "test_accuracy": "test accuracy"}[key], fontsize=9)
    _suptitle(fig, f"Generalization — {os.path.basename(res.path)}: test error "
                 "against γ per width (small initialization, larger γ, "
                 "generalizes better?)")
    fig.tight_layout()
    return fig
