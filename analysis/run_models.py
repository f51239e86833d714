"""Fit every model and write the results: ``python -m analysis.run_models``.

Writes under ``report/outputs/results/``:

* ``results.json``   every model: specification, N, number of LAs, fit statistics, and per term
                     estimate, SE, statistic, p-value, 95% CI, standardised estimate; Hausman
                     test; the specifications rejected as not identified, with the reason
* ``estimates.csv``  the same coefficients as one tidy table (one row per model x term)
* ``multiverse.csv`` one row per distinct multiverse specification x workforce term (choice
                     columns estimator, outcome, timing, controls, sample; the comparable effect);
                     the refused combinations and the duplicate labels are counted in results.json

Reads only the committed derived data. Deterministic: fixed model order, no random numbers,
floats written with 12 significant digits.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import pandas as pd

from . import __version__, fileio, paths
from .derived import load_derived
from .models.extensions import add_family_tests, fit_extensions
from .models.forward_results import fit_forward_all, forward_document
from .models.replication import replicate_all
from .models.multiverse import run_multiverse, summarise
from .models.panel import fit_panel, hausman
from .models.results import FitResult
from .models.reverse import start_reverse
from .models.spec import PRESSURE, IdentificationError, ModelSpec, prepare_panel

RESULTS_DIR = paths.ROOT / "report" / "outputs" / "results"
#: written last, with the sha256 of each results file; the Make target of the models step
RESULTS_MANIFEST = "manifest.json"
MAIN_ESTIMATORS = ("pooled", "random", "between", "fe_twoway", "first_difference")


def main_specs(outcome: str) -> list[tuple[str, ModelSpec]]:
    """The LA-year description models: all five pressure measures, a framework indicator of the
    grade in force; IDACI where identified."""
    out = []
    for est in MAIN_ESTIMATORS:
        within = est in ("fe_twoway", "first_difference")
        controls = "demand + population" if within else "demand + population + IDACI"
        out.append((f"panel_{est}_{outcome}",
                    ModelSpec(estimator=est, outcome=outcome, regressors=PRESSURE, controls=controls,
                              year_effects=est != "between", framework=True)))
    return out


def fit_all(panel: pd.DataFrame, insp: pd.DataFrame, workers: int | None = None) -> dict:
    """Fit every model; returns a dict of FitResults, tests and the multiverse table.

    The forward (inspection-level) design runs in one forked worker process while this process
    fits the rest, unless ``workers == 1``; the results are
    identical either way (tests/test_models.py)."""
    mp = prepare_panel(panel)
    executor = None
    if (workers or min(2, os.cpu_count() or 1)) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        # worker: the forward design (about 2 s) and the reverse design's named choices; this
        # process: the panel, inspection, multiverse, replication and primary reverse fits
        forward = executor.submit(fit_forward_all, insp, panel) if executor is not None else None
        collect_reverse = start_reverse(panel, insp, executor)
        ext = executor.submit(fit_extensions, insp, panel) if executor is not None else None  # issue 14
        return _fit_rest(panel, insp, mp, collect_reverse, None, forward, ext)
    finally:
        if executor is not None:
            executor.shutdown()


def _fit_rest(panel, insp, mp, collect_reverse, events_old=None, forward_future=None, ext_future=None) -> dict:
    fits: list[FitResult] = []
    rejected = []
    for outcome in ("grade_num", "good_or_better"):
        for model_id, spec in main_specs(outcome):
            fits.append(fit_panel(spec, mp, model_id=model_id))
        # documented non-identification: IDACI under LA fixed effects / first differences
        for est in ("fe_twoway", "first_difference"):
            spec = ModelSpec(estimator=est, outcome=outcome, regressors=PRESSURE,
                             controls="demand + population + IDACI")
            try:
                fit_panel(spec, mp)
            except IdentificationError as exc:
                rejected.append({"spec": spec.label(), "reason": str(exc)})
    hausman_tests = {
        outcome: hausman(ModelSpec("fe_twoway", outcome, PRESSURE, "demand + population"),
                         ModelSpec("random", outcome, PRESSURE, "demand + population"), mp)
        for outcome in ("grade_num", "good_or_better")}
    mv = run_multiverse(panel, insp)
    # inspection level, census before fieldwork
    forward = forward_future.result() if forward_future is not None else fit_forward_all(insp, panel)
    replication = replicate_all(insp, panel)
    # issue 14: dynamic CRE, sub-judgements, overlap, replication like for like, family-wise tests
    ext = ext_future.result() if ext_future is not None else fit_extensions(insp, panel)
    extensions = add_family_tests(ext, forward)
    reverse_fits, reverse = collect_reverse()
    fits.extend(reverse_fits)
    return {"fits": fits, "hausman": hausman_tests, "rejected": rejected, "multiverse": mv,
            "reverse": reverse, "cla_interpolated": int(mp["cla_interpolated"].sum()),
            "forward": forward, "replication": replication, "extensions": extensions}


def _clean(obj):
    """JSON-safe, platform-stable values (12 significant digits, NaN -> null)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float):
        return None if math.isnan(obj) else float(f"{obj:.12g}")
    return obj


def results_document(out: dict, manifest: dict) -> dict:
    mv = out["multiverse"]
    return _clean({
        "title": "Social work workforce pressure and Ofsted ratings: model results",
        "version": __version__,
        "data_manifest": manifest.get("outputs_sha256", {}),
        "notes": {
            "standard_errors": "clustered by LA (entity) in every model",
            "std_estimate": "effect of a one-standard-deviation change: within-LA SD (x minus its LA mean) for "
                            "LA fixed effects and first differences, else the SD in the estimation sample",
            "grade_coding": "1 Outstanding, 2 Good, 3 Requires improvement, 4 Inadequate (higher = worse)",
            "cla_2018": f"children-looked-after rate for 2018: DfE's published rate (LAIT extract); "
                        f"interpolated within LA only where it is missing ({out['cla_interpolated']} LA-years)",
            "sample": "City of London and Isles of Scilly excluded; 2015 has no caseload so models "
                      "with caseload start in 2016",
        },
        "models": [{"model_id": f.model_id, "family": f.family, "spec": f.spec, "stats": f.stats,
                    "coefficients": f.coefs.to_dict(orient="index")} for f in out["fits"]],
        "hausman": out["hausman"],
        **({"forward": forward_document(out["forward"])} if "forward" in out else {}),
        # the primary design (analysis/models/primary.py: rule and stable key names)
        **({"primary": out["forward"]["primary"]} if "forward" in out else {}),
        **({"replication": out["replication"]} if "replication" in out else {}),
        "not_identified": out["rejected"],
        "multiverse": summarise(mv),
        "reverse": out["reverse"],
        **out.get("extensions", {}),
    })


def write_results(out: dict, out_dir: Path = RESULTS_DIR) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = paths.DERIVED / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    doc = results_document(out, manifest)
    files = {
        "results.json": (json.dumps(doc, indent=1, sort_keys=True, allow_nan=False) + "\n").encode(),
        "estimates.csv": pd.concat([f.tidy() for f in [*out["fits"], *out.get("forward", {}).get("fits", [])]],
                                   ignore_index=True)
                           .to_csv(index=False, lineterminator="\n", float_format="%.12g").encode(),
        "multiverse.csv": out["multiverse"].table.to_csv(index=False, lineterminator="\n",
                                                         float_format="%.12g").encode(),
    }
    # committed as a set: the manifest (what Make depends on) is removed first and written last,
    # so an interrupted write is re-run, never read as current (analysis/fileio.py)
    fileio.begin_set(out_dir / RESULTS_MANIFEST)
    written = {}
    for name, content in files.items():
        fileio.atomic_write(out_dir / name, content)
        written[name] = out_dir / name
    fileio.write_manifest(out_dir / RESULTS_MANIFEST, list(written.values()), out_dir)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = ap.parse_args(argv)
    panel, insp = load_derived()
    written = write_results(fit_all(panel, insp), args.out)
    print("wrote " + ", ".join(str(p) for p in written.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
