"""The summary of a result file (pdsummary, the report's tables): the
per-point table, counts, provenance and notes, and the per-run observables
of /spectral, /ntk and the test set."""
import math
import os

import numpy as np

from .io import NOT_RUN, status_name
from .theory import FAR_FROM_BOUNDARY, regime_name


PROVENANCE_KEYS = ("software", "version", "git_commit", "mpi_ranks",
                   "group_size", "created_utc")


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def summary(res, with_config=False):
    """The summary as a JSON-ready dict (NaN -> None)."""
    ph = res.phase
    points = []
    for p in range(res.P):
        points.append({
            "index": p,
            "gamma": _num(res.gamma[p]),
            "gamma_prime": _num(res.gamma_prime[p]),
            "label": res.label[p],
            "slope": _num(ph["slope"][p]),
            "slope_stderr": _num(ph["slope_stderr"][p]),
            "regime": regime_name(ph["regime"][p]),
            "regime_code": int(ph["regime"][p]),
            "theory": regime_name(ph["theory_regime"][p]),
            "theory_code": int(ph["theory_regime"][p]),
            "agree": bool(ph["agree"][p]) if ph["verdict"][p] else None,
            "boundary_distance": _num(ph["boundary_distance"][p]),
        })
    far = ph["boundary_distance"] >= FAR_FROM_BOUNDARY
    prov = {k: res.attrs.get(k) for k in PROVENANCE_KEYS}
    prov["widths"] = [int(w) for w in res.width]
    prov["seeds"] = [int(s) for s in res.seed]
    out = {
        "file": os.path.abspath(res.path),
        "provenance": prov,
        "points": points,
        "counts": {
            "points": res.P,
            "classified": int(ph["verdict"].sum()),
            "agreeing": int(ph["agree"].sum()),
            "far_from_boundary": int(far.sum()),
            "far_classified": int((ph["verdict"] & far).sum()),
            "far_agreeing": int((ph["agree"] & far).sum()),
            "n_widths": int(res.W),
            "tasks": int(res.status.size),
            "statuses": res.status_counts(),
        },
        "phase_source": res.phase_source,
        "notes": list(res.notes),
    }
    rs = run_scalars(res)
    if rs:
        out["run_observables"] = rs
    if with_config:
        out["config_text"] = res.config_text
    return out


def _fmt_slope(s, e):
    a = f"{s:+8.3f}" if math.isfinite(s) else f"{'nan':>8}"
    b = f"{e:6.3f}" if math.isfinite(e) else f"{'nan':>6}"
    return f"{a} +- {b}"


def table_rows(res):
    """Rows of the summary table as lists of strings."""
    ph = res.phase
    rows = []
    for p in range(res.P):
        rows.append([f"{res.gamma[p]:.4g}", f"{res.gamma_prime[p]:.4g}",
                     res.label[p] or "-",
                     _fmt_slope(ph["slope"][p], ph["slope_stderr"][p]),
                     regime_name(ph["regime"][p]),
                     regime_name(ph["theory_regime"][p]),
                     "-" if not ph["verdict"][p]
                     else "yes" if ph["agree"][p] else "NO"])
    return rows


def verdict_text(c):
    """The counts' verdict in words: how many points agree with the
    theorem, of those that could be classified; none for a job of one
    width per point (no slope can exist, so no verdict is drawn)."""
    if c["n_widths"] < 2:
        return ("no phase classification: the job trains one width per "
                "point (the slope of log RD against log m needs two)")
    if c["classified"] == c["points"]:
        return (f"{c['agreeing']} of {c['points']} points agree with the "
                f"theorem ({c['far_agreeing']} of the "
                f"{c['far_from_boundary']} points at least "
                f"{FAR_FROM_BOUNDARY} from the boundary)")
    return (f"{c['agreeing']} of {c['classified']} classified points agree "
            f"with the theorem ({c['far_agreeing']} of the "
            f"{c['far_classified']} at least {FAR_FROM_BOUNDARY} from the "
            f"boundary); {c['points'] - c['classified']} of {c['points']} "
            "points not classified (no slope)")


TABLE_HEADER = ["gamma", "gamma'", "label", "slope +- stderr", "regime",
                "theory", "agree"]


def format_summary(res, with_config=False):
    s = summary(res, with_config)
    c = s["counts"]
    lines = ["%8s %8s  %-10s %17s  %-12s %-12s %s" % tuple(TABLE_HEADER)]
    for r in table_rows(res):
        lines.append("%8s %8s  %-10s %17s  %-12s %-12s %s" % tuple(r))
    lines.append("")
    lines.append(f"points: {c['points']}; {verdict_text(c)}")
    st = ", ".join(f"{n} {k}" for k, n in c["statuses"].items())
    lines.append(f"runs: {c['tasks']} tasks: {st}")
    if res.phase_source != "file":
        lines.append(f"phase: {res.phase_source} by the analysis (see notes)")
    lines.append("")
    lines.append("provenance:")
    lines.append(f"  {'file':<12} {s['file']}")
    for k in PROVENANCE_KEYS:
        v = s["provenance"][k]
        lines.append(f"  {k:<12} {'(missing)' if v is None else v}")
    lines.append(f"  {'widths':<12} "
                 + ", ".join(str(w) for w in s["provenance"]["widths"]))
    lines.append(f"  {'seeds':<12} "
                 + ", ".join(str(x) for x in s["provenance"]["seeds"]))
    extra = format_run_scalars(res, s.get("run_observables", []))
    if extra:
        lines.append("")
        lines += extra
    if res.notes:
        lines.append("")
        lines.append("notes:")
        lines += [f"  - {n}" for n in res.notes]
    if with_config:
        lines.append("")
        lines.append("config_text:")
        lines.append(res.config_text.rstrip("\n") if res.config_text
                     else "(missing)")
    return "\n".join(lines) + "\n"


# -- per-run observables of /spectral, /ntk and the test set -----------------

def _conv_list(freq, conv):
    """'1@22 3@-' from peak frequencies and converged steps (NaN: never)."""
    out = []
    for f_, c in zip(np.asarray(freq, float), np.asarray(conv, float)):
        if not math.isfinite(f_):
            continue
        out.append(f"{f_:g}@" + (f"{c:g}" if math.isfinite(c) else "-"))
    return " ".join(out)


# (key, column header, dataset); dataset None: computed
RUN_SCALARS = [
    ("verdict", "verdict", "spectral/verdict"),
    ("dft", "dft k@step", None),
    ("projection", "proj k@step", None),
    ("shells", "shells |k|@step", None),
    ("filter", "filter d:low/high", None),
    ("dist0", "dist0", "ntk/dist0"),
    ("dist1", "dist1", "ntk/dist1"),
    ("kernel_change", "kernel_chg", "ntk/kernel_change"),
    ("linearity_error_train", "lin_err_trn", "ntk/linearity_error_train"),
    ("linearity_error_test", "lin_err_tst", "ntk/linearity_error_test"),
    ("test_loss", "test_loss", "runs/test_loss"),
    ("test_rel_error", "test_rel", "runs/test_rel_error"),
    ("test_accuracy", "test_acc", "runs/test_accuracy"),
    ("train_accuracy", "train_acc", "runs/train_accuracy"),
]


def run_scalars(res):
    """The per-run scalars of /spectral, /ntk and the test set, one dict per
    run that ran: point, gamma, gamma_prime, label, width, seed, status and
    the keys of RUN_SCALARS the file holds (numbers: NaN -> None; 'dft',
    'projection': [[frequency, converged step]] per peak; 'shells': [[|k|,
    converged step]] over the shells with target power; 'filter': [[delta,
    low step, high step]]).  [] when the file holds none of them."""
    have = [k for k, _, ds in RUN_SCALARS if ds and res.get(ds) is not None]
    for m in ("dft", "projection"):
        if res.get(f"spectral/{m}/frequency") is not None and \
                res.get(f"spectral/{m}/converged_step") is not None:
            have.append(m)
    if res.get("spectral/grid/converged_step") is not None and \
            res.get("spectral/grid/target_power") is not None:
        have.append("shells")
    if res.get("spectral/filter/delta") is not None and \
            res.get("spectral/filter/converged_step_low") is not None:
        have.append("filter")
    if not have:
        return []
    rows = []
    for p in range(res.P):
        for w in range(res.W):
            for s in range(res.S):
                if res.status[p, w, s] == NOT_RUN:
                    continue
                r = {"point": p, "gamma": _num(res.gamma[p]),
                     "gamma_prime": _num(res.gamma_prime[p]),
                     "label": res.label[p], "width": int(res.width[w]),
                     "seed": int(res.seed[s]),
                     "status": status_name(res.status[p, w, s],
                                           res.status_names)}
                for key, _, ds in RUN_SCALARS:
                    if key not in have:
                        continue
                    if ds:
                        r[key] = _num(res.get(ds)[p, w, s])
                    elif key in ("dft", "projection"):
                        fr = res.get(f"spectral/{key}/frequency")[p, w, s]
                        cs = res.get(f"spectral/{key}/converged_step")[p, w, s]
                        r[key] = [[_num(a), _num(b)] for a, b in zip(fr, cs)
                                  if math.isfinite(a)]
                    elif key == "shells":
                        cs = res.get("spectral/grid/converged_step")[p, w, s]
                        r[key] = [[k, _num(cs[k])]
                                  for k in grid_shells(res, p, w, s)]
                    elif key == "filter":
                        dl = res.get("spectral/filter/delta")[p, w, s]
                        lo = res.get("spectral/filter/converged_step_low")
                        hi = res.get("spectral/filter/converged_step_high")
                        r[key] = [[_num(d), _num(lo[p, w, s][k]),
                                   _num(hi[p, w, s][k]) if hi is not None
                                   else None]
                                  for k, d in enumerate(dl)]
                rows.append(r)
    return rows


def _cell(key, v):
    def step(x):
        return "-" if x is None else f"{x:g}"
    if key in ("dft", "projection", "shells"):
        return " ".join(f"{a:g}@{step(b)}" for a, b in v) or "-"
    if key == "filter":
        return " ".join(f"{d:g}:{step(a)}/{step(b)}" for d, a, b in v) or "-"
    if v is None:
        return "nan"
    if key == "verdict":
        return f"{v:+.3f}"
    return f"{v:.4g}"


def format_run_scalars(res, rows=None):
    """The per-run table as text lines ([] without such data)."""
    rows = run_scalars(res) if rows is None else rows
    if not rows:
        return []
    keys = [(k, h) for k, h, _ in RUN_SCALARS if k in rows[0]]
    head = ["point", "m", "seed", "status"] + [h for _, h in keys]
    body = []
    for r in rows:
        body.append([res.point_name(r["point"]), str(r["width"]),
                     str(r["seed"]), r["status"]]
                    + [_cell(k, r[k]) for k, _ in keys])
    wid = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    out = ["per-run observables (/spectral, /ntk, test set; steps: '-' = "
           "never below delta_tol; verdict > 0.5: low frequencies first):"]
    for x in [head] + body:
        out.append("  " + "  ".join(
            c.ljust(wid[i]) if i in (0, 3) or not c[:1].isdigit() and
            c[:1] not in "+-" else c.rjust(wid[i])
            for i, c in enumerate(x)).rstrip())
    return out


GRID_POWER_REL = 1e-2   # shells drawn: target power >= this * the largest


def grid_shells(res, p, w, s):
    """The shells of run (p, w, s) with target power >= GRID_POWER_REL of
    the largest (indices = |k|)."""
    tp = np.asarray(res.get("spectral/grid/target_power")[p, w, s], float)
    top = np.nanmax(tp) if np.isfinite(tp).any() else 0.0
    return [int(i) for i in np.nonzero(np.isfinite(tp) & (tp > 0) &
                                       (tp >= GRID_POWER_REL * top))[0]]
