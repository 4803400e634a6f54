"""pdsummary: the table, the counts, the provenance, --config, --json."""
import json

import h5py
import numpy as np

from conftest import run_tool


def test_table_counts_provenance(tiny):
    p = run_tool("pdsummary", tiny)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    lines = out.splitlines()
    assert lines[0].split() == ["gamma", "gamma'", "label", "slope", "+-",
                                "stderr", "regime", "theory", "agree"]
    with h5py.File(tiny) as f:
        slope = f["phase/slope"][...]
        err = f["phase/slope_stderr"][...]
        label = list(f["grid/label"].asstr()[...])
        attrs = {k: f.attrs[k] for k in f.attrs}
        nagree = int((f["phase/agree"][...] == 1).sum())
    rows = lines[1:7]
    for p_, row in enumerate(rows):
        assert f"{slope[p_]:+.3f}" in row and f"{err[p_]:.3f}" in row
        assert (label[p_] or "-") == row.split()[2]
        assert row.split()[-1] == "yes"
    assert lines[7] == ""
    assert f"{nagree} of 6 points agree with the theorem" in out
    assert "runs: 36 tasks:" in out and "converged" in out
    for k in ("software", "version", "git_commit", "created_utc"):
        assert f"{k:<12} {attrs[k]}" in out
    assert f"mpi_ranks    {attrs['mpi_ranks']}" in out
    assert f"group_size   {attrs['group_size']}" in out
    assert "config_text" not in out and "[grid]" not in out


def test_config_option(tiny):
    out = run_tool("pdsummary", tiny, "--config").stdout
    assert "config_text:" in out and "[grid]" in out
    assert "history_points = 16" in out


def test_json(tiny):
    p = run_tool("pdsummary", tiny, "--json")
    assert p.returncode == 0
    s = json.loads(p.stdout)
    with h5py.File(tiny) as f:
        slope = f["phase/slope"][...]
        status = f["runs/status"][...]
        assert s["provenance"]["git_commit"] == f.attrs["git_commit"]
    assert s["provenance"]["mpi_ranks"] == 1
    assert [pt["slope"] for pt in s["points"]] == list(slope)   # exact
    assert [pt["label"] for pt in s["points"]][4:] == ["ntk", "mean_field"]
    assert s["counts"]["points"] == 6 and s["counts"]["agreeing"] == 6
    assert sum(s["counts"]["statuses"].values()) == status.size
    assert s["counts"]["statuses"]["converged"] == int((status == 0).sum())
    assert s["phase_source"] == "file"
    assert "config_text" not in s
    s2 = json.loads(run_tool("pdsummary", tiny, "--json", "--config").stdout)
    assert "[grid]" in s2["config_text"]


def test_np1_and_np2_give_the_same_table(scans):
    t1 = run_tool("pdsummary", scans[1]).stdout.split("\n\n")[0]
    t2 = run_tool("pdsummary", scans[2]).stdout.split("\n\n")[0]
    assert t1 == t2 and len(t1.splitlines()) == 7
    j2 = json.loads(run_tool("pdsummary", scans[2], "--json").stdout)
    assert j2["provenance"]["mpi_ranks"] == 2
    assert np.isfinite([pt["slope"] for pt in j2["points"]]).all()
