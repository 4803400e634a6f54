"""The figure list (FIGURES: name, title, builder, caption) and
make_figures, which draws every figure a file allows into a directory.

The figure functions live in figures_phase, figures_fprinciple and
figures_ntk (each returns a matplotlib Figure, or None when its datasets
are absent); they and the empty-data helpers of figures_common are
re-exported here.  make_figures reads the module attribute FIGURES at each
call, so a caller (a test) may replace it.
"""
import os

from .figures_condense import fig_initial_condensation
from .figures_common import (NOTE_GIDS, check_panel, chosen_run,
                             describe_values, figure_notes, note_figure,
                             nothing_to_draw, positive, pyplot)
from .figures_fprinciple import (fig_fprinciple_dft, fig_fprinciple_filter,
                                 fig_fprinciple_grid, fig_fprinciple_line,
                                 fig_fprinciple_projection, target_spectrum)
from .figures_ntk import (NTK_COMPONENTS, fig_ntk_projection, fig_ntk_width,
                          fig_test_curves, fig_test_error, loss_agreement,
                          targets_are_signs)
from .figures_phase import (fig_condensation, fig_future_preview,
                            fig_loss_curves, fig_phase_diagram, fig_rd_width,
                            loss_time_scale, representative_points)
from .result import FUTURE_GROUPS

__all__ = [
    "FIGURES", "make_figures", "supported_formats", "absent_future_notes",
    # the figure functions
    "fig_phase_diagram", "fig_rd_width", "fig_loss_curves",
    "fig_condensation", "fig_future_preview", "fig_fprinciple_line",
    "fig_fprinciple_dft", "fig_fprinciple_projection", "fig_fprinciple_grid",
    "fig_fprinciple_filter", "fig_ntk_width", "fig_ntk_projection",
    "fig_test_curves", "fig_test_error", "fig_initial_condensation",
    # what they use that callers (tests) check
    "representative_points", "target_spectrum", "targets_are_signs",
    "chosen_run", "NTK_COMPONENTS", "loss_agreement", "loss_time_scale",
    # empty, zero, negative and NaN data
    "NOTE_GIDS", "positive", "describe_values", "nothing_to_draw",
    "check_panel", "note_figure", "figure_notes", "pyplot",
]


# name, title, builder, caption (also the README's figure list)
FIGURES = [
    ("phase_diagram", "Phase diagram", fig_phase_diagram,
     "Left: every grid point in the (γ', γ) plane (x = γ', y = γ) colored "
     "by its empirical regime (blue linear, green critical, vermillion "
     "condensed, grey undetermined). Black line: the theoretical critical "
     "boundary (γ = 1 for γ' ≤ 0, γ' = γ − 1 for γ ≥ 1), light shading: the "
     "theoretical linear (below) and condensed (above) regions. A black ring "
     "marks a point whose empirical regime disagrees with the theorem; the "
     "numbers are the RD slopes; named schemes are labelled. Right: the "
     "same points colored by the RD slope itself (diverging map, white at "
     "0, blue negative, red positive, each side scaled to its largest "
     "slope; the critical band ±band dashed on the color bar), so that a "
     "slope of +0.15 and one of +0.99, the same regime on the left, look "
     "different."),
    ("rd_width", "RD against width", fig_rd_width,
     "Relative distance RD = |θ_w(t*) − θ_w(0)| / |θ_w(0)| against the width "
     "m, log-log, one panel per γ (plus one for the named schemes), one line "
     "per point (geometric mean over the converged seeds; dots: single runs; "
     "crosses: runs that did not converge, left out of the fit; dashed: the "
     "fit), colored by its empirical regime. The legend under each panel "
     "gives the slope d log RD / d log m ± its standard error: about −1/2 "
     "for NTK scaling, about 0 on the critical lines, positive where the "
     "neurons condense."),
    ("loss_curves", "Loss curves", fig_loss_curves,
     "Training loss from /history for the widest run of each point against "
     "λ_max · t, the flow time in units of the run's 1/λ_max (/runs/"
     "lambda_max, the largest eigenvalue of its Gram matrix, the flow's "
     "fastest rate): the points of a scan differ in their time scale by "
     "many decades (α and β scale with m^γ and m^−γ'), in these units "
     "their curves share one axis (with gradient descent, λ_max · t is about "
     "the number of steps). Without λ_max for every run, the flow time as "
     "stored. The dashed line is the stopping tolerance tol."),
    ("condensation", "Condensation", fig_condensation,
     "Orientation against amplitude of the sampled neurons at t = 0 (top) "
     "and at t* (bottom) for one representative point of each empirical "
     "regime, the amplitude relative to the largest of its panel (given in "
     "the panel: raw amplitudes differ by many decades between regimes and "
     "times): linear points keep their initial spread, condensed points "
     "gather their amplitude on a few orientations. N_eff: the effective "
     "number of directions."),
    ("initial_condensation", "Initial condensation",
     fig_initial_condensation,
     "For one run of each point (the widest width, first seed): the cosine "
     "u_i · u_j of the input-weight directions u = (w, b) / |(w, b)| of "
     "evenly spaced sampled neurons ([features] matrix) at t = 0 (left) "
     "and at the end of the initial stage (middle; the last snapshot "
     "before any sampled neuron's pre-activation bound |(w, b)| max |(x, "
     "1)| exceeds 1), both in the same neuron order (by cosine to the "
     "heaviest neuron at the end of the initial stage); every sampled "
     "neuron is shown, the light ones not yet aligned too. Red +1: the same "
     "orientation, blue −1: opposite ones. Right: the number of "
     "orientation clusters (greedy, signed cosine ≥ cos_threshold) of the "
     "sampled neurons whose amplitude |a| |(w, b)| is at least amp_cut of "
     "the largest, at every snapshot, one line per width; the star marks "
     "the end of the initial stage. With small initialization the theory "
     "(Zhou et al. 2022) puts the neurons on at most 2p orientations in "
     "the initial stage, p the multiplicity of σ at 0 (tanh 1, x tanh x "
     "2)."),
    ("fprinciple_dft", "F-Principle: 1-D DFT", fig_fprinciple_dft,
     "First panel: the amplitude |ŷ_k| of the training target's DFT with "
     "the peaks the binary found (circles). Then, for one run of each point "
     "(the widest width and first seed unless pdplot --width/--seed), "
     "Δ_F = ||ĥ_k| − |ŷ_k|| / |ŷ_k| of each peak against the training step "
     "(log axis): the triangle marks the step at which Δ_F first fell "
     "below delta_tol (dashed). The titles give the verdict ρ (Spearman "
     "rank correlation of frequency against converged step; ρ > 0.5: low "
     "frequencies are learned first)."),
    ("fprinciple_projection", "F-Principle: projection method",
     fig_fprinciple_projection,
     "As the 1-D DFT figure, along the projection of the inputs on their "
     "first principal component (non-uniform DFT): the target's spectrum "
     "along that line with its peaks, then Δ_F per peak against the step "
     "for one run of each point."),
    ("fprinciple_grid", "F-Principle: grid spectrum", fig_fprinciple_grid,
     "Relative error sqrt(Σ|H − Y|² / Σ|Y|²) of the network's spectrum on "
     "the shells round(|k|) = s of a grid over the whole input cube, "
     "against the training step, for one run of each point; lines colored "
     "by |k|, only the shells holding at least 1e-2 of the largest target "
     "power; triangles: converged steps, dashed: delta_tol. Low shells "
     "falling first is the F-Principle."),
    ("fprinciple_filter", "F-Principle: filtering method",
     fig_fprinciple_filter,
     "Filtering method: relative error of the low-frequency part (Gaussian "
     "low-pass of width δ, solid) and of the high-frequency part (dashed) "
     "of the network against the target, per δ, against the training step, "
     "for one run of each point; triangles: converged steps."),
    ("ntk_width", "NTK against width", fig_ntk_width,
     "Left: distance |Θ(0) − Θ_∞|_F / |Θ_∞|_F of the empirical NTK at "
     "initialization from the infinite-width kernel against the width, "
     "log-log, one line per point through the root mean square over the "
     "seeds (dots: runs; dotted: least-squares fit of log value against "
     "log m over the runs, its slope ± standard error in the legend; color: "
     "empirical regime), with an m^-1/2 guide (dashed). Points with the "
     "same values share one line, named in the legend: dist0 is the same "
     "at points that share γ' and the seeds (their kernels differ by a "
     "scale factor only). Middle: the kernel change |Θ(t*) − Θ(0)|_F / "
     "|Θ(0)|_F during training. Right: the linearity error |f_net − f_lin| "
     "/ |f_lin| on the test set (training set without one). In the linear "
     "(NTK) regime all three fall with the width."),
    ("ntk_projection", "Residual along NTK eigenvectors", fig_ntk_projection,
     "Top: the residual f − y projected on the closed-form kernel's top "
     "eigenvectors (largest eigenvalue first) against flow time, for one run "
     "of each point: the trained network (solid) and the linear theory's "
     "exponential decay exp(−λ_j t / n) (dashed). Where solid and dashed "
     "differ, the network does not follow the linear flow along that "
     "component. With integrator gd the steps are about 1/λ_max long, and "
     "λ_max is the top component's rate λ_1 / n: one step removes that "
     "component almost entirely, where the flow would keep exp(−1) of it; "
     "components the theory keeps at zero pick up residual because the "
     "finite-width kernel is not Θ_∞ and the network is not exactly "
     "linear. A slow component can still follow its dashed line. "
     "Bottom: the training loss at the snapshots (solid) against the linear "
     "theory's loss (/ntk/loss_linear, dashed), with their largest "
     "relative difference in the title: the loss is dominated by the slow "
     "components, so it can agree where the fast components do not."),
    ("test_curves", "Test set (1-D)", fig_test_curves,
     "For one run of each point: the training points, the target on the "
     "test grid (grey), the trained network, kernel regression with the "
     "infinite-width NTK, the LFP minimizer, the natural cubic spline and "
     "the piecewise-linear interpolant."),
    ("test_error", "Test error against γ", fig_test_error,
     "Relative test error |f − y| / |y| against γ (or against the point "
     "when the points share a γ), one line per width (geometric mean over "
     "the seeds; dots: runs); test accuracy beside it when the targets are "
     "±1. Lower error at larger γ (smaller initialization) is the claim "
     "that small initialization generalizes better."),
]


def make_figures(res, outdir, formats=("png", "pdf"), dpi=130, only=None):
    """Draw every figure the file allows into outdir.  Returns (written,
    skipped, failed): written = [dict(name, title, caption, files={fmt:
    path}, notes=[str])] (notes: what a figure could not draw and why,
    figure_notes), skipped = [str] (figures not drawn: their datasets are
    absent), failed = [dict(name, title, caption, error=str)]: a figure
    whose drawing raised; it leaves no file and does not stop the others.
    OSError only for an output directory that cannot be written."""
    plt = pyplot()
    os.makedirs(outdir, exist_ok=True)
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise PermissionError(f"{outdir}: not writable")
    written, skipped, failed = [], [], []
    why = {
        "rd_width": "no /runs/rd_w",
        "loss_curves": "no /history (loss and time)",
        "condensation": "no /features with orientation and amplitude",
    }
    todo = list(FIGURES)
    if res.W < 2:
        # one width per point: the job was made for what its observers
        # measure, so their figures come first; no RD-width line exists
        scan = ("phase_diagram", "rd_width", "loss_curves", "condensation")
        todo = ([f for f in todo if f[0] not in scan] +
                [f for f in todo if f[0] in scan and f[0] != "rd_width"])
        if not only or "rd_width" in only:
            skipped.append("rd_width: skipped (one width per point: RD "
                           "against width needs two)")
            for fmt in set(formats) | {"png", "pdf", "svg"}:  # an old one
                old = os.path.join(outdir, f"rd_width.{fmt}")
                if os.path.isfile(old):
                    os.remove(old)
    for g, what in FUTURE_GROUPS.items():
        if res.known.get(g, True):
            continue
        todo.append((f"{g}_preview", f"/{g} (generic preview)",
                     lambda r, g=g: fig_future_preview(r, g),
                     f"/{g} is in the file but holds none of the documented "
                     f"datasets, so {what} are not drawn. Generic view of up to "
                     "six of its datasets (first index along leading axes)."))
    for name, title, build, caption in todo:
        if only and name not in only:
            continue
        paths = {fmt: os.path.join(outdir, f"{name}.{fmt}")
                 for fmt in set(formats) | {"png", "pdf", "svg"}}
        fig, error = None, None
        try:
            fig = build(res)
            if fig is not None:
                for fmt in formats:
                    fig.savefig(paths[fmt], dpi=dpi,
                                metadata=_metadata(res, fmt))
                notes = figure_notes(fig)
        except Exception as e:  # noqa: BLE001 -- one figure must not stop all
            error = f"{type(e).__name__}: {e}"
        finally:
            if fig is not None:
                plt.close(fig)
        if fig is not None and error is None:
            written.append(dict(name=name, title=title, caption=caption,
                                files={fmt: paths[fmt] for fmt in formats},
                                notes=notes))
            continue
        if error is not None:
            failed.append(dict(name=name, title=title, caption=caption,
                               error=error))
        elif name in why:
            skipped.append(f"{name}: skipped ({why[name]})")
        # a figure of an earlier run into the same directory would describe
        # another file (and a failed save leaves half a file): remove it
        for path in paths.values():
            if os.path.isfile(path):
                os.remove(path)
    return written, skipped, failed


def supported_formats():
    """The file formats the figures can be saved in (pdplot --format)."""
    pyplot()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    return list(FigureCanvasAgg.get_supported_filetypes())


def absent_future_notes(res):
    """One line per future group the file does not hold (information, not a
    problem: pdplot prints them, the report lists them)."""
    return [f"{what}: not in this file (no /{g} group)"
            for g, what in FUTURE_GROUPS.items()
            if g not in res.future]


def _metadata(res, fmt):
    if fmt == "png":
        return {"Software": "phasediag analysis (pdlib)",
                "Source": os.path.basename(res.path)}
    if fmt == "pdf":
        return {"Creator": "phasediag analysis (pdlib)",
                "Subject": os.path.basename(res.path)}
    return None
