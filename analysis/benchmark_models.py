"""Benchmark: wall time and peak memory of fitting every model (``make bench-models``).

Runs ``python -m analysis.run_models`` in a child process (so imports count, as for a user) and
reports wall time, the child's peak resident memory (max RSS, including spec-curve workers), and
the time of each model family measured in-process.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "analysis.run_models", "--out", tmp], check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    from .models.event_study import fit_event_studies
    from .models.inspection import fit_inspection_models
    from .models.spec import prepare_panel
    from .models.spec_curve import run_spec_curve
    from .derived import load_derived
    from .run_models import fit_all

    panel, insp = load_derived()
    mp = prepare_panel(panel)
    parts = {}
    for name, fn in [("inspection models", lambda: fit_inspection_models(insp, panel)),
                     ("event studies", lambda: fit_event_studies(panel)),
                     ("spec curve (2 processes)", lambda: run_spec_curve(mp, workers=2)),
                     ("all models in-process", lambda: fit_all(panel, insp))]:
        t = time.perf_counter()
        fn()
        parts[name] = round(time.perf_counter() - t, 2)
    report = {"cpu_count": os.cpu_count(), "run_models_wall_s": round(wall, 2),
              "run_models_peak_rss_mb": round(peak_mb, 1), "parts_s": parts}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
