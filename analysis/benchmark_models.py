"""Benchmark: wall time and peak memory of fitting every model (``make bench``).

Runs ``python -m analysis.run_models`` in a child process ``--repeat`` times (so imports count, as
for a user) and reports the minimum and median wall time and the peak resident memory of the
child and its worker (max RSS of the largest process, from ``wait4``). Then times each model family
in-process (wall and CPU), so that a slow part can be found. With ``--before DIR`` the same is
measured for another checkout (e.g. ``git worktree add /tmp/before <commit>``) run with this
environment, and both are printed. The machine may be shared: the numbers are indicative; the CPU
times are less sensitive to other load than wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def time_run_models(root: Path, repeat: int) -> dict:
    walls, rss, cpu = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "analysis.run_models", "--out", tmp], cwd=root,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            walls.append(time.perf_counter() - t0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"run_models failed in {root}")
            rss.append(usage.ru_maxrss / 1024)
            cpu.append(usage.ru_utime + usage.ru_stime)
    return {"repeat": repeat, "wall_s_min": round(min(walls), 2), "wall_s_median": round(statistics.median(walls), 2),
            "cpu_s_median": round(statistics.median(cpu), 2), "peak_rss_mb_max": round(max(rss), 1)}


def time_parts() -> dict:
    """Wall and CPU seconds of each model family, in this process (imports already paid)."""
    from .derived import load_derived
    from .models.forward_results import fit_forward_all
    from .models.multiverse import run_multiverse
    from .models.reverse import fit_reverse
    from .run_models import fit_all

    panel, insp = load_derived()
    parts = {}
    for name, fn in [("forward design (inspection level, every family and check)", lambda: fit_forward_all(insp, panel)),
                     ("reverse event study (TWFE, Callaway-Sant'Anna, honest bounds)", lambda: fit_reverse(panel, insp)),
                     ("multiverse (all specifications)", lambda: run_multiverse(panel, insp)),
                     ("all models in-process", lambda: fit_all(panel, insp))]:
        w, c = time.perf_counter(), time.process_time()
        fn()
        parts[name] = {"wall_s": round(time.perf_counter() - w, 2), "cpu_s": round(time.process_time() - c, 2)}
    return parts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before", type=Path, default=None, help="another checkout to time the same way")
    ap.add_argument("--no-parts", action="store_true")
    args = ap.parse_args(argv)
    root = Path(__file__).resolve().parents[1]
    report = {"cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
              "note": "indicative: the machine may be shared with other work"}
    if args.before:
        report["before"] = time_run_models(args.before, args.repeat)
    report["after"] = time_run_models(root, args.repeat)
    if not args.no_parts:
        report["parts_after"] = time_parts()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
