"""Layout checks of a drawn figure in matplotlib's own layout engine: every
title, label, tick label, note and legend inside the figure, no two panels
(with their labels) on top of each other, the figure title clear of the
panels, and the smallest text size (the report scales a figure down to the
page, so small fonts become unreadable there).  The tests run these on
every figure of the report; pdplot does not need them."""


def _texts(fig):
    """(what, Text) of every visible, non-empty text of the figure: the
    figure's own texts (the suptitle), each panel's titles, axis labels,
    tick labels, notes and annotations, and each legend's texts."""
    out = [("figure text", t) for t in fig.texts]
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        name = f"panel {i} ({ax.get_title() or ax.get_label() or '?'})"
        out += [(f"{name} title", t) for t in
                (ax.title, ax._left_title, ax._right_title)]
        out += [(f"{name} x label", ax.xaxis.label),
                (f"{name} y label", ax.yaxis.label)]
        for a, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not axis.get_visible():
                continue
            # the ticks drawn (those inside the view limits)
            out += [(f"{name} {a} tick", lab) for tick in
                    axis._update_ticks() for lab in (tick.label1,
                                                     tick.label2)]
            out.append((f"{name} {a} offset", axis.get_offset_text()))
        out += [(f"{name} text", t) for t in ax.texts]
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            out += [(f"{name} legend", t) for t in leg.get_texts()]
            if leg.get_title().get_text():
                out.append((f"{name} legend title", leg.get_title()))
    for leg in fig.legends:
        out += [("figure legend", t) for t in leg.get_texts()]
    return [(w, t) for w, t in out
            if t.get_visible() and t.get_text().strip()]


def _legends(fig):
    out = [(f"panel {i} legend", ax.get_legend())
           for i, ax in enumerate(fig.axes)
           if ax.get_visible() and ax.get_legend() is not None
           and ax.get_legend().get_visible()]
    return out + [("figure legend", leg) for leg in fig.legends]


def _overlap(a, b):
    """Width and height (pixels) of the intersection of two Bboxes."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0), max(h, 0.0)


def layout_problems(fig, tol=1.0):
    """What is cut or overlapping in fig, one line each ([] when the layout
    is clean): a text or legend outside the figure (cut when saved), two
    panels whose areas with their labels overlap by more than a few
    pixels, the figure title over a panel, a legend over another legend
    or over a panel's title.  tol: pixels of slack."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    box = fig.bbox
    out = []

    def outside(bb):
        return (bb.x0 < box.x0 - tol or bb.y0 < box.y0 - tol or
                bb.x1 > box.x1 + tol or bb.y1 > box.y1 + tol)
    for what, t in _texts(fig):
        bb = t.get_window_extent(r)
        if outside(bb):
            out.append(f"{what} {t.get_text()[:50]!r} is outside the "
                       f"figure ({bb.x0:.0f}, {bb.y0:.0f})-({bb.x1:.0f}, "
                       f"{bb.y1:.0f}) of {box.width:.0f} x "
                       f"{box.height:.0f} px")
    legends = _legends(fig)
    for what, leg in legends:
        bb = leg.get_window_extent(r)
        if outside(bb):
            out.append(f"{what} is outside the figure")
    axes = [(i, ax) for i, ax in enumerate(fig.axes) if ax.get_visible()]
    tight = {i: ax.get_tightbbox(r) for i, ax in axes}
    for n, (i, a) in enumerate(axes):
        for j, b in axes[n + 1:]:
            w, h = _overlap(tight[i], tight[j])
            if w > 3 and h > 3:
                out.append(f"panels {i} ({a.get_title()[:30]!r}) and {j} "
                           f"({b.get_title()[:30]!r}) overlap by {w:.0f} x "
                           f"{h:.0f} px")
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_visible() and sup.get_text():
        sb = sup.get_window_extent(r)
        for i, ax in axes:
            w, h = _overlap(sb, tight[i])
            if w > 1 and h > 1:
                out.append(f"the figure title overlaps panel {i} "
                           f"({ax.get_title()[:30]!r}) by {w:.0f} x "
                           f"{h:.0f} px")
    texts = _texts(fig)
    for n, (wa, la) in enumerate(legends):
        ba = la.get_window_extent(r)
        for wb, lb in legends[n + 1:]:
            w, h = _overlap(ba, lb.get_window_extent(r))
            if w > 1 and h > 1:
                out.append(f"{wa} and {wb} overlap")
        # any text that is not the legend's own: titles, axis and tick
        # labels, notes of every panel
        own = set(map(id, la.get_texts())) | {id(la.get_title())}
        for what, t in texts:
            if id(t) in own:
                continue
            w, h = _overlap(ba, t.get_window_extent(r))
            if w > 1 and h > 1:
                out.append(f"{wa} overlaps {what} {t.get_text()[:40]!r}")
    return out


def smallest_font(fig):
    """(size in points, what, text) of the smallest visible text of fig."""
    fig.canvas.draw()
    return min(((t.get_fontsize(), w, t.get_text()) for w, t in _texts(fig)),
               default=(float("inf"), "", ""))
