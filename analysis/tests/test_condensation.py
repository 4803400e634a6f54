"""The initial-condensation figure (/condensation, [features] track) on a
file the real binary writes from analysis/tests/jobs/condense.ini
(conftest's fpscans): the heat
maps are the file's cosine matrices in the documented neuron order, the
cluster lines the file's counts; its layout is clean; the report shows it
when the data is there and not otherwise."""
import os

import h5py
import numpy as np
import pytest

import phasediag_analysis as pa
from phasediag_analysis import figures
from phasediag_analysis.figures_condense import (condensed_matrix,
                                                 neuron_order)
from phasediag_analysis.figures_layout import layout_problems, smallest_font



@pytest.fixture(scope="module")
def condense_file(fpscans):
    return fpscans["condense"]


def read(path, name):
    with h5py.File(path) as f:
        return f[name][()]


def test_neuron_order():
    """Heaviest neuron's orientation first, the opposite one last, ties by
    index."""
    c = np.array([[1, -1, 1, 0.5], [-1, 1, -1, -0.5], [1, -1, 1, 0.5],
                  [0.5, -0.5, 0.5, 1]], float)
    amp = np.array([1.0, 3.0, 2.0, 0.5])
    # heaviest: neuron 1; cosines to it: -1, 1, -1, -0.5
    assert list(neuron_order(c, amp)) == [1, 3, 0, 2]
    assert list(neuron_order(c, np.full(4, np.nan))) == [0, 1, 2, 3]


def test_figure_data(condense_file):
    r = pa.load(condense_file)
    fig = figures.fig_initial_condensation(r)
    assert fig is not None
    ims = {im.get_gid(): im for ax in fig.axes for im in ax.images}
    lines = {l.get_gid(): l for ax in fig.axes for l in ax.get_lines()
             if l.get_gid()}
    cl = read(condense_file, "condensation/clusters")
    step = read(condense_file, "snapshots/step")
    M = read(condense_file, "condensation/matrix_count")
    P, W = cl.shape[:2]
    for p in range(P):
        w, s = W - 1, 0
        ci = read(condense_file, "condensation/cosine_initial")[p, w, s]
        ai = read(condense_file, "condensation/amplitude_initial")[p, w, s]
        m = int(M[p, w, s])
        o = neuron_order(ci[:m, :m], ai[:m])
        for k, name in (("0", "cosine0"), ("i", "cosine_initial")):
            want = read(condense_file, f"condensation/{name}")[p, w, s]
            want = want[:m, :m][np.ix_(o, o)]
            got = np.asarray(ims[f"cosine{k}:{p}"].get_array())
            assert np.array_equal(got, want)
            assert np.array_equal(condensed_matrix(
                r, f"condensation/{name}", p, w, s), want)
        for wi in range(W):
            ok = step[p, wi, s] >= 0
            x, y = lines[f"clusters:{p}:{wi}"].get_data()
            assert np.array_equal(np.asarray(y), cl[p, wi, s][ok])
            assert np.array_equal(np.asarray(x),
                                  np.maximum(step[p, wi, s][ok], 0.5))
    # the matrices are cosines: symmetric, 1 on the diagonal
    c = read(condense_file, "condensation/cosine_initial")
    assert np.allclose(c, np.swapaxes(c, -1, -2), atol=0, rtol=0)
    assert np.allclose(np.diagonal(c, axis1=-2, axis2=-1), 1, atol=1e-12)
    # tanh from a small initialization: at most 2 = 2p orientations in the
    # initial stage at gamma = 2.5, many at t = 0
    g = read(condense_file, "grid/gamma")
    fewest = read(condense_file, "condensation/initial_min_clusters")
    for p in np.nonzero(g == 2.5)[0]:
        assert np.all(fewest[p] <= 2) and np.all(cl[p, :, :, 0] > 20)
    assert layout_problems(fig) == []
    pt, _, _ = smallest_font(fig)
    assert pt >= 8.0
    pa.pyplot().close(fig)


def test_report_has_it(condense_file, tiny, tmp_path):
    r = pa.load(condense_file)
    index, written, skipped, failed = pa.write_report(r, str(tmp_path / "a"))
    assert not failed, failed
    names = [w["name"] for w in written]
    assert "initial_condensation" in names
    png = [w for w in written if w["name"] == "initial_condensation"][0]
    assert os.path.getsize(png["files"]["png"]) > 10000
    assert "Initial condensation" in open(index, encoding="utf-8").read()
    # a scan without /condensation: no such figure, no failure
    r = pa.load(tiny)
    assert figures.fig_initial_condensation(r) is None
    index, written, skipped, failed = pa.write_report(r, str(tmp_path / "b"))
    assert not failed
    assert "initial_condensation" not in [w["name"] for w in written]


@pytest.mark.parametrize("kind", ["nan", "zero"])
def test_damaged(condense_file, tmp_path, kind):
    """/condensation all NaN (runs not run) or all zero: the figure is
    still drawn, with a note instead of an exception."""
    import shutil
    path = str(tmp_path / "damaged.h5")
    shutil.copy(condense_file, path)
    with h5py.File(path, "r+") as f:
        for name, d in f["condensation"].items():
            if d.dtype.kind == "f":
                d[...] = np.nan if kind == "nan" else 0.0
    r = pa.load(path)
    fig = figures.fig_initial_condensation(r)
    assert fig is not None
    if kind == "nan":
        assert any(t.get_gid() == "nothing"
                   for ax in fig.axes for t in ax.texts)
    pa.pyplot().close(fig)
    written, skipped, failed = pa.make_figures(r, str(tmp_path / "f"),
                                               ("png",), 40)
    assert not failed, failed
