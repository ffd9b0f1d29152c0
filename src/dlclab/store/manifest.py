"""The manifest of a release: what it is (metadata) and what it holds (sha256 + size of
every file), plus :func:`verify_release`.

``manifest.json`` (JSON, UTF-8, keys sorted)::

    {
      "manifest_version": 1,
      "experiment": "kascade", "release": "OCEANUS", "version": "2",
      "kind": "measured" | "simulation",
      "title": "...", "description": "...",
      "created": "2026-11-24T06:40:00Z",
      "licence": "CC-BY-4.0", "doi": null,
      "access": "public" | "collaboration:<group>",
      "datasets": {"<name>": {"n_events": 200000, "exposure": {...}, "source_format": "..."}},
      "sources": [{"name": "...", "sha256": "...", "bytes": 123}],
      "build_id": "<sha256 of metadata (without 'created') and sources>",
      "software": {"dlclab": "0.1.0", "pyarrow": "...", ...},
      "files": {"events/experiment=kascade/release=OCEANUS/x.parquet": {"sha256": "...", "bytes": 1}},
      "manifest_sha256": "<sha256 of this document without this key>"
    }

Exposure (per data set) uses the keys ``area_m2``, ``live_time_s``, ``zenith_min_deg``,
``zenith_max_deg`` (and ``solid_angle_sr``, ``exposure_m2_s_sr`` where the source gives
them), so that a flux needs nothing else.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dlclab.errors import DlclabError, ParameterError
from dlclab.store.layout import MANIFEST, check_name

MANIFEST_VERSION = 1
_CHUNK = 1 << 20


class IntegrityError(DlclabError):
    """A release's files disagree with its manifest (changed, missing or extra files)."""

    def __init__(self, release_dir: Path, problems: list[str]) -> None:
        self.release_dir = Path(release_dir)
        self.problems = problems
        super().__init__(f"{release_dir}: {len(problems)} problem(s): " + "; ".join(problems))


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def check_access(access: str) -> str:
    """``public`` or ``collaboration:<group>``, else :class:`ParameterError`."""
    if access == "public":
        return access
    if access.startswith("collaboration:") and check_name("group", access.split(":", 1)[1]):
        return access
    raise ParameterError(f"access {access!r}: expected 'public' or 'collaboration:<group>'")


@dataclass(frozen=True)
class ReleaseInfo:
    """What a release is. ``version`` is the release's number within its experiment
    (KCDC counts releases: NABOO is 4, OCEANUS 5); a new version is a new release."""

    experiment: str
    release: str
    version: str
    kind: str = "measured"
    title: str = ""
    description: str = ""
    licence: str = "CC-BY-4.0"
    doi: str | None = None
    access: str = "public"

    def __post_init__(self) -> None:
        from dlclab.store.layout import EXPERIMENTS

        if self.experiment not in EXPERIMENTS:
            raise ParameterError(f"experiment {self.experiment!r}: expected one of {EXPERIMENTS}")
        check_name("release", self.release)
        check_access(self.access)
        if self.kind not in ("measured", "simulation"):
            raise ParameterError(f"kind {self.kind!r}: expected 'measured' or 'simulation'")

    @property
    def access_group(self) -> str | None:
        """The Unix/hub group allowed to read a collaboration release, else None."""
        return self.access.split(":", 1)[1] if self.access.startswith("collaboration:") else None


@dataclass
class Manifest:
    """The parsed ``manifest.json`` of a release."""

    info: ReleaseInfo
    created: str
    datasets: dict[str, dict[str, Any]]
    sources: list[dict[str, Any]]
    build_id: str
    files: dict[str, dict[str, Any]]
    software: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ (de)serialising
    def to_dict(self) -> dict[str, Any]:
        doc = {"manifest_version": MANIFEST_VERSION, **asdict(self.info),
               "created": self.created, "datasets": self.datasets, "sources": self.sources,
               "build_id": self.build_id, "software": self.software, "files": self.files}
        doc["manifest_sha256"] = _document_digest(doc)
        return doc

    def write(self, release_dir: Path) -> Path:
        path = Path(release_dir) / MANIFEST
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, release_dir: Path) -> Manifest:
        """Parse and self-check ``<release_dir>/manifest.json`` (IntegrityError if damaged)."""
        release_dir = Path(release_dir)
        path = release_dir / MANIFEST
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IntegrityError(release_dir, [f"{MANIFEST}: missing"]) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise IntegrityError(release_dir, [f"{MANIFEST}: not valid JSON ({exc})"]) from None
        if doc.get("manifest_sha256") != _document_digest(doc):
            raise IntegrityError(release_dir, [f"{MANIFEST}: its own checksum does not match "
                                               "(the manifest was changed)"])
        if doc.get("manifest_version") != MANIFEST_VERSION:
            raise IntegrityError(release_dir, [f"{MANIFEST}: manifest_version "
                                               f"{doc.get('manifest_version')!r}, expected {MANIFEST_VERSION}"])
        info_keys = ReleaseInfo.__dataclass_fields__
        info = ReleaseInfo(**{k: doc[k] for k in info_keys if k in doc})
        return cls(info=info, created=doc["created"], datasets=doc["datasets"],
                   sources=doc["sources"], build_id=doc["build_id"], files=doc["files"],
                   software=doc.get("software", {}))

    # -------------------------------------------------------------------- convenience
    @property
    def experiment(self) -> str:
        return self.info.experiment

    @property
    def release(self) -> str:
        return self.info.release


def _document_digest(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def plain(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays and tuples turned into plain JSON/YAML types."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return plain(obj.tolist())
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    return str(obj)


def build_id(info: ReleaseInfo, sources: list[dict[str, Any]], parameters: dict[str, Any]) -> str:
    """Identity of a build: same metadata, same source bytes and same build parameters
    give the same id, so a rerun can tell "identical, nothing to do" from "different"."""
    body = {"info": asdict(info), "sources": sorted((s["name"], s["sha256"]) for s in sources),
            "parameters": parameters, "manifest_version": MANIFEST_VERSION}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def list_files(release_dir: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file below a release directory except the manifest."""
    release_dir = Path(release_dir)
    out: dict[str, dict[str, Any]] = {}
    for dirpath, dirnames, filenames in os.walk(release_dir):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(release_dir).as_posix()
            if rel == MANIFEST:
                continue
            out[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return out


def verify_release(release_dir: Path, *, progress: bool = False) -> Manifest:
    """Check every file of a release against its manifest.

    Returns the manifest if all files match; raises :class:`IntegrityError` naming every
    changed (sha256 or size), missing or unlisted file otherwise.
    """
    release_dir = Path(release_dir)
    manifest = Manifest.read(release_dir)
    problems: list[str] = []
    items = sorted(manifest.files.items())
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc=f"verify {manifest.experiment}/{manifest.release}", unit="file",
                     leave=False, disable=None)
    for rel, expected in items:
        path = release_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        size = path.stat().st_size
        if size != expected["bytes"]:
            problems.append(f"{rel}: size {size} bytes, manifest says {expected['bytes']}")
            continue
        digest = sha256_file(path)
        if digest != expected["sha256"]:
            problems.append(f"{rel}: sha256 {digest[:16]}..., manifest says {expected['sha256'][:16]}...")
    for dirpath, _dirs, filenames in os.walk(release_dir):
        for name in filenames:
            rel = (Path(dirpath) / name).relative_to(release_dir).as_posix()
            if rel != MANIFEST and rel not in manifest.files:
                problems.append(f"{rel}: not in the manifest")
    if problems:
        raise IntegrityError(release_dir, sorted(problems))
    return manifest
