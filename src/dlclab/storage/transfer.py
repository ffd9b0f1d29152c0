"""Copying a release from one storage instance to another (APPDS In2, reprocessing).

The destination site pulls: ``copy_release("root://src//releases/taiga/T2020.1-EDU",
<destination instance's data root>/releases/taiga/T2020.1-EDU)``. The source's manifest
says what each file must be; for each file the source server's own checksum (``xrdfs query
checksum``, sha256 by the instance's checksum program) must equal the manifest's before
anything is copied, and the copy's sha256 must equal it after (``xrdcp`` to a ``.part``
file, renamed only when it matches). The manifest is written last, so a release folder
with a manifest is complete; ``verify_release`` checks the whole copy at the end.
Idempotent: files already there with the manifest's size and sha256 are not copied again.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dlclab.errors import DlclabError
from dlclab.storage.xrootd import client_env
from dlclab.store.manifest import MANIFEST, Manifest, sha256_file, verify_release


@dataclass
class CopyReport:
    source: str
    destination: Path
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes_copied: int = 0


def _split(url: str) -> tuple[str, str]:
    """``root://host:port//a/b`` -> (``root://host:port/``, ``/a/b``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("root", "xroot") or not parts.netloc:
        raise DlclabError(f"{url}: expected root://host:port//path/of/the/release")
    return f"{parts.scheme}://{parts.netloc}/", "/" + parts.path.lstrip("/")


def _run(cmd: list[str], keytab: Path | None, what: str) -> str:
    try:
        done = subprocess.run(cmd, env=client_env(keytab) | {"XRD_CONNECTIONRETRY": "1"},
                              capture_output=True, text=True, timeout=3600, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DlclabError(f"{what}: no answer within {exc.timeout} s") from exc
    if done.returncode != 0:
        raise DlclabError(f"{what}: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def server_checksum(server: str, lfn: str, keytab: Path | None) -> str:
    """The sha256 the source server computes for ``lfn``."""
    out = _run(["xrdfs", server, "query", "checksum", lfn], keytab, f"checksum of {server}{lfn}")
    kind, _, value = out.strip().partition(" ")
    if kind != "sha256":
        raise DlclabError(f"{server}{lfn}: the server answers {kind!r} checksums, not sha256")
    return value.strip()


def _fetch(server: str, lfn: str, target: Path, keytab: Path | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(["xrdcp", "--force", "--silent", f"{server}/{lfn}", str(target)], keytab,
         f"copy of {server}{lfn}")


def copy_release(source_url: str, destination: Path, keytab: Path | None = None) -> CopyReport:
    """Copy the release at ``source_url`` into ``destination``; see the module's doc."""
    server, base = _split(source_url)
    destination = Path(destination)
    report = CopyReport(source=source_url, destination=destination)
    with tempfile.TemporaryDirectory() as tmp:
        _fetch(server, f"{base}/{MANIFEST}", Path(tmp) / MANIFEST, keytab)
        manifest = Manifest.read(Path(tmp))  # checks its own digest
        manifest_text = (Path(tmp) / MANIFEST).read_text()
    for rel, expected in sorted(manifest.files.items()):
        target = destination / rel
        if (target.is_file() and target.stat().st_size == expected["bytes"]
                and sha256_file(target) == expected["sha256"]):
            report.skipped.append(rel)
            continue
        lfn = f"{base}/{rel}"
        at_source = server_checksum(server, lfn, keytab)
        if at_source != expected["sha256"]:
            raise DlclabError(f"{source_url}: {rel} has sha256 {at_source[:16]}... at the "
                              f"source, its manifest says {expected['sha256'][:16]}...: not copied")
        part = target.with_name(target.name + ".part")
        _fetch(server, lfn, part, keytab)
        got = sha256_file(part)
        if got != expected["sha256"]:
            part.unlink(missing_ok=True)
            raise DlclabError(f"{rel}: the copy has sha256 {got[:16]}..., the manifest says "
                              f"{expected['sha256'][:16]}... (transfer damaged): run again")
        part.replace(target)
        report.copied.append(rel)
        report.bytes_copied += expected["bytes"]
    if report.copied or not (destination / MANIFEST).is_file():
        (destination / MANIFEST).write_text(manifest_text)
    verify_release(destination)
    return report


def report_json(report: CopyReport) -> str:
    return json.dumps({"source": report.source, "destination": str(report.destination),
                       "copied": len(report.copied), "skipped": len(report.skipped),
                       "bytes_copied": report.bytes_copied}, indent=1)
