"""A run in the span of the data against the same job in the input space.

usage: check_span.py [--min-steps K] SPAN.h5 FULL.h5 R D

Every floating-point dataset of SPAN.h5 must match FULL.h5's within 1e-10
relative (both NaN also matches), the step and evaluation counts and every
code exactly; wall times are skipped.  The orientation angles of the
condensation features are compared to 1e-6 absolute: they come from acos
of cosines near 1, which turns a rounding difference e into sqrt(2 e).
The NTK's eigen-quantities (/ntk/*) are compared to 1e-6 relative to the
largest entry of their row: the kernel matrices differ by rounding (inner
products taken in other coordinates), and an eigenvector of a close pair of
eigenvalues turns by that rounding over their gap (the input space's
own np 1 and np 3 differ by up to 5e-12 there).
The files' effective_dim attributes must be R and D, and with --min-steps
the longest run at least K steps (long trajectories, not a few steps).
"""
import sys
import warnings

import h5py
import numpy as np

RTOL = 1e-10
NTK_RTOL = 1e-6
ANGLE_ATOL = 1e-6


def main(argv):
    min_steps = 0
    if argv and argv[0] == "--min-steps":
        min_steps = int(argv[1])
        argv = argv[2:]
    span_path, full_path, r, d = argv[0], argv[1], int(argv[2]), int(argv[3])
    bad = []
    with h5py.File(span_path, "r") as a, h5py.File(full_path, "r") as b:
        for f, want in ((a, r), (b, d)):
            got = int(f.attrs["effective_dim"])
            if got != want:
                bad.append(f"{f.filename}: effective_dim {got}, expected {want}")
        names = []
        a.visititems(lambda n, o: names.append(n)
                     if isinstance(o, h5py.Dataset) else None)
        worst, compared = 0.0, 0
        for n in names:
            if n.endswith("seconds") or n not in b:
                if n not in b:
                    bad.append(f"{n}: missing in {full_path}")
                continue
            x, y = a[n][()], b[n][()]
            if x.shape != y.shape:
                bad.append(f"{n}: shape {x.shape} against {y.shape}")
                continue
            if x.dtype.kind != "f":
                if x.dtype.kind in "iub" and not np.array_equal(x, y):
                    bad.append(f"{n}: codes differ")
                continue
            x, y = x.astype(float), y.astype(float)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scale = np.broadcast_to(
                    np.nanmax(np.abs(y), axis=-1, keepdims=True), y.shape)
            both_nan = np.isnan(x) & np.isnan(y)
            if np.any(np.isnan(x) != np.isnan(y)):
                bad.append(f"{n}: NaN in one file only")
                continue
            x, y = x[~both_nan], y[~both_nan]
            if x.size == 0:
                continue
            compared += 1
            if "orientation" in n:
                err = float(np.max(np.abs(x - y)))
                if err > ANGLE_ATOL:
                    bad.append(f"{n}: angles differ by {err:.3g}")
                continue
            if n in ("runs/steps", "runs/evaluations", "runs/rejected_steps"):
                if not np.array_equal(x, y):
                    bad.append(f"{n}: {x.tolist()} against {y.tolist()}")
                continue
            den = np.maximum(np.abs(y), np.finfo(float).tiny)
            tol = RTOL
            if n.startswith("ntk/"):
                den = np.maximum(den, scale[~both_nan])
                tol = NTK_RTOL
            rel = np.where(x == y, 0.0, np.abs(x - y) / den)
            err = float(np.max(rel))
            if tol == RTOL:
                worst = max(worst, err)
            if err > tol:
                i = int(np.argmax(rel))
                bad.append(f"{n}: relative difference {err:.3g} "
                           f"({x.ravel()[i]!r} against {y.ravel()[i]!r})")
        steps = int(np.nanmax(a["runs/steps"][()]))
        if steps < min_steps:
            bad.append(f"the longest run took {steps} steps, "
                       f"fewer than {min_steps}")
    if compared < 10:
        bad.append(f"only {compared} datasets compared")
    if bad:
        print("FAIL:", span_path, "against", full_path)
        for line in bad:
            print("  " + line)
        return 1
    print(f"{span_path} = {full_path}: {compared} datasets within "
          f"{worst:.2g} relative, longest run {steps} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
