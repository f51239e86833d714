"""Write every report output: ``python -m analysis.outputs.build``.

Figures to ``report/outputs/figures/``, tables to ``report/outputs/tables/``, the numbers quoted
in the text to ``_variables.yml`` (Quarto's variables file, beside ``_quarto.yml``) and
``report/outputs/provenance.json`` mapping each figure/table to the function that made it.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import yaml

from .. import fileio, paths
from ..derived import load_derived
from . import downloads, figures, figures_keyfindings, figures_reverse, lookup, maps, profiles, prose, tables, tables_forward, tables_multiverse, tables_reverse
from . import tables_dynamic
from .buildinfo import VARIABLES, refresh, write_variables
from .common import FIGURES, OUT, TABLES, load_results
from .numbers import variables
from .numbers_multiverse import multiverse_variables
from .numbers_reverse import reverse_variables
from .numbers_forward import forward_variables
from .numbers_keyfindings import keyfindings_variables
from .numbers_dynamic import dynamic_variables

#: written last, with the sha256 of every output (and of the results it was made from); the Make
#: target of the outputs step, checked before a render (analysis/cli.py)
MANIFEST = OUT / "manifest.json"


def build() -> dict[str, str]:
    fileio.begin_set(MANIFEST)  # the outputs are incomplete until the manifest is written again
    panel, insp = load_derived()
    results = load_results()
    curve = pd.read_csv(OUT / "results" / "multiverse.csv")
    dictionary = pd.read_csv(paths.DERIVED / "data_dictionary.csv")
    made: dict[str, str] = {}
    # the slower half of the figures is drawn in a forked worker while this process draws the
    # rest, the maps and the tables (two cores; each figure's bytes do not depend on where it is drawn)
    worker_figs = {
        "fig-trends": (figures.fig_national_trends, (panel,)),
        **{name: (figures.fig_spec_curve, (curve, term)) for term, name in figures.SPEC_FIGURES.items()},
    }
    here_figs = {
        "fig-reverse-event": (figures_reverse.fig_reverse_event, (results,)),
        "fig-reverse-decomposition": (figures_reverse.fig_reverse_decomposition, (results,)),
        "fig-by-rating": (figures.fig_by_rating, (panel,)),
        "fig-la-variation": (figures.fig_la_variation, (panel,)),
        "fig-panel-coefs": (figures.fig_panel_coefficients, (results,)),
    }
    for name, (fn, _) in {**worker_figs, **here_figs}.items():
        made[name] = f"{fn.__module__.replace('.', '/')}.py::{fn.__name__}"
    worker = in_worker(lambda: [fn(*args) for fn, args in worker_figs.values()])
    try:
        _build_rest(panel, insp, results, curve, dictionary, here_figs, made)
    except BaseException:
        worker.proc.join()
        raise
    worker.join()
    # a figure left over from an earlier build (e.g. the one-panel-per-measure fig-spec-curve,
    # since split into four figures) is removed, as stale tables are
    for stale in FIGURES.glob("fig-*.png"):
        if stale.stem not in made:
            stale.unlink()
    write_manifest()
    return made


def write_manifest() -> dict[str, str]:
    """The outputs as a set: every file under ``report/outputs/`` and ``_variables.yml`` (its
    ``build`` block, refreshed by each render, left out), with their sha256."""
    members = [p for p in OUT.rglob("*") if p.is_file() and p != MANIFEST and p.name != ".stamp"
               and not p.name.startswith(".")]
    return fileio.write_manifest(MANIFEST, [*members, VARIABLES], paths.ROOT)


def _build_rest(panel, insp, results, curve, dictionary, here_figs, made: dict[str, str]) -> None:
    """Everything but the worker's figures: the other figures, tables, maps, lookup, numbers,
    provenance (``made``, figure names already in it, is filled in place)."""
    for fn, args in here_figs.values():
        fn(*args)
    tbls = {
        "tbl-sources": (tables.tbl_sources, ()),
        "tbl-source-hashes": (tables.tbl_source_hashes, ()),
        "tbl-coverage": (tables.tbl_coverage, (panel,)),
        "tbl-by-grade": (tables.tbl_by_grade, (panel,)),
        "tbl-panel-grade": (tables.tbl_panel_grade, (results,)),
        "tbl-panel-good": (tables.tbl_panel_good, (results,)),
        "tbl-hausman": (tables.tbl_hausman, (results,)),
        "tbl-dictionary": (tables.tbl_dictionary, (dictionary,)),
    }
    TABLES.mkdir(parents=True, exist_ok=True)
    for name, (fn, args) in tbls.items():
        (TABLES / f"{name}.md").write_text(fn(*args), encoding="utf-8")
        made[name] = f"analysis/outputs/tables.py::{fn.__name__}"
    fwd_tbls = {  # forward (inspection-level) design and replication
        "tbl-fwd-sample": tables_forward.tbl_fwd_sample, "tbl-fwd-magnitudes": tables_forward.tbl_fwd_magnitudes,
        "tbl-fwd-precision": tables_forward.tbl_fwd_precision, "tbl-fwd-cre": tables_forward.tbl_fwd_cre,
        "tbl-fwd-sensitivity": tables_forward.tbl_fwd_sensitivity, "tbl-replication": tables_forward.tbl_replication,
        "tbl-fwd-primary": tables_forward.tbl_fwd_primary, "tbl-fwd-variants": tables_forward.tbl_fwd_variants,
        "tbl-fwd-variants-within": tables_forward.tbl_fwd_variants_within,
        "tbl-fwd-checks": tables_forward.tbl_fwd_checks,
    }
    for name, fn in fwd_tbls.items():
        (TABLES / f"{name}.md").write_text(fn(results), encoding="utf-8")
        made[name] = f"analysis/outputs/tables_forward.py::{fn.__name__}"
    for name, fn in {"tbl-reverse-event": tables_reverse.tbl_reverse_event,
                     "tbl-reverse-design": tables_reverse.tbl_reverse_design,
                     "tbl-reverse-sample": tables_reverse.tbl_reverse_sample,
                     "tbl-reverse-decomposition": tables_reverse.tbl_reverse_decomposition,
                     "tbl-reverse-honest": tables_reverse.tbl_reverse_honest,
                     "tbl-reverse-honest-decomposition": tables_reverse.tbl_reverse_honest_decomposition,
                     "tbl-reverse-choices": tables_reverse.tbl_reverse_choices}.items():
        (TABLES / f"{name}.md").write_text(fn(results), encoding="utf-8")
        made[name] = f"analysis/outputs/tables_reverse.py::{fn.__name__}"
    for name, fn in {"tbl-multiverse-counts": tables_multiverse.tbl_multiverse_counts,
                     "tbl-multiverse": tables_multiverse.tbl_multiverse}.items():
        (TABLES / f"{name}.md").write_text(fn(results), encoding="utf-8")
        made[name] = f"analysis/outputs/tables_multiverse.py::{fn.__name__}"
    for name, fn in {"tbl-dyn-ame": tables_dynamic.tbl_dyn_ame, "tbl-dyn-family": tables_dynamic.tbl_dyn_family,
                     "tbl-dyn-webb": tables_dynamic.tbl_dyn_webb}.items():
        (TABLES / f"{name}.md").write_text(fn(results), encoding="utf-8")
        made[name] = f"analysis/outputs/tables_dynamic.py::{fn.__name__}"
    # hex maps (figure blocks included by report/descriptives.qmd) and the council lookup annex
    map_specs = maps.build_maps(panel, insp)
    (OUT / "maps.md").write_text(maps.maps_markdown(map_specs), encoding="utf-8")
    made.update({s.name: "analysis/outputs/maps.py::build_maps" for s in map_specs})
    made.update(lookup.write_lookup(panel, insp))
    profiles.write_profiles(panel, insp)  # Appendix H (not a numbered figure or table)
    v = variables(panel, insp, results)
    v["alt"] = figures.alt_texts(panel, results, curve)
    v["alt"]["fig_reverse_event"] = figures_reverse.alt_reverse_event(results)
    v["alt"]["fig_reverse_decomposition"] = figures_reverse.alt_reverse_decomposition(results)
    v["prose"] = {"nao_comparison": prose.nao_comparison(panel)}
    v["limits"] = prose.limitation_numbers(insp, results)
    v["lookup"] = {"base_year": str(lookup.BASE_YEAR), "grouping": lookup.NEIGHBOUR_GROUPING}
    v["rev"] = reverse_variables(results)
    v["mv"] = multiverse_variables(results)
    v["fwd"] = forward_variables(results)
    v["note"] = table_notes(results, panel)
    kf_sample, kf_quarters = figures_keyfindings.headline_quarters(panel, insp)  # the key findings' chart
    base_rate = float(kf_sample["good_or_better"].mean())
    figures_keyfindings.fig_key_findings(kf_quarters, base_rate)
    made["fig-key-findings"] = "analysis/outputs/figures_keyfindings.py::fig_key_findings"
    v["alt"]["fig_key_findings"] = figures_keyfindings.alt_key_findings(kf_quarters, base_rate)
    v["kf"] = keyfindings_variables(results, kf_sample, kf_quarters)
    v["dyn"] = dynamic_variables(results)
    v["source"] = made
    write_variables(v)
    (OUT / "provenance.json").write_text(json.dumps(made, indent=1, sort_keys=True) + "\n")
    # provenance appendix: captions carry no code paths, this table does; it lists the figures
    # and tables the report contains, in report order (an output built but not included is left out)
    made["tbl-source-hashes"] = "analysis/outputs/tables.py::tbl_source_hashes"
    made["tbl-provenance"] = "analysis/outputs/tables.py::tbl_provenance"
    # a table file left over from an earlier build (an output since dropped) is removed
    for stale in TABLES.glob("tbl-*.md"):
        if stale.stem not in made:
            stale.unlink()
    order, labels = report_labels()
    shown = {k: made[k] for k in order if k in made}
    (TABLES / "tbl-provenance.md").write_text(tables.tbl_provenance(shown, labels), encoding="utf-8")
    # CSV downloads of the lookup, the council series and every table (after the last table)
    downloads.write_downloads(panel, insp)


def table_notes(results: dict, panel: pd.DataFrame) -> dict[str, str]:
    """The notes printed under table captions (``{{< var note.tbl_x >}}``): why the columns'
    sample sizes differ, the tests that are not interval estimates. Escaped (data are text)."""
    notes = {**tables.panel_notes(results, panel),
             "tbl_fwd_magnitudes": tables_forward.note_fwd_magnitudes(results),
             "tbl_fwd_cre": tables_forward.note_fwd_cre(results),
             "tbl_fwd_primary": tables_forward.note_fwd_primary(results),
             "tbl_dyn_ame": tables_dynamic.note_dyn_ame(results),
             "tbl_dyn_webb": tables_dynamic.note_dyn_webb(results)}
    return {k: tables.escape_md(f"Note: {n}") for k, n in notes.items() if n}


class _Worker:
    """A forked child running one callable; :meth:`join` raises if it failed."""

    def __init__(self, fn):
        import multiprocessing as mp
        self.proc = mp.get_context("fork").Process(target=fn, name="outputs-figures")
        self.proc.start()

    def join(self) -> None:
        self.proc.join()
        if self.proc.exitcode != 0:
            raise RuntimeError(f"the figure worker failed (exit code {self.proc.exitcode}); "
                               "its traceback is printed above")


def in_worker(fn) -> _Worker:
    """Run ``fn`` in a forked child process (figures only: nothing is returned)."""
    return _Worker(fn)


INCLUDE_RE = re.compile(r"\{\{<\s*include\s+(\S+)\s*>\}\}")
LABEL_RE = re.compile(r"\{[^}]*?#((?:fig|tbl)-[\w-]+)")


def report_text(path=None, depth: int = 0) -> str:
    """The report's source with its includes pasted in (from the main document's directory, as
    Quarto resolves them); an include not built yet (the provenance table itself) is skipped."""
    base = paths.ROOT / "report"
    path = path or base / "report.qmd"
    text = path.read_text(encoding="utf-8")
    if depth > 5:
        return text
    return INCLUDE_RE.sub(lambda m: report_text(base / m.group(1), depth + 1)
                         if (base / m.group(1)).is_file() else "", text)


def report_labels() -> tuple[list[str], set[str]]:
    """(every figure/table label of the report in order, the labels both formats define).

    A label inside format-specific content (e.g. the PDF-only lookup table) exists in one format
    only, so it is listed by name, not cross-referenced."""
    from ..render.lite import select_format  # nested format divs (an HTML and a PDF map per label)
    text = report_text()
    order = list(dict.fromkeys(LABEL_RE.findall(text)))
    return order, set(LABEL_RE.findall(select_format(text, "html"))) & set(LABEL_RE.findall(select_format(text, "typst")))


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-info-only", action="store_true",
                    help="only refresh version, commit and date in _variables.yml")
    args = ap.parse_args(argv)
    if args.build_info_only:
        refresh()
        return 0
    made = build()
    print(f"wrote {len(made)} figures/tables and {VARIABLES.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
