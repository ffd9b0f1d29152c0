"""What an analysis reads, recorded for its provenance (the run's ``inputs.json``).

Every read through :mod:`dlclab.analysis.inputs` is recorded here: the catalogue entry,
its release and parameters, the files behind it with their sha256 (taken from the
release's self-checked manifest when the file is in a release, computed otherwise), the
number of events and a digest of the selected event UUIDs. ``dlclab run`` turns the
ledger into the RO-Crate.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dlclab.store.layout import MANIFEST
from dlclab.store.manifest import Manifest, sha256_file

LEDGER = "inputs.json"


def uuid_digest(uuids) -> str:
    """sha256 over the sorted event UUIDs (one per line): the same selection gives the
    same digest whatever the row order or storage layout."""
    h = hashlib.sha256()
    for u in sorted(str(x) for x in np.asarray(uuids).ravel()):
        h.update(u.encode())
        h.update(b"\n")
    return h.hexdigest()


def _release_checksums(path: Path) -> dict[str, str]:
    """sha256 of every file of the release ``path`` lies in (keyed by resolved path), from
    its manifest (which :meth:`Manifest.read` checks first); empty outside a release."""
    for parent in [path, *path.parents]:
        if (parent / MANIFEST).is_file():
            manifest = Manifest.read(parent)
            return {str((parent / rel).resolve()): entry["sha256"]
                    for rel, entry in manifest.files.items()}
    return {}


def file_checksums(paths: Iterable[str | Path]) -> list[dict]:
    """[{path, sha256, bytes}] for files (directories such as Zarr stores are walked)."""
    out = []
    for p in map(Path, paths):
        files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        known = _release_checksums(p if p.is_dir() else p.parent)
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
        self.path.write_text(json.dumps({"inputs": self.entries}, indent=2, sort_keys=True,
                                        default=str) + "\n")
        return entry
