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
and then replaced as a set (:func:`write`): a failure half-way restores the previous set, leaves
no temporary file behind, and written files get ordinary modes (``0666 & ~umask``, i.e. 0644).
Output is byte-identical for identical inputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import paths
from .clean import context, ofsted, workforce
from .clean import deprivation, protection, spend
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
        official_path=p["ofsted_outcomes_2025"], transcribed_path=p["ofsted_ilacs_transcribed"],
    )
    insp = harmonise_inspections(insp_raw)
    panel = build_panel(wf, cin, cpp, cla, pop, iod, insp,
                        spend=spend.load_spend(p, log),
                        s47=protection.load_s47(p["cin_c4"], log, years),
                        cla_published=spend.load_lac_published(p, log, {2018}),
                        imd_decile=deprivation.load_imd_decile(p["iod2019_utla"]))
    table = build_inspections(insp, panel)
    validate_panel(panel, p)
    validate_inspections(table, p)
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


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write(files: dict[str, bytes], out_dir: Path = paths.DERIVED) -> None:
    """Replace the derived files as one set, or not at all.

    1. Stage: every file is written into a fresh hidden directory inside ``out_dir`` (same
       filesystem, so renames are atomic) with ordinary permissions (``open`` honours the umask:
       0644 under the usual 022), and flushed to disk.
    2. Swap: for each file, the current version (if any) is hard-linked into a backup directory,
       then the staged file is renamed over it.
    3. On any failure during the swap, every file already replaced is restored from the backup
       (or removed if it did not exist before), and the error is re-raised.
    4. The staging and backup directories are always removed (kept only if a rollback itself
       fails, and then named in the error).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out_dir, prefix=".staging-"))
    backup = Path(tempfile.mkdtemp(dir=out_dir, prefix=".backup-"))
    keep_backup = False
    try:
        for name, content in files.items():
            with open(stage / name, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
        done: list[tuple[str, bool]] = []  # (name, existed before)
        try:
            for name in files:
                target = out_dir / name
                existed = target.exists()
                if existed:
                    os.link(target, backup / name)
                os.replace(stage / name, target)
                done.append((name, existed))
        except BaseException:
            try:
                for name, existed in reversed(done):
                    if existed:
                        os.replace(backup / name, out_dir / name)
                    else:
                        (out_dir / name).unlink(missing_ok=True)
            except BaseException as rollback_exc:
                keep_backup = True
                raise DataError(f"writing {out_dir} failed and so did restoring the previous files "
                                f"({rollback_exc}); the previous versions are in {backup}") from rollback_exc
            raise
        _fsync_dir(out_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not keep_backup:
            shutil.rmtree(backup, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=paths.DERIVED, help="output directory (default data/derived)")
    ap.add_argument("--check", action="store_true",
                    help="rebuild in memory and compare with the files in --out; exit 1 if they differ")
    args = ap.parse_args(argv)
    from ..fileio import clean_stale  # an interrupted earlier run's .staging-*/.backup-* (issue 17)
    clean_stale(args.out)
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
    try:
        write(files, args.out)
    except DataError as exc:  # the rollback itself failed; the message says where the backup is
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:
        print(f"error: writing {args.out} failed ({exc}); the previous derived files were restored",
              file=sys.stderr)
        return 3
    print(f"wrote {', '.join(files)} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
