"""Facility mappings: which decoded fields are meta-data and how attributes derive.

A mapping (``facilities/<name>.yaml``) names the format description it is driven by
(the TAIGA ``.ksy``, the MDD of the paper), the reader kind that decodes it, a path
pattern that supplies the hidden meta-data of folder and file names (facility, date,
sequence number, release), and ``fields``: ``{column: <decoded column>, agg: <agg>}``.
Adding a facility is adding a ``.ksy`` and a mapping; no extractor code changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from dlclab.errors import FormatError

MAPPINGS_DIR = Path(__file__).resolve().parent / "facilities"
AGGREGATIONS = {"count", "nunique", "first", "last", "min", "max", "unique"}
READERS = {"taiga", "parquet", "kcdc"}


@dataclass(frozen=True)
class FieldRule:
    name: str
    column: str | None
    source: str  # "events" | "packages"
    agg: str


@dataclass(frozen=True)
class FacilityMapping:
    name: str
    facility: str
    experiment: str
    title: str
    description: str
    reader: str
    reader_format: str | None
    access: str
    path: re.Pattern[str]
    fields: tuple[FieldRule, ...] = field(default_factory=tuple)
    source_file: str = ""

    def match(self, relpath: str) -> dict[str, str] | None:
        """The meta-data hidden in a storage-relative path, or None if it is not ours."""
        found = self.path.search(relpath)
        return None if found is None else {k: v for k, v in found.groupdict().items() if v}

    def expand(self, text: str, hidden: dict[str, str]) -> str:
        """Fill ``{experiment}``-style placeholders of the mapping from the path."""
        return text.format(**hidden) if "{" in text else text


def ksy_field_ids(ksy_path: Path) -> set[str]:
    """Every ``id`` a Kaitai description declares (seq fields and instances, all types)."""
    spec = yaml.safe_load(ksy_path.read_text())
    ids: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for item in node.get("seq", []) or []:
                if isinstance(item, dict) and "id" in item:
                    ids.add(str(item["id"]))
            ids.update(str(k) for k in (node.get("instances") or {}))
            for child in (node.get("types") or {}).values():
                walk(child)

    walk(spec)
    return ids


def ksy_directory() -> Path:
    """Where the TAIGA formats package keeps its ``.ksy`` descriptions."""
    return Path(str(resources.files("dlclab.formats.taiga") / "ksy"))


def load_mapping(path: Path) -> FacilityMapping:
    raw = yaml.safe_load(path.read_text())
    where = str(path)
    for key in ("facility", "experiment", "description", "reader", "path", "fields"):
        if key not in raw:
            raise FormatError(where, f"mapping lacks {key!r}", expected="facility, experiment, "
                              "description, reader, path, fields")
    if raw["reader"] not in READERS:
        raise FormatError(where, "unknown reader", expected=" | ".join(sorted(READERS)),
                          found=str(raw["reader"]))
    rules = []
    for name, spec in raw["fields"].items():
        agg = spec.get("agg")
        if agg not in AGGREGATIONS:
            raise FormatError(where, f"field {name!r}: unknown aggregation",
                              expected=" | ".join(sorted(AGGREGATIONS)), found=str(agg))
        rules.append(FieldRule(name, spec.get("column"), spec.get("source", "events"), agg))
    try:
        pattern = re.compile(raw["path"])
    except re.error as exc:
        raise FormatError(where, f"path pattern does not compile: {exc}") from exc
    return FacilityMapping(
        name=path.stem, facility=str(raw["facility"]), experiment=str(raw["experiment"]),
        title=str(raw.get("title", raw["facility"])), description=str(raw["description"]),
        reader=raw["reader"], reader_format=raw.get("reader_format"),
        access=str(raw.get("access", "public")), path=pattern, fields=tuple(rules),
        source_file=where)


def load_mappings(directory: Path = MAPPINGS_DIR) -> list[FacilityMapping]:
    """All mappings of a directory, in name order (the first whose path matches wins)."""
    return [load_mapping(p) for p in sorted(directory.glob("*.yaml"))]
