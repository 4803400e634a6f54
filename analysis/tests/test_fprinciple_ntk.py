"""F-Principle (/spectral), NTK (/ntk) and test-set figures and summaries, on
files the real binary writes from analysis/tests/jobs/{fp1d,fphighd,ntk}.ini:
the plotted data must be the file's data."""
import json
import os
import re
import shutil

import h5py
import matplotlib.image
import numpy as np
import pytest

import phasediag_analysis as pa
from phasediag_analysis import figures
from phasediag_analysis.figures_common import point_label
from conftest import run_tool


def lines(fig):
    return {l.get_gid(): l for ax in fig.axes for l in ax.get_lines()
            if l.get_gid()}


def scatters(fig):
    return {c.get_gid(): c for ax in fig.axes for c in ax.collections
            if c.get_gid()}


def read(path, name):
    with h5py.File(path) as f:
        return f[name][()]


@pytest.fixture(scope="module")
def loaded(fpscans):
    return {k: pa.load(v) for k, v in fpscans.items()}


def rows_of(path, p, w, s):
    st = read(path, "snapshots/step")[p, w, s]
    rows = np.nonzero(st >= 0)[0]
    return rows, st[rows].astype(float)


def check_peak_figure(path, r, method):
    """The Delta_F lines, converged markers, peaks and delta_tol of the dft
    / projection figure against the file."""
    fig = pa.fig_fprinciple_line(r, method)
    assert fig is not None
    L, S = lines(fig), scatters(fig)
    freq = read(path, f"spectral/{method}/frequency")
    amp = read(path, f"spectral/{method}/target_amplitude")
    conv = read(path, f"spectral/{method}/converged_step")
    delta = read(path, f"spectral/{method}/delta")
    verdict = read(path, "spectral/verdict")
    nconv = 0
    W = freq.shape[1]
    for p in range(freq.shape[0]):
        w, s = W - 1, 0                 # default: widest width, first seed
        rows, steps = rows_of(path, p, w, s)
        peaks = np.nonzero(np.isfinite(freq[p, w, s]))[0]
        assert len(peaks) >= 1
        for j in peaks:
            line = L[f"delta:{p}:{j}"]
            assert np.array_equal(line.get_xdata(), steps)
            assert np.array_equal(line.get_ydata(), delta[p, w, s][rows, j])
            c = conv[p, w, s, j]
            if np.isfinite(c):
                nconv += 1
                mk = L[f"conv:{p}:{j}"]
                assert list(mk.get_xdata()) == [c]
                at = np.nonzero(steps == c)[0][0]
                assert mk.get_ydata()[0] == delta[p, w, s][rows[at], j]
                assert delta[p, w, s][rows[at], j] < 0.1
                # the first snapshot below delta_tol
                assert np.all(delta[p, w, s][rows[:at], j] >= 0.1)
            else:
                assert f"conv:{p}:{j}" not in L
                assert "never" in line.get_label()
        # no line for the NaN slots past the peaks found
        assert not any(k.startswith(f"delta:{p}:") and
                       int(k.split(":")[2]) not in peaks for k in L)
        title = [ax.get_title() for ax in fig.axes if
                 ax.get_title().startswith(point_label(r, p))][0]
        assert f"m = {r.width[w]}, seed {r.seed[s]}" in title
        assert f"verdict ρ = {verdict[p, w, s]:+.2f}" in title
    assert nconv >= 1
    (tol,) = {l.get_ydata()[0] for k, l in L.items() if k == "delta_tol"}
    assert tol == 0.1
    # the file's peaks on the target spectrum, which we recompute from /data
    ok = np.isfinite(freq[0, W - 1, 0])
    assert np.array_equal(S["peaks"].get_offsets(),
                          np.column_stack([freq[0, W - 1, 0][ok],
                                           amp[0, W - 1, 0][ok]]))
    k, a = L["spectrum"].get_data()
    rtol = 1e-9 if method == "dft" else 1e-6
    assert np.allclose(np.asarray(a)[freq[0, W - 1, 0][ok].astype(int)],
                       amp[0, W - 1, 0][ok], rtol=rtol)
    pa.pyplot().close(fig)


def test_dft_figure(fpscans, loaded):
    check_peak_figure(fpscans["fp1d"], loaded["fp1d"], "dft")


def test_projection_figure(fpscans, loaded):
    check_peak_figure(fpscans["fphighd"], loaded["fphighd"], "projection")


def test_grid_figure(fpscans, loaded):
    path, r = fpscans["fphighd"], loaded["fphighd"]
    fig = pa.fig_fprinciple_grid(r)
    L = lines(fig)
    power = read(path, "spectral/grid/target_power")[0, 0, 0]
    rel = read(path, "spectral/grid/rel_error")[0, 0, 0]
    conv = read(path, "spectral/grid/converged_step")[0, 0, 0]
    rows, steps = rows_of(path, 0, 0, 0)
    want = [k for k in range(len(power)) if power[k] >= 1e-2 * power.max()]
    assert want == [1, 2]                 # frequencies 1, 2 of the job
    assert sorted(k for k in L if k.startswith("shell:")) == \
        [f"shell:0:{k}" for k in want]
    for k in want:
        assert np.array_equal(L[f"shell:0:{k}"].get_xdata(), steps)
        assert np.array_equal(L[f"shell:0:{k}"].get_ydata(), rel[rows, k])
        assert (f"shellconv:0:{k}" in L) == bool(np.isfinite(conv[k]))
    # lines colored by |k|: distinct colors
    assert L["shell:0:1"].get_color() != L["shell:0:2"].get_color()
    pa.pyplot().close(fig)


def test_filter_figure(fpscans, loaded):
    path, r = fpscans["fphighd"], loaded["fphighd"]
    fig = pa.fig_fprinciple_filter(r)
    L = lines(fig)
    rows, steps = rows_of(path, 0, 0, 0)
    deltas = read(path, "spectral/filter/delta")[0, 0, 0]
    assert list(deltas) == [0.5, 2.0]
    for kind in ("low", "high"):
        e = read(path, f"spectral/filter/e_{kind}")[0, 0, 0]
        c = read(path, f"spectral/filter/converged_step_{kind}")[0, 0, 0]
        for k in range(len(deltas)):
            line = L[f"e{kind}:0:{k}"]
            assert np.array_equal(line.get_xdata(), steps)
            assert np.array_equal(line.get_ydata(), e[rows, k])
            assert f"δ = {deltas[k]:g}" in line.get_label()
            if np.isfinite(c[k]):
                assert list(L[f"{kind}conv:0:{k}"].get_xdata()) == [c[k]]
    assert L["elow:0:0"].get_linestyle() == "-"
    assert L["ehigh:0:0"].get_linestyle() == "--"
    pa.pyplot().close(fig)


def test_ntk_width_figure(fpscans, loaded):
    path, r = fpscans["ntk"], loaded["ntk"]
    fig = pa.fig_ntk_width(r)
    S, L = scatters(fig), lines(fig)
    for name, ds in (("dist0", "ntk/dist0"),
                     ("kernel_change", "ntk/kernel_change"),
                     ("linearity", "ntk/linearity_error_test")):
        a = read(path, ds)
        # one line per group of points with identical values, named so
        groups = {tuple(int(q) for q in k.split(":")[1].split(",")): l
                  for k, l in L.items() if k.startswith(f"{name}_rms:")}
        assert sorted(p for g in groups for p in g) == list(range(r.P))
        for g, line in groups.items():
            for p in g:
                assert np.allclose(a[p], a[g[0]], rtol=1e-9, atol=0)
                # root mean square over the seeds (one seed here)
                assert np.allclose(line.get_ydata(), np.sqrt(
                    (a[p] ** 2).mean(axis=1)), rtol=1e-12, atol=0)
            assert ("identical" in line.get_label()) == (len(g) > 1)
            # the least-squares slope over the runs, drawn and quoted
            fx, fy = L[f"{name}_fit:" + ",".join(map(str, g))].get_data()
            slope = np.polyfit(np.log(np.repeat(r.width, r.S)),
                               np.log(a[g[0]].ravel()), 1)[0]
            assert np.isclose(np.diff(np.log(fy)) / np.diff(np.log(fx)),
                              slope)
            assert f"slope {slope:+.2f}" in line.get_label()
            # colored by the empirical regime when the group has one
            regimes = {int(r.phase["regime"][p]) for p in g}
            if len(regimes) == 1:
                assert line.get_color() == pa.REGIME_COLORS[regimes.pop()]
        for p in range(r.P):
            off = S[f"{name}:{p}"].get_offsets()
            assert np.array_equal(off[:, 0], r.width.astype(float))
            assert np.array_equal(off[:, 1], a[p, :, 0])      # one seed
    gx, gy = L["guide"].get_data()
    assert np.isclose(np.diff(np.log(gy)) / np.diff(np.log(gx)), -0.5)
    for ax in fig.axes:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    # the widths of the job and dist0 falling with width at every point
    d0 = read(path, "ntk/dist0")
    assert list(r.width) == [100, 300, 1000]
    assert np.all(np.diff(d0[:, :, 0], axis=1) < 0)
    pa.pyplot().close(fig)


def test_ntk_projection_figure(fpscans, loaded):
    path, r = fpscans["ntk"], loaded["ntk"]
    fig = pa.fig_ntk_projection(r)
    L = lines(fig)
    pr = read(path, "ntk/projection")
    pl = read(path, "ntk/projection_linear")
    t = read(path, "snapshots/time")
    for p in range(r.P):
        w = r.W - 1
        rows, _ = rows_of(path, p, w, 0)
        for j in range(min(figures.NTK_COMPONENTS, pr.shape[-1])):
            assert np.array_equal(L[f"proj:{p}:{j}"].get_xdata(),
                                  t[p, w, 0][rows])
            assert np.array_equal(L[f"proj:{p}:{j}"].get_ydata(),
                                  np.abs(pr[p, w, 0][rows, j]))
            assert np.array_equal(L[f"projlin:{p}:{j}"].get_ydata(),
                                  np.abs(pl[p, w, 0][rows, j]))
            assert L[f"projlin:{p}:{j}"].get_linestyle() == "--"
        # the losses: the network's at the snapshots and the linear theory's
        assert np.array_equal(L[f"loss_net:{p}"].get_ydata(),
                              read(path, "snapshots/loss")[p, w, 0][rows])
        lin = read(path, "ntk/loss_linear")[p, w, 0][rows]
        assert np.array_equal(L[f"loss_lin:{p}"].get_ydata(), lin)
        net = read(path, "snapshots/loss")[p, w, 0][rows]
        d = figures.loss_agreement(net, lin)
        assert np.isclose(d, np.nanmax(np.abs(net / lin - 1)))
        title = L[f"loss_lin:{p}"].axes.get_title()
        assert f"{100 * d:.3g}%" in title
    pa.pyplot().close(fig)


def test_test_curves_figure(fpscans, loaded):
    path, r = fpscans["ntk"], loaded["ntk"]
    fig = pa.fig_test_curves(r)
    L, S = lines(fig), scatters(fig)
    xt = read(path, "data/x_test")[:, 0]
    order = np.argsort(xt, kind="stable")
    w = r.W - 1
    for p in range(r.P):
        assert np.array_equal(L[f"target:{p}"].get_ydata(),
                              read(path, "data/y_test")[order])
        for gid, ds in (("net", "test/output"),
                        ("kernel", "ntk/test_prediction"),
                        ("lfp", "ntk/test_lfp"), ("spline", "ntk/test_spline"),
                        ("pwl", "ntk/test_pwl")):
            line = L[f"{gid}:{p}"]
            assert np.array_equal(line.get_xdata(), xt[order])
            assert np.array_equal(line.get_ydata(),
                                  read(path, ds)[p, w, 0][order])
        assert np.array_equal(S[f"train:{p}"].get_offsets(), np.column_stack(
            [read(path, "data/x")[:, 0], read(path, "data/y")]))
    pa.pyplot().close(fig)
    # fp1d has a test set but no /ntk: the network and the target only
    fig = pa.fig_test_curves(loaded["fp1d"])
    assert sorted(k.split(":")[0] for k in lines(fig)) == \
        ["net", "net", "target", "target"]
    pa.pyplot().close(fig)
    # d = 2: no 1-D curves
    assert pa.fig_test_curves(loaded["fphighd"]) is None


def test_test_error_figure(fpscans, loaded, tmp_path):
    path, r = fpscans["ntk"], loaded["ntk"]
    fig = pa.fig_test_error(r)
    L = lines(fig)
    rel = read(path, "runs/test_rel_error")
    order = np.argsort(r.gamma)
    for w in range(r.W):
        line = L[f"test_rel_error:{w}"]
        assert np.array_equal(line.get_xdata(), r.gamma[order])
        assert np.array_equal(line.get_ydata(), rel[order, w, 0])
    assert not any(k.startswith("test_accuracy") for k in L)  # sines
    pa.pyplot().close(fig)
    # +-1 targets: the accuracy panel appears with the file's accuracies
    signs = str(tmp_path / "signs.h5")
    shutil.copy(path, signs)
    with h5py.File(signs, "r+") as f:
        f["data/y_test"][...] = np.where(f["data/y_test"][...] >= 0, 1., -1.)
    r2 = pa.load(signs)
    assert figures.targets_are_signs(r2)
    fig = pa.fig_test_error(r2)
    acc = read(path, "runs/test_accuracy")
    for w in range(r.W):
        assert np.array_equal(lines(fig)[f"test_accuracy:{w}"].get_ydata(),
                              acc[order, w, 0], equal_nan=True)
    pa.pyplot().close(fig)


EXPECTED = {
    "fp1d": ["fprinciple_dft", "test_curves", "test_error"],
    "fphighd": ["fprinciple_filter", "fprinciple_grid",
                "fprinciple_projection"],
    "ntk": ["ntk_projection", "ntk_width", "test_curves", "test_error"],
}


BASE = {"phase_diagram", "rd_width", "loss_curves", "condensation"}


def test_figure_list_fp1d(loaded, tmp_path):
    """The figures the 1-D dft file allows (in-process, PNG only)."""
    written, skipped, failed = pa.make_figures(
        loaded["fp1d"], str(tmp_path), formats=("png",), dpi=40)
    assert not failed
    assert [n for w in written for n in w["notes"]] == []   # intact file
    assert {w["name"] for w in written} - BASE == set(EXPECTED["fp1d"])


@pytest.mark.parametrize("job", ["fphighd", "ntk"])
def test_report_has_the_new_figures(fpscans, job, tmp_path):
    """pdreport (which draws every pdplot figure) on the /spectral and the
    /ntk file."""
    rep = tmp_path / "report"
    p = run_tool("pdreport", fpscans[job], "-o", rep, "--dpi", "70")
    assert p.returncode == 0, p.stderr
    pngs = sorted(f[:-4] for f in os.listdir(rep) if f.endswith(".png"))
    # exactly the new figures the groups allow, no generic preview
    assert set(pngs) - BASE == set(EXPECTED[job])
    for name in EXPECTED[job]:
        assert (rep / f"{name}.pdf").exists()
        img = matplotlib.image.imread(str(rep / f"{name}.png"))
        assert img.shape[0] > 150 and img.shape[1] > 250
        assert img[..., :3].std() > 0.05
    page = (rep / "index.html").read_text()
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert sorted(srcs) == sorted(f"{n}.png" for n in pngs)
    assert 'class="fignote"' not in page and "FAILED" not in page
    assert "Per-run observables" in page
    assert "://" not in page and "<script" not in page
    assert "generic preview" not in page


def test_pdplot_picks_the_run(fpscans, tmp_path):
    path = fpscans["ntk"]
    r = pa.load(path)
    r.pick_width, r.pick_seed = 100, 1
    fig = pa.fig_test_curves(r)
    assert np.array_equal(
        lines(fig)["net:0"].get_ydata(),
        read(path, "test/output")[0, 0, 0][np.argsort(
            read(path, "data/x_test")[:, 0], kind="stable")])
    assert "m = 100, seed 1" in fig.axes[0].get_title()
    pa.pyplot().close(fig)
    p = run_tool("pdplot", path, "-o", tmp_path, "--width", "100",
                 "--only", "test_curves", "--format", "png")
    assert p.returncode == 0 and os.listdir(tmp_path) == ["test_curves.png"]
    p = run_tool("pdplot", path, "-o", tmp_path, "--width", "7")
    assert p.returncode == 2 and "not a width" in p.stderr


def test_summary_per_run_table(fpscans):
    path = fpscans["fp1d"]
    out = run_tool("pdsummary", path).stdout
    assert "per-run observables" in out
    verdict = read(path, "spectral/verdict")
    freq = read(path, "spectral/dft/frequency")
    conv = read(path, "spectral/dft/converged_step")
    tl = read(path, "runs/test_loss")
    table = out.split("per-run observables")[1].split("\n\n")[0]
    rows = table.splitlines()[2:]
    assert "verdict" in table.splitlines()[1]
    assert len(rows) == verdict.size
    i = 0
    for p in range(verdict.shape[0]):
        for w in range(verdict.shape[1]):
            row = rows[i]
            i += 1
            assert f"{verdict[p, w, 0]:+.3f}" in row
            want = " ".join(
                f"{f:g}@" + (f"{c:g}" if np.isfinite(c) else "-")
                for f, c in zip(freq[p, w, 0], conv[p, w, 0])
                if np.isfinite(f))
            assert want in row
            assert f"{tl[p, w, 0]:.4g}" in row
    s = json.loads(run_tool("pdsummary", path, "--json").stdout)
    ro = s["run_observables"]
    assert [x["verdict"] for x in ro] == list(verdict.ravel())
    assert ro[0]["dft"][0] == [freq[0, 0, 0, 0], conv[0, 0, 0, 0]]


def test_summary_ntk_and_highd(fpscans):
    path = fpscans["ntk"]
    s = json.loads(run_tool("pdsummary", path, "--json").stdout)
    ro = s["run_observables"]
    for key, ds in (("dist0", "ntk/dist0"), ("kernel_change",
                                             "ntk/kernel_change"),
                    ("linearity_error_test", "ntk/linearity_error_test"),
                    ("linearity_error_train", "ntk/linearity_error_train"),
                    ("test_loss", "runs/test_loss")):
        assert [x[key] for x in ro] == list(read(path, ds).ravel())
    out = run_tool("pdsummary", path).stdout
    assert "dist0" in out and "kernel_chg" in out and "lin_err_tst" in out
    out = run_tool("pdsummary", fpscans["fphighd"]).stdout
    assert "proj k@step" in out and "shells |k|@step" in out
    assert "filter d:low/high" in out


def test_tiny_has_no_per_run_table(tiny):
    out = run_tool("pdsummary", tiny).stdout
    assert "per-run observables" not in out
    assert "run_observables" not in json.loads(
        run_tool("pdsummary", tiny, "--json").stdout)


def test_partial_and_without_snapshots(fpscans, tmp_path):
    """Runs not run fall back to another run or drop the panel; without
    /snapshots the curves against the step are skipped with a note."""
    for job in ("fp1d", "ntk"):
        path = str(tmp_path / f"{job}.h5")
        shutil.copy(fpscans[job], path)
        with h5py.File(path, "r+") as f:
            st = f["runs/status"][...]
            st[0, -1, :] = -1           # point 0: widest run not run
            st[1] = -1                  # point 1: nothing ran
            f["runs/status"][...] = st

            def blank(name, obj):
                if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" \
                        and obj.shape[:3] == st.shape:
                    a = obj[...]
                    a[st == -1] = np.nan
                    obj[...] = a
            f.visititems(blank)
            s = f["snapshots/step"][...]
            s[st == -1] = -1
            f["snapshots/step"][...] = s
        r = pa.load(path)
        names = ["fprinciple_dft"] if job == "fp1d" else ["ntk_projection"]
        names.append("test_curves")
        for name in names:
            fig = dict((n, b) for n, _, b, _ in figures.FIGURES)[name](r)
            gids = lines(fig)
            assert not any(k.split(":")[1:2] == ["1"] for k in gids)
            title = [ax.get_title() for ax in fig.axes
                     if ax.get_title().startswith(point_label(r, 0))][0]
            assert f"m = {r.width[-2]}," in title        # the fallback
            pa.pyplot().close(fig)
        rows = pa.run_scalars(r)
        assert len(rows) == int((st != -1).sum())
        assert "per-run observables" in pa.format_summary(r)
        with h5py.File(path, "r+") as f:
            del f["snapshots"]
        r = pa.load(path)
        assert "/snapshots/step is missing: no curves against the training " \
            "step" in r.notes
        assert pa.fig_fprinciple_dft(r) is None
        assert pa.fig_ntk_projection(r) is None
        assert pa.fig_test_curves(r) is not None
        pa.pyplot().close("all")


def test_documented_groups_are_not_previewed(loaded):
    for name, r in loaded.items():
        if name == "condense":      # neither /spectral nor /ntk
            assert not r.known
            continue
        assert all(r.known.values()) and r.known
        assert not any("generic preview" in n for n in r.notes)
