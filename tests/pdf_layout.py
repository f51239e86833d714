"""Reading the rendered PDF's layout for the print-quality tests (issue 15, item 6): lines with
their position and text size (``pdftotext -bbox-layout``), how much of each page's text block
is empty (pixels of ``pdftoppm``, so figures count as content), top-level Section starts, table
rows left alone on a page, identifiers broken across lines."""

from __future__ import annotations

import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

CM = 72 / 2.54
#: a line of the 8 pt table face is about 9 pt tall in pdftotext's boxes, body text about 11.4 pt
TABLE_TEXT_MAX = 10.0
HEADING_MIN = 13.0


@dataclass(frozen=True)
class Line:
    page: int
    top: float
    bottom: float
    left: float
    text: str

    @property
    def height(self) -> float:
        return self.bottom - self.top


def lines(pdf: Path) -> dict[int, list[Line]]:
    """Every text line of ``pdf`` by page (1-based), top to bottom."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    xml = re.sub(r"<!DOCTYPE[^>]*>", "", xml).replace(' xmlns="http://www.w3.org/1999/xhtml"', "")
    root = ET.fromstring(xml)
    out: dict[int, list[Line]] = {}
    for i, page in enumerate(root.iter("page"), start=1):
        found = []
        for ln in page.iter("line"):
            words = [w.text or "" for w in ln.iter("word")]
            found.append(Line(i, float(ln.get("yMin")), float(ln.get("yMax")), float(ln.get("xMin")), " ".join(words)))
        out[i] = sorted(found, key=lambda l: (round(l.top), l.left))
    return out


def blank_fractions(pdf: Path, margin_y_cm: float, dpi: int = 30) -> dict[int, float]:
    """Share of each page's text block (page less the top and bottom margins) below its last
    content (text or figure pixels): 0 for a full page, 1 for an empty one."""
    from PIL import Image
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/p"], check=True)
        out = {}
        for f in sorted(Path(tmp).glob("p-*.png")):
            with Image.open(f) as raw:
                im = raw.convert("L")
                w, h = im.size
                px = im.load()
                top, bottom = round(margin_y_cm * CM / 72 * dpi), h - round(margin_y_cm * CM / 72 * dpi)
                last = top
                for y in range(top, bottom):
                    if any(px[x, y] < 200 for x in range(0, w, 1)):
                        last = y
                out[int(f.stem.split("-")[-1])] = (bottom - last) / (bottom - top)
        return out


HEADING_RE = re.compile(r"^(?:\d+|[A-Z])\s+\S|^(Summary|Contents|References|Appendices)\b")


def section_start_pages(by_page: dict[int, list[Line]]) -> set[int]:
    """Pages whose first line is a top-level heading ("4 Inspections", "A Data", "References")."""
    starts = set()
    for p, ls in by_page.items():
        body = [l for l in ls if l.height > TABLE_TEXT_MAX and not l.text.endswith("(continued)")]
        if body and body[0].height >= HEADING_MIN and HEADING_RE.match(body[0].text) \
                and not re.match(r"^\d+\.\d", body[0].text):
            starts.add(p)
    return starts


CONTINUED_RE = re.compile(r"^Table (\d+) \(continued\)$")


def _rows(table_lines: list[Line], row_step: float = 9.6) -> int:
    """Rows among consecutive table-face lines (one line per cell in pdftotext): a new row where
    the step from the previous line's top is larger than the leading inside a cell (8.8 pt for
    the 8 pt face; rows are 10.2 pt apart with their insets)."""
    tops = sorted({round(l.top, 1) for l in table_lines})
    return sum(1 for i, t in enumerate(tops) if i == 0 or t - tops[i - 1] > row_step)


def split_table_rows(by_page: dict[int, list[Line]]) -> list[tuple[int, int, int]]:
    """(table number, page, body rows on that page) for every page a table runs onto: the
    table-face lines at the top of a page headed "Table N (continued)", less the repeated header
    row, and the table-face lines at the foot of the page before (after its last body line)."""
    out = []
    for p, ls in by_page.items():
        head = next((m for l in ls[:2] if (m := CONTINUED_RE.match(l.text))), None)
        if not head:
            continue
        body = [l for l in ls if not CONTINUED_RE.match(l.text) and not re.fullmatch(r"\d+", l.text)]
        top = []
        for l in body:
            if l.height > TABLE_TEXT_MAX:
                break
            top.append(l)
        out.append((int(head.group(1)), p, max(_rows(top) - 1, 0)))
        prev = [l for l in by_page.get(p - 1, []) if not re.fullmatch(r"\d+", l.text)]
        foot = []
        for l in reversed(prev):
            if l.height > TABLE_TEXT_MAX:
                break
            foot.insert(0, l)
        # on the page where the table starts, its header row is among the foot lines too
        out.append((int(head.group(1)), p - 1, max(_rows(foot) - 1, 0)))
    return out


#: characters after which an identifier may break (typst-header.typ gives them a break
#: opportunity): "tbl_fwd_ / magnitudes" is allowed, "tbl_fwd_magnitu / des" is not
BREAK_AFTER = "_/.:-"
HEX_RE = re.compile(r"[0-9a-f]{16,}")


def code_spans(html: str) -> set[str]:
    """Inline code of the HTML rendering (the same sources): identifiers, paths, keys."""
    import html as h
    spans = {h.unescape(re.sub(r"<[^>]+>", "", m)) for m in re.findall(r"<code[^>]*>(.*?)</code>", html, re.S)}
    return {s for s in spans if len(s) > 3 and "\n" not in s and not HEX_RE.search(s)}


def broken_identifiers(pdf: Path, identifiers: set[str]) -> list[str]:
    """Identifiers that a line break splits other than after one of :data:`BREAK_AFTER` (the
    text of ``pdftotext``, reading order, line ends as newlines)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    bad = []
    for ident in sorted(identifiers):
        for i in range(1, len(ident)):
            if ident[i - 1] in BREAK_AFTER or ident[i] in " ":
                continue
            head, tail = ident[:i], ident[i:]
            if re.search(re.escape(head) + r"[ \t]*\n[ \t]*" + re.escape(tail), text):
                bad.append(f"{head}|{tail}")
    return bad


CAPTION_RE = re.compile(r"^(Figure|Table) \d+: ")


def float_pages(by_page: dict[int, list[Line]]) -> set[int]:
    """Pages holding only figures and tables: every body-size line belongs to a caption (a run
    of body-size lines that starts "Figure N:" or "Table N:"); table text and page numbers
    aside. LaTeX's float pages: their blank share is bounded by half, not a third."""
    out = set()
    for p, ls in by_page.items():
        body = [l for l in ls if l.height > TABLE_TEXT_MAX and not re.fullmatch(r"\d+", l.text)
                and not CONTINUED_RE.match(l.text)]
        if not body:
            continue
        in_caption, ok = False, True
        prev = None
        for l in ls:
            if l.height <= TABLE_TEXT_MAX or re.fullmatch(r"\d+", l.text) or CONTINUED_RE.match(l.text):
                in_caption = False
                continue
            if CAPTION_RE.match(l.text):
                in_caption = True
            elif not (in_caption and prev is not None and l.top - prev.bottom < 6):
                ok = False
                break
            prev = l
        if ok:
            out.add(p)
    return out
