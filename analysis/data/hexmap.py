"""Hex map key: one hexagon of the Open Innovations upper-tier layout for every panel entity.

The layout (``context/geography/uk-upper-tier-local-authorities.hexjson``, MIT licence) is on
2019-20 geography: 151 hexes keyed by the ONS GSS code of that time. The panel's entities alive
in the last census year carry their *latest* GSS code, so the key needs written rules:

=====================  =====================================================================
rule                   what happens
=====================  =====================================================================
``same-code``          the entity's GSS code is a hex key (includes BCP E06000058 and Dorset
                       E06000059: the layout is already on post-April-2019 geography)
``recode-2020``        Buckinghamshire E06000060 is drawn on the hex of its former code
                       E10000002 (same area, same DfE code)
``recode-2023``        North Yorkshire E06000065 -> hex E10000023; Somerset E06000066 -> E10000027
``recode-2025``        Barnsley E08000038 -> hex E08000016; Sheffield E08000039 -> E08000019
                       (minor boundary change between the two)
``split-2021``         entity 928 (Northamptonshire; North + West Northamptonshire summed from
                       2021) keeps the Northamptonshire hex E10000021
``split-2023``         Cumbria's single hex E10000006 (q=6, r=14) goes to Westmorland and Furness
                       (the southern successor, bordering Lancashire); Cumberland (the northern
                       and western successor) gets a new hex on the free neighbouring position
                       to the north-west, keyed by its own code E06000063
=====================  =====================================================================

A hex the rules do not use, an entity without a hex, two entities on one position, or a new
hex that is not a free neighbour of its parent stops the build with a :class:`DataError`. So does,
in the layout file itself (naming the file, field, value and line), a key given twice (JSON would
silently keep the last), a position outside the plausibility bounds of ``q`` and ``r``
(``data/reference/plausibility.csv``), two hexes on one position, an ``id`` that differs from
its key, or a key (GSS code) whose ``n`` is not that LA's name in the register.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from ..errors import DataError, DuplicateKeyError, ImplausibleValueError, SchemaError
from .clean.bounds import bound_for
from .geography import check_identity, check_known_gss
from .sources import raw_name

SOURCE = "hexmap_utla"

COLUMNS = ["la_code", "hex_id", "q", "r", "hex_name", "rule"]

#: latest GSS code of an entity -> (hexjson key, rule) where the two differ
RECODES: dict[str, tuple[str, str]] = {
    "E06000060": ("E10000002", "recode-2020: Buckinghamshire E06000060 drawn on the hex of E10000002"),
    "E06000065": ("E10000023", "recode-2023: North Yorkshire E06000065 drawn on the hex of E10000023"),
    "E06000066": ("E10000027", "recode-2023: Somerset E06000066 drawn on the hex of E10000027"),
    "E08000038": ("E08000016", "recode-2025: Barnsley E08000038 drawn on the hex of E08000016"),
    "E08000039": ("E08000019", "recode-2025: Sheffield E08000039 drawn on the hex of E08000019"),
    "E06000064": ("E10000006", "split-2023: Westmorland and Furness (southern successor) takes the Cumbria hex E10000006"),
}
#: entity code -> rule for entities whose latest code is a hex key but whose area changed
SPLIT_KEEPS: dict[str, str] = {
    "928": "split-2021: entity 928 (North + West Northamptonshire summed) keeps the Northamptonshire hex E10000021",
}
SAME_AREA_2019 = {
    "E06000058": "boundary-2019: the layout is on post-April-2019 geography; BCP has its own hex",
    "E06000059": "boundary-2019: the layout is on post-April-2019 geography; new Dorset has its own hex",
}
#: latest GSS code -> (parent hexjson key, direction of the new hex from the parent, rule)
NEW_HEXES: dict[str, tuple[str, str, str]] = {
    "E06000063": ("E10000006", "north-west",
                  "split-2023: Cumberland (northern successor) on a new hex north-west of the Cumbria hex"),
}


def neighbour(q: int, r: int, direction: str) -> tuple[int, int]:
    """Position of the neighbouring hex in an ``odd-r`` layout (odd rows shifted right).

    Notes
    -----
    In ``odd-r`` offset coordinates row ``r`` is drawn at ``x = q + (r mod 2) / 2``; rows
    increase northwards in this layout. For an even row the north-west neighbour is
    ``(q - 1, r + 1)`` and the north-east ``(q, r + 1)``; for an odd row ``(q, r + 1)`` and
    ``(q + 1, r + 1)``. East and west are ``(q +/- 1, r)``; south rows use ``r - 1``.
    """
    odd = r % 2
    offsets = {
        "east": (1, 0), "west": (-1, 0),
        "north-west": (-1 + odd, 1), "north-east": (odd, 1),
        "south-west": (-1 + odd, -1), "south-east": (odd, -1),
    }
    if direction not in offsets:
        raise ValueError(f"unknown hex direction {direction!r}")
    dq, dr = offsets[direction]
    return q + dq, r + dr


def _key_lines(text: str) -> dict[str, int]:
    """1-based line of the first occurrence of each ``"KEY":`` that opens a hex object."""
    out: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        for key in re.findall(r'"([^"]+)"\s*:\s*\{', line):
            out.setdefault(key, n)
    return out


def load_hexjson(path: Path) -> dict[str, dict]:
    """Hexes of a HexJSON file keyed by GSS code, each with integer ``q``, ``r`` and ``n``.

    Raises
    ------
    DataError
        Naming file, hex key (or field), value and line: unreadable JSON, a repeated key, a
        missing field, a non-integer or out-of-bounds position, two hexes on one position, an
        ``id`` other than the key, an unknown GSS code, or a name the register contradicts.
    """
    name = raw_name(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{name}: not a UTF-8 JSON file ({exc}); restore the original download") from exc
    lines = _key_lines(text)
    seen_twice: list[str] = []

    def no_repeats(pairs):
        keys = [k for k, _ in pairs]
        seen_twice.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(pairs)

    try:
        doc = json.loads(text, object_pairs_hook=no_repeats)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{name}: not a valid JSON file: {exc.msg} at line {exc.lineno}, column {exc.colno} "
                          f"(cut short or edited?); restore the original download") from exc
    if seen_twice:
        key = sorted(seen_twice)[0]
        second = [n for n, line in enumerate(text.splitlines(), start=1) if re.search(rf'"{re.escape(key)}"\s*:', line)]
        raise DuplicateKeyError(f"{name}: hex key {key!r} occurs twice (line {second[-1]} repeats line {second[0]}); "
                                f"JSON would keep only the last")
    if not isinstance(doc, dict) or doc.get("layout") != "odd-r" or not isinstance(doc.get("hexes"), dict):
        raise SchemaError(f"{name}: expected an 'odd-r' HexJSON with a 'hexes' object (line 1), got layout "
                          f"{doc.get('layout') if isinstance(doc, dict) else None!r}")
    hexes = doc["hexes"]
    position: dict[tuple[int, int], str] = {}
    for key, h in hexes.items():
        at = f"line {lines.get(key, '?')}"
        for field in ("q", "r", "n"):
            if not isinstance(h, dict) or field not in h:
                raise SchemaError(f"{name}: hex {key!r} lacks field {field!r} ({at})")
        for field in ("q", "r"):
            v = h[field]
            if not isinstance(v, int) or isinstance(v, bool):
                raise SchemaError(f"{name}: hex {key!r} field {field!r} has the non-integer position {v!r} ({at})")
            bound = bound_for(SOURCE, field)
            if not bound.low <= v <= bound.high:
                raise ImplausibleValueError(f"{name}: hex {key!r} field {field!r} has the implausible value {v!r} "
                                            f"({at}); the plausible range is {bound.describe()} "
                                            f"(data/reference/plausibility.csv)")
        if "id" in h and h["id"] != key:
            raise SchemaError(f"{name}: hex {key!r} has field 'id' {h['id']!r} ({at}); the id must equal its key")
        pos = (h["q"], h["r"])
        if pos in position:
            raise DuplicateKeyError(f"{name}: hex {key!r} field 'q' = {pos[0]}, 'r' = {pos[1]} ({at}) is the position "
                                    f"of hex {position[pos]!r} (line {lines.get(position[pos], '?')}); one hex per position")
        position[pos] = key
    table = pd.DataFrame({"hex key": list(hexes), "n": [h["n"] for h in hexes.values()]},
                         index=pd.Index([lines.get(k, 0) for k in hexes], name="line"))
    check_known_gss(table["hex key"], name, "hex key")
    check_identity(table, name, gss="hex key", name="n")
    return hexes


def build_hex_key(panel: pd.DataFrame, hexjson_path: Path) -> pd.DataFrame:
    """Map every entity alive in the last census year of ``panel`` to one hex.

    Parameters
    ----------
    panel
        LA-year panel with ``la_code``, ``year``, ``gss_code`` and ``la_name``.
    hexjson_path
        The Open Innovations upper-tier HexJSON file.

    Returns
    -------
    DataFrame with :data:`COLUMNS`, one row per entity, sorted by ``la_code``.

    Raises
    ------
    DataError
        If an entity has no hex, a hex is left unused, or two entities share a position.
    """
    hexes = load_hexjson(hexjson_path)
    last = int(panel["year"].max())
    alive = panel.loc[panel["year"] == last, ["la_code", "gss_code", "la_name"]].astype({"la_code": str})
    occupied = {(h["q"], h["r"]): key for key, h in hexes.items()}
    rows = []
    for la_code, gss, name in alive.itertuples(index=False):
        if gss in NEW_HEXES:
            parent, direction, rule = NEW_HEXES[gss]
            if parent not in hexes:
                raise DataError(f"{raw_name(hexjson_path)}: parent hex {parent!r} of {gss} ({name}) not in the layout")
            q, r = neighbour(hexes[parent]["q"], hexes[parent]["r"], direction)
            if (q, r) in occupied:
                raise DataError(f"{raw_name(hexjson_path)}: new hex for {gss} ({name}) at q={q}, r={r} is already "
                                f"taken by {occupied[(q, r)]}")
            rows.append((la_code, gss, q, r, name, rule))
            continue
        if gss in RECODES:
            key, rule = RECODES[gss]
        elif la_code in SPLIT_KEEPS:
            key, rule = gss, SPLIT_KEEPS[la_code]
        else:
            key, rule = gss, SAME_AREA_2019.get(gss, "same-code")
        if key not in hexes:
            raise DataError(f"{raw_name(hexjson_path)}: no hex for entity {la_code} ({name}, {gss}); add a rule in "
                            "analysis/data/hexmap.py")
        h = hexes[key]
        rows.append((la_code, key, h["q"], h["r"], h["n"], rule))
    key = pd.DataFrame(rows, columns=COLUMNS).sort_values("la_code", kind="stable").reset_index(drop=True)
    validate_hex_key(key, set(hexes))
    return key


def validate_hex_key(key: pd.DataFrame, layout_keys: set[str]) -> None:
    """One hex per entity, one entity per position, every layout hex used."""
    dup_la = key[key["la_code"].duplicated(keep=False)]
    if len(dup_la):
        raise DataError(f"hex_map_key: entity {dup_la['la_code'].iloc[0]} has more than one hex")
    dup_pos = key[key.duplicated(["q", "r"], keep=False)]
    if len(dup_pos):
        raise DataError(f"hex_map_key: entities {sorted(dup_pos['la_code'])} share hex position "
                        f"q={dup_pos['q'].iloc[0]}, r={dup_pos['r'].iloc[0]}")
    dup_id = key[key["hex_id"].duplicated(keep=False)]
    if len(dup_id):
        raise DataError(f"hex_map_key: entities {sorted(dup_id['la_code'])} share hex {dup_id['hex_id'].iloc[0]}")
    unused = sorted(layout_keys - set(key["hex_id"]))
    if unused:
        raise DataError(f"hex_map_key: layout hex(es) {unused} are used by no entity (missing entity or rule)")
