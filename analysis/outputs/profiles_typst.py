"""Council profiles for the PDF: a compact annex in typst, two councils a row, several a page.

Each council: its name, region and map code; five small sparklines (the council solid, England
dashed, the statistical-neighbour median dotted, first to latest census year) with the latest
value, its quarter among councils (polarity-aware: the key says which end is pressure) and the
England and neighbour values; the named neighbours; the inspections with their sub-judgements;
the reason for every missing year. Every data value enters the typst source as a string literal
(:func:`profiles.escape_typst`), never as markup. The sparkline function ``cscspark`` is defined
once, at the top of the raw block.
"""

from __future__ import annotations

import pandas as pd

from .profiles import MEASURES, Profiles, escape_typst

GRADE_ABBR = {"Outstanding": "O", "Good": "G", "Requires improvement": "RI", "Inadequate": "I", "": "–"}
SPARK_W, SPARK_H = "1.45cm", "0.55cm"

PRELUDE = """#let cscblue = rgb("#1a5490")
#let cscspark(lo, hi, own, eng, sn) = box(width: %(w)s, height: %(h)s, {
  let w = %(w)s
  let h = %(h)s
  let pens = (
    (paint: rgb("#b35806"), thickness: 0.6pt, dash: "dotted"),
    (paint: rgb("#6e7781"), thickness: 0.6pt, dash: "dashed"),
    (paint: cscblue, thickness: 0.9pt),
  )
  for (k, s) in (sn, eng, own).enumerate() {
    let segs = ()
    let cur = ()
    for (i, v) in s.enumerate() {
      if v == none {
        if cur.len() > 0 { segs.push(cur) }
        cur = ()
      } else {
        cur.push((w * i / (s.len() - 1), h - h * (v - lo) / (hi - lo)))
      }
    }
    if cur.len() > 0 { segs.push(cur) }
    for seg in segs {
      if seg.len() == 1 {
        place(dx: seg.at(0).at(0) - 0.7pt, dy: seg.at(0).at(1) - 0.7pt, circle(radius: 0.7pt, fill: pens.at(k).paint))
      } else {
        place(curve(stroke: pens.at(k), curve.move(seg.at(0)), ..seg.slice(1).map(p => curve.line(p))))
      }
    }
  }
})
#let cscprof(name, sub, cells, lines) = block(breakable: false, width: 100%%, inset: (bottom: 3pt),
  stroke: (bottom: 0.4pt + rgb("#d0d7de")), {
  set text(size: 7pt)
  set par(justify: false, leading: 0.35em, spacing: 0.3em)
  [#text(size: 8.5pt, weight: "bold", name) #h(0.3em) #text(fill: rgb("#57606a"), sub)]
  grid(columns: (1fr,) * cells.len(), column-gutter: 3pt,
    ..cells.map(c => [#text(weight: "bold", c.at(0)) #linebreak() #c.at(1) #linebreak() #c.at(2) #linebreak() #text(fill: rgb("#57606a"), c.at(3))]))
  for l in lines { par(l) }
})
""" % {"w": SPARK_W, "h": SPARK_H}


def _arr(values, digits: int) -> str:
    """A typst array of numbers, ``none`` for a missing value (always an array: a trailing comma)."""
    items = ["none" if pd.isna(v) else repr(round(float(v), digits + 1)) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _fmt(v, m: str) -> str:
    if pd.isna(v):
        return "–"
    s = f"{float(v):,.{MEASURES[m][3]}f}".replace("-", "−")
    return "£" + s if MEASURES[m][2] == "£" else s + MEASURES[m][2]


def _year(m: str, y: int) -> str:
    return f"{y - 1}-{y % 100:02d}" if m == "spend_total_pc" else str(y)


def year_ranges(years) -> str:
    """'2015-2018, 2020' from a set of years (consecutive years joined)."""
    ys, out = sorted(int(y) for y in years), []
    for y in ys:
        if out and y == out[-1][1] + 1:
            out[-1][1] = y
        else:
            out.append([y, y])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)


def missing_text(missing: pd.DataFrame, measures) -> str:
    """Missing years grouped by reason: 'caseload 2015, spend 2015: not collected ...'; a reason
    for the same years in every measure says 'all measures'."""
    parts = []
    for reason, g in sorted(missing.groupby("reason"), key=lambda kv: kv[0]):
        per = {m: tuple(sorted(g.loc[g["measure"] == m, "year"])) for m in measures if (g["measure"] == m).any()}
        if len(per) == len(measures) and len(set(per.values())) == 1:
            what = f"all measures {year_ranges(next(iter(per.values())))}"
        else:
            what = ", ".join(f"{MEASURES[m][1].lower()} {year_ranges(y)}" for m, y in per.items())
        parts.append(f"{what}: {reason}")
    return "; ".join(parts)


def council_block(p: Profiles, la: str, series: pd.DataFrame, pos: pd.DataFrame,
                  nb: pd.DataFrame, insp: pd.DataFrame, info) -> str:
    """One council's profile as a call of ``cscprof`` (every text a typst string literal)."""
    t = escape_typst
    cells = []
    for m in p.measures:
        s = series.loc[m]
        digits = MEASURES[m][3]
        finite = pd.concat([s["value"], s["england"], s["sn_median"]]).dropna()
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 1.0, hi + 1.0
        spark = (f"cscspark({lo!r}, {hi!r}, {_arr(s['value'], digits)}, {_arr(s['england'], digits)}, "
                 f"{_arr(s['sn_median'], digits)})")
        if (la, m) in pos.index:
            q = pos.loc[(la, m)]
            y = int(q["year"])
            latest = f"{_fmt(q['value'], m)} ({_year(m, y)}) Q{int(q['quarter'])}"
            comp = f"E {_fmt(s.loc[y, 'england'], m)} · SN {_fmt(s.loc[y, 'sn_median'], m)}"
        else:
            latest, comp = "no value", ""
        cells.append(f"({t(MEASURES[m][1])}, {spark}, {t(latest)}, {t(comp)})")
    lines = []
    if len(nb):
        lines.append("Neighbours: " + ", ".join(nb["neighbour_name"].astype(str)))
    if len(insp):
        parts = []
        for r in insp.itertuples(index=False):
            subs = "/".join(GRADE_ABBR[x] for x in r[-3:])
            parts.append(f"{r.published[:7]} {r.framework} {GRADE_ABBR[r.overall]} ({subs})")
        lines.append("Inspections: " + "; ".join(parts))
    else:
        lines.append("Inspections: none in the data")
    missing = series[series["reason"] != ""].reset_index()
    if len(missing):
        lines.append("No value: " + missing_text(missing, p.measures))
    sub = f"{info.region} · map {info.map_code}" + (" · small council" if info.small_la else "") + \
        (" · joint workforce return" if info.joint_return else "")
    return (f"#cscprof({t(info.la_name)}, {t(sub)}, ({', '.join(cells)},),\n"
            f"  ({', '.join(t(x) for x in lines)},))\n")


def profiles_typst(p: Profiles) -> str:
    """The annex: the sparkline function, then every council in name order, two columns a page."""
    series = p.series.set_index(["la_code", "measure", "year"]).sort_index()
    pos = p.position.set_index(["la_code", "measure"])
    nb = p.neighbours.groupby("la_code")
    insp = p.inspections.groupby("la_code")
    empty_nb, empty_insp = p.neighbours.iloc[:0], p.inspections.iloc[:0]
    blocks = []
    for info in p.councils.itertuples(index=False):
        la = info.la_code
        blocks.append(council_block(p, la, series.loc[la], pos,
                                    nb.get_group(la) if la in nb.groups else empty_nb,
                                    insp.get_group(la) if la in insp.groups else empty_insp, info))
    return PRELUDE + "#columns(2, gutter: 0.5cm)[\n" + "".join(blocks) + "]\n"
