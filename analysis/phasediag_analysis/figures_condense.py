"""The initial-condensation figure (/condensation, written with [features]
track = true): for one run of each point, the cosine matrix of the input-
weight directions of sampled neurons at t = 0 and at the end of the initial
stage as heat maps, and the orientation-cluster count of every width
against the training step."""
import os

import numpy as np

from .figures_common import (MAX_RUN_PANELS, _suptitle, chosen_run,
                             legend_below, nothing_to_draw, point_label,
                             pyplot, snapshot_rows)

COND_MATRICES = ("condensation/cosine0", "condensation/cosine_initial")
HEATMAP_GID = "cosine{k}:{p}"       # k: 0 (t = 0) or "i" (initial stage)


def neuron_order(cos_initial, amp_initial):
    """The order the heat maps show the neurons in (the same at both times,
    so that a row is one neuron): by cosine to the heaviest neuron at the
    end of the initial stage, largest first, so that the neurons on one
    orientation form a block and those on the opposite one the last block;
    ties (and NaN) by index."""
    c = np.asarray(cos_initial, float)
    n = c.shape[0]
    amp = np.asarray(amp_initial, float)
    ok = np.isfinite(amp)
    if not ok.any():
        return np.arange(n)
    lead = int(np.nanargmax(np.where(ok, amp, -np.inf)))
    key = np.where(np.isfinite(c[lead]), c[lead], -np.inf)
    return np.lexsort((np.arange(n), -key))


def condensed_matrix(res, name, p, w, s):
    """The matrix name ('condensation/cosine0' or '.../cosine_initial') of
    run (p, w, s), cut to the neurons sampled and in neuron_order: what the
    heat map shows (the tests compare it with the file)."""
    M = int(res.get("condensation/matrix_count", p, w, s))
    ci = np.asarray(res.get("condensation/cosine_initial", p, w, s))[:M, :M]
    ai = np.asarray(res.get("condensation/amplitude_initial", p, w, s))[:M]
    order = neuron_order(ci, ai)
    c = np.asarray(res.get(name, p, w, s), float)[:M, :M]
    return c[np.ix_(order, order)]


def _points(res):
    return [p for p in range(res.P)
            if chosen_run(res, p, "condensation/cosine_initial") is not None]


def fig_initial_condensation(res):
    """One row per point (at most MAX_RUN_PANELS): heat maps of the cosine
    matrix at t = 0 and at the end of the initial stage (gids 'cosine0:<p>',
    'cosinei:<p>'), then the cluster count against the step per width
    (gid 'clusters:<p>:<w>') with the initial stage's end marked.  None
    without /condensation."""
    if any(res.get(n) is None for n in COND_MATRICES + (
            "condensation/clusters", "condensation/initial_row")):
        return None
    plt = pyplot()
    pts = _points(res)
    title = (f"Initial condensation — {os.path.basename(res.path)}: cosine "
             "of the input-weight directions (w, b)/|(w, b)| of sampled "
             "neurons at t = 0 and at the end of the initial stage, and the "
             "orientation clusters of the neurons above the amplitude cut")
    if not pts:
        fig, ax = plt.subplots(figsize=(6, 3))
        nothing_to_draw(ax, "no run has a finite /condensation/"
                        "cosine_initial (runs not run or diverged?)")
        _suptitle(fig, title)
        fig.tight_layout()
        return fig
    pts = pts[:MAX_RUN_PANELS]
    # columns: the two heat maps, their color bar, the cluster counts
    fig, axes = plt.subplots(len(pts), 4, figsize=(13.6, 4.4 * len(pts)),
                             squeeze=False,
                             gridspec_kw=dict(width_ratios=[1, 1, 0.06,
                                                            1.3]))
    step_all = res.get("snapshots/step")
    for i, p in enumerate(pts):
        w, s = chosen_run(res, p, "condensation/cosine_initial")
        row = int(res.get("condensation/initial_row", p, w, s))
        cl = np.asarray(res.get("condensation/clusters", p, w, s), float)
        im = None
        for j, (name, k, when) in enumerate((
                (COND_MATRICES[0], "0", "t = 0"),
                (COND_MATRICES[1], "i", "end of the initial stage"))):
            ax = axes[i, j]
            c = condensed_matrix(res, name, p, w, s)
            im = ax.imshow(c, cmap="RdBu_r", vmin=-1, vmax=1,
                           interpolation="nearest")
            im.set_gid(HEATMAP_GID.format(k=k, p=p))
            r = 0 if k == "0" else row
            step = (int(step_all[p, w, s][r]) if step_all is not None
                    else r)
            ax.set_title(f"{point_label(res, p)}, m = {res.width[w]}\n"
                         f"{when} (step {step}): "
                         f"{int(cl[r])} clusters", fontsize=9)
            ax.set_xlabel("neuron (by cosine to the heaviest)",
                          fontsize=8)
            ax.tick_params(labelsize=8)
            if j == 0:
                ax.set_ylabel("neuron", fontsize=8)
        cb = fig.colorbar(im, cax=axes[i, 2])
        cb.set_label("cosine", fontsize=8)
        cb.ax.tick_params(labelsize=8)
        ax = axes[i, 3]
        for wi in range(res.W):
            rows, steps, _ = snapshot_rows(res, p, wi, s)
            if rows is None or not len(rows):
                continue
            c = np.asarray(res.get("condensation/clusters", p, wi, s),
                           float)[rows]
            ok = c >= 0
            line, = ax.plot(np.maximum(steps[ok], 0.5), c[ok], "-o", ms=2.5,
                            lw=1.1, label=f"m = {res.width[wi]}")
            line.set_gid(f"clusters:{p}:{wi}")
            ir = int(res.get("condensation/initial_row", p, wi, s))
            if 0 <= ir < len(steps) and ir in rows:
                k = int(np.nonzero(rows == ir)[0][0])
                ax.plot([max(steps[k], 0.5)], [c[k]], marker="*", ms=9,
                        color=line.get_color(), ls="")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training step (step 0 drawn at 0.5)", fontsize=8)
        ax.set_ylabel("orientation clusters", fontsize=8)
        ax.set_title("clusters per snapshot (★: end of the initial stage)",
                     fontsize=9)
        ax.grid(alpha=0.25, lw=0.4)
        if ax.get_lines():
            legend_below(ax, ncol=min(4, res.W), gap_pt=30)
        else:
            nothing_to_draw(ax, "no snapshot rows")
        ax.tick_params(labelsize=8)
    _suptitle(fig, title)
    fig.tight_layout()
    return fig
