"""Loading, the theory and the fits of phasediag_analysis against the
binary's file."""
import math

import h5py
import numpy as np
import pytest

import phasediag_analysis as pa


def test_load_complete_file(res, tiny):
    assert (res.P, res.W, res.S) == (6, 3, 2)
    assert res.label == ["", "", "", "", "ntk", "mean_field"]
    assert list(res.width) == [100, 300, 1000] and list(res.seed) == [1, 2]
    assert res.phase_source == "file"
    assert res.not_run == 0
    assert not [n for n in res.notes if "missing" in n or "partial" in n]
    assert res.attrs["software"] == "phasediag" and res.attrs["mpi_ranks"] == 1
    assert res.band == 0.1 and res.tol == 1e-6
    with h5py.File(tiny) as f:
        assert np.array_equal(res.phase["regime"], f["phase/regime"][...])
        assert np.array_equal(res.status, f["runs/status"][...])
    for k in ("orientation0", "amplitude0", "orientation1", "amplitude1"):
        assert res.features[k].shape == (6, 3, 2, 32)


@pytest.mark.parametrize("g, gp, want", [
    (0.5, 0.0, pa.LINEAR), (1.0, 0.5, pa.LINEAR),
    (1.5, 1.0, pa.LINEAR), (1.0, -1.0, pa.CRITICAL),
    (1.0, 0.0, pa.CRITICAL), (1.5, 0.5, pa.CRITICAL),
    (2.0, -1.0, pa.CONDENSED), (1.25, 0.0, pa.CONDENSED),
    (float("nan"), 0.0, pa.UNDETERMINED)])
def test_theory_regime(g, gp, want):
    assert pa.theory_regime(g, gp) == want


def test_theory_mirrors_the_binary(res):
    for p in range(res.P):
        g, gp = res.gamma[p], res.gamma_prime[p]
        assert pa.theory_regime(g, gp) == res.phase["theory_regime"][p]
        assert math.isclose(pa.boundary_distance(g, gp),
                            res.phase["boundary_distance"][p], abs_tol=1e-12)


def test_boundary_lines():
    (x1, y1), (x2, y2) = pa.boundary_lines(-1.0, 1.0)
    assert list(x1) == [-1.0, 0.0] and list(y1) == [1.0, 1.0]
    assert list(x2) == [0.0, 1.0] and list(y2) == [1.0, 2.0]   # gamma' = gamma - 1


def test_recomputed_slopes_match_the_file(res):
    slope, err = res.recompute_slopes()
    assert np.allclose(slope, res.phase["slope"], rtol=1e-9, atol=1e-12)
    assert np.allclose(err, res.phase["slope_stderr"], rtol=1e-9, atol=1e-12)
    assert [pa.fit_regime(s, res.band) for s in slope] == \
        list(res.phase["regime"])


def test_fit_slope_edge_cases():
    assert pa.fit_slope([0, 1, 2], [1, 3, 5]) == pytest.approx((2.0, 0.0))
    s, e = pa.fit_slope([0, 1], [0, 1])
    assert s == 1.0 and math.isnan(e)
    assert all(math.isnan(v) for v in pa.fit_slope([1], [1]))
    assert all(math.isnan(v) for v in pa.fit_slope([1, 1], [1, 2]))
    assert pa.fit_slope([0, 1, np.nan, 2], [0, 1, 7, 2])[0] == \
        pytest.approx(1.0)


def test_summary_dict(res):
    s = pa.summary(res)
    assert len(s["points"]) == 6 and "config_text" not in s
    assert s["counts"]["tasks"] == 36
    assert sum(s["counts"]["statuses"].values()) == 36
    assert s["counts"]["agreeing"] == int(res.phase["agree"].sum())
    assert [p["regime"] for p in s["points"]] == \
        [pa.REGIME_NAMES[r] for r in res.phase["regime"]]
    assert "config_text" in pa.summary(res, with_config=True)


def test_compare_arrays():
    a = np.array([1.0, np.nan, 3.0])
    assert pa.compare_arrays(a, a.copy())[0]
    eq, det = pa.compare_arrays(a, np.array([1.0, np.nan, 3.5]))
    assert not eq and "max abs diff 0.5" in det and "1 of 3" in det
    eq, det = pa.compare_arrays(np.array([0.0]), np.array([-0.0]))
    assert not eq and "bits differ" in det
    eq, det = pa.compare_arrays(a, np.array([1.0, 2.0, 3.0]))
    assert not eq and "NaN on one side" in det
    assert pa.compare_arrays(a, a[:2])[1].startswith("shape mismatch")
    assert pa.compare_arrays(a, a.astype(np.float32))[1].startswith(
        "type mismatch")
    eq, det = pa.compare_arrays(np.array([b"ntk", b"x"]),
                                   np.array([b"ntk", b"y"]))
    assert not eq and "1 of 2" in det
