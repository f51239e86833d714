"""Benchmark of the report build (``make bench-report``).

Measures, with Make's dependency tracking as users run it:

1. cold ``make report`` from the committed panel (models, outputs, both formats rendered);
   every time is given as wall seconds and as CPU seconds (``*_cpu_s``: user + system of all
   child processes), since a shared machine's load changes the first far more than the second;
2. no-op ``make report`` (nothing changed);
3. a prose-only edit of one chapter (only the render step re-runs);
4. peak resident memory of the largest process in each build (max RSS of children);
5. the render step alone, HTML + PDF: the in-project engine (target <= 2 s) and, where ``quarto``
   is on PATH, Quarto from cold (its ``.quarto`` cache removed; target <= 15 s on 2 cores).

``--render-only`` measures only 5 (the outputs must exist: ``make outputs``).

For comparison it then executes the same chapters "as Jupyter code cells": each chapter's
computations in a fresh Python process (Quarto's Jupyter engine starts one kernel per document
and caches nothing across documents), so every chapter re-imports and re-fits what it shows.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import paths

CHAPTER_CELLS = {
    "descriptives": "from analysis.derived import load_derived\nfrom analysis.outputs import figures, tables\n"
                    "p,i=load_derived()\nfigures.fig_national_trends(p); figures.fig_by_rating(p); figures.fig_la_variation(p)\n"
                    "tables.tbl_by_grade(p); tables.tbl_coverage(p)\n",
    "panel": "from analysis.derived import load_derived\nfrom analysis.run_models import main_specs\nfrom analysis.models.panel import fit_panel, hausman\n"
             "from analysis.models.spec import prepare_panel, ModelSpec, PRESSURE\np,i=load_derived(); mp=prepare_panel(p)\n"
             "[fit_panel(s, mp) for o in ('grade_num','good_or_better') for _, s in main_specs(o)]\n"
             "hausman(ModelSpec('fe_twoway','grade_num',PRESSURE,'demand + population'), ModelSpec('random','grade_num',PRESSURE,'demand + population'), mp)\n",
    "inspections": "from analysis.derived import load_derived\nfrom analysis.models.forward_results import fit_forward_all\n"
                   "p,i=load_derived(); fit_forward_all(i,p)\n",
    "reverse": "from analysis.derived import load_derived\nfrom analysis.models.reverse import fit_reverse\n"
               "p,i=load_derived(); fit_reverse(p, i)\n",
    "robustness": "from analysis.derived import load_derived\nfrom analysis.models.multiverse import run_multiverse\n"
                  "p,i=load_derived(); run_multiverse(p, i)\n",
}


#: CPU seconds (user + system, all child processes) of the last :func:`_timed` command: on a
#: shared machine the wall time depends on the load, the CPU time much less
LAST_CPU: dict[str, float] = {}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(cmd: list[str], **kw) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cpu0 = _cpu()
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=paths.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    wall = time.perf_counter() - t
    LAST_CPU["s"] = round(_cpu() - cpu0, 2)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(wall, 2), round(max(peak, before) / 1024, 1)


def render_times(repeat: int = 3) -> dict:
    """Best-of-``repeat`` wall time of the render step per engine (Quarto only if on PATH)."""
    out = {}
    py = sys.executable
    lite = [py, "-m", "analysis.render", "--engine", "lite"]
    runs = []
    for _ in range(repeat):
        runs.append((_timed(lite)[0], LAST_CPU["s"]))
    out["lite_render_s"], out["lite_render_cpu_s"] = min(runs)
    quarto = shutil.which("quarto")
    if quarto:
        times, peaks = [], []
        for _ in range(repeat):
            for d in (paths.ROOT / ".quarto", paths.ROOT / "_build" / "quarto"):
                shutil.rmtree(d, ignore_errors=True)
            t, peak = _timed([py, "-m", "analysis.render", "--engine", "quarto"])
            times.append(t)
            peaks.append(peak)
        out["quarto_cold_render_s"] = min(times)
        out["quarto_peak_rss_mb"] = max(peaks)
        out["quarto_version"] = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout.strip()
    else:
        out["quarto_cold_render_s"] = "quarto not on PATH"
    return out


def main() -> int:
    if "--render-only" in sys.argv[1:]:
        print(json.dumps({"cpu_count": os.cpu_count(), **render_times()}, indent=2))
        return 0
    for p in (paths.ROOT / "report" / "outputs", paths.ROOT / "_output", paths.ROOT / "_build"):
        shutil.rmtree(p, ignore_errors=True)
    (paths.ROOT / "_variables.yml").unlink(missing_ok=True)
    out = {"cpu_count": os.cpu_count(), "load_average_1min_before": round(os.getloadavg()[0], 2)}
    out["cold_make_report_s"], out["cold_peak_rss_mb"] = _timed(["make", "report"])
    out["cold_make_report_cpu_s"] = LAST_CPU["s"]
    out["noop_make_report_s"], _ = _timed(["make", "report"])
    out["noop_make_report_cpu_s"] = LAST_CPU["s"]
    chapter = paths.ROOT / "report" / "limitations.qmd"
    original = chapter.read_bytes()
    try:
        chapter.write_bytes(original + b"\n<!-- benchmark prose edit -->\n")
        out["prose_edit_make_report_s"], _ = _timed(["make", "report"])
        out["prose_edit_make_report_cpu_s"] = LAST_CPU["s"]
    finally:
        chapter.write_bytes(original)
    subprocess.run(["make", "report"], check=True, cwd=paths.ROOT, stdout=subprocess.DEVNULL)
    cells = {}
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}  # BLAS threads: set by analysis/__init__
    t0 = time.perf_counter()
    for name, code in CHAPTER_CELLS.items():
        cells[name], _ = _timed([sys.executable, "-c", code], env=env)
    out["jupyter_style_chapters_s"] = cells
    out["jupyter_style_total_s"] = round(time.perf_counter() - t0, 2)
    out.update(render_times())
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
