"""Build the derived data sets from the raw sources: ``python -m analysis.data.build``.

Writes, under ``data/derived/``:

* ``la_year_panel.csv``      LA x year panel 2015-2025
* ``inspections.csv``        one row per Ofsted inspection
* ``data_dictionary.csv``    every column of both tables: meaning, unit, source, years
* ``suppression_counts.csv`` suppression symbols met per source, column and symbol
* ``hex_map_key.csv``        hex map position of every entity alive in the last census year
* ``statistical_neighbours.csv`` DfE statistical neighbours (2021 and 2025 groupings) by entity
* ``manifest.json``          sha256 of every raw input and derived output, row counts

Everything is built and validated in memory first; files are written only if all checks pass,
each through a temporary file renamed into place. Output is byte-identical for identical inputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import paths
from .clean import context, ofsted, workforce
from .clean.parse import SuppressionLog
from .dictionary import dictionary_frame, key_table_dictionary
from .geography import load_register
from .hexmap import build_hex_key
from .neighbours import build_neighbours
from ..errors import DataError
from .inspections import build_inspections, harmonise_inspections
from .panel import YEARS, build_panel
from .schema import validate_inspections, validate_panel
from .sources import fetch, load_registry

OUTPUTS = ("la_year_panel.csv", "inspections.csv", "data_dictionary.csv", "suppression_counts.csv",
           "hex_map_key.csv", "statistical_neighbours.csv")


@dataclass(frozen=True)
class Derived:
    """The derived tables, built in memory."""

    panel: pd.DataFrame
    inspections: pd.DataFrame
    dictionary: pd.DataFrame
    suppression: pd.DataFrame
    inputs: dict[str, str]  # source id -> sha256
    hex_key: pd.DataFrame | None = None
    neighbours: pd.DataFrame | None = None


def build(source_paths: dict[str, Path] | None = None) -> Derived:
    """Fetch (verify) every source, clean, harmonise and validate; nothing is written."""
    registry = load_registry()
    if source_paths is None:
        source_paths = {sid: fetch(src) for sid, src in registry.items()}
    p = source_paths
    log = SuppressionLog()
    years = set(YEARS)
    wf = workforce.load_workforce(p, log)
    cin = context.load_cin(p["cin_b1"], log, years)
    cpp = context.load_cpp(p["cpp_d5"], log, years)
    cla = context.load_cla(p, log)
    pop = context.load_population(p["population"], log, {y - 1 for y in years})
    iod = context.load_iod(p["iod2019_utla"])
    insp_raw = ofsted.combine_inspections(
        ofsted.load_official_history(p["ofsted_outcomes_2025"]),
        ofsted.load_sif(p["ofsted_sif_transcribed"]),
        ofsted.load_ilacs_transcribed(p["ofsted_ilacs_transcribed"]),
        official_path=p["ofsted_outcomes_2025"],
    )
    insp = harmonise_inspections(insp_raw)
    panel = build_panel(wf, cin, cpp, cla, pop, iod, insp)
    table = build_inspections(insp, panel)
    validate_panel(panel)
    validate_inspections(table)
    dictionary = dictionary_frame(panel, table)
    hex_key = build_hex_key(panel, p["hexmap_utla"])
    neighbours = build_neighbours(p["sn_2021"], p["sn_2025"], load_register())
    dictionary = pd.concat([dictionary, key_table_dictionary(hex_key, neighbours)], ignore_index=True)
    return Derived(panel, table, dictionary, log.frame(),
                   {sid: registry[sid].sha256 for sid in sorted(registry)}, hex_key, neighbours)


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Deterministic CSV: fixed column order, ISO dates, '\\n' line ends, repr floats."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def render(derived: Derived) -> dict[str, bytes]:
    """All output files as bytes (manifest last, hashing the others)."""
    files = {
        "la_year_panel.csv": to_csv_bytes(derived.panel),
        "inspections.csv": to_csv_bytes(derived.inspections),
        "data_dictionary.csv": to_csv_bytes(derived.dictionary),
        "suppression_counts.csv": to_csv_bytes(derived.suppression),
    }
    if derived.hex_key is not None:
        files["hex_map_key.csv"] = to_csv_bytes(derived.hex_key)
    if derived.neighbours is not None:
        files["statistical_neighbours.csv"] = to_csv_bytes(derived.neighbours)
    manifest = {
        "inputs_sha256": derived.inputs,
        "outputs_sha256": {k: hashlib.sha256(v).hexdigest() for k, v in files.items()},
        "rows": {"la_year_panel.csv": len(derived.panel), "inspections.csv": len(derived.inspections)},
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def write(files: dict[str, bytes], out_dir: Path = paths.DERIVED) -> None:
    """Write each file atomically (temporary file + rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, out_dir / name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=paths.DERIVED, help="output directory (default data/derived)")
    ap.add_argument("--check", action="store_true",
                    help="rebuild in memory and compare with the files in --out; exit 1 if they differ")
    args = ap.parse_args(argv)
    try:
        files = render(build())
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        diff = [n for n, b in files.items() if not (args.out / n).exists() or (args.out / n).read_bytes() != b]
        if diff:
            print(f"derived data differ from a rebuild: {diff}", file=sys.stderr)
            return 1
        print("derived data match a rebuild from the raw sources")
        return 0
    write(files, args.out)
    print(f"wrote {', '.join(files)} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
