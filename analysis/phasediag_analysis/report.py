"""The HTML report (pdreport): one offline page with every figure, the
summary table, the per-run observables, run statuses, provenance, notes and
the job file."""
import base64
import datetime
import html
import os

from .figures import absent_future_notes, make_figures
from .summarize import (PROVENANCE_KEYS, RUN_SCALARS, TABLE_HEADER, _cell,
                      format_run_scalars, summary, table_rows, verdict_text)
from .theory import REGIME_ORDER, regime_color, regime_name


CSS = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1200px;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em;
     border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; }
th { background: #f0f0f0; } td.num { text-align: right;
     font-family: monospace; }
tr.no td { background: #fde8e8; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em;
          border-radius: 50%; vertical-align: middle; margin-right: 4px; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; box-sizing: border-box;
             border: 1px solid #ddd; display: block; }
/* long file names and paths wrap instead of widening the page */
h1, h3, p, li, figcaption { overflow-wrap: anywhere; }
figcaption { font-size: 0.9em; color: #444; max-width: 1000px; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
.notes li { color: #8a4b00; }
.fignote { color: #8a1c00; font-size: 0.9em; margin: 0.2em 0; }
.failed { color: #b00020; font-weight: bold; }
div.wide { overflow-x: auto; }   /* a wide table scrolls, not the page */
td { overflow-wrap: anywhere; }
"""


def _swatch(code):
    return (f'<span class="swatch" style="background:{regime_color(code)}">'
            f'</span>{html.escape(regime_name(code))}')


def report_html(res, written, skipped, embed=False, outdir=".", failed=()):
    """The page (a str).  written, skipped, failed: make_figures' lists; a
    failed figure is listed in the Notes and in place of its image with
    the reason, a figure's own notes (what it could not draw) under it."""
    s = summary(res, with_config=True)
    c = s["counts"]
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>phasediag report: {e(os.path.basename(res.path))}</title>",
           f"<style>{CSS}</style></head><body>",
           f"<h1>phasediag report: {e(os.path.basename(res.path))}</h1>",
           f"<p>{e(s['file'])}<br>{e(verdict_text(c))}; "
           f"{c['tasks']} runs: "
           + e(", ".join(f"{n} {k}" for k, n in c["statuses"].items()))
           + ".</p>"]
    out.append("<p>Regime colors: " + " &nbsp; ".join(
        _swatch(r) for r in REGIME_ORDER) + "</p>")
    notes = (list(res.notes) + list(skipped)
             + [f"{f['name']}: FAILED, not drawn ({f['error']})"
                for f in failed]
             + [f"{f['name']}: {n}" for f in written
                for n in f.get("notes", ())]
             + absent_future_notes(res))
    if notes:
        out.append('<h2 id="notes">Notes</h2><ul class="notes">')
        out += [f"<li>{e(n)}</li>" for n in notes]
        out.append("</ul>")
    out.append('<h2 id="figures">Figures</h2>')
    for fig in written:
        png = fig["files"].get("png")
        if not png:
            continue
        rel = os.path.relpath(png, outdir)
        if embed:
            with open(png, "rb") as fh:
                src = "data:image/png;base64," + \
                    base64.b64encode(fh.read()).decode("ascii")
        else:
            src = rel
        pdf = fig["files"].get("pdf")
        link = (f' (<a href="{e(os.path.relpath(pdf, outdir))}">PDF</a>)'
                if pdf and not embed else "")
        fnotes = "".join(f'<p class="fignote">{e(n)}</p>'
                         for n in fig.get("notes", ()))
        out.append(f'<figure id="{e(fig["name"])}"><h3>{e(fig["title"])}'
                   f'{link}</h3><img src="{e(src)}" alt="{e(fig["title"])}">'
                   f'{fnotes}<figcaption>{e(fig["caption"])}</figcaption>'
                   '</figure>')
    for fig in failed:
        out.append(f'<figure id="{e(fig["name"])}"><h3>{e(fig["title"])}'
                   '</h3><p class="failed">This figure could not be drawn: '
                   f'{e(fig["error"])}</p><figcaption>{e(fig["caption"])}'
                   '</figcaption></figure>')
    out.append('<h2 id="summary">Summary</h2><div class="wide"><table><tr>'
               + "".join(f"<th>{e(h)}</th>" for h in TABLE_HEADER)
               + "<th>boundary distance</th></tr>")
    ph = res.phase
    for p, r in enumerate(table_rows(res)):
        cls = ' class="no"' if ph["verdict"][p] and not ph["agree"][p] else ""
        d = ph["boundary_distance"][p]
        out.append(
            f"<tr{cls}><td class=num>{e(r[0])}</td><td class=num>{e(r[1])}"
            f"</td><td>{e(r[2])}</td><td class=num>{e(r[3])}</td>"
            f"<td>{_swatch(ph['regime'][p])}</td>"
            f"<td>{_swatch(ph['theory_regime'][p])}</td><td>{e(r[6])}</td>"
            f"<td class=num>{d:.3g}</td></tr>")
    out.append("</table></div>")
    out.append(f"<p>Regimes: {e(res.phase_source)}; band {res.band:g} "
               "(|slope| &lt; band is critical).</p>")
    rs = s.get("run_observables")
    if rs:
        lines = format_run_scalars(res, rs)
        keys = [(k, h) for k, h, _ in RUN_SCALARS if k in rs[0]]
        out.append('<h2 id="observables">Per-run observables</h2>'
                   f'<p>{e(lines[0])}</p><div class="wide"><table><tr>'
                   + "".join(f"<th>{e(h)}</th>" for h in
                             ["point", "m", "seed", "status"]
                             + [h for _, h in keys]) + "</tr>")
        for r in rs:
            out.append(f"<tr><td>{e(res.point_name(r['point']))}</td>"
                       f"<td class=num>{r['width']}</td>"
                       f"<td class=num>{r['seed']}</td>"
                       f"<td>{e(r['status'])}</td>"
                       + "".join(f"<td class=num>{e(_cell(k, r[k]))}</td>"
                                 for k, _ in keys) + "</tr>")
        out.append("</table></div>")
    out.append('<h2 id="runs">Runs</h2><div class="wide"><table><tr><th>status</th>'
               "<th>runs</th></tr>")
    out += [f"<tr><td>{e(k)}</td><td class=num>{n}</td></tr>"
            for k, n in c["statuses"].items()]
    out.append("</table></div>")
    out.append('<h2 id="provenance">Provenance</h2><div class="wide"><table>')
    out.append(f"<tr><th>file</th><td>{e(s['file'])}</td></tr>")
    for k in PROVENANCE_KEYS:
        v = s["provenance"][k]
        out.append(f"<tr><th>{e(k)}</th><td>"
                   f"{e('(missing)' if v is None else str(v))}</td></tr>")
    for k in ("widths", "seeds"):
        out.append(f"<tr><th>{k}</th><td>"
                   + e(", ".join(str(v) for v in s["provenance"][k]))
                   + "</td></tr>")
    out.append("</table></div>")
    out.append('<h2 id="config">Job file (config_text)</h2><pre>'
               + e(res.config_text or "(missing)") + "</pre>")
    out.append(f"<p><small>Written by pdreport on "
               f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
               " UTC.</small></p></body></html>")
    return "\n".join(out) + "\n"


def write_report(res, outdir, embed=False, dpi=130):
    """Figures (PNG and PDF) and outdir/index.html, always complete: a
    figure that fails is listed in the page instead (make_figures), and the
    page is written to index.html.tmp and renamed, so no partial page is
    ever left under the final name.  Returns (index path, written, skipped,
    failed)."""
    os.makedirs(outdir, exist_ok=True)
    written, skipped, failed = make_figures(res, outdir, dpi=dpi)
    page = report_html(res, written, skipped, embed=embed, outdir=outdir,
                       failed=failed)
    index = os.path.join(outdir, "index.html")
    write_atomic(index, page)
    return index, written, skipped, failed


def write_atomic(path, text):
    """Write text to path.tmp, then rename it to path (atomic on POSIX)."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
