"""Hex maps for the HTML report as inline SVG: one link per hexagon to the council's profile.

Every hexagon is an ``<a href="#council-<GSS code>">`` (one tap opens the profile) carrying a
``<title>`` that names the council and its value (the tooltip on hover, read by screen readers),
and ``data-council`` so that the profile script highlights the selected council on every map
(class ``csc-sel``). The key map prints each council's three-letter code in its hexagon; it sits in
a box that scrolls sideways on a phone, where it is drawn at least :data:`KEY_MIN_PX` wide so the
codes measure at least :data:`KEY_TEXT_PX` pixels. Legends are HTML under the map (they wrap on a
phone), naming the councils with the lowest and highest values. All text through
:func:`profiles.escape_html`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .profile_escape import escape_html

#: SVG units per unit hexagon spacing; margin around the hexagons (units)
SCALE = 20.0
MARGIN = 0.7
RADIUS = 0.96 / np.sqrt(3.0)
#: the key map is never drawn narrower than this (px; it scrolls inside its box on a phone)...
KEY_MIN_PX = 460
#: ...so its codes (font size in SVG units) measure at least this many px there
KEY_TEXT_PX = 11.0

CSS = """
.csc-map{max-width:40rem;margin:0 auto}
.csc-map svg{display:block;width:100%;height:auto}
.csc-map a use{stroke:#fff;stroke-width:1}
.csc-map a:hover use,.csc-map a:focus use{stroke:#1f2328;stroke-width:2}
.csc-map a.csc-sel use{stroke:#000;stroke-width:3.5}
.csc-map a.csc-sel text{text-decoration:underline}
.csc-mapscroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
.csc-mapkey svg{min-width:KMINpx}
.csc-map text{font-family:"DejaVu Sans Mono",ui-monospace,Menlo,Consolas,monospace;font-weight:700;fill:#1f2328;pointer-events:none}
.csc-maplegend{font-family:var(--font-ui);font-size:.85rem;text-align:left;margin:.3rem 0}
.csc-maplegend .bar{height:.8rem;border-radius:2px;margin:.2rem 0 .1rem}
.csc-maplegend .ends{display:flex;justify-content:space-between}
.csc-maplegend .it{white-space:nowrap}
.hexmap-svg>p{font-size:.9rem;color:#444;text-align:left;margin:.4rem 0}
.hexmap-svg .float-number{font-weight:600;color:#1f2328}
.csc-maplegend .sw{display:inline-block;width:.9rem;height:.9rem;vertical-align:-.15rem;margin:0 .25rem 0 .6rem;border:1px solid #8c959f}
""".strip().replace("KMIN", str(KEY_MIN_PX))


def hex_path(radius: float) -> str:
    """A pointy-top hexagon centred on (0, 0), circumradius ``radius`` (SVG units)."""
    pts = [(radius * np.cos(np.radians(90 + 60 * k)), -radius * np.sin(np.radians(90 + 60 * k))) for k in range(6)]
    return "M" + "L".join(f"{x:.2f} {y:.2f}" for x, y in pts) + "Z"


def svg_hexmap(name: str, centres: pd.DataFrame, fills: dict, titles: dict, gss: dict,
               labels: dict | None = None, label: str = "") -> str:
    """One map: ``centres`` (x, y by la_code, y up), fill colour, title text and GSS code by la_code.

    Notes
    -----
    SVG x = S (x - min x + m), y = S (max y - y + m) with S = :data:`SCALE` and margin m; a
    hexagon is one ``<use>`` of a path defined once per map.
    """
    e = escape_html
    x0, y1 = centres["x"].min() - MARGIN, centres["y"].max() + MARGIN
    w = (centres["x"].max() + MARGIN - x0) * SCALE
    h = (y1 - centres["y"].min() + MARGIN) * SCALE
    font = KEY_TEXT_PX * w / KEY_MIN_PX + 0.3  # px at the smallest drawn width, + a margin
    out = [f'<svg class="csc-hexmap" viewBox="0 0 {w:.0f} {h:.0f}" role="group" aria-label="{e(label)}">',
           f'<defs><path id="{e(name)}-hex" d="{hex_path(RADIUS * SCALE)}"/></defs>']
    for la, (x, y) in centres.iterrows():
        sx, sy = (x - x0) * SCALE, (y1 - y) * SCALE
        g = gss[la]
        text = (f'<text x="{sx:.1f}" y="{sy:.1f}" font-size="{font:.1f}" text-anchor="middle" '
                f'dominant-baseline="central">{e(labels[la])}</text>') if labels else ""
        out.append(f'<a href="#council-{e(g)}" data-council="{e(g)}"><title>{e(titles[la])}</title>'
                   f'<use href="#{e(name)}-hex" x="{sx:.1f}" y="{sy:.1f}" fill="{e(fills[la])}"/>{text}</a>')
    out.append("</svg>")
    return "".join(out)


def continuous_legend(cmap, norm, label: str, lo: tuple[str, str], hi: tuple[str, str], n_missing: int,
                      missing_colour: str) -> str:
    """A colour bar (CSS gradient sampled from the colour map) with its ends, and the extremes named.

    ``lo``/``hi``: (council name, formatted value) of the lowest / highest council."""
    e = escape_html
    stops = ",".join("#%02x%02x%02x" % tuple(int(round(255 * c)) for c in cmap(t)[:3]) for t in np.linspace(0, 1, 9))
    vmin, vmax = norm.vmin, norm.vmax
    return (f'<div class="csc-maplegend"><div>{e(label)}</div>'
            f'<div class="bar" style="background:linear-gradient(to right,{stops})"></div>'
            f'<div class="ends"><span>{e(lo[1])}</span><span>{e(hi[1])}</span></div>'
            f'<div>Lowest: <b>{e(lo[0])}</b> ({e(lo[1])}). Highest: <b>{e(hi[0])}</b> ({e(hi[1])}).'
            + (f'<span class="sw" style="background:{missing_colour}"></span>no data or small council ({n_missing})'
               if n_missing else "") + "</div></div>")


def swatch_legend(items: list[tuple[str, str]]) -> str:
    """Swatches (colour, label) for a categorical map."""
    e = escape_html
    return ('<div class="csc-maplegend">' + "".join(f'<span class="it"><span class="sw" style="background:{c}"></span>'
                                                    f'{e(t)}</span> ' for c, t in items) + "</div>")


def figure_html(svg: str, legend: str, key: bool = False) -> str:
    """The map and its legend in one block (the key map in its sideways-scrolling box)."""
    cls = "csc-map csc-mapkey" if key else "csc-map"
    inner = f'<div class="csc-mapscroll">{svg}</div>' if key else svg
    return f'<div class="{cls}">{inner}{legend}</div>'
