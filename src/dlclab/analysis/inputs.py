"""What an analysis reads, recorded for its provenance.

Analyses read data through the lab's Intake catalogue (``dlclab.catalog()``), like any
user. Every read is recorded in the run's ``inputs.json`` ledger: the catalogue entry,
its release and parameters, the files behind it with their sha256 (from the release's
``manifest.json`` when there is one), the number of events and a digest of the
selected event UUIDs. ``dlclab run`` turns that ledger into the RO-Crate.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

LEDGER = "inputs.json"


def uuid_digest(uuids) -> str:
    """sha256 over the sorted event UUIDs (one per line): the same selection gives the
    same digest whatever the row order or storage layout."""
    h = hashlib.sha256()
    for u in sorted(str(x) for x in np.asarray(uuids).ravel()):
        h.update(u.encode())
        h.update(b"\n")
    return h.hexdigest()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _manifest_checksums(path: Path) -> dict[str, str]:
    """sha256 from the nearest ``manifest.json`` above a store file (keyed by absolute path)."""
    for parent in [path, *path.parents]:
        manifest = parent / "manifest.json" if parent.is_dir() else None
        if manifest is not None and manifest.exists():
            try:
                doc = json.loads(manifest.read_text())
            except ValueError:
                return {}
            files = doc.get("files", doc)
            out = {}
            if isinstance(files, dict):
                for rel, v in files.items():
                    digest = v.get("sha256") if isinstance(v, dict) else v
                    if isinstance(digest, str):
                        out[str((parent / rel).resolve())] = digest
            elif isinstance(files, list):
                for v in files:
                    if isinstance(v, dict) and "path" in v and "sha256" in v:
                        out[str((parent / v["path"]).resolve())] = v["sha256"]
            return out
    return {}


def file_checksums(paths) -> list[dict]:
    """[{path, sha256, bytes}] for files (directories such as Zarr stores are walked)."""
    out = []
    for p in paths:
        p = Path(p)
        files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        known = _manifest_checksums(p if p.is_dir() else p.parent)
        for f in files:
            if not f.exists():
                continue
            digest = known.get(str(f.resolve())) or sha256_file(f)
            out.append({"path": str(f), "sha256": digest, "bytes": f.stat().st_size})
    return out


class InputLedger:
    """Append-only record of the inputs of one analysis run (written to ``inputs.json``)."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / LEDGER
        self.entries: list[dict] = []

    def record(self, name: str, *, catalog_entry: str | None = None, release: str | None = None,
               files=(), uuids=None, n_events: int | None = None, **extra) -> dict:
        entry = {"name": name, "catalog_entry": catalog_entry, "release": release,
                 "files": file_checksums(files)}
        if uuids is not None:
            entry["uuid_sha256"] = uuid_digest(uuids)
            entry["n_events"] = int(len(uuids))
        elif n_events is not None:
            entry["n_events"] = int(n_events)
        entry.update(extra)
        self.entries.append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"inputs": self.entries}, indent=2, sort_keys=True, default=str) + "\n")
        return entry
