"""Checks of tests/condense.sh: the condense observer's datasets are the
same bits at np 1 and np 3, and tanh (p = 1) from a small initialization
condenses on at most 2 orientations in the initial stage."""
import sys

import h5py
import numpy as np


def main(a, b):
    fails = []
    with h5py.File(a, "r") as f, h5py.File(b, "r") as g:
        names = sorted(f["condensation"])
        for k in names:
            x, y = f["condensation"][k][()], g["condensation"][k][()]
            if x.dtype != y.dtype or x.shape != y.shape or \
                    x.tobytes() != y.tobytes():
                fails.append(f"/condensation/{k} differs between np 1 and 3")
        cl = f["condensation/clusters"][()]
        last = f["condensation/initial_clusters"][()]
        fewest = f["condensation/initial_min_clusters"][()]
        row = f["condensation/initial_row"][()]
        sig = f["condensation/significant"][()]
        for i in np.ndindex(last.shape):
            c0 = cl[i][0]
            print(f"run {i}: {c0} clusters at t = 0, {last[i]} at the end "
                  f"of the initial stage (row {row[i]}, "
                  f"{sig[i][row[i]]} significant neurons), fewest "
                  f"{fewest[i]}")
            if not (c0 > 20):
                fails.append(f"run {i}: only {c0} clusters at t = 0")
            if not (1 <= last[i] <= 2 and 1 <= fewest[i] <= 2):
                fails.append(f"run {i}: {last[i]} clusters at the end of "
                             f"the initial stage, fewest {fewest[i]}: "
                             "more than 2p = 2")
            if not (row[i] > 0):
                fails.append(f"run {i}: the initial stage ends at t = 0")
        c = f["condensation/cosine_initial"][()]
        if not np.all(np.abs(np.diagonal(c, axis1=-2, axis2=-1) - 1) < 1e-12):
            fails.append("cosine matrix: diagonal not 1")
    for m in fails:
        print("FAIL", m)
    print(f"check_condense: {len(names)} datasets, "
          f"{'FAIL' if fails else 'PASS'}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
