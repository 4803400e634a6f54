#!/usr/bin/python3
"""Checks on scan result files written by phasediag (run by tests/scan.sh).

usage: check_scan.py REFERENCE.h5 [OTHER.h5 ...]

* the documented layout is there, with the documented types and shapes;
* every point at least 0.15 from the theoretical boundary agrees with the
  theorem and every converged run has finite numbers;
* the condensation measure falls to a few directions at the condensed
  points and stays put at the linear ones;
* OTHER files (other rank counts / group sizes) hold bitwise the same
  numbers as REFERENCE in every dataset except the wall times.
"""
import sys

import h5py
import numpy as np

REQUIRED = {
    "grid/gamma": ("f8", 1), "grid/gamma_prime": ("f8", 1),
    "grid/label": ("S", 1), "grid/width": ("i8", 1), "grid/seed": ("i8", 1),
    "runs/rd_w": ("f8", 3), "runs/rd_a": ("f8", 3),
    "runs/final_loss": ("f8", 3), "runs/t_star": ("f8", 3),
    "runs/steps": ("i8", 3), "runs/status": ("i1", 3),
    "runs/evaluations": ("i8", 3),
    "history/step": ("f8", 4), "history/time": ("f8", 4),
    "history/loss": ("f8", 4), "history/rd_w": ("f8", 4),
    "history/ladder_loss": ("f8", 1), "history/ladder_time": ("f8", 4),
    "history/ladder_rd_w": ("f8", 4),
    "phase/slope": ("f8", 1), "phase/slope_stderr": ("f8", 1),
    "phase/regime": ("i1", 1), "phase/theory_regime": ("i1", 1),
    "phase/slope_tstar": ("f8", 1), "phase/slope_matched": ("f8", 1),
    "phase/loss_ref": ("f8", 1), "phase/decided_by": ("i1", 1),
    "features/orientation0": ("f8", 4), "features/amplitude1": ("f8", 4),
    "features/condensation0": ("f8", 3), "features/condensation1": ("f8", 3),
}
ATTRS = ["software", "version", "git_commit", "config_text", "mpi_ranks",
         "created_utc"]
NOT_COMPARED = {"runs/seconds"}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def datasets(f):
    out = {}
    f.visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
    return out


def check_layout(path):
    with h5py.File(path, "r") as f:
        for a in ATTRS:
            check(a in f.attrs, f"{path}: root attribute {a} missing")
        P = f["grid/gamma"].shape[0]
        W = f["grid/width"].shape[0]
        S = f["grid/seed"].shape[0]
        for name, (kind, rank) in REQUIRED.items():
            if name not in f:
                check(False, f"{path}: dataset /{name} missing")
                continue
            d = f[name]
            check(d.ndim == rank, f"/{name}: rank {d.ndim}, expected {rank}")
            if kind == "S":     # text: variable-length UTF-8
                st = h5py.check_string_dtype(d.dtype)
                check(st is not None and st.length is None and
                      st.encoding == "utf-8",
                      f"/{name}: type {d.dtype}, expected UTF-8 text")
            else:
                check(d.dtype.kind == np.dtype(kind).kind and
                      d.dtype.itemsize == np.dtype(kind).itemsize,
                      f"/{name}: type {d.dtype}, expected {kind}")
            if rank >= 3:
                check(d.shape[:3] == (P, W, S), f"/{name}: shape {d.shape}")
        check("names" in f["phase/regime"].attrs, "/phase/regime has no names")
        status = f["runs/status"][...]
        check((status >= 0).all(), f"{path}: tasks not run: {(status < 0).sum()}")
        conv = status == 0
        check(np.isfinite(f["runs/rd_w"][...][conv]).all(), "non-finite rd_w")
        check((f["runs/final_loss"][...][conv] < 1e-6).all(), "converged loss")
        dist = f["phase/boundary_distance"][...]
        reg = f["phase/regime"][...]
        theo = f["phase/theory_regime"][...]
        far = dist >= 0.15
        for p in np.where(far & (reg != theo))[0]:
            check(False, f"{path}: point ({f['grid/gamma'][p]}, "
                  f"{f['grid/gamma_prime'][p]}) slope {f['phase/slope'][p]:.3f}"
                  f" classified {reg[p]} but the theorem says {theo[p]}")
        check(far.sum() >= 1, "no point far from the boundary")
        # a point whose runs all converged is classified from t*
        allc = conv.reshape(P, -1).all(axis=1)
        dec = f["phase/decided_by"][...]
        check((dec[allc] == 0).all() and np.array_equal(
            f["phase/slope"][...][allc], f["phase/slope_tstar"][...][allc]),
            f"{path}: converged points not decided by t*: {dec}")
        ev = f["runs/evaluations"][...]
        check((ev[conv] > f["runs/steps"][...][conv]).all(),
              f"{path}: fewer evaluations than steps")
        check_condensation(f, far, theo, conv)
        labels = list(f["grid/label"].asstr()[...])
        print(f"{path}: {P} points ({sum(1 for l in labels if l)} schemes), "
              f"{W} widths, {S} seeds; {int(far.sum())} points far from the "
              f"boundary, {int((far & (reg == theo)).sum())} agree")


def check_condensation(f, far, theo, conv):
    """The condensation measure (effective number of neuron directions)
    against the regimes: where the theorem says condensed, the input weights
    gather on a few directions by t* (fewer than 3, and less than a third of
    the initial count); where it says linear, they hardly move (within 25%
    of the initial count).  Points near the boundary are not judged."""
    c0 = f["features/condensation0"][...]
    c1 = f["features/condensation1"][...]
    for p in np.where(far)[0]:
        ok = conv[p]
        point = f"({f['grid/gamma'][p]}, {f['grid/gamma_prime'][p]})"
        if theo[p] == 2:
            check((c1[p][ok] < 3).all() and (c1[p][ok] < c0[p][ok] / 3).all(),
                  f"condensed point {point}: condensation {c0[p][ok]} -> "
                  f"{c1[p][ok]}, expected a few directions")
        elif theo[p] == 0:
            check((abs(c1[p][ok] / c0[p][ok] - 1) < 0.25).all(),
                  f"linear point {point}: condensation {c0[p][ok]} -> "
                  f"{c1[p][ok]}, expected unchanged")
        check(ok.any() or theo[p] == 1, f"point {point}: no converged run")


def compare(ref, other):
    with h5py.File(ref, "r") as a, h5py.File(other, "r") as b:
        da, db = datasets(a), datasets(b)
        check(set(da) == set(db), f"{other}: datasets differ from {ref}")
        n = 0
        for name in sorted(set(da) & set(db)):
            if name in NOT_COMPARED:
                continue
            x, y = da[name][...], db[name][...]
            same = x.shape == y.shape and x.dtype == y.dtype and (
                x.tolist() == y.tolist() if x.dtype.kind == "O"  # text
                else x.tobytes() == y.tobytes())
            check(same, f"{other}: /{name} differs from {ref}")
            n += 1
        print(f"{other}: {n} datasets bitwise equal to {ref}"
              if not failures else f"{other}: compared {n} datasets")


def main():
    files = sys.argv[1:]
    for p in files:
        check_layout(p)
    for p in files[1:]:
        compare(files[0], p)
    for m in failures:
        print("FAIL", m)
    print(f"{len(files) * 2 - 1 - len(failures) if not failures else 0} passed, "
          f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
