#!/usr/bin/python3
"""Checks on the snapshot observers (run by tests/observers.sh).

usage: check_observers.py FP_NP1.h5 FP_NP2.h5 NTK_NP1.h5 NTK_NP2.h5
                          TANH_NP1.h5 TANH_NP2.h5

F-Principle (tests/jobs/fprinciple_small.ini, sin x + sin 3x + sin 5x):
* the DFT finds exactly the peaks 1, 3, 5 and they converge in that order
  (a peak that never converges must still be the highest); the verdict is
  above 0.5; the grid shells converge in the order of |k|; the filter's low
  part converges before its high part.
Linear theory (tests/jobs/ntk_small.ini, ntk scheme at m = 400, 40000):
* the empirical kernel is closer to the closed form, moves less, and the
  trained net is closer to the kernel regression at the larger width;
  eigenvalues are descending; at t = 0 the residual projections equal the
  linear prediction.
Linear theory of a tanh net (tests/jobs/ntk_tanh.ini, m = 100, 10000; the
infinite-width NTK by quadrature):
* the empirical kernel is closer to the infinite-width one and moves less
  at the larger width; eigenvalues are positive and descending; at t = 0 the
  projections equal the linear prediction; the LFP (relu's only) is NaN.
All: the files at np 1 and at np 2 (one group of 2: the observers split
their work) agree -- bitwise except where a distributed FFT or eigensolver
rounds differently (FFTW-MPI, pdsyevd), there to 1e-9 (the tanh kernel
regression, ill-conditioned, to 1e-6).
"""
import sys

import h5py
import numpy as np

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def leaves(f):
    out = {}
    f.visititems(lambda k, v: out.__setitem__(k, v[...])
                 if isinstance(v, h5py.Dataset) else None)
    return out


# wall times, and what depends on the rank count by design
TIMES = {"runs/seconds", "snapshots/seconds", "spectral/grid/bytes",
         "spectral/grid/method"}


def compare(a, b, loose_prefixes, looser=()):
    da, db = leaves(a), leaves(b)
    check(set(da) == set(db), "datasets differ: %s" % (set(da) ^ set(db)))
    for k in sorted(set(da) & set(db)):
        if k in TIMES:
            continue
        x, y = da[k], db[k]
        if any(k.startswith(p) for p in loose_prefixes):
            rtol = 1e-6 if any(k.startswith(p) for p in looser) else 1e-9
            ok = x.shape == y.shape and np.allclose(
                x, y, rtol=rtol, atol=1e-12, equal_nan=True)
        else:
            ok = x.shape == y.shape and (
                x.tolist() == y.tolist() if x.dtype.kind == "O"  # text
                else x.tobytes() == y.tobytes())
        check(ok, "%s differs between np 1 and np 2" % k)


def fprinciple(path):
    with h5py.File(path) as f:
        freq = f["spectral/dft/frequency"][0, 0, 0]
        conv = f["spectral/dft/converged_step"][0, 0, 0]
        delta = f["spectral/dft/delta"][0, 0, 0]
        steps = f["snapshots/step"][0, 0, 0]
        peaks = freq[~np.isnan(freq)]
        check(list(peaks) == [1, 3, 5], "dft peaks %s, want 1 3 5" % peaks)
        c = conv[:3]
        check(np.isfinite(c[0]) and np.isfinite(c[1]) and c[0] < c[1],
              "peaks 1 and 3 converge in order: %s" % c)
        check(np.isnan(c[2]) or c[2] > c[1], "peak 5 converges last: %s" % c)
        rows = int(np.sum(steps >= 0))
        last = delta[rows - 1, :3]
        check(last[0] <= last[1] <= last[2],
              "final Delta_F ordered by frequency: %s" % last)
        v = f["spectral/verdict"][0, 0, 0]
        check(v > 0.5, "verdict %s, want > 0.5" % v)
        g = f["spectral/grid/rank_correlation"][0, 0, 0]
        check(g > 0.5, "grid shells rank correlation %s" % g)
        pw = f["spectral/grid/target_power"][0, 0, 0]
        top = set(np.argsort(pw)[-3:])
        check(top == {1, 3, 5}, "grid target power in shells %s" % top)
        el = f["spectral/filter/e_low"][0, 0, 0, 1:rows, 0]
        eh = f["spectral/filter/e_high"][0, 0, 0, 1:rows, 0]
        check(np.all(el < eh) and el[-1] < 0.5 * eh[-1],
              "filter: the low part is fitted first (%s, %s)" % (el, eh))
        rel = f["spectral/grid/rel_error"][0, 0, 0, rows - 1]
        check(np.all(np.isnan(np.delete(rel, [1, 3, 5]))),
              "grid: no relative error where the target has no power")
        check(f["test/output"].shape[-1] == f["data/x_test"].shape[0],
              "test output on every test point")


def ntk(path):
    with h5py.File(path) as f:
        d0 = f["ntk/dist0"][0, :, 0]
        ch = f["ntk/kernel_change"][0, :, 0]
        le = f["ntk/linearity_error_test"][0, :, 0]
        check(d0[1] < d0[0] / 3, "dist0 %s falls with width" % d0)
        check(ch[1] < ch[0] / 3, "kernel change %s falls with width" % ch)
        check(le[1] < 0.9 * le[0], "linearity error %s falls with width" % le)
        ev = f["ntk/eigenvalues_closed"][0, 1, 0]
        check(np.all(np.diff(ev) <= 0), "eigenvalues descending %s" % ev)
        p = f["ntk/projection"][0, 1, 0, 0]
        q = f["ntk/projection_linear"][0, 1, 0, 0]
        check(np.allclose(p, q, rtol=1e-12, atol=1e-14),
              "t = 0: projections %s equal the linear prediction %s" % (p, q))
        e = f["ntk/lfp_error"][0, 1, 0]
        check(np.isfinite(e) and e < 0.1, "LFP error %s at m = 40000" % e)


def ntk_tanh(path):
    with h5py.File(path) as f:
        d0 = f["ntk/dist0"][0, :, 0]
        ch = f["ntk/kernel_change"][0, :, 0]
        check(np.all(np.isfinite(d0)) and d0[1] < d0[0] / 3,
              "tanh: dist0 %s falls with width" % d0)
        check(ch[1] < ch[0] / 3, "tanh: kernel change %s falls with width" % ch)
        ev = f["ntk/eigenvalues_closed"][0, 1, 0]
        check(np.all(ev > 0) and np.all(np.diff(ev) <= 0),
              "tanh: eigenvalues positive, descending %s" % ev)
        p = f["ntk/projection"][0, 1, 0, 0]
        q = f["ntk/projection_linear"][0, 1, 0, 0]
        check(np.allclose(p, q, rtol=1e-12, atol=1e-14),
              "tanh: t = 0: projections %s equal the linear prediction %s"
              % (p, q))
        for k in ("ntk/lfp_error", "ntk/lfp_crossover"):
            check(np.all(np.isnan(f[k][...])), "tanh: %s is not NaN" % k)


fp1, fp2, nt1, nt2, th1, th2 = sys.argv[1:7]
fprinciple(fp1)
ntk(nt1)
ntk_tanh(th1)
with h5py.File(fp1) as a, h5py.File(fp2) as b:
    compare(a, b, ["spectral/grid/rel_error"])
with h5py.File(nt1) as a, h5py.File(nt2) as b:
    compare(a, b, ["ntk/"])
# tanh's kernel is smooth, so its Gram matrix is ill-conditioned (smallest
# eigenvalues ~1e-8 of the largest here): the kernel regression solved on a
# 1 x 1 and a 1 x 2 process grid (pdposv) differs by ~4e-8 relative
with h5py.File(th1) as a, h5py.File(th2) as b:
    compare(a, b, ["ntk/"], ["ntk/test_prediction", "ntk/linearity_error"])
for m in failures:
    print("FAIL", m)
print("check_observers: %d failures" % len(failures))
sys.exit(1 if failures else 0)
