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
hex that is not a free neighbour of its parent stops the build with a :class:`DataError`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import DataError, SchemaError

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


def load_hexjson(path: Path) -> dict[str, dict]:
    """Hexes of a HexJSON file keyed by GSS code, each with integer ``q``, ``r`` and ``n``."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"{path}: not a UTF-8 JSON file ({exc})") from exc
    if doc.get("layout") != "odd-r" or not isinstance(doc.get("hexes"), dict):
        raise SchemaError(f"{path}: expected an 'odd-r' HexJSON with a 'hexes' object, got layout "
                          f"{doc.get('layout')!r}")
    hexes = doc["hexes"]
    for key, h in hexes.items():
        for field in ("q", "r", "n"):
            if field not in h:
                raise SchemaError(f"{path}: hex {key!r} lacks field {field!r}")
        if not all(isinstance(h[f], int) and not isinstance(h[f], bool) for f in ("q", "r")):
            raise SchemaError(f"{path}: hex {key!r} has non-integer position q={h['q']!r}, r={h['r']!r}")
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
                raise DataError(f"{hexjson_path}: parent hex {parent!r} of {gss} ({name}) not in the layout")
            q, r = neighbour(hexes[parent]["q"], hexes[parent]["r"], direction)
            if (q, r) in occupied:
                raise DataError(f"{hexjson_path}: new hex for {gss} ({name}) at q={q}, r={r} is already "
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
            raise DataError(f"{hexjson_path}: no hex for entity {la_code} ({name}, {gss}); add a rule in "
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
