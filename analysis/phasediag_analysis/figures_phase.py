"""The figures of every result file: the phase diagram, RD against width,
the loss curves, the condensation scatter, and the generic preview of an
unknown /spectral or /ntk layout."""
import math
import os

import numpy as np

from .figures_common import (LEGEND_FONT, MARKERS, NOTE_FONT, _finite_range,
                             _panel_label, _pick_run, _regime_handles,
                             _subplots, _suptitle, check_panel, legend_below,
                             note_figure, panel_groups, point_label, pyplot)
from .io import CONVERGED, NOT_RUN, open_h5, status_name
from .theory import (CONDENSED, CRITICAL, LINEAR, REGIME_COLORS,
                     UNDETERMINED, boundary_lines, regime_color, regime_name)


def fig_phase_diagram(res):
    """Two views of the points in the (gamma', gamma) plane.  Left: colored
    by empirical regime, the theoretical boundary, rings where the regime
    disagrees with theory, the named schemes labelled.  Right: colored by
    the RD slope itself on a diverging map centred on 0 (a threshold view
    shows +0.15 and +0.99 alike; the slope's size says how far into its
    regime a point is), the boundary, and the band of the critical regime
    marked on the color bar.  Artists for checks: the scatter with gid
    'points' (offsets (gamma', gamma), facecolors by regime), the scatter
    with gid 'disagree', the lines with gid 'boundary' (left panel); the
    scatter with gid 'slopes' (offsets (gamma', gamma), array = the finite
    slopes) and 'no_slope' (points without one) on the right."""
    plt = pyplot()
    ph = res.phase
    x, y = res.gamma_prime, res.gamma
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13.0, 5.6),
                                  gridspec_kw=dict(width_ratios=(1, 1)))
    fin = np.isfinite(x) & np.isfinite(y)
    xmin, xmax = _finite_range(x[fin])
    ymin, ymax = _finite_range(y[fin])
    padx = max(0.25, 0.08 * (xmax - xmin))
    pady = max(0.25, 0.08 * (ymax - ymin))
    xlo, xhi = min(xmin, 0) - padx, max(xmax, 0) + padx
    ylo, yhi = min(ymin, 1) - pady, max(ymax, 1) + pady
    # theory regions, lightly shaded
    xs = np.linspace(xlo, xhi, 200)
    b = np.maximum(1.0, xs + 1.0)
    ax.fill_between(xs, ylo, np.minimum(b, yhi), color=REGIME_COLORS[LINEAR],
                    alpha=0.07, lw=0, zorder=0)
    ax.fill_between(xs, np.minimum(b, yhi), yhi,
                    color=REGIME_COLORS[CONDENSED], alpha=0.07, lw=0, zorder=0)
    for a in (ax, ax2):
        for i, (bx, by) in enumerate(boundary_lines(xlo, xhi)):
            a.plot(bx, by, color="black", lw=1.6, zorder=1, gid="boundary",
                   label="critical boundary (theory)" if i == 0 else None)

    size = float(np.clip(4500.0 / max(res.P, 1), 25, 120))
    colors = [regime_color(r) for r in ph["regime"]]
    sc = ax.scatter(x, y, s=size, c=colors, edgecolors="white",
                    linewidths=0.6, zorder=3)
    sc.set_gid("points")
    bad = ph["verdict"] & ~ph["agree"]  # no ring without a verdict
    dis = ax.scatter(x[bad], y[bad], s=size * 2.6, facecolors="none",
                     edgecolors="black", linewidths=1.6, zorder=4)
    dis.set_gid("disagree")

    # slopes under the grid points, scheme names (with slopes) beside them
    small = res.P <= 80
    groups = {}
    for p in range(res.P):
        groups.setdefault((round(float(x[p]), 9), round(float(y[p]), 9)),
                          []).append(p)
    for (px, py), members in groups.items():
        grid_pts = [p for p in members if not res.label[p]]
        named = [p for p in members if res.label[p]]
        if small and grid_pts:
            s = ph["slope"][grid_pts[0]]
            ax.annotate(f"{s:+.2f}" if math.isfinite(s) else "nan",
                        (px, py), xytext=(0, -10), textcoords="offset points",
                        ha="center", va="top", fontsize=7.5, color="0.25")
        if named:
            # name and slope on two lines: one line is wider than the
            # space to the next grid point
            txt = "\n".join(
                f"{res.label[p]}" + (f"\n{ph['slope'][p]:+.2f}" if small and
                                     math.isfinite(ph["slope"][p]) else "")
                for p in named)
            for a in (ax, ax2):
                # right of the point, starting level with it: below the
                # point is its own slope, above it the slope of the point
                # above
                a.annotate(txt, (px, py), xytext=(10, 4),
                           textcoords="offset points", fontsize=7.5,
                           ha="left", va="top", gid="scheme_label",
                           bbox=dict(boxstyle="round,pad=0.2", fc="white",
                                     ec="0.6", alpha=0.85), zorder=5,
                           annotation_clip=True)
    for a in (ax, ax2):
        a.set_xlim(xlo, xhi)
        a.set_ylim(ylo, yhi)
        a.set_xlabel("γ'  (gamma_prime: β₁ = β₂ m^-γ')")
        a.set_ylabel("γ  (gamma: α = β₁β₂ m^γ)")
        a.grid(alpha=0.25, lw=0.5)
    nagree, nclass = int(ph["agree"].sum()), int(ph["verdict"].sum())
    if res.W < 2:
        verdict = "no classification (one width per point)"
    elif nclass == res.P:
        verdict = f"{nagree} of {res.P} points agree with the theorem"
    else:
        verdict = (f"{nagree} of {nclass} classified points agree with the "
                   "theorem")
    ax.set_title(f"empirical regime: {verdict}", fontsize=9)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    extra = [Line2D([], [], color="black", lw=1.6,
                    label="critical boundary (theory)"),
             Patch(fc=REGIME_COLORS[LINEAR], alpha=0.15,
                   label="linear region (theory)"),
             Patch(fc=REGIME_COLORS[CONDENSED], alpha=0.15,
                   label="condensed region (theory)"),
             Line2D([], [], ls="", marker="o", ms=10, mfc="none", mec="black",
                    mew=1.6, label="disagrees with theory")]
    # below the panel: inside it would hide points of a full grid
    ax.legend(handles=_regime_handles(extra), loc="upper center",
              bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=LEGEND_FONT,
              frameon=False, columnspacing=1.2, handletextpad=0.4)
    _slope_view(res, ax2, size, band=res.band)
    warn = []
    if res.phase_source != "file":
        warn.append(f"regimes {res.phase_source} by the analysis (see notes)")
    if res.not_run:
        warn.append(f"partial scan: {res.not_run} of {res.status.size} runs "
                    "not run")
    if not fin.all():   # (gamma', gamma) not finite: the point is not drawn
        check_panel(ax, np.where(fin, 0.0, np.nan), "grid point",
                    why="/grid/gamma and /grid/gamma_prime are not finite")
    if warn:
        ax.text(0.5, 0.01 if fin.all() else 0.06, "; ".join(warn),
                transform=ax.transAxes, ha="center", va="bottom",
                fontsize=NOTE_FONT, color="crimson", gid="warning")
    _suptitle(fig, f"Phase diagram — {os.path.basename(res.path)}"
              + ("  (numbers: RD slope d log RD / d log m)" if small else ""),
              fontsize=10)
    fig.tight_layout()
    return fig


def _slope_view(res, ax, size, band):
    """The right panel of the phase diagram: the points colored by their RD
    slope (diverging map, 0 white, linear side blue and condensed side red
    as the regime colors), points without a slope as grey crosses, a color
    bar with the critical band +-band marked."""
    from matplotlib.colors import TwoSlopeNorm
    ph = res.phase
    x, y, s = res.gamma_prime, res.gamma, np.asarray(ph["slope"], float)
    where = np.isfinite(x) & np.isfinite(y)
    ok = np.isfinite(s) & where
    # each side of 0 scaled to its own largest slope: condensed slopes are
    # much smaller than the steepest linear ones (+1 against -3), and one
    # symmetric scale would leave every condensed point pale; at least
    # twice the band, so the critical band is a pale stripe
    b2 = 2 * band if math.isfinite(band) and band > 0 else 0.2
    lo = min(-b2, float(s[ok].min()) if ok.any() else -1.0)
    hi = max(b2, float(s[ok].max()) if ok.any() else 1.0)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=lo, vmax=hi)
    sc = ax.scatter(x[ok], y[ok], c=s[ok], cmap="RdBu_r", norm=norm,
                    s=size, edgecolors="0.35", linewidths=0.6, zorder=3)
    sc.set_gid("slopes")
    nos = ax.scatter(x[~ok & where], y[~ok & where], marker="x",
                     s=size * 0.5, color=REGIME_COLORS[UNDETERMINED],
                     zorder=3, label="no slope")
    nos.set_gid("no_slope")
    cb = ax.figure.colorbar(sc, ax=ax, fraction=0.06, pad=0.02)
    cb.ax.tick_params(labelsize=8)
    label = "RD slope d log RD / d log m"
    if math.isfinite(band):
        for v in (-band, band):
            cb.ax.axhline(v, color="black", lw=0.9, ls="--")
        label += f"  (dashed: critical band ±{band:g})"
    cb.set_label(label, fontsize=8.5)
    ax.set_title("RD slope: blue falls with width (linear), red grows "
                 "(condensed)", fontsize=9)
    if (~ok).any():
        ax.legend(loc="upper right", fontsize=LEGEND_FONT, framealpha=0.85,
                  edgecolor="none")


def fig_rd_width(res):
    """RD = |theta_w(t*) - theta_w(0)| / |theta_w(0)| against width m,
    log-log, one line per grid point (geometric mean over the converged
    seeds; gid 'rd:<p>'), the individual runs as dots, the fit with the
    slope of /phase dashed (gid 'fit:<p>').  None without /runs/rd_w."""
    if "rd_w" not in res.runs:
        return None
    ph = res.phase
    groups = panel_groups(res)
    fig, axes = _subplots(len(groups), h=_legend_panel_height(groups))
    rd = res.runs["rd_w"]
    for ax, (title, pts) in zip(axes, groups):
        scheme_panel = title == "named schemes"
        for i, p in enumerate(pts):
            col = regime_color(ph["regime"][p])
            mk = MARKERS[i % len(MARKERS)]
            ws, vs = res.valid_runs(p)
            mean = []
            for w in res.width:
                sel = vs[ws == w]
                mean.append(math.exp(np.log(sel).mean()) if len(sel)
                            else math.nan)
            s, e = ph["slope"][p], ph["slope_stderr"][p]
            if math.isfinite(s):
                lab = (f"{_panel_label(res, p, scheme_panel)}: slope {s:+.3f}"
                       + (f" ± {e:.3f}" if math.isfinite(e) else ""))
            else:
                lab = f"{_panel_label(res, p, scheme_panel)}: no slope"
            ax.plot(res.width.astype(float), mean, color=col, marker=mk,
                    ms=5, lw=1.4, label=lab, gid=f"rd:{p}")
            if len(ws):
                ax.scatter(ws, vs, s=9, color=col, alpha=0.45, lw=0,
                           zorder=3)
            # finished but not converged runs: crosses, not in the fit
            other = (res.status[p] > CONVERGED) & np.isfinite(rd[p]) & \
                (rd[p] > 0)
            if other.any():
                wsx = np.broadcast_to(res.width[:, None], other.shape)[other]
                ax.scatter(wsx.astype(float), rd[p][other], s=22,
                           marker="x", color=col, alpha=0.7, lw=1, zorder=3)
            if math.isfinite(s) and len(ws) >= 2:
                lx = np.log(ws)
                c = np.log(vs).mean() - s * lx.mean()
                xx = np.array([ws.min(), ws.max()])
                ax.plot(xx, np.exp(c + s * np.log(xx)), color=col, ls="--",
                        lw=0.9, alpha=0.8, gid=f"fit:{p}")
        done = np.concatenate([rd[p][res.status[p] != NOT_RUN] for p in pts])
        check_panel(ax, done, "RD", log="xy", why=_rd_why(done))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.set_xlabel("width m")
        ax.set_ylabel("RD of w at t*")
        _legend_below(ax)
    _suptitle(fig, f"Relative distance RD against width — "
                 f"{os.path.basename(res.path)}  (line: geometric mean of "
                 "converged seeds, dots: runs, x: not converged, dashed: fit; "
                 "color: empirical regime)"
                 + (f"\npartial scan: {res.not_run} of {res.status.size} runs "
                    "not run" if res.not_run else ""))
    fig.tight_layout()
    return fig


def _legend_panel_height(groups):
    """Height (inches) of a panel with its legend below it (_legend_below):
    the plot, plus one line of legend per point of the fullest panel."""
    n = max((len(pts) for _, pts in groups), default=1)
    return 3.3 + 0.17 * n


def _legend_below(ax):
    legend_below(ax, handlelength=2.2)


def _rd_why(rd):
    """Why no run of a panel has RD > 0 (rd: the finished runs' RD)."""
    rd = np.asarray(rd, float)
    if not rd.size:
        return "no run of these points finished (not run)"
    if np.all(rd == 0):
        return ("no run has RD > 0: the input weights never moved (widths "
                "too small to train? all ReLUs inactive?)")
    if not np.isfinite(rd).any():
        return "no run has a finite RD: the runs diverged?"
    return ""


def loss_time_scale(res, runs):
    """The factor each drawn run's flow time is multiplied by: /runs/
    lambda_max (the run's estimate of the Gram matrix's largest eigenvalue)
    when every run in `runs` [(p, w, s)] has a finite positive one, else 1
    for all.  1/lambda_max is the natural time scale of the flow (the
    fastest mode's): points of a scan differ in it by many decades (alpha
    and beta scale with m^gamma and m^-gamma'), and in its units the curves
    of a panel share one axis (t* lambda_max is about the number of gd
    steps).  Returns ({(p, w, s): factor}, scaled: bool)."""
    lm = res.runs.get("lambda_max")
    vals = {r: (float(lm[r]) if lm is not None else math.nan) for r in runs}
    scaled = bool(runs) and all(math.isfinite(v) and v > 0
                                for v in vals.values())
    return {r: (vals[r] if scaled else 1.0) for r in runs}, scaled


def fig_loss_curves(res):
    """Training loss against flow time (log-log) from /history, one line per
    point (gid 'loss:<p>') at the largest width with a record, tol dashed.
    The flow time is in units of 1/lambda_max when every drawn run has
    /runs/lambda_max (loss_time_scale; x = lambda_max t), else as stored.
    None without /history."""
    if "loss" not in res.history or "time" not in res.history:
        return None
    ph = res.phase
    loss, time = res.history["loss"], res.history["time"]
    groups = panel_groups(res)
    step = res.history.get("step")
    picked = {p: _pick_run(res, p, loss) for p in range(res.P)}
    factor, scaled = loss_time_scale(
        res, [(p, *ws) for p, ws in picked.items() if ws is not None])
    fig, axes = _subplots(len(groups), h=_legend_panel_height(groups))
    for ax, (title, pts) in zip(axes, groups):
        scheme_panel = title == "named schemes"
        drawn = []   # the loss values of the records drawn
        bad_t = 0    # records whose flow time the log axis cannot show
        for i, p in enumerate(pts):
            col = regime_color(ph["regime"][p])
            ws = picked[p]
            lab = _panel_label(res, p, scheme_panel)
            if ws is None:
                ax.plot([], [], color=col, label=f"{lab}: no history",
                        gid=f"loss:{p}")
                continue
            w, s = ws
            t, l = time[p, w, s] * factor[p, w, s], loss[p, w, s]
            ok = np.isfinite(t) & np.isfinite(l) & (t > 0) & (l > 0)
            # records: rows with a step (padding is NaN) but the initial
            # one at t = 0, which the log time axis cannot show
            rec = np.isfinite(step[p, w, s] if step is not None else t)
            rec[:1] &= ~(t[:1] == 0)
            t_ok = np.isfinite(t) & (t > 0)
            drawn.append(l[rec & t_ok])
            bad_t += int((rec & ~t_ok).sum())
            if w != res.W - 1 or s != 0:
                lab += f" (m={res.width[w]}, seed {res.seed[s]})"
            if res.status[p, w, s] != CONVERGED:
                lab += " " + status_name(res.status[p, w, s],
                                         res.status_names)
            ax.plot(t[ok], l[ok], color=col, lw=1.3,
                    marker=MARKERS[i % len(MARKERS)], ms=3, markevery=4,
                    label=lab, gid=f"loss:{p}")
        ax.axhline(res.tol, color="0.4", ls="--", lw=0.8, gid="tol")
        check_panel(ax, np.concatenate(drawn or [[]]), "loss", log="xy",
                    why=(f"{bad_t} records have a flow time t <= 0 or NaN"
                         if bad_t else "" if drawn else "no finite loss in "
                         "/history for these points (runs diverged or not "
                         "run?)"))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        ax.set_xlabel("λ_max · t  (flow time in units of 1/λ_max)" if scaled
                      else "flow time t (sum of accepted steps)")
        ax.set_ylabel("training loss")
        _legend_below(ax)
    mw = f"m = {res.width[-1]}, seed {res.seed[0]}" if res.W and res.S else ""
    _suptitle(fig, f"Loss curves — {os.path.basename(res.path)}  ({mw} unless "
                 f"noted; dashed: tol = {res.tol:g}; color: empirical "
                 "regime; "
              + ("time in units of each run's 1/λ_max, the inverse of the "
                 "largest eigenvalue of its Gram matrix)" if scaled else
                 "flow time as stored: some run has no λ_max)"))
    fig.tight_layout()
    return fig


CONDENSATION_FEATURES = ("orientation0", "amplitude0", "orientation1",
                         "amplitude1")


def representative_points(res):
    """{regime: point} for each empirical regime present (0, 1, 2) with
    condensation features: prefer points that agree with the theory, then
    the farthest from the boundary, then grid points over schemes.  When no
    point with features has a regime (every slope NaN), one undetermined
    point: its neurons can still be drawn."""
    if not all(k in res.features for k in CONDENSATION_FEATURES):
        return {}
    ph = res.phase
    out = {}
    for r in (LINEAR, CRITICAL, CONDENSED, UNDETERMINED):
        if r == UNDETERMINED and out:
            break
        cands = []
        for p in range(res.P):
            if ph["regime"][p] != r:
                continue
            if _pick_run(res, p, res.features["amplitude1"]) is None:
                continue
            d = ph["boundary_distance"][p]
            cands.append((not ph["agree"][p],  # False also: no verdict
                          -(d if math.isfinite(d) else 0.0),
                          bool(res.label[p]), p))
        if cands:
            out[r] = min(cands)[3]
    return out


def fig_condensation(res):
    """Orientation against amplitude of the sampled neurons at t = 0 (top)
    and at t* (bottom), one column per empirical regime (representative
    point, widest run with features).  Scatter gids 'cond0:<p>' and
    'cond1:<p>'.  None without /features."""
    plt = pyplot()
    if not all(k in res.features for k in CONDENSATION_FEATURES):
        return None
    reps = representative_points(res)
    if not reps:
        return note_figure(
            f"Condensation — {os.path.basename(res.path)}",
            "nothing to draw: no run has a finite /features/amplitude1 "
            "(the neuron features are all NaN: runs diverged or not run?)")
    F = res.features
    fig, axes = plt.subplots(2, len(reps), figsize=(4.6 * len(reps), 6.6),
                             squeeze=False)
    for j, (r, p) in enumerate(sorted(reps.items())):
        w, s = _pick_run(res, p, F["amplitude1"])
        col = regime_color(r)
        for i, suffix in enumerate(("0", "1")):
            ax = axes[i, j]
            o = F["orientation" + suffix][p, w, s]
            a = F["amplitude" + suffix][p, w, s]
            ok = np.isfinite(o) & np.isfinite(a)
            # amplitudes relative to the panel's largest: raw amplitudes
            # run from 1e-5 to 1e10 across regimes and times (alpha and
            # beta scale with powers of m), and what the panel shows is how
            # the amplitude is shared among orientations
            amax = float(np.abs(a[ok]).max()) if ok.any() else math.nan
            rel = a / amax if math.isfinite(amax) and amax > 0 else a
            sc = ax.scatter(o[ok], rel[ok], s=14, color=col,
                            alpha=0.55 if suffix == "0" else 0.85, lw=0)
            sc.set_gid(f"cond{suffix}:{p}")
            lo = -math.pi if (ok.any() and np.nanmin(o[ok]) < 0) else 0.0
            ax.set_xlim(lo - 0.1, math.pi + 0.1)
            ticks = np.arange(lo, math.pi + 1e-9, math.pi / 2)
            ax.set_xticks(ticks)
            ax.set_xticklabels([_pi_label(t) for t in ticks])
            ax.set_ylim(min(0.0, _finite_range(rel[ok])[0]), 1.18)
            # sampled neurons (NaN in both: padding beyond the width)
            sampled = np.isfinite(o) | np.isfinite(a)
            check_panel(ax, np.where(ok, a, np.nan)[sampled], "neuron",
                        why="orientation or amplitude not finite")
            ax.grid(alpha=0.25, lw=0.4)
            cname = "condensation" + suffix
            neff = ""
            if cname in F and math.isfinite(F[cname][p, w, s]):
                neff = f", N_eff = {F[cname][p, w, s]:.3g}"
            ax.text(0.02, 0.97, ("t = 0" if suffix == "0" else "t = t*")
                    + neff + (f"; largest {amax:.3g}" if math.isfinite(amax)
                              else ""),
                    transform=ax.transAxes, va="top", fontsize=8,
                    bbox=dict(fc="white", ec="none", alpha=0.7))
            ax.set_xlabel("orientation (rad)")
            if j == 0:
                ax.set_ylabel("amplitude / largest of the panel")
        axes[0, j].set_title(
            f"{regime_name(r)}: {point_label(res, p)}\n"
            f"m = {res.width[w]}, seed {res.seed[s]}, "
            f"{int(np.isfinite(F['amplitude1'][p, w, s]).sum())} neurons"
            + ("" if res.status[p, w, s] == CONVERGED else
               f", {status_name(res.status[p, w, s], res.status_names)}"),
            fontsize=9, color=col)
    _suptitle(fig, f"Condensation — {os.path.basename(res.path)}: sampled "
                 "neurons, initial (top) and at t* (bottom); amplitude |a| "
                 "|(w, b)| relative to the panel's largest; orientation = "
                 "atan2(b, w) for d = 1")
    fig.tight_layout()
    return fig


def _pi_label(t):
    k = round(t / (math.pi / 2))
    return {-2: "-π", -1: "-π/2", 0: "0", 1: "π/2", 2: "π"}.get(k, f"{t:.2g}")


def fig_future_preview(res, group, max_panels=6):
    """Generic preview of a /spectral or /ntk group that holds none of the
    documented datasets (an unknown layout).  Deliberately layout-agnostic -- the
    only guess is none: each dataset is reduced to its first index along
    leading axes and drawn as a curve (1-D) or an image (2-D)."""
    items = res.future.get(group)
    if not items:
        return None
    items = items[:max_panels]
    fig, axes = _subplots(len(items), w=4.4, h=3.3)
    with open_h5(res.path) as f:
        for ax, (name, shape, dtype) in zip(axes, items):
            ds = f[name]
            ax.set_title(f"{name} {tuple(shape)}", fontsize=7)
            try:
                if ds.dtype.kind not in "fiub" or ds.size == 0:
                    raise TypeError(f"{dtype}: not drawn")
                idx = (0,) * max(ds.ndim - 2, 0)
                arr = np.asarray(ds[idx] if idx else ds[()], float)
                if arr.ndim == 0:
                    ax.text(0.5, 0.5, f"{arr:g}", ha="center",
                            transform=ax.transAxes)
                elif arr.ndim == 1:
                    ax.plot(arr, lw=1)
                else:
                    im = ax.imshow(arr, aspect="auto", origin="lower",
                                   interpolation="nearest")
                    fig.colorbar(im, ax=ax)
            except (TypeError, ValueError, OSError) as e:
                ax.text(0.5, 0.5, str(e), ha="center", va="center",
                        fontsize=7, transform=ax.transAxes)
    more = len(res.future[group]) - len(items)
    _suptitle(fig, f"/{group}: generic preview (none of the documented "
                 "datasets; "
                 "leading axes at index 0)"
                 + (f"; {more} more datasets not shown" if more > 0 else ""))
    fig.tight_layout()
    return fig
