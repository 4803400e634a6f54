"""phasediag_analysis: read and analyse phasediag result files.

The package behind the commands analysis/pdsummary, pdplot, pdreport and
pdcompare, usable from Python (layout of the files: docs/output.md)::

    import phasediag_analysis as pa

    r = pa.read("grid.h5")          # every dataset as numpy arrays
    r["runs/rd_w"]                  # [P, W, S] float64, exactly the file's
    r.gamma, r.gamma_prime, r.width, r.seed, r.label, r.status, r.attrs
    df = pa.runs_dataframe("grid.h5")   # one row per run (needs pandas)
    df[df.status == "converged"].groupby("point").rd_w.median()

    res = pa.load("grid.h5")        # the tools' view: notes, /phase
    print(pa.format_summary(res))   # recomputed where missing, figures...
    pa.make_figures(res, "figs", formats=("png",))
    pa.write_report(res, "grid_report")
    pa.compare_files("a.h5", "b.h5")

Reading (module io): `read(path, groups=None)` -> `ResultFile` (every
dataset and root attribute as stored; `ResultFile.group`, shortcuts);
`runs_dataframe(path or ResultFile)` -> pandas DataFrame, one row per run
(pandas is imported only there: Debian's python3-pandas).
The tools' view (module result): `load(path)` -> `Result` (tolerant of
partial files: `Result.notes`; /phase recomputed when missing).
Errors: `PDError` for a file that is missing, unreadable or not HDF5 (and,
for `load`, one without /grid).

Modules: io (reading), result (load, Result), theory (regime codes, names
and colors; the theorems, the boundary, the slope fit: a copy of
src/model/scheme.c and src/model/fit.c), summarize (the summary and the per-run
observables), figures (FIGURES, make_figures; the figures themselves in
figures_phase, figures_fprinciple and figures_ntk, the empty-data helpers
in figures_common), report (the HTML page), compare, cli (the commands'
error exit; not an interface).  matplotlib is imported only when a figure
is drawn, pandas only by runs_dataframe.
"""
from .compare import DEFAULT_IGNORE, compare_arrays, compare_files
from .figures import (FIGURES, absent_future_notes, check_panel,
                      describe_values, fig_condensation, fig_fprinciple_dft,
                      fig_fprinciple_filter, fig_fprinciple_grid,
                      fig_fprinciple_line, fig_fprinciple_projection,
                      fig_future_preview, fig_loss_curves, fig_ntk_projection,
                      fig_ntk_width, fig_phase_diagram, fig_rd_width,
                      fig_test_curves, fig_test_error, figure_notes,
                      make_figures, pyplot, supported_formats)
from .io import (CONVERGED, NOT_RUN, STATUS_NAMES, PDError, ResultFile,
                 open_h5, read, runs_dataframe, status_name)
from .report import report_html, write_report
from .result import Result, load
from .summarize import (format_run_scalars, format_summary, run_scalars,
                      summary, table_rows)
from .theory import (CONDENSED, CRITICAL, FAR_FROM_BOUNDARY, LINEAR,
                     REGIME_COLORS, REGIME_NAMES, REGIME_ORDER, UNDETERMINED,
                     boundary_distance, boundary_lines, fit_regime, fit_slope,
                     regime_color, regime_name, theory_regime)

__version__ = "0.1.0"   # the project's version (CMakeLists.txt)

__all__ = [
    # reading
    "read", "ResultFile", "runs_dataframe", "load", "Result", "PDError",
    "open_h5",
    # codes, names, colors
    "LINEAR", "CRITICAL", "CONDENSED", "UNDETERMINED", "REGIME_NAMES",
    "REGIME_COLORS", "REGIME_ORDER", "regime_name", "regime_color",
    "STATUS_NAMES", "CONVERGED", "NOT_RUN", "status_name",
    # theory
    "theory_regime", "boundary_distance", "boundary_lines", "fit_slope",
    "fit_regime", "FAR_FROM_BOUNDARY",
    # summary
    "summary", "format_summary", "table_rows", "run_scalars",
    "format_run_scalars",
    # figures (FIGURES here is the list at import time: to replace a figure,
    # set phasediag_analysis.figures.FIGURES, which make_figures reads)
    "FIGURES", "make_figures", "supported_formats", "absent_future_notes",
    "fig_phase_diagram", "fig_rd_width", "fig_loss_curves",
    "fig_condensation", "fig_future_preview", "fig_fprinciple_line",
    "fig_fprinciple_dft", "fig_fprinciple_projection", "fig_fprinciple_grid",
    "fig_fprinciple_filter", "fig_ntk_width", "fig_ntk_projection",
    "fig_test_curves", "fig_test_error", "check_panel", "describe_values",
    "figure_notes", "pyplot",
    # report, comparison
    "write_report", "report_html", "compare_files", "compare_arrays",
    "DEFAULT_IGNORE",
]
