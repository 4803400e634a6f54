#!/usr/bin/python3
"""The result file explains itself (run by tests/h5meta.sh).

usage: check_h5meta.py RESULT.h5...

For every file:
* every dataset has a `description` (str, not empty); the wall times have
  units `s`;
* codes are HDF5 enums with the documented names and values: /runs/status,
  /phase/regime, /phase/theory_regime, /phase/agree, /phase/decided_by,
  /spectral/grid/method;
* text is variable-length UTF-8: h5py gives str for every attribute (the
  dimension-scale bookkeeping of the HDF5 library aside) and recognizes
  every string dataset as UTF-8 (`asstr()` gives str); nothing is stored
  as fixed-length bytes;
* /grid/gamma and /grid/gamma_prime are the scales of the point dimension,
  /grid/width of the width dimension and /grid/seed of the seed dimension
  of every per-run [P, W, S, ...] dataset (the point dimension of every
  /phase dataset too), /history/ladder_loss of the ladder's level
  dimension; every dimension of every dataset that is not itself a scale
  has a label.
"""
import sys

import h5py
import numpy as np

# attributes the HDF5 library writes for dimension scales (its own types)
DS_ATTRS = {"CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST"}
ENUMS = {
    "/runs/status": {"converged": 0, "max_steps": 1, "diverged": 2,
                     "stalled": 3, "stationary": 4, "not_run": -1},
    "/phase/regime": {"undetermined": -1, "linear": 0, "critical": 1,
                      "condensed": 2},
    "/phase/agree": {"no_verdict": -1, "no": 0, "yes": 1},
    "/phase/decided_by": {"neither": -1, "t_star": 0, "matched_loss": 1},
    "/spectral/grid/method": {"gather": 1, "reduce": 2},
}
ENUMS["/phase/theory_regime"] = ENUMS["/phase/regime"]
UNITS = {"/runs/seconds": "s", "/snapshots/seconds": "s"}
SCALES = {"/grid/gamma", "/grid/gamma_prime", "/grid/width", "/grid/seed",
          "/history/ladder_loss"}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def check_attrs(path, obj, where):
    for k in obj.attrs:
        if k in DS_ATTRS:
            continue
        v = obj.attrs[k]
        if isinstance(v, (bytes, np.bytes_)) or (
                isinstance(v, np.ndarray) and (v.dtype.kind == "S" or any(
                    isinstance(x, bytes) for x in v.ravel().tolist()))):
            failures.append(f"{path}: attribute {k} of {where} is bytes: "
                            f"{v!r:.60}")


def scale_names(ds, i):
    return [s.name for s in ds.dims[i].values()]


def check_file(path):
    with h5py.File(path, "r") as f:
        check_attrs(path, f, "/")
        for k in ("software", "version", "git_commit", "config_text",
                  "created_utc"):
            check(isinstance(f.attrs.get(k), str),
                  f"{path}: root attribute {k} is not str")
        P, W, S = (f["grid/gamma"].shape[0], f["grid/width"].shape[0],
                   f["grid/seed"].shape[0])
        dsets = []
        f.visititems(lambda n, o: dsets.append("/" + n)
                     if isinstance(o, h5py.Dataset) else None)
        check(len(dsets) > 30, f"{path}: only {len(dsets)} datasets")
        for name in dsets:
            ds = f[name]
            check_attrs(path, ds, name)
            d = ds.attrs.get("description")
            check(isinstance(d, str) and d.strip() != "",
                  f"{path}: {name} has no description (str): {d!r}")
            if name in UNITS:
                check(ds.attrs.get("units") == UNITS[name],
                      f"{path}: {name} has units {ds.attrs.get('units')!r}")
            st = h5py.check_string_dtype(ds.dtype)
            check(ds.dtype.kind != "S", f"{path}: {name} is fixed-length "
                  f"text ({ds.dtype})")
            if st is not None:
                check(st.length is None and st.encoding == "utf-8",
                      f"{path}: {name} is not variable-length UTF-8: {st}")
                check(all(isinstance(x, str)
                          for x in ds.asstr()[()].ravel().tolist()),
                      f"{path}: {name}.asstr() does not give str")
            en = h5py.check_enum_dtype(ds.dtype)
            if name in ENUMS:
                check(en == ENUMS[name],
                      f"{path}: {name} is not the enum {ENUMS[name]}: {en}")
            else:
                check(en is None, f"{path}: {name} is an undocumented enum")
            if name in SCALES:
                check(h5py.h5ds.is_scale(ds.id), f"{path}: {name} is not a dimension scale")
                check(bool(ds.dims[0].label), f"{path}: {name} unlabelled")
                continue
            for i in range(ds.ndim):
                check(bool(ds.dims[i].label),
                      f"{path}: dimension {i} of {name} has no label")
            if name.startswith("/phase/") or name == "/grid/label":
                check(scale_names(ds, 0) == ["/grid/gamma",
                                             "/grid/gamma_prime"],
                      f"{path}: the point scales of {name}: "
                      f"{scale_names(ds, 0)}")
                check(ds.dims[0].label == "point",
                      f"{path}: {name} dim 0 is {ds.dims[0].label!r}")
            elif ds.ndim >= 3 and ds.shape[:3] == (P, W, S) and \
                    not name.startswith("/data/"):
                want = [["/grid/gamma", "/grid/gamma_prime"],
                        ["/grid/width"], ["/grid/seed"]]
                for i, lab in enumerate(("point", "width", "seed")):
                    check(scale_names(ds, i) == want[i],
                          f"{path}: the {lab} scales of {name}: "
                          f"{scale_names(ds, i)}")
                    check(ds.dims[i].label == lab,
                          f"{path}: {name} dim {i} is {ds.dims[i].label!r}")
                if name.startswith("/history/ladder_") and \
                        name != "/history/ladder_loss":
                    check(scale_names(ds, 3) == ["/history/ladder_loss"],
                          f"{path}: the level scale of {name}")
            else:
                check(name.startswith("/data/"),
                      f"{path}: {name} {ds.shape} is neither per point nor "
                      "per run")
        check(f["grid/width"].dims[0].label == "width" and
              f["grid/seed"].dims[0].label == "seed",
              f"{path}: the width and seed scales are not labelled")


for p in sys.argv[1:]:
    check_file(p)
for msg in failures[:40]:
    print("FAIL:", msg)
if failures:
    print(f"{len(failures)} failures")
    sys.exit(1)
print(f"check_h5meta: {len(sys.argv) - 1} files explain themselves")
