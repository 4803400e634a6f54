#!/usr/bin/python3
"""How closely one integration of a scan follows a reference integration of
the same flow (run by tests/accuracy.sh; also a tool for trade-off tables).

usage: check_accuracy.py RESULT.h5 REFERENCE.h5
           [--tstar X --rd Y --slope Z [--where REGIME,...]]

For every run that converged in both files: the relative deviation of t*
and of rd_w(t*) from the reference; for every point: the deviation of the
deciding slope and whether the regimes agree; the gradient evaluations of
both.  Prints one line per theory regime of the reference and a total.
With limits, exits 1 unless every converged run at the points whose
theory regime is in --where (default: every point) is within X (t*) and Y
(rd_w), and at every point the slope is within Z and the regime is the
reference's.
"""
import sys

import h5py
import numpy as np

REGIMES = {0: "linear", 1: "critical", 2: "condensed", -1: "undetermined"}


def load(path):
    f = h5py.File(path, "r")
    r = {k: f["runs/" + k][...] for k in
         ("status", "t_star", "rd_w", "evaluations")}
    r["slope"] = f["phase/slope"][...]
    r["regime"] = f["phase/regime"][...]
    r["theory"] = f["phase/theory_regime"][...]
    r["gamma"] = f["grid/gamma"][...]
    r["gamma_prime"] = f["grid/gamma_prime"][...]
    return r


args = sys.argv[1:]
opt = {}
while len(args) > 2:
    key, val = args[-2], args[-1]
    if not key.startswith("--"):
        sys.exit(__doc__)
    opt[key[2:]] = val
    args = args[:-2]
if len(args) != 2:
    sys.exit(__doc__)
a, ref = load(args[0]), load(args[1])
if a["status"].shape != ref["status"].shape:
    sys.exit("the two files are not the same scan (shapes %s and %s)" %
             (a["status"].shape, ref["status"].shape))

both = (a["status"] == 0) & (ref["status"] == 0)
dt = np.abs(a["t_star"] / ref["t_star"] - 1)
dr = np.abs(a["rd_w"] / ref["rd_w"] - 1)
ds = np.abs(a["slope"] - ref["slope"])
same = a["regime"] == ref["regime"]
print(f"{'theory':>12} {'points':>6} {'runs':>5} {'t* max':>9} "
      f"{'t* med':>9} {'rd max':>9} {'rd med':>9} {'slope max':>9} "
      f"{'regimes':>8} {'evals':>10} {'ref evals':>10}")


def line(name, pts):
    runs = both[pts]
    t, r = dt[pts][runs], dr[pts][runs]
    s = ds[pts]
    s = s[np.isfinite(s)]

    def mx(v):
        return f"{v.max():9.2e}" if v.size else f"{'-':>9}"

    def md(v):
        return f"{np.median(v):9.2e}" if v.size else f"{'-':>9}"
    print(f"{name:>12} {int(pts.sum()):6d} {int(runs.sum()):5d} {mx(t)} "
          f"{md(t)} {mx(r)} {md(r)} {mx(s)} "
          f"{int(same[pts].sum()):4d}/{int(pts.sum()):<3d} "
          f"{int(a['evaluations'][pts].sum()):10d} "
          f"{int(ref['evaluations'][pts].sum()):10d}")


for code, name in REGIMES.items():
    pts = ref["theory"] == code
    if pts.any():
        line(name, pts)
line("all", np.ones_like(same))
worst = np.unravel_index(np.nanargmax(np.where(both, dr, -1)), dr.shape)
print(f"largest rd_w deviation: point ({a['gamma'][worst[0]]:g}, "
      f"{a['gamma_prime'][worst[0]]:g}) width index {worst[1]} seed index "
      f"{worst[2]}: {dr[worst]:.3e} (t* {dt[worst]:.3e})")
if opt:
    where = opt.get("where", ",".join(REGIMES.values())).split(",")
    codes = [c for c, n in REGIMES.items() if n in where]
    runs = both & np.isin(ref["theory"], codes)[:, None, None]
    bad = []
    if (dt[runs] > float(opt["tstar"])).any():
        bad.append(f"t* off by {dt[runs].max():.3e} > {opt['tstar']}")
    if (dr[runs] > float(opt["rd"])).any():
        bad.append(f"rd_w off by {dr[runs].max():.3e} > {opt['rd']}")
    if (ds[np.isfinite(ds)] > float(opt["slope"])).any():
        bad.append(f"a slope off by {np.nanmax(ds):.3e} > {opt['slope']}")
    if not same.all():
        bad.append(f"{int((~same).sum())} regimes differ")
    if not runs.any():
        bad.append("no run converged in both")
    if bad:
        sys.exit("FAIL: " + "; ".join(bad))
    print(f"accuracy: PASS ({int(runs.sum())} runs at {','.join(where)} "
          f"points within t* {opt['tstar']} and rd_w {opt['rd']}; every "
          f"slope within {opt['slope']}, every regime the reference's)")
