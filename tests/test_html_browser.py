"""The rendered HTML in a real browser (headless Chromium) at phone and desktop width.

At 360, 400 and 1280 px: the page never scrolls sideways (``document.documentElement.scrollWidth``
<= the viewport width), every ``img`` has alt text, every ``table`` has ``th`` cells, and no
figure or table caption is clipped: each ``caption``/``figcaption`` fits its own box
(``scrollWidth <= clientWidth``) and its text lies wholly inside the viewport and inside every
ancestor that scrolls or clips sideways (a ``<caption>`` inside a scrolling table is laid out as
wide as the table, so a long one is cut off on a phone).

Headless Chromium will not make a window narrower than 500 px, so the report is loaded in an
``iframe`` of exactly the tested width inside a small wrapper page; a script in the wrapper
measures the framed document after it has loaded and writes the result into the DOM, which
``chromium --dump-dom`` prints. No browser driver or extra Python package is needed. Debian's
``chromium`` is installed by ``.ci/run``; without it the test is skipped locally, and fails where
``CI`` is set.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis import __version__, paths

WIDTHS = (360, 400, 1280)

PROBE = """<!doctype html><html><body style="margin:0">
<iframe id="f" src="%(src)s" style="width:%(w)dpx;height:900px;border:0"></iframe>
<pre id="probe"></pre>
<script>
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, de = d.documentElement, cw = de.clientWidth;
  var wide = [], win = this.contentWindow;
  function clipped(el) {  /* inside a box that scrolls or clips horizontally */
    for (var p = el.parentElement; p && p !== d.body; p = p.parentElement) {
      var o = win.getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  }
  d.querySelectorAll('body *').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.right > cw + 1 && wide.length < 8 && !clipped(el)) {
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.className && el.className.baseVal === undefined ? '.' + el.className : '') +
                ' right=' + Math.round(r.right));
    }
  });
  var capClipped = [];
  d.querySelectorAll('caption, figcaption').forEach(function (c) {
    var range = d.createRange(); range.selectNodeContents(c);
    var t = range.getBoundingClientRect(), name = c.textContent.trim().slice(0, 40);
    var bad = c.scrollWidth > c.clientWidth + 1 || t.left < -1 || t.right > cw + 1;
    for (var p = c.parentElement; p && p !== d.body && !bad; p = p.parentElement) {
      var o = win.getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') {
        var b = p.getBoundingClientRect();
        if (t.left < b.left + p.clientLeft - 1 || t.right > b.left + p.clientLeft + p.clientWidth + 1) bad = true;
      }
    }
    if (bad) capClipped.push(name + ' right=' + Math.round(t.right));
  });
  var noAlt = [], noTh = [];
  d.querySelectorAll('img').forEach(function (img) {
    if (!(img.getAttribute('alt') || '').trim()) noAlt.push(img.src.slice(0, 40));
  });
  d.querySelectorAll('table').forEach(function (t, i) {
    if (!t.querySelector('th')) noTh.push(t.id || ('table ' + i));
  });
  document.getElementById('probe').textContent = JSON.stringify({
    scrollWidth: de.scrollWidth, clientWidth: cw, innerWidth: this.contentWindow.innerWidth,
    n_img: d.querySelectorAll('img').length, n_table: d.querySelectorAll('table').length,
    n_caption: d.querySelectorAll('caption, figcaption').length,
    noAlt: noAlt, noTh: noTh, wide: wide, capClipped: capClipped});
});
</script></body></html>
"""


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium not found although CI is set (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed (apt-get install chromium); CI installs it via .ci/run")
    return found


def probe(chromium: str, page: Path, width: int, tmp: Path) -> dict:
    """Load ``page`` in an iframe ``width`` px wide; return the measurements."""
    wrapper = tmp / f"probe-{width}.html"
    wrapper.write_text(PROBE % {"src": page.resolve().as_uri(), "w": width}, encoding="utf-8")
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
         "--hide-scrollbars", f"--window-size={width + 40},1000", "--virtual-time-budget=10000",
         "--dump-dom", wrapper.as_uri()],
        capture_output=True, text=True, timeout=180)
    m = re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, flags=re.S)
    if not m or not m.group(1).strip():
        raise AssertionError(f"no measurement from chromium (rc {out.returncode}): {out.stderr[-500:]}")
    return json.loads(html_lib.unescape(m.group(1)))


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_binary()


@pytest.fixture(scope="module")
def report_html(chromium) -> Path:
    subprocess.run(["make", "report", "RENDER_ENGINE=lite"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    page = paths.ROOT / "_output" / f"report-v{__version__}.html"
    assert page.exists()
    return page


def check(result: dict, width: int) -> list[str]:
    problems = []
    if result["scrollWidth"] > result["clientWidth"]:
        problems.append(f"{width} px: page scrolls sideways (scrollWidth {result['scrollWidth']} > "
                        f"{result['clientWidth']}); widest elements: {result['wide']}")
    if result["noAlt"]:
        problems.append(f"{width} px: img without alt text: {result['noAlt']}")
    if result["noTh"]:
        problems.append(f"{width} px: table without th: {result['noTh']}")
    if result["capClipped"]:
        problems.append(f"{width} px: caption clipped or cut off: {result['capClipped']}")
    return problems


@pytest.mark.parametrize("width", WIDTHS)
def test_report_fits_the_viewport_and_is_accessible(chromium, report_html, width, tmp_path):
    result = probe(chromium, report_html, width, tmp_path)
    assert width - 30 <= result["clientWidth"] <= width  # the iframe sets the viewport width
    assert result["n_img"] > 0 and result["n_table"] > 0 and result["n_caption"] >= result["n_img"]
    assert check(result, width) == []


def test_probe_detects_overflow_missing_alt_and_th(chromium, tmp_path):
    """The measurement fails on a page that scrolls sideways, has an img without alt, a table
    without th and a long caption inside a scrolling table (so the test above can fail)."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><div style="width:900px">wide</div><img src="x.png">'
                   "<table><tr><td>1</td></tr></table>"
                   '<table style="display:block;overflow-x:auto;max-width:100%"><caption>Table 9: a caption long '
                   "enough to wrap over several lines of a phone screen, laid out as wide as its table</caption>"
                   '<tr><th>a</th><td style="min-width:900px">wide</td></tr></table></body></html>', encoding="utf-8")
    result = probe(chromium, bad, 400, tmp_path)
    problems = check(result, 400)
    assert len(problems) == 4, problems
    assert "Table 9" in problems[-1]
    good = tmp_path / "good.html"
    good.write_text('<html><body><figure><figcaption>Table 9: a caption long enough to wrap over several lines '
                    'of a phone screen, outside the scrolling box</figcaption><div style="overflow-x:auto"><table>'
                    '<tr><th>a</th><td style="min-width:900px">wide cell in a scrolling box</td></tr></table></div>'
                    '</figure><img src="x.png" alt="x"></body></html>', encoding="utf-8")
    assert check(probe(chromium, good, 400, tmp_path), 400) == []


LOOKUP_PROBE = """<!doctype html><html><body>
<iframe id="f" src="%(src)s" style="width:400px;height:600px;border:0"></iframe>
<pre id="probe"></pre>
<script>
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, input = d.querySelector('#csc-lookup input');
  function visible() { return Array.prototype.filter.call(d.querySelectorAll('#csc-lookup tbody tr'),
                                                          function (r) { return !r.hidden; }); }
  var all = visible().length;
  var th0 = d.querySelector('#csc-lookup thead th');
  var initial = [th0.getAttribute('aria-sort'), th0.querySelector('.csc-arrow').textContent];
  input.value = 'york'; input.dispatchEvent(new Event('input'));
  var york = visible().map(function (r) { return r.cells[0].firstChild.textContent; });
  input.value = ''; input.dispatchEvent(new Event('input'));
  var button = d.querySelectorAll('#csc-lookup thead button')[2];  /* caseload */
  button.click();
  var asc = visible().map(function (r) { return r.cells[2].getAttribute('data-sort'); });
  button.click();
  var desc = visible().map(function (r) { return r.cells[2].getAttribute('data-sort'); });
  var ths = d.querySelectorAll('#csc-lookup thead th');
  var caseloadSort = ths[2].getAttribute('aria-sort'), caseloadArrow = ths[2].querySelector('.csc-arrow').textContent;
  var grade = d.querySelectorAll('#csc-lookup thead button')[1];
  grade.focus(); var focused = d.activeElement === grade;
  grade.click();
  function grades() { return visible().map(function (r) { return r.cells[1].firstChild.textContent; }); }
  var gAsc = grades(), gAscState = [ths[1].getAttribute('aria-sort'), ths[1].querySelector('.csc-arrow').textContent,
                                     ths[2].getAttribute('aria-sort'), ths[2].querySelector('.csc-arrow').textContent];
  grade.click();
  var gDesc = grades(), gDescState = [ths[1].getAttribute('aria-sort'), ths[1].querySelector('.csc-arrow').textContent];
  document.getElementById('probe').textContent = JSON.stringify(
    {all: all, york: york, asc: asc, desc: desc, count: d.querySelector('#csc-lookup .csc-count').textContent,
     initial: initial, caseloadSort: caseloadSort, caseloadArrow: caseloadArrow, focused: focused,
     gAsc: gAsc, gAscState: gAscState, gDesc: gDesc, gDescState: gDescState});
});
</script></body></html>
"""


def test_lookup_search_and_sort_work_in_the_browser(chromium, tmp_path):
    """The lookup's inline script filters rows by the search box and sorts numerically, missing
    values last, in both directions; the grade column sorts in grade order (not by date or
    alphabetically); the sorted header carries aria-sort and a visible arrow."""
    from analysis.derived import load_derived
    from analysis.outputs import lookup
    from analysis.outputs.common import TABLES

    panel, insp = load_derived()
    lookup.write_lookup(panel, insp)
    page = tmp_path / "lookup.html"
    page.write_text("<!doctype html><html><body>" + (TABLES / "lookup.html").read_text(encoding="utf-8")
                    + "</body></html>", encoding="utf-8")
    wrapper = tmp_path / "lookup-probe.html"
    wrapper.write_text(LOOKUP_PROBE % {"src": page.as_uri()}, encoding="utf-8")
    out = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--window-size=600,800", "--virtual-time-budget=5000", "--dump-dom", wrapper.as_uri()],
                         capture_output=True, text=True, timeout=180)
    r = json.loads(html_lib.unescape(re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, flags=re.S).group(1)))
    alive = panel.loc[panel["year"] == panel["year"].max()]
    assert r["all"] == len(alive)
    expected = sorted(n for n, reg in zip(alive["la_name"], alive["region"])
                      if "york" in f"{n} {reg}".lower())
    assert sorted(r["york"]) == expected and len(expected) >= 2
    nums = [float(x) for x in r["asc"] if x != ""]
    assert nums == sorted(nums) and all(x == "" for x in r["asc"][len(nums):])
    nums_desc = [float(x) for x in r["desc"] if x != ""]
    assert nums_desc == sorted(nums, reverse=True) and all(x == "" for x in r["desc"][len(nums_desc):])
    assert r["count"] == f"{len(alive)} of {len(alive)} councils shown"
    # sort state is announced (aria-sort) and shown (arrow); the caseload sort left it descending
    assert r["initial"] == ["ascending", "\u25b2"]
    assert r["caseloadSort"] == "descending" and r["caseloadArrow"] == "\u25bc"
    assert r["focused"]  # header buttons take keyboard focus
    # grade: Outstanding > Good > Requires improvement > Inadequate, never graded last
    order = ["O", "G", "RI", "I"]  # cells read "RI 2023-09"
    rank = [order.index(g.split()[0]) if g.split()[0] in order else 9 for g in r["gAsc"]]
    assert rank == sorted(rank) and len(set(rank)) >= 4 and r["gAsc"][0].startswith("O ")
    assert r["gAscState"] == ["ascending", "\u25b2", None, ""]
    rank_desc = [order.index(g.split()[0]) for g in r["gDesc"] if g.split()[0] in order]
    assert rank_desc == sorted(rank_desc, reverse=True) and r["gDesc"][0].startswith("I ")
    assert r["gDescState"] == ["descending", "\u25bc"]


LAYOUT_PROBE = """<!doctype html><html><body style="margin:0">
<iframe id="f" src="%(src)s" style="width:%(w)dpx;height:900px;border:0"></iframe>
<pre id="probe"></pre>
<script>
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, s = d.querySelector('#csc-lookup .csc-scroll'), t = d.querySelector('#csc-lookup table');
  var key = d.querySelector('#csc-lookup details.csc-legend');
  document.getElementById('probe').textContent = JSON.stringify(
    {open: key.open, summary: key.querySelector('summary').textContent, sw: s.scrollWidth, cw: s.clientWidth,
     tsw: t.scrollWidth, tcw: t.clientWidth});
});
</script></body></html>
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_lookup_key_collapsed_on_a_phone_and_table_fits_at_desktop_width(chromium, tmp_path, width):
    """At 400 px the key is a closed <details> (the table is not pushed screens down); at 1280 px
    the key is open and the whole table fits the text column of the report (no column cut off
    inside the scroll box)."""
    html = paths.ROOT / "_output" / f"report-v{__version__}.html"
    if not html.exists():
        pytest.skip("report not rendered (make report)")
    wrapper = tmp_path / f"layout-{width}.html"
    wrapper.write_text(LAYOUT_PROBE % {"src": html.as_uri(), "w": width}, encoding="utf-8")
    out = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--window-size=1400,1000", "--virtual-time-budget=5000", "--dump-dom", wrapper.as_uri()],
                         capture_output=True, text=True, timeout=180)
    r = json.loads(html_lib.unescape(re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, flags=re.S).group(1)))
    assert "Key to symbols" in r["summary"]
    if width < 700:
        assert r["open"] is False
    else:
        assert r["open"] is True
        assert r["sw"] <= r["cw"] + 1 and r["tsw"] <= r["tcw"] + 1, r


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
    messages separated by NUL on file descriptors 3 and 4), so the test sends trusted key events
    (``Input.dispatchKeyEvent``) as a keyboard does, with no driver package."""

    def __init__(self, chromium: str, width: int = 800, height: int = 900):
        self._to_r, self._to_w = os.pipe()
        self._from_r, self._from_w = os.pipe()
        # the browser reads commands on fd 3 and writes replies on fd 4: the shell moves the pipe ends there
        # (a pipe end that already is fd 3 or 4 stays open)
        close = " ".join(f"{fd}<&-" for fd in (self._to_r, self._from_w) if fd not in (3, 4))
        move = f'exec "$0" "$@" 3<&{self._to_r} 4>&{self._from_w} {close}'
        self.proc = subprocess.Popen(
            ["bash", "-c", move, chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--allow-file-access-from-files", "--remote-debugging-pipe", f"--window-size={width},{height}",
             "about:blank"],
            pass_fds=(self._to_r, self._from_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(self._to_r)
        os.close(self._from_w)
        self._buf, self._id, self.session = b"", 0, None

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self._buf:
                chunk = os.read(self._from_r, 1 << 16)
                if not chunk:
                    raise AssertionError(f"chromium closed the DevTools pipe during {method}")
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open(self, url: str, width: int) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1,
                                                         "mobile": width < 700})
        self.send("Page.enable")
        self.send("Page.navigate", {"url": url})
        for _ in range(200):
            if self.eval("document.readyState") == "complete":
                return
            import time
            time.sleep(0.05)
        raise AssertionError(f"page did not load: {url}")

    def eval(self, expr: str):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise AssertionError(f"script error: {r['exceptionDetails']}")
        return r["result"].get("value")

    def type(self, text: str) -> None:
        """Key down, character and key up for each character, as typing does."""
        for ch in text:
            self.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": ch, "text": ch, "unmodifiedText": ch})
            self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": ch})

    def clear(self, n: int) -> None:
        for _ in range(n):
            for kind in ("rawKeyDown", "keyUp"):
                self.send("Input.dispatchKeyEvent", {"type": kind, "key": "Backspace", "code": "Backspace",
                                                     "windowsVirtualKeyCode": 8, "nativeVirtualKeyCode": 8})

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except (AssertionError, OSError):
            pass
        self.proc.wait(timeout=30)


#: query -> the councils (names as in the data) it must show, exactly
SEARCHES = {
    "Hull": ["Kingston upon Hull, City of"],
    "St Helens": ["St. Helens"],
    "st. helens": ["St. Helens"],
    "Kensington & Chelsea": ["Kensington and Chelsea"],
    "KENSINGTON AND CHELSEA": ["Kensington and Chelsea"],
}


def test_lookup_search_by_key_events_normalises_and_matches_word_starts(chromium, tmp_path):
    """Typed with real key events: punctuation, case and "&"/"and" are normalised and a query
    matches word starts ("Hull" finds Kingston upon Hull, not Solihull); Backspace widens again."""
    from analysis.derived import load_derived
    from analysis.outputs import lookup
    from analysis.outputs.common import TABLES

    panel, insp = load_derived()
    lookup.write_lookup(panel, insp)
    page = tmp_path / "lookup.html"
    page.write_text("<!doctype html><html><head><meta charset='utf-8'></head><body>"
                    + (TABLES / "lookup.html").read_text(encoding="utf-8") + "</body></html>", encoding="utf-8")
    alive = panel.loc[panel["year"] == panel["year"].max()]
    names = set(alive["la_name"])
    for expected in SEARCHES.values():
        assert set(expected) <= names
    assert "Solihull" in names  # the council a substring search wrongly found for "Hull"
    tools = DevTools(chromium)
    try:
        tools.open(page.as_uri(), 400)
        shown = ("Array.prototype.filter.call(document.querySelectorAll('#csc-lookup tbody tr'),"
                 "function(r){return !r.hidden;}).map(function(r){return r.cells[0].firstChild.textContent;})")
        assert len(tools.eval(shown)) == len(alive)
        tools.eval("document.getElementById('csc-lookup-q').focus()")
        for query, expected in SEARCHES.items():
            tools.type(query)
            assert tools.eval("document.getElementById('csc-lookup-q').value") == query
            got = sorted(tools.eval(shown))
            assert got == sorted(expected), (query, got)
            count = tools.eval("document.querySelector('#csc-lookup .csc-count').textContent")
            assert count == f"{len(expected)} of {len(alive)} councils shown"
            tools.clear(len(query))
            assert len(tools.eval(shown)) == len(alive)
        # accents are ignored both ways: a query with a diacritic finds the plain name
        tools.type("Wírral")
        assert sorted(tools.eval(shown)) == ["Wirral"]
    finally:
        tools.close()


def test_downloads_open_as_csv_with_the_documented_columns(chromium, report_html):
    """Every download link of the HTML (data: URI) is fetched by the browser and parsed as CSV: its
    columns are exactly those its dictionary documents, and the lookup has one row per council."""
    import csv
    import io

    from analysis.derived import load_derived

    tools = DevTools(chromium)
    try:
        tools.open(report_html.as_uri(), 1280)
        got = tools.send("Runtime.evaluate", {"awaitPromise": True, "returnByValue": True, "expression": """
            Promise.all(Array.prototype.map.call(document.querySelectorAll('#csc-downloads a[download]'),
              function (a) { return fetch(a.href).then(function (r) { return r.text(); })
                .then(function (t) { return [a.getAttribute('download'), a.type, t, a.getAttribute('data-dictionary')]; }); }))"""})["result"]["value"]
    finally:
        tools.close()
    files = {name: (kind, text) for name, kind, text, _ in got}
    dictionary = {name: dic for name, _, _, dic in got if dic}
    assert {"lookup.csv", "lookup-dictionary.csv", "council-series.csv", "council-series-dictionary.csv",
            "missing-values.csv"} <= set(files)
    tables = [n for n in dictionary if n.startswith("tables-tbl-")]
    n_tables = len(list((paths.ROOT / "report" / "outputs" / "tables").glob("tbl-*.md"))) - 1  # lookup has its own
    assert len(tables) >= n_tables >= 20
    assert all(kind == "text/csv" for kind, _ in files.values())
    assert len(files) == 2 * len(dictionary)  # every CSV beside its dictionary
    for name, dic_name in dictionary.items():
        rows = list(csv.reader(io.StringIO(files[name][1])))
        dic = list(csv.DictReader(io.StringIO(files[dic_name][1])))
        assert [d["column"] for d in dic] == rows[0], name
        assert all(d["meaning"] and d["unit"] for d in dic), name
        assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), name
    panel, _ = load_derived()
    alive = panel.loc[panel["year"] == panel["year"].max()]
    lk = list(csv.DictReader(io.StringIO(files["lookup.csv"][1])))
    assert sorted(r["la_name"] for r in lk) == sorted(alive["la_name"])
    kc = next(r for r in lk if r["la_name"] == "Kensington and Chelsea")
    assert kc["agency_rate_year"] == "2020" and kc["agency_rate_band"] == ""
    gaps = list(csv.DictReader(io.StringIO(files["missing-values.csv"][1])))
    assert any(r["la_code"] == "213" and r["year"] == "2025" and "cyberattack" in r["reason"] for r in gaps)


PHONE_WIDTHS = (360, 400)


@pytest.mark.parametrize("width", PHONE_WIDTHS)
def test_lookup_on_a_phone_shows_every_value_of_a_council_without_sideways_scroll(chromium, report_html, width):
    """At 360 and 400 px each council of the lookup is a card: its name and every value (each with
    its column label) lie inside the viewport, nothing scrolls sideways (page or table box), and a
    link near the top of the report leads to the lookup."""
    tools = DevTools(chromium)
    try:
        tools.open(report_html.as_uri(), width)
        r = tools.eval("""(function () {
          var d = document, de = d.documentElement, w = de.clientWidth;
          var lookup = d.getElementById('csc-lookup'); lookup.scrollIntoView();
          var rows = Array.prototype.slice.call(lookup.querySelectorAll('tbody tr'), 0, 12), bad = [];
          rows.forEach(function (tr) {
            Array.prototype.forEach.call(tr.cells, function (c, i) {
              var b = c.getBoundingClientRect();
              var label = i ? getComputedStyle(c, '::before').content : 'name';
              if (b.width < 20 || b.height < 5 || b.left < -1 || b.right > w + 1 || !label || label === 'none' || label === '""')
                bad.push([tr.cells[0].textContent.slice(0, 20), i, Math.round(b.left), Math.round(b.right), label]);
            });
          });
          var box = lookup.querySelector('.csc-scroll');
          var link = d.querySelector('a[href="#sec-lookup"]'), summary = d.getElementById('sec-summary');
          return {sw: de.scrollWidth, cw: w, boxSw: box.scrollWidth, boxCw: box.clientWidth, n: rows.length,
                  cells: rows[0].cells.length, bad: bad,
                  link: link ? link.getBoundingClientRect().top + window.scrollY : -1,
                  summary: summary ? summary.getBoundingClientRect().top + window.scrollY : -1,
                  lookupTop: lookup.getBoundingClientRect().top + window.scrollY};
        })()""")
    finally:
        tools.close()
    assert r["sw"] <= r["cw"], r
    assert r["boxSw"] <= r["boxCw"] + 1, r
    assert r["n"] == 12 and r["cells"] >= 7 and r["bad"] == [], r
    assert 0 <= r["link"] < r["summary"] < r["lookupTop"], r


PROFILE_PROBE = """<!doctype html><html><body style="margin:0">
<iframe id="f" src="%(src)s" style="width:%(w)dpx;height:900px;border:0"></iframe>
<pre id="probe"></pre>
<script>
var FIVE = %(five)s;
document.getElementById('f').addEventListener('load', function () {
  var w = this.contentWindow, d = this.contentDocument, out = {};
  var dets = Array.prototype.slice.call(d.querySelectorAll('details.csc-prof'));
  var input = d.getElementById('csc-prof-q');
  function shown() { return dets.filter(function (x) { return !x.hidden; }); }
  function name(x) { return x.querySelector('summary').firstChild.textContent; }
  /* 1. every council found by searching its name, opened by selecting it */
  var notFound = [], notOpened = [];
  dets.forEach(function (x) {
    input.value = name(x); input.dispatchEvent(new Event('input'));
    if (x.hidden) { notFound.push(name(x)); return; }
    x.querySelector('summary').click();
    if (!x.open || !x.querySelector('table.csc-values')) notOpened.push(name(x));
    x.open = false;
  });
  out.n = dets.length; out.notFound = notFound; out.notOpened = notOpened;
  out.search = {};
  ['St Helens', 'Kensington & Chelsea', 'Hull'].forEach(function (q) {
    input.value = q; input.dispatchEvent(new Event('input')); out.search[q] = shown().map(name); });
  input.value = ''; input.dispatchEvent(new Event('input'));
  /* 2. key-map codes: smallest size on screen (px) */
  var key = d.querySelector('#fig-map-key svg'), ctm = key.getScreenCTM().a;
  out.keyPx = Math.min.apply(null, Array.prototype.map.call(key.querySelectorAll('text'), function (t) {
    return parseFloat(t.getAttribute('font-size')) * ctm; }));
  out.nMaps = d.querySelectorAll('svg.csc-hexmap').length;
  /* 3. every hexagon of the grade map opens its profile in one click, highlighted on every map */
  var hexes = Array.prototype.slice.call(d.querySelectorAll('#fig-map-grade a[data-council]')), bad = [], i = 0;
  out.nHex = hexes.length;
  function values(id) {
    var x = d.getElementById('council-' + id);
    return Array.prototype.map.call(x.querySelectorAll('table.csc-values tbody tr'), function (r) {
      return Array.prototype.map.call(r.cells, function (c) { return c.textContent; }); });
  }
  function five(k) {
    if (k === FIVE.length) {
      var lk = d.querySelector('#csc-lookup tbody a[href^="#council-"]');
      var target = lk.getAttribute('href').slice(1);
      w.addEventListener('hashchange', function h() {
        w.removeEventListener('hashchange', h);
        out.lookupOpens = d.getElementById(target).open;
        out.scrollWidth = d.documentElement.scrollWidth; out.clientWidth = d.documentElement.clientWidth;
        document.getElementById('probe').textContent = JSON.stringify(out);
      });
      lk.click();
      return;
    }
    w.location.hash = 'council-' + FIVE[k];
    setTimeout(function () { out.values = out.values || {}; out.values[FIVE[k]] = values(FIVE[k]); five(k + 1); }, 0);
  }
  function next() {
    if (i === hexes.length) { out.badHex = bad; five(0); return; }
    var a = hexes[i++], id = a.getAttribute('data-council');
    w.addEventListener('hashchange', function h() {
      w.removeEventListener('hashchange', h);
      var x = d.getElementById('council-' + id), sel = d.querySelectorAll('a.csc-sel');
      var ok = x && x.open && !x.hidden && x.querySelector('table.csc-values') && sel.length === out.nMaps &&
        Array.prototype.every.call(sel, function (s) { return s.getAttribute('data-council') === id; });
      if (!ok) bad.push(id);
      setTimeout(next, 0);
    });
    a.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: w}));
  }
  w.location.hash = '';
  setTimeout(next, 0);
});
</script></body></html>
"""

FIVE_COUNCILS = ("Leeds", "Birmingham", "Cornwall", "Kensington and Chelsea", "North Yorkshire")


def _fmt_cell(v, digits: int, unit: str) -> str:
    import math
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "\u2013"
    s = f"{v:,.{digits}f}"
    return "\u00a3" + s if unit == "£" else s


@pytest.mark.parametrize("width", WIDTHS)
def test_every_profile_reachable_by_search_hexagon_and_lookup(chromium, report_html, width, tmp_path):
    """In the rendered report, at each width: every council's profile is found by searching its
    name and opens when selected; every hexagon of the grade map opens its council's profile in
    one click and highlights it on every map; the lookup's council link opens the profile; the
    search finds exactly the expected councils for 'St Helens', 'Kensington & Chelsea' and
    'Hull'; key-map codes measure at least 11 px; the page with a profile open does not scroll
    sideways; five councils' values by year equal the committed panel."""
    import pandas as pd
    panel = pd.read_csv(paths.DERIVED / "la_year_panel.csv", dtype={"la_code": str})
    last = panel[panel["year"] == panel["year"].max()]
    gss = dict(zip(last["la_name"], last["gss_code"]))
    wrapper = tmp_path / f"profiles-{width}.html"
    wrapper.write_text(PROFILE_PROBE % {"src": report_html.resolve().as_uri(), "w": width,
                                        "five": json.dumps([gss[n] for n in FIVE_COUNCILS])}, encoding="utf-8")
    out = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--hide-scrollbars", f"--window-size={width + 40},1000", "--virtual-time-budget=60000",
                          "--dump-dom", wrapper.as_uri()], capture_output=True, text=True, timeout=300)
    m = re.search(r'<pre id="probe">(.*?)</pre>', out.stdout, flags=re.S)
    assert m and m.group(1).strip(), f"no measurement from chromium: {out.stderr[-500:]}"
    r = json.loads(html_lib.unescape(m.group(1)))
    assert r["n"] == len(last) and r["notFound"] == [] and r["notOpened"] == []
    assert r["search"] == {"St Helens": ["St. Helens"], "Kensington & Chelsea": ["Kensington and Chelsea"],
                           "Hull": ["Kingston upon Hull, City of"]}
    assert r["keyPx"] >= 11.0, r["keyPx"]
    assert r["nMaps"] >= 5 and r["nHex"] == len(last)
    assert r["badHex"] == []
    assert r["lookupOpens"] is True
    assert r["scrollWidth"] <= r["clientWidth"], (r["scrollWidth"], r["clientWidth"])
    cols = [("caseload", 1, ""), ("vacancy_rate", 1, "%"), ("agency_rate", 1, "%"), ("turnover_rate", 1, "%"),
            ("spend_total_pc", 0, "£")]
    for name in FIVE_COUNCILS:
        rows = panel[panel["la_name"] == name].set_index("year")
        got = r["values"][gss[name]]
        assert [int(g[0]) for g in got] == list(range(2015, int(panel["year"].max()) + 1))
        for g in got:
            y = int(g[0])
            want = [_fmt_cell(float(rows.loc[y, c]) if y in rows.index else None, d, u) for c, d, u in cols]
            assert g[1:] == want, (name, y)
