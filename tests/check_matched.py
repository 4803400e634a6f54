#!/usr/bin/python3
"""Checks of the matched-loss classification (run by tests/matched_loss.sh).

usage: check_matched.py RESULT.h5 TABLE.txt

* the loss ladder: every run's times rise with the level, levels at or
  above its initial loss read t = 0 and rd_w = 0, the last level reached
  is below the run's final loss ladder-wise;
* /phase/loss_ref is the lowest level every finished (not diverged) run of
  the point reached, recomputed here from /history/ladder_time;
* /phase/slope_matched is the least-squares slope of log rd_w at loss_ref
  against log m, recomputed here with numpy;
* a point decides by t* only when every run converged, else by the
  matched loss, and says so in /phase/decided_by and in the printed table;
* every point at least 0.15 from the boundary agrees with the theorem,
  although (the point of the job) no point can be classified from t*.
"""
import sys

import h5py
import numpy as np

fails = []


def check(ok, what):
    if not ok:
        fails.append(what)


f = h5py.File(sys.argv[1], "r")
table = open(sys.argv[2]).read().splitlines()
levels = f["history/ladder_loss"][...]
lt = f["history/ladder_time"][...]
lr = f["history/ladder_rd_w"][...]
status = f["runs/status"][...]
loss0 = f["runs/initial_loss"][...]
final = f["runs/final_loss"][...]
widths = f["grid/width"][...]
P, W, S, Q = lt.shape
check(np.all(np.diff(levels) < 0) and np.isclose(levels[0], 100),
      "ladder levels not decreasing from 1e2")
for p in range(P):
    for w in range(W):
        for s in range(S):
            t, r = lt[p, w, s], lr[p, w, s]
            reached = np.isfinite(t)
            n = int(reached.sum())
            check(n > 0 and np.all(reached[:n]) and not reached[n:].any(),
                  f"run {(p, w, s)}: levels reached are not a prefix")
            check(np.all(np.diff(t[:n]) >= 0), f"run {(p, w, s)}: time falls")
            above = levels >= loss0[p, w, s]
            check(np.all(t[above] == 0) and np.all(r[above] == 0),
                  f"run {(p, w, s)}: levels above the initial loss not at 0")
            check(final[p, w, s] < levels[n - 1] and
                  (n == Q or final[p, w, s] >= levels[n]),
                  f"run {(p, w, s)}: last level {levels[n - 1]} vs final loss "
                  f"{final[p, w, s]}")

decided = f["phase/decided_by"][...]
loss_ref = f["phase/loss_ref"][...]
slope_m = f["phase/slope_matched"][...]
slope_t = f["phase/slope_tstar"][...]
slope = f["phase/slope"][...]
rows = [l for l in table if l.split() and l.split()[0][0] in "0123456789-"
        and "points agree" not in l]
check(len(rows) == P, f"{len(rows)} table rows for {P} points")
for p in range(P):
    fin = status[p] != 2  # diverged runs left out
    last = np.isfinite(lt[p]).sum(axis=-1) - 1
    k = int(last[fin].min())
    check(np.isclose(loss_ref[p], levels[k], rtol=1e-12),
          f"point {p}: loss_ref {loss_ref[p]} vs {levels[k]}")
    rd = lr[p][..., k]
    m = np.broadcast_to(widths[:, None], rd.shape)
    use = fin & (rd > 0)
    x, y = np.log(m[use]), np.log(rd[use])
    fit = np.polyfit(x, y, 1)[0] if len(np.unique(x)) >= 2 else np.nan
    check(np.isclose(slope_m[p], fit, rtol=1e-9, atol=1e-12),
          f"point {p}: slope_matched {slope_m[p]} vs numpy {fit}")
    all_conv = np.all(status[p] == 0)
    want = 0 if all_conv else 1
    check(decided[p] == want, f"point {p}: decided_by {decided[p]}")
    check(slope[p] == (slope_t[p] if all_conv else slope_m[p]),
          f"point {p}: /phase/slope is not the deciding slope")
    frm = rows[p].split()[-2:] if p < len(rows) else []
    check(frm[-1] == "t*" if all_conv else frm[0] == "loss",
          f"point {p}: table says {frm}")
far = f["phase/boundary_distance"][...] >= 0.15
agree = f["phase/regime"][...] == f["phase/theory_regime"][...]
check(np.all(agree[far]), f"points far from the boundary disagree: "
      f"{np.nonzero(far & ~agree)[0]}")
check(np.all(np.isnan(slope_t)) and np.all(decided == 1),
      "the job is meant to be one where t* classifies no point")
print(f"check_matched: {P} points, loss_ref {np.round(loss_ref, 6)}, "
      f"slopes {np.round(slope_m, 3)}; {len(fails)} failures")
for x in fails:
    print("FAIL:", x)
sys.exit(1 if fails else 0)
