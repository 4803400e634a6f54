"""The F-Principle figures (/spectral): 1-D DFT and projection method
(Delta_F per peak against the step), grid spectrum (relative error per
shell) and filtering method (e_low / e_high)."""
import math
import os

import numpy as np

from .figures_common import (LEGEND_FONT, NOTE_FONT, PEAK_COLORS,
                             _no_run_why, _points_for_panels, _run_title,
                             _runs_with_data, _subplots, _suptitle,
                             _verdict_text, check_panel, legend_below,
                             nothing_to_draw, pyplot, run_panels,
                             snapshot_rows)
from .summarize import grid_shells


def target_spectrum(res, method="dft"):
    """(k, |y^_k|) of the training target along the line of `method` as the
    binary computes it (src/observe/spectral.c): NUDFT sum_i y_i
    exp(-2 pi i k v_i / L), k = 0 .. nk - 1, L = (max v - min v) n / (n - 1),
    nk = [spectral] max_freq or n / 2; v = x (dft, 1-D) or the projection of
    x on its first principal component (projection).  None without /data."""
    x, y = res.get("data/x"), res.get("data/y")
    if x is None or y is None:
        return None
    x = np.asarray(x, float).reshape(len(y), -1)
    y = np.asarray(y, float).ravel()
    ok = np.isfinite(x).all(axis=1) & np.isfinite(y)   # NaN data: left out
    x, y = x[ok], y[ok]
    n = len(y)
    if n < 1:
        return None
    if method == "dft":
        v = x[:, 0]
    else:
        xc = x - x.mean(axis=0)
        ev, evec = np.linalg.eigh(xc.T @ xc)
        v = x @ evec[:, -1]
    lo, hi = float(v.min()), float(v.max())
    L = (hi - lo) * n / (n - 1) if n > 1 and hi > lo else 1.0
    try:
        nk = int(res.config.get("spectral", "max_freq", fallback="0"))
    except ValueError:
        nk = 0
    nk = nk if nk > 0 else n // 2
    nk = max(nk, 2)
    k = np.arange(nk, dtype=float)
    ph = 2 * math.pi * np.outer(k, v) / L
    amp = np.hypot(np.cos(ph) @ y, np.sin(ph) @ y)
    return k, amp


def _step_axis(ax, label="training step", last=None):
    ax.set_xscale("symlog", linthresh=1.0)
    if last is not None and math.isfinite(last) and last > 0:
        ax.set_xlim(0, last * 1.6)   # room for a marker at the last step
    else:
        ax.set_xlim(left=0)
    ax.set_xlabel(label + " (log; 0 at the left)")


def fig_fprinciple_line(res, method="dft"):
    """F-Principle along a line (method 'dft': the 1-D coordinate;
    'projection': the first principal component).  First panel: the
    target's |y^_k| (line gid 'spectrum') with the file's peaks (scatter
    gid 'peaks': offsets (frequency, target_amplitude) of the first drawn
    run).  Then one panel per point for its chosen run (chosen_run):
    Delta_F against the snapshot step, one line per peak (gid
    'delta:<p>:<j>', x = /snapshots/step, y = delta), the converged step
    marked (gid 'conv:<p>:<j>'), delta_tol dashed (gid 'delta_tol').
    None without /spectral/<method>/delta."""
    g = f"spectral/{method}"
    delta = res.get(f"{g}/delta")
    freq = res.get(f"{g}/frequency")
    if delta is None or freq is None or res.get("snapshots/step") is None:
        return None
    conv = res.get(f"{g}/converged_step")
    amp = res.get(f"{g}/target_amplitude")
    pts, more = _points_for_panels(res)
    runs = _runs_with_data(res, pts, f"{g}/delta")
    fig, axes = _subplots(1 + max(1, len(runs)), w=4.6, h=4.8)
    if not runs:   # the target's spectrum is still drawn
        nothing_to_draw(axes[1], _no_run_why(res, f"{g}/delta"))
    # the target's spectrum
    ax = axes[0]
    spec = target_spectrum(res, method)
    p0, (w0, s0) = runs[0] if runs else (0, (0, 0))
    if spec is not None:
        k, a = spec
        ax.plot(k, a, color="0.3", lw=1.0, marker=".", ms=3, gid="spectrum",
                label="|ŷ_k| of the target")
    fk = np.asarray(freq[p0, w0, s0], float)
    okp = np.isfinite(fk) & bool(runs)
    pa = (np.asarray(amp[p0, w0, s0], float)[okp] if amp is not None
          else np.full(okp.sum(), np.nan))
    sc = ax.scatter(fk[okp], pa, s=60, facecolors="none",
                    edgecolors=[PEAK_COLORS[j % 8] for j in
                                np.nonzero(okp)[0]], lw=1.6, zorder=4,
                    label="peaks (file)")
    sc.set_gid("peaks")
    for i, j in enumerate(np.nonzero(okp)[0]):
        if amp is not None and math.isfinite(amp[p0, w0, s0][j]):
            ax.annotate(f"k={fk[j]:g}", (fk[j], amp[p0, w0, s0][j]),
                        xytext=(5, 3 + 8 * (i % 3)),
                        textcoords="offset points",
                        fontsize=NOTE_FONT, color=PEAK_COLORS[j % 8])
    ax.set_xlabel("frequency k (cycles per period"
                  + (" of the projection)" if method == "projection" else ")"))
    ax.set_ylabel("|ŷ_k|")
    ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.12)
    ax.set_title("target spectrum" + (" along the first principal "
                                      "component" if method == "projection"
                                      else ""), fontsize=9)
    ax.legend(fontsize=LEGEND_FONT, frameon=False)
    ax.grid(alpha=0.25, lw=0.4)
    # Delta_F per run
    for ax, (p, (w, s)) in zip(axes[1:], runs):
        rows, steps, _ = snapshot_rows(res, p, w, s)
        fq = np.asarray(freq[p, w, s], float)
        for j in np.nonzero(np.isfinite(fq))[0]:
            d = np.asarray(delta[p, w, s][rows, j], float)
            col = PEAK_COLORS[j % 8]
            cs = float(conv[p, w, s][j]) if conv is not None else math.nan
            lab = f"k = {fq[j]:g}: " + (f"converged at step {cs:g}"
                                        if math.isfinite(cs) else "never")
            ax.plot(steps, d, color=col, lw=1.3, label=lab,
                    gid=f"delta:{p}:{j}")
            if math.isfinite(cs):
                at = np.nonzero(steps == cs)[0]
                yv = d[at[0]] if len(at) else res.delta_tol
                ax.plot([cs], [yv], ls="", marker="v", ms=9, mfc=col,
                        mec="black", mew=0.6, zorder=5,
                        gid=f"conv:{p}:{j}")
                ax.axvline(cs, color=col, lw=0.7, ls=":", alpha=0.8)
        ax.axhline(res.delta_tol, color="0.3", ls="--", lw=0.9,
                   gid="delta_tol", label=f"delta_tol = {res.delta_tol:g}")
        _step_axis(ax, last=steps.max() if len(steps) else None)
        check_panel(ax, np.asarray(delta[p, w, s], float)[rows][
            :, np.isfinite(fq)], "Δ_F", log="y",
            why="" if np.isfinite(fq).any() else "no peak frequency")
        ax.set_ylabel("Δ_F = ||ĥ_k| − |ŷ_k|| / |ŷ_k|")
        ax.set_title(_run_title(res, p, w, s) + "\n"
                     + _verdict_text(res, p, w, s,
                                     f"{g}/rank_correlation"), fontsize=8.5)
        # under the panel: inside, it hides the curves it describes
        legend_below(ax, ncol=2, columnspacing=1.0)
        ax.grid(alpha=0.25, which="both", lw=0.4)
    what = {"dft": "1-D DFT", "projection": "projection method"}[method]
    _suptitle(fig, f"F-Principle ({what}) — {os.path.basename(res.path)}: "
                 "Δ_F per peak against the step (▼: converged, Δ_F < "
                 f"delta_tol); ρ > 0.5: low frequencies first"
                 + (f"; {more} more points not shown" if more else ""))
    fig.tight_layout()
    return fig


def fig_fprinciple_dft(res):
    return fig_fprinciple_line(res, "dft")


def fig_fprinciple_projection(res):
    return fig_fprinciple_line(res, "projection")


GRID_TITLE = "F-Principle (grid spectrum) — "
FILTER_TITLE = "F-Principle (filtering method) — "


def fig_fprinciple_grid(res):
    """Grid spectrum: relative error per shell |k| against the step, one
    panel per point (chosen run), lines colored by |k| (gid
    'shell:<p>:<k>'), only shells with target power >= 1e-2 of the largest,
    the converged steps marked (gid 'shellconv:<p>:<k>'), delta_tol dashed.
    None without /spectral/grid/rel_error."""
    rel = res.get("spectral/grid/rel_error")
    if rel is None or res.get("spectral/grid/target_power") is None or \
            res.get("snapshots/step") is None:
        return None
    plt = pyplot()
    conv = res.get("spectral/grid/converged_step")
    fig, axes, runs, more = run_panels(res, "spectral/grid/rel_error",
                                       GRID_TITLE, w=5.0, h=4.8)
    if runs is None:
        return fig
    cmap = plt.get_cmap("viridis")
    shown = [k for p, (w, s) in runs for k in grid_shells(res, p, w, s)]
    norm = matplotlib_norm(min(shown, default=0),
                           max(max(shown, default=1), min(shown, default=0)
                               + 1))
    for ax, (p, (w, s)) in zip(axes, runs):
        rows, steps, _ = snapshot_rows(res, p, w, s)
        for k in grid_shells(res, p, w, s):
            col = cmap(norm(k))
            y = np.asarray(rel[p, w, s][rows, k], float)
            cs = float(conv[p, w, s][k]) if conv is not None else math.nan
            ax.plot(steps, y, color=col, lw=1.3, gid=f"shell:{p}:{k}",
                    label=f"|k| = {k}" + (f": step {cs:g}"
                                          if math.isfinite(cs) else ""))
            if math.isfinite(cs):
                at = np.nonzero(steps == cs)[0]
                ax.plot([cs], [y[at[0]] if len(at) else res.delta_tol],
                        ls="", marker="v", ms=9, mfc=col, mec="black",
                        mew=0.6, zorder=5, gid=f"shellconv:{p}:{k}")
        ax.axhline(res.delta_tol, color="0.3", ls="--", lw=0.9,
                   gid="delta_tol", label=f"delta_tol = {res.delta_tol:g}")
        _step_axis(ax, last=steps.max() if len(steps) else None)
        shells = grid_shells(res, p, w, s)
        check_panel(ax, np.asarray(rel[p, w, s], float)[rows][:, shells],
                    "relative error", log="y", why="" if shells else
                    "no shell has a target power > 0")
        ax.set_ylabel("relative error on the shell")
        ax.set_title(_run_title(res, p, w, s) + "\n" + _verdict_text(
            res, p, w, s, "spectral/grid/rank_correlation"), fontsize=8.5)
        legend_below(ax, ncol=2, columnspacing=1.0)
        ax.grid(alpha=0.25, which="both", lw=0.4)
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, label="|k| (shell)", pad=0.01)
    _suptitle(fig, f"{GRID_TITLE}{os.path.basename(res.path)}:"
                 " sqrt(Σ|H−Y|²/Σ|Y|²) per shell round(|k|) against the step,"
                 " shells with ≥ 1e-2 of the largest target power (▼: "
                 "converged)" + (f"; {more} more points not shown"
                                 if more else ""))
    fig.tight_layout()
    return fig


def matplotlib_norm(lo, hi):
    from matplotlib.colors import Normalize
    return Normalize(vmin=lo, vmax=hi)


def fig_fprinciple_filter(res):
    """Filtering method: e_low (solid, gid 'elow:<p>:<k>') and e_high
    (dashed, gid 'ehigh:<p>:<k>') against the step for each filter width
    delta_k, one panel per point (chosen run); converged steps marked (gids
    'lowconv:<p>:<k>', 'highconv:<p>:<k>'), delta_tol dashed.  None without
    /spectral/filter/e_low."""
    el, eh = res.get("spectral/filter/e_low"), res.get("spectral/filter/e_high")
    if el is None or eh is None or res.get("snapshots/step") is None:
        return None
    dl = res.get("spectral/filter/delta")
    cl = res.get("spectral/filter/converged_step_low")
    ch = res.get("spectral/filter/converged_step_high")
    fig, axes, runs, more = run_panels(res, "spectral/filter/e_low",
                                       FILTER_TITLE, w=4.6, h=4.8)
    if runs is None:
        return fig
    for ax, (p, (w, s)) in zip(axes, runs):
        rows, steps, _ = snapshot_rows(res, p, w, s)
        for k in range(el.shape[-1]):
            col = PEAK_COLORS[k % 8]
            dv = float(dl[p, w, s][k]) if dl is not None else math.nan
            for kind, arr, cc, ls in (("low", el, cl, "-"),
                                      ("high", eh, ch, "--")):
                y = np.asarray(arr[p, w, s][rows, k], float)
                cs = float(cc[p, w, s][k]) if cc is not None else math.nan
                ax.plot(steps, y, color=col, ls=ls, lw=1.3,
                        gid=f"e{kind}:{p}:{k}",
                        label=f"δ = {dv:g}, e_{kind}: " +
                        (f"step {cs:g}" if math.isfinite(cs) else "never"))
                if math.isfinite(cs):
                    at = np.nonzero(steps == cs)[0]
                    ax.plot([cs], [y[at[0]] if len(at) else res.delta_tol],
                            ls="", marker="v" if kind == "low" else "^",
                            ms=8, mfc=col, mec="black", mew=0.6, zorder=5,
                            gid=f"{kind}conv:{p}:{k}")
        ax.axhline(res.delta_tol, color="0.3", ls=":", lw=0.9,
                   gid="delta_tol", label=f"delta_tol = {res.delta_tol:g}")
        _step_axis(ax, last=steps.max() if len(steps) else None)
        check_panel(ax, [np.asarray(a[p, w, s], float)[rows]
                         for a in (el, eh)], "e_low / e_high", log="y")
        ax.set_ylabel("relative error of the filtered part")
        ax.set_title(_run_title(res, p, w, s) + "\n"
                     + _verdict_text(res, p, w, s), fontsize=8.5)
        # under the panel: inside, it hides the curves it describes
        legend_below(ax, ncol=2, columnspacing=1.0)
        ax.grid(alpha=0.25, which="both", lw=0.4)
    _suptitle(fig, f"{FILTER_TITLE}"
                 f"{os.path.basename(res.path)}: e_low (solid, low-pass "
                 "Gaussian of width δ) and e_high (dashed) against the step; "
                 "low frequencies first: e_low falls first"
                 + (f"; {more} more points not shown" if more else ""))
    fig.tight_layout()
    return fig
