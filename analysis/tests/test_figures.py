"""Figure content, inspected on the matplotlib Figures the package returns,
and the files pdplot writes."""
import os

import h5py
import matplotlib.image
import numpy as np
from matplotlib.colors import to_rgba

import phasediag_analysis as pa
from phasediag_analysis import figures, figures_common

FIGS = ["phase_diagram", "rd_width", "loss_curves", "condensation"]


def by_gid(fig, gid):
    return [a for ax in fig.axes for a in ax.findobj()
            if hasattr(a, "get_gid") and a.get_gid() == gid]


def lines_with_prefix(fig, prefix):
    return {a.get_gid(): a for ax in fig.axes for a in ax.get_lines()
            if (a.get_gid() or "").startswith(prefix)}


def test_phase_diagram_points_colors_boundary(res):
    fig = pa.fig_phase_diagram(res)
    (pts,) = by_gid(fig, "points")
    off = pts.get_offsets()
    assert len(off) == res.P
    assert np.allclose(off, np.column_stack([res.gamma_prime, res.gamma]))
    want = [to_rgba(pa.REGIME_COLORS[r]) for r in res.phase["regime"]]
    assert np.allclose(pts.get_facecolors(), want)
    # the tiny job has all three regimes; every point agrees with the theory
    assert set(res.phase["regime"]) == {0, 1, 2}
    (ring,) = by_gid(fig, "disagree")
    assert len(ring.get_offsets()) == 0
    # boundary: gamma = 1 for gamma' <= 0, gamma' = gamma - 1 for gamma >= 1,
    # in both panels (regime view, slope view)
    bl = by_gid(fig, "boundary")
    assert len(bl) == 4
    for ax in fig.axes[:2]:
        (x1, y1), (x2, y2) = [(b.get_xdata(), b.get_ydata())
                              for b in ax.get_lines()
                              if b.get_gid() == "boundary"]
        assert np.all(x1 <= 0) and np.allclose(y1, 1)
        assert np.all(x2 >= 0) and np.allclose(y2, np.asarray(x2) + 1)
    # the slope view: every point colored by its slope on a diverging map
    # centred on 0, so +0.15 and +0.99 (both condensed) differ
    (sl,) = by_gid(fig, "slopes")
    ok = np.isfinite(res.phase["slope"])
    assert np.allclose(sl.get_offsets(),
                       np.column_stack([res.gamma_prime, res.gamma])[ok])
    assert np.array_equal(np.asarray(sl.get_array()), res.phase["slope"][ok])
    assert sl.norm(0.0) == 0.5 and sl.norm(sl.norm.vmax) == 1.0
    assert sl.norm.vmin <= res.phase["slope"][ok].min()
    assert sl.norm.vmax >= res.phase["slope"][ok].max()
    rgba = sl.cmap(sl.norm(np.array([0.15, 0.99])))
    assert np.abs(rgba[0] - rgba[1]).max() > 0.2
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "ntk" in texts and "mean_field" in texts
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for name in ("linear", "critical", "condensed", "undetermined",
                 "disagrees with theory"):
        assert name in legend
    pa.pyplot().close(fig)


def test_phase_diagram_marks_disagreement(tiny):
    r = pa.load(tiny)
    r.phase["regime"][0] = pa.CONDENSED     # theory says linear
    r.phase["agree"][0] = False
    fig = pa.fig_phase_diagram(r)
    (pts,) = by_gid(fig, "points")
    assert np.allclose(pts.get_facecolors()[0],
                       to_rgba(pa.REGIME_COLORS[pa.CONDENSED]))
    (ring,) = by_gid(fig, "disagree")
    assert np.allclose(ring.get_offsets(), [[r.gamma_prime[0], r.gamma[0]]])
    assert f"{r.P - 1} of {r.P} points agree" in fig.axes[0].get_title()
    pa.pyplot().close(fig)


def test_rd_width_one_line_per_point(res):
    fig = pa.fig_rd_width(res)
    rd = lines_with_prefix(fig, "rd:")
    assert sorted(rd) == sorted(f"rd:{p}" for p in range(res.P))
    fits = lines_with_prefix(fig, "fit:")
    assert len(fits) == int(np.isfinite(res.phase["slope"]).sum()) == res.P
    for p in range(res.P):
        line = rd[f"rd:{p}"]
        assert f"{res.phase['slope'][p]:+.3f}" in line.get_label()
        assert np.allclose(line.get_xdata(), res.width)
        # geometric mean over the converged seeds at each width
        ws, vs = res.valid_runs(p)
        for w, y in zip(res.width, line.get_ydata()):
            sel = vs[ws == w]
            if len(sel):
                assert np.isclose(y, np.exp(np.log(sel).mean()))
        # the dashed fit has the slope of /phase
        fx, fy = fits[f"fit:{p}"].get_data()
        assert np.isclose(np.diff(np.log(fy)) / np.diff(np.log(fx)),
                          res.phase["slope"][p])
    for ax in fig.axes:
        if ax.get_visible():
            assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    # panels: one per gamma of the grid, one for the named schemes
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["γ = 0.5", "γ = 1.75", "named schemes"]
    pa.pyplot().close(fig)


def test_loss_curves(res):
    fig = pa.fig_loss_curves(res)
    loss = lines_with_prefix(fig, "loss:")
    assert sorted(loss) == sorted(f"loss:{p}" for p in range(res.P))
    for p in range(res.P):
        y = np.asarray(loss[f"loss:{p}"].get_ydata())
        assert len(y) > 3 and np.all(np.isfinite(y)) and np.all(y > 0)
        # the widest converged run ends below tol
        assert y.min() < res.tol
    assert len(by_gid(fig, "tol")) == len(fig.axes) - sum(
        not ax.get_visible() for ax in fig.axes)
    pa.pyplot().close(fig)


def test_condensation_one_column_per_regime(res):
    reps = figures.representative_points(res)
    assert sorted(reps) == [0, 1, 2]
    for r, p in reps.items():
        assert res.phase["regime"][p] == r
    fig = pa.fig_condensation(res)
    assert len(fig.axes) == 6
    for r, p in reps.items():
        for suffix in "01":
            (sc,) = by_gid(fig, f"cond{suffix}:{p}")
            off = sc.get_offsets()
            assert len(off) == 32        # [features] cap of tiny.ini
            # the widest converged run of the point
            w, s = figures_common._pick_run(res, p, res.features["amplitude1"])
            assert res.status[p, w, s] == pa.CONVERGED
            assert not any(res.status[p, w2, s2] == pa.CONVERGED
                           for w2 in range(w + 1, res.W)
                           for s2 in range(res.S))
            assert np.allclose(off[:, 0],
                               res.features["orientation" + suffix][p, w, s])
            # the amplitudes relative to the panel's largest
            amp = res.features["amplitude" + suffix][p, w, s]
            assert np.allclose(off[:, 1], amp / np.abs(amp).max())
            assert off[:, 1].max() == 1.0
    pa.pyplot().close(fig)


def test_pdplot_writes_png_and_pdf(plot_dir, res):
    d, proc = plot_dir
    for name in FIGS:
        png, pdf = (os.path.join(d, f"{name}.{e}") for e in ("png", "pdf"))
        assert f"wrote {png}" in proc.stdout
        with open(png, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
        with open(pdf, "rb") as fh:
            assert fh.read(5) == b"%PDF-"
        img = matplotlib.image.imread(png)
        assert img.shape[0] > 300 and img.shape[1] > 500
        assert img[..., :3].std() > 0.05      # not blank
    # the future groups are reported as absent
    assert "no /spectral group" in proc.stdout and "no /ntk group" in proc.stdout


def test_future_groups_detected_and_previewed(result_copy, tmp_path):
    path = result_copy()
    with h5py.File(path, "r+") as f:
        g = f.create_group("spectral")
        g["heatmap"] = np.random.default_rng(1).random((6, 3, 20, 30))
        g["freq"] = np.arange(20.0)
        g["names"] = np.array([b"a", b"b"])
        f.create_group("ntk")["eigenvalues"] = np.logspace(0, -6, 40)
    r = pa.load(path)
    assert sorted(r.future) == ["ntk", "spectral"]
    assert any(n.startswith("/spectral found (3 datasets)") for n in r.notes)
    assert any(n.startswith("/ntk found (1 dataset)") for n in r.notes)
    out = str(tmp_path / "figs")
    written, skipped, failed = pa.make_figures(
        r, out, formats=("png",), only={"spectral_preview", "ntk_preview"})
    assert not failed
    assert [w["name"] for w in written] == ["spectral_preview", "ntk_preview"]
    assert os.path.exists(os.path.join(out, "spectral_preview.png"))
    fig = pa.fig_future_preview(r, "spectral")
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(panels) == 3
    pa.pyplot().close(fig)
