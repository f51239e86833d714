"""Data are text, never markup: injection payloads in every free-text column of the derived
tables go through the REAL outputs build and the lite render of a temporary copy of the project,
and both the HTML and the PDF print them literally.

Payloads (issue 17, items 1-2): Quarto shortcodes that would read a file (``/etc/hostname``, and
a canary file in the copy's root that an expanded include would paste in) or a variable;
``@`` cross-references; a newline and a code fence opening a raw HTML block with a
``javascript:`` link; ``:::`` div fences; ``<script>``; a 500-character word; typst code
(``#set page(width: 1cm)``); ``$`` math; a spreadsheet formula; quotes, backslash and ``&``.

Checked: every payload (whitespace-normalised) is in the HTML text (lookup cells, region line,
map alt texts), the council-name payloads are in the PDF lookup column (pdftotext word boxes);
no canary or ``/etc/hostname`` content; no ``href`` with a ``javascript:`` scheme and no live
``<script>`` from data; no "div is not closed" failure; every PDF page A4; the 500-character
word is wrapped inside the council column of the PDF lookup (no word box reaches the grade
column).

Free-text columns fed: ``la_name`` and ``region`` of the panel and the inspections,
``hex_name`` of the hex key, ``meaning``/``unit``/``source``/``years`` of the data dictionary.
Coded columns (codes, dates, booleans, framework and grouping names, source ids) are
enumerations the loaders and models key on; wrong values there are bad input (DataError, see
``test_bad_input_harness.py``), not text to print.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from analysis import __version__, paths

CANARY = "CANARY-7c1e9a-file-content"
LONG = "Longname" + "q" * 484 + "Ending"  # 498 characters, one word
assert len(LONG) == 498
#: (name payload, region payload); a council name must keep a letter (its map code is built
#: from the letters of its name)
NAME_PAYLOADS = [
    "{{< include /etc/hostname >}}",
    "{{< include /canary.txt >}}",
    "{{< var data.first_year >}}",
    "@fig-map-key and @fig-x",
    "Evil\n```{=html}\n<a href=\"javascript:alert(1)\">x</a>\n```\n",
    "Fence\n:::\n::: {.callout-note}\nopen",
    "<script>alert(1)</script>",
    LONG,
    "#set page(width: 1cm)",
    "$x$ dollar \\(y\\)",
    '=HYPERLINK("http://evil.example","Click")',
    'Back\\slash "quote" & amp; &lt; `tick`',
]
REGION_PAYLOADS = ["{{< include /canary.txt >}} region", "Region\n```\n<b>bold</b> @sec-lookup"]
DICT_PAYLOAD = "{{< include /canary.txt >}} @fig-map-key <i>dict</i> $z$ #strong[x]"


def norm(text: str) -> str:
    """Whitespace collapsed (a newline in a value prints as a space), zero-width spaces removed."""
    return " ".join(text.replace("\u200b", "").split())


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u200b", ""))


class _Text(HTMLParser):
    """Visible text, alt texts, hrefs and script bodies of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.alts, self.hrefs, self.scripts, self._in = [], [], [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("alt"):
            self.alts.append(a["alt"])
        if tag == "svg" and a.get("aria-label"):  # the HTML maps: inline SVG named by its alt text
            self.alts.append(a["aria-label"])
        if "href" in a:
            self.hrefs.append(a["href"] or "")
        self._in = tag if tag in ("script", "style") else None
        # a JSON data block (the council profiles' data) is data, not code: the browser never runs it
        if tag == "script" and a.get("type") == "application/json":
            self._in = "json"

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in is None:
            self.text.append(data)


def _copy_project(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", ".venv", ".tools", "_output", "_build", "releases", "__pycache__",
                                    ".pytest_cache", "figures", "tables", "maps.md", ".stamp")
    shutil.copytree(paths.ROOT, dest, ignore=ignore)
    return dest


def _extremes(panel: pd.DataFrame) -> list[str]:
    """Council codes that the map alt texts name (lowest and highest of each mapped measure),
    then every other council alive in the last year."""
    last = panel[panel["year"] == panel["year"].max()]
    last = last[~last["small_la"].astype(bool)]
    out: list[str] = []
    for col in ("agency_rate", "caseload", "spend_total_pc"):
        if col in last:
            v = last.set_index("la_code")[col].dropna()
            out += [v.idxmin(), v.idxmax()]
    rest = sorted(set(last["la_code"]) - set(out))
    return list(dict.fromkeys(out + rest))


def inject(root: Path) -> dict[str, str]:
    """Write the payloads into the copy's derived tables; return {la_code: payload name}."""
    d = root / "data" / "derived"
    panel = pd.read_csv(d / "la_year_panel.csv", dtype=str, keep_default_na=False)
    num = pd.read_csv(d / "la_year_panel.csv", dtype={"la_code": str})
    codes = _extremes(num)
    names = dict(zip(codes, NAME_PAYLOADS))
    regions = sorted(set(panel["region"]) - {""})
    new_region = dict(zip(regions, REGION_PAYLOADS))
    for table in ("la_year_panel.csv", "inspections.csv"):
        t = pd.read_csv(d / table, dtype=str, keep_default_na=False)
        t["la_name"] = [names.get(c, n) for c, n in zip(t["la_code"], t["la_name"])]
        t["region"] = [new_region.get(r, r) for r in t["region"]]
        t.to_csv(d / table, index=False)
    hexkey = pd.read_csv(d / "hex_map_key.csv", dtype=str, keep_default_na=False)
    hexkey["hex_name"] = [names.get(c, n) for c, n in zip(hexkey["la_code"], hexkey["hex_name"])]
    hexkey.to_csv(d / "hex_map_key.csv", index=False)
    dic = pd.read_csv(d / "data_dictionary.csv", dtype=str, keep_default_na=False)
    for col in ("meaning", "unit", "source", "years"):
        dic[col] = DICT_PAYLOAD
    dic.to_csv(d / "data_dictionary.csv", index=False)
    _rewrite_manifest(d)
    (root / "canary.txt").write_text(CANARY + "\n", encoding="utf-8")
    return names


def _rewrite_manifest(d: Path) -> None:
    """Record the edited tables' hashes, so the copy is a consistent derived set."""
    import hashlib
    mf = d / "manifest.json"
    m = json.loads(mf.read_text(encoding="utf-8"))

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) and (d / k).is_file():
                    node[k] = hashlib.sha256((d / k).read_bytes()).hexdigest()
                else:
                    walk(v)
    walk(m)
    mf.write_text(json.dumps(m, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=root, capture_output=True, text=True, timeout=900)


def pdf_words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Word boxes (xMin, yMin, xMax, yMax, text) per page (pdftotext -bbox)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in re.findall(r"<page [^>]*>(.*?)</page>", out, flags=re.S):
        words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                           page, flags=re.S)
        pages.append([(float(a), float(b), float(c), float(e), html_lib.unescape(t)) for a, b, c, e, t in words])
    return pages


def lookup_column(pages) -> tuple[str, list[tuple[float, float, float, float, str]], float]:
    """Words of the council column of the PDF lookup in reading order, its boxes, and the left
    edge of the grade column."""
    words, boxes, grade_x = [], [], None
    for page in pages:
        pairs = [(h, g) for h in page if h[4] == "Council" for g in page
                 if g[4] == "Grade" and abs(g[1] - h[1]) < 2 and g[0] > h[2]]
        if not pairs:
            continue
        head, grade = pairs[0]
        gx = grade[0]
        grade_x = gx if grade_x is None else min(grade_x, gx)
        col = sorted((w for w in page if w[0] < gx - 1 and w[1] > head[3]), key=lambda w: (round(w[1]), w[0]))
        boxes += col
        words += [w[4] for w in col]
    assert grade_x is not None, "no lookup table (Council / Grade header) found in the PDF"
    return " ".join(words), boxes, grade_x


@pytest.fixture(scope="module")
def payload_build(tmp_path_factory):
    results = paths.ROOT / "report" / "outputs" / "results" / "results.json"
    if not results.exists():
        subprocess.run(["make", "results"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    root = _copy_project(tmp_path_factory.mktemp("payloads") / "project")
    names = inject(root)
    built = _run(root, "-m", "analysis.outputs.build")
    assert built.returncode == 0, f"outputs build failed on payload data:\n{built.stdout[-2000:]}\n{built.stderr[-3000:]}"
    rendered = _run(root, "-m", "analysis.render", "--engine", "lite")
    assert rendered.returncode == 0, (f"lite render failed on payload data (e.g. 'div is not closed' from a ::: "
                                      f"in a name):\n{rendered.stdout[-2000:]}\n{rendered.stderr[-3000:]}")
    out = root / "_output"
    return root, names, out / f"report-v{__version__}.html", out / f"report-v{__version__}.pdf"


def test_payloads_print_literally_in_html(payload_build):
    root, names, html_path, _ = payload_build
    raw = html_path.read_text(encoding="utf-8")
    p = _Text()
    p.feed(raw)
    text = norm(" ".join(p.text))
    assert CANARY not in raw, "an include in the data pasted a file into the HTML"
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    for payload in NAME_PAYLOADS + REGION_PAYLOADS:
        assert norm(payload) in text, f"payload not printed literally in the HTML: {payload!r}"
    assert norm(DICT_PAYLOAD) in text or DICT_PAYLOAD not in (root / "data/derived/data_dictionary.csv").read_text()
    alts = [norm(a) for a in p.alts]
    # the maps' alt texts name the lowest and highest councils: those are payload councils
    in_alt = [x for x in NAME_PAYLOADS if any(norm(x) in a for a in alts)]
    assert len(in_alt) >= 2, f"expected payload council names in the map alt texts, found {in_alt}"
    assert not any(CANARY in a for a in p.alts)
    if hostname and not any(hostname in norm(x) for x in NAME_PAYLOADS):
        assert all(hostname not in a for a in alts), "/etc/hostname content in an alt text"
    bad = [h for h in p.hrefs if re.sub(r"[\x00-\x20]", "", h).lower().startswith(("javascript:", "vbscript:", "data:text/html"))]
    assert not bad, f"live script links from data: {bad}"
    assert not any("alert(1)" in s for s in p.scripts), "a <script> from the data runs"
    assert "{=html}" in text  # the fence stayed text


def test_payloads_print_literally_in_pdf(payload_build):
    root, names, _, pdf_path = payload_build
    pdf_text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    assert CANARY not in pdf_text
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf_path)], capture_output=True, text=True).stdout
    widths = set(re.findall(r"Page\s+\d+ size:\s+([\d.]+) x", sizes))
    assert widths == {"595.276"} or widths == {"595.28"}, f"typst code from the data changed the page size: {widths}"
    column, boxes, grade_x = lookup_column(pdf_words(pdf_path))
    flat = squash(column)
    for payload in NAME_PAYLOADS:
        assert squash(payload) in flat, f"council-name payload not printed literally in the PDF lookup: {payload!r}"
    # the 500-character word wraps inside the council column
    long_boxes = [b for b in boxes if re.fullmatch(r"[Lonamegq\u200bEdi]+", b[4]) and "q" in b[4]]
    assert long_boxes, "long word not found in the lookup column"
    assert max(b[2] for b in long_boxes) <= grade_x + 1, "the 500-character word runs into the grade column"


def test_payloads_in_downloads_are_not_formulas(payload_build):
    """The CSV downloads hold the names as text: a cell starting with = + - @ is prefixed with an
    apostrophe, so no spreadsheet runs it; the other payloads are kept verbatim (CSV-quoted)."""
    import csv
    root = payload_build[0]
    rows = list(csv.DictReader((root / "report/outputs/downloads/lookup.csv").open(encoding="utf-8", newline="")))
    names = {r["la_name"] for r in rows}
    assert "'" + NAME_PAYLOADS[10] in names and NAME_PAYLOADS[10] not in names
    assert all(not n.startswith(("=", "+", "-", "@")) for n in names)
    assert NAME_PAYLOADS[4] in names and LONG in names  # newline and fences kept as data
